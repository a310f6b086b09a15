/*
 * sigpipe_fixed.c: the server of sigpipe_broken.c, which first sets
 * SIGPIPE to be ignored. Now the write() to the client that hung up just
 * fails with EPIPE; the server closes that client and answers the other.
 *
 * Run: sigpipe_fixed
 */
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

static void answer(int fd, int n)
{
    char text[32];
    int len = snprintf(text, sizeof text, "answer for client %d\n", n);
    printf("server: writing to client %d\n", n);
    if (fflush(stdout) == EOF)
        die("fflush");
    // [write]
    ssize_t w = write(fd, text, (size_t)len);
    if (w == -1 && errno == EPIPE) {
        printf("server: client %d has gone (EPIPE): closing it\n", n);
        return;
    }
    // [write]
    if (w != len)
        die("write");
    printf("server: client %d got its answer\n", n);
}

static void server(void)
{
    int one[2], two[2];
    // [ignore]
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) /* a failed write says EPIPE */
        die("signal");
    // [ignore]
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, one) == -1 ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, two) == -1)
        die("socketpair");
    if (close(one[1]) == -1) /* client 1 hangs up */
        die("close");
    answer(one[0], 1);
    answer(two[0], 2);
    if (fflush(stdout) == EOF)
        die("fflush");
    _exit(0);
}

int main(void)
{
    if (fflush(stdout) == EOF)
        die("fflush");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0)
        server();
    int status;
    if (waitpid(pid, &status, 0) == -1)
        die("waitpid");
    if (WIFSIGNALED(status))
        printf("parent: the server was killed by %s\n",
               WTERMSIG(status) == SIGPIPE ? "SIGPIPE" : "another signal");
    else
        printf("parent: the server exited with status %d\n",
               WEXITSTATUS(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
