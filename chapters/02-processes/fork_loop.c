/*
 * fork_loop: fork() in a loop, with children that do not leave the loop.
 *
 * The loop means to start n children. But every child also goes round
 * the loop and forks too, so after n rounds there are 2^n processes,
 * not n + 1. Each process prints one line and waits for its own
 * children, so everything ends.
 *
 *     fork_loop [n]              n from 0 to 6, default 3
 *     fork_loop 3 | wc -l        counts the processes: 8
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

int main(int argc, char *argv[])
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 3;
    if (n < 0 || n > 6) {
        fprintf(stderr, "usage: fork_loop [n]   (0 to 6)\n");
        return 2;
    }
    pid_t first = getpid();
    // [loop]
    for (int i = 0; i < n; i++) {
        if (fflush(stdout) == EOF)
            die("fflush");
        pid_t pid = fork();
        if (pid == -1)
            die("fork");
        /* BUG: the child should do its work and _exit() here; instead
         * it goes on round the loop, just like its parent. */
    }
    printf("process %ld, child of %ld\n", (long)getpid(), (long)getppid());
    // [loop]
    if (fflush(stdout) == EOF)
        die("fflush");
    while (wait(NULL) != -1) /* reap my own children, however many */
        continue;
    if (errno != ECHILD)
        die("wait");
    if (getpid() != first)
        _exit(0); /* the copies are children: they end with _exit() */
    return 0;
}
