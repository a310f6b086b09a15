/*
 * doubled: why stdio is flushed before fork(), and why a child ends with
 * _exit().
 *
 * The program prints a line with printf(). When standard output is a pipe
 * or a file, that line waits in the stdio buffer, and fork() copies the
 * buffer into the child. The mode says whether the parent flushes before
 * fork() and how the child, which prints a line of its own, ends:
 *
 *     doubled exit | cat         no flush, child calls exit()
 *     doubled _exit | cat        no flush, child flushes and calls _exit()
 *     doubled flush+exit | cat   flush, child calls exit()
 *     doubled flush+_exit | cat  flush, child flushes and calls _exit()
 *
 * Only the last prints every line once and runs the parent's atexit
 * handler once. On a terminal stdout is line-buffered, so the copied
 * buffer is empty and the first modes look fine there: the bug shows
 * when the output goes to a pipe or a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

static pid_t doubled_parent;

/* Registered by the parent: meant to run once, when the program ends. */
static void doubled_cleanup(void)
{
    printf("atexit handler: cleaning up (in the %s)\n",
           getpid() == doubled_parent ? "parent" : "child");
}

int main(int argc, char *argv[])
{
    const char *mode = argc > 1 ? argv[1] : "";
    int flush = strncmp(mode, "flush+", 6) == 0;
    const char *ending = flush ? mode + 6 : mode;
    int use_exit = strcmp(ending, "exit") == 0;
    if (!use_exit && strcmp(ending, "_exit") != 0) {
        fprintf(stderr, "usage: doubled [flush+]exit|[flush+]_exit\n");
        return 2;
    }
    doubled_parent = getpid();
    if (atexit(doubled_cleanup) != 0)
        die("atexit");

    // [fork]
    printf("parent: printed once, before fork()\n");
    if (flush && fflush(stdout) == EOF)
        die("fflush");

    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        printf("child: done\n");
        if (use_exit)
            exit(0);               /* flushes stdio, runs the atexit handlers */
        if (fflush(stdout) == EOF) /* writes out the whole buffer */
            _exit(1);
        _exit(0); /* ends the process, runs nothing */
    }
    // [fork]
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    printf("parent: done\n");
    return 0; /* like exit(0): the atexit handler, then the flush */
}
