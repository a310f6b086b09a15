/*
 * capture: run a command with its standard output going into a pipe.
 *
 * The child points its standard output at the write end of a pipe with
 * dup2(), then execs the command; the parent reads the pipe to the end
 * and counts what arrived, then reaps the child. A second pipe, marked
 * close-on-exec, tells the parent whether the exec worked: a successful
 * exec closes it with nothing written; if the exec, or any step of the
 * child before it, fails, the child writes errno there.
 *
 *     capture seq 1000            counts seq's lines and bytes
 *     capture no-such-program     a clear error, not an exit code to guess
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

int main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: capture PROGRAM [ARGUMENT...]\n");
        return 2;
    }
    int out[2], err[2]; /* the command's output; the exec error */
    if (pipe(out) == -1 || pipe(err) == -1)
        die("pipe");
    /* close-on-exec: a successful exec closes err[1] in the child. */
    if (fcntl(err[1], F_SETFD, FD_CLOEXEC) == -1)
        die("fcntl");
    if (fflush(stdout) == EOF)
        die("fflush");

    // [child]
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        /* Make descriptor 1, standard output, the pipe's write end; close
           the copies the command must not inherit; run the command. */
        if (dup2(out[1], STDOUT_FILENO) != -1 && close(out[0]) != -1 &&
            close(out[1]) != -1 && close(err[0]) != -1)
            execvp(argv[1], argv + 1);
        /* Any failure above, the exec's included: tell the parent why. */
        int e = errno;
        ssize_t put = write(err[1], &e, sizeof e);
        (void)put; /* nothing better to do if even this fails */
        _exit(127);
    }
    // [child]
    if (close(out[1]) == -1 || close(err[1]) == -1)
        die("close");

    // [parent]
    int exec_errno = 0; /* stays 0 if the exec worked */
    ssize_t got;
    while ((got = read(err[0], &exec_errno, sizeof exec_errno)) == -1)
        if (errno != EINTR)
            die("read");

    long bytes = 0, lines = 0; /* read to end of file, THEN wait */
    char buf[4096];
    while ((got = read(out[0], buf, sizeof buf)) != 0) {
        if (got == -1 && errno == EINTR)
            continue;
        if (got == -1)
            die("read");
        bytes += got;
        for (ssize_t i = 0; i < got; i++)
            lines += buf[i] == '\n';
    }
    int status;
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            die("waitpid");
    // [parent]
    if (close(out[0]) == -1 || close(err[0]) == -1)
        die("close");
    if (exec_errno != 0) {
        printf("capture: cannot run %s: %s\n", argv[1], strerror(exec_errno));
        return 127;
    }
    printf("capture: %s wrote %ld lines, %ld bytes; ", argv[1], lines, bytes);
    if (WIFEXITED(status))
        printf("exit status %d\n", WEXITSTATUS(status));
    else
        printf("killed by signal %d\n", WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
