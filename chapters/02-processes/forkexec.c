/*
 * forkexec: run another program in a child, the way a shell does.
 *
 * fork() makes the child, execvp() replaces the child's program with the
 * one named on the command line (searched in PATH), and the parent waits
 * and reports how it ended. forkexec exits with the child's status, or
 * 128 + the signal number if a signal killed it, as shells do.
 *
 *     forkexec echo hello from echo
 *     forkexec ls /no/such/file
 *     forkexec no-such-program
 *
 * A program that cannot be started is reported by the child, which then
 * exits with 127 (the shell's convention for "command not found").
 */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

int main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: forkexec PROGRAM [ARGUMENT...]\n");
        return 2;
    }
    if (fflush(stdout) == EOF)
        die("fflush");

    // [forkexec]
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        /* argv + 1 is PROGRAM ARGUMENT... NULL: the new program's argv. */
        execvp(argv[1], argv + 1);
        /* Only reached when exec failed: report it, end the child. */
        fprintf(stderr, "forkexec: cannot run %s: %s\n", argv[1],
                strerror(errno));
        _exit(127);
    }

    int status;
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            die("waitpid");
    // [forkexec]

    // [report]
    if (WIFEXITED(status)) {
        printf("forkexec: %s exited with status %d\n", argv[1],
               WEXITSTATUS(status));
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        printf("forkexec: %s was killed by signal %d\n", argv[1],
               WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    return 1;
    // [report]
}
