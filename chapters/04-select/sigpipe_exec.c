/*
 * sigpipe_exec.c: an ignored signal stays ignored across execve(). The
 * program ignores SIGPIPE, as a server should, and then runs the shell
 * pipeline "yes | head -n 1 >/dev/null" twice: once as it is, so that
 * yes inherits the ignored SIGPIPE and gets an EPIPE error instead of
 * being stopped by the signal; once with SIGPIPE set back to SIG_DFL in
 * the child, between fork() and exec, so that the pipeline behaves as it
 * does from a terminal.
 *
 * Run: sigpipe_exec
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

static void run(int reset)
{
    printf("--- %s\n", reset ? "SIGPIPE reset to SIG_DFL in the child"
                             : "SIGPIPE still ignored in the child");
    fflush(stdout); /* before fork(), or the child's copy prints it again */
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        // [child]
        if (reset && signal(SIGPIPE, SIG_DFL) == SIG_ERR)
            _exit(127);
        execl("/bin/sh", "sh", "-c", "yes | head -n 1 >/dev/null",
              (char *)NULL);
        _exit(127); /* exec failed */
        // [child]
    }
    int status;
    if (waitpid(pid, &status, 0) == -1)
        die("waitpid");
    printf("the shell exited with status %d\n",
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void)
{
    // [ignore]
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) /* a server's start-up */
        die("signal");
    // [ignore]
    run(0);
    run(1);
    return 0;
}
