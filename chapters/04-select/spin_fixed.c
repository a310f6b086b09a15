/*
 * spin_fixed.c: ask select() for write readiness only while there is
 * something to write. The server has one client, which sends a line, reads
 * the answer, then stays connected without a word for a second. The loop
 * puts the socket in the write set only while its output buffer is not
 * empty, so for that second select() sleeps: a handful of calls, and
 * almost no CPU time.
 *
 * Run: spin_fixed
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static double cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == -1)
        die("getrusage");
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double now_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Send a line, read the answer, say nothing for a second, leave. */
static void client(struct sockaddr_in *addr)
{
    char answer[64];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1 || connect(fd, (struct sockaddr *)addr, sizeof *addr) == -1)
        die("connect");
    if (write(fd, "hi\n", 3) != 3 || read(fd, answer, sizeof answer) <= 0)
        die("client: write, read");
    struct timespec ts = {1, 0};
    while (nanosleep(&ts, &ts) == -1)
        if (errno != EINTR)
            die("nanosleep");
    _exit(0); /* closes the socket: the server sees end of file */
}

int main(void)
{
    struct sockaddr_in addr = {0};
    socklen_t alen = sizeof addr;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(lfd, 1) == -1 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) == -1)
        die("socket, bind, listen");
    if (fflush(stdout) == EOF)
        die("fflush");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0)
        client(&addr);
    int fd = accept(lfd, NULL, NULL);
    if (fd == -1)
        die("accept");

    char out[64];
    size_t out_len = 0;
    long calls = 0;
    double t0 = now_ms(), c0 = cpu_ms();
    for (int open = 1; open;) {
        fd_set rd, wr;
        FD_ZERO(&rd);
        FD_ZERO(&wr);
        FD_SET(fd, &rd);
        // [interest]
        if (out_len > 0) /* only while there is something to write */
            FD_SET(fd, &wr);
        // [interest]
        calls++;
        if (select(fd + 1, &rd, &wr, NULL, NULL) == -1)
            die("select");
        if (FD_ISSET(fd, &rd)) {
            char in[64];
            ssize_t n = read(fd, in, sizeof in);
            if (n <= 0)
                open = 0; /* the client left or failed: end it, not us */
            else if ((size_t)n + 10 <= sizeof out - out_len)
                out_len += (size_t)snprintf(out + out_len, sizeof out - out_len,
                                            "you said: %.*s", (int)n, in);
        }
        if (open && FD_ISSET(fd, &wr)) {
            ssize_t n = send(fd, out, out_len, MSG_NOSIGNAL); /* may be 0 */
            if (n == -1) {
                open = 0; /* a reset, say: end that client */
            } else {
                memmove(out, out + n, out_len - (size_t)n);
                out_len -= (size_t)n;
            }
        }
    }
    printf("%ld select() calls in %.0f ms of wall time, %.0f ms of CPU "
           "time\n",
           calls, now_ms() - t0, cpu_ms() - c0);
    if (close(fd) == -1 || close(lfd) == -1 || waitpid(pid, NULL, 0) == -1)
        die("close, waitpid");
    return 0;
}
