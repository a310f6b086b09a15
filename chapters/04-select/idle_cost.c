/*
 * idle_cost.c: what idle connections cost a select() server's one busy
 * client. A child runs an echo server in the shape of echo_select: every
 * time round, it puts every connection in the set, calls select(), and
 * looks at every connection's bit. The parent measures the round trip of
 * one active client, first alone, then with IDLE more connections open
 * that send nothing, in the same run.
 *
 * Run: idle_cost [IDLE [ROUNDS]]   (defaults 1000 and 1000; IDLE up to 1000)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

// [serve]
static void serve(int lfd) /* the child: echo, for ever */
{
    int fds[FD_SETSIZE], n = 0;
    char buf[64];
    for (;;) {
        fd_set rd;
        int maxfd = lfd;
        FD_ZERO(&rd);
        FD_SET(lfd, &rd);
        for (int i = 0; i < n; i++) /* every connection, every time */
            if (fds[i] != -1) {
                FD_SET(fds[i], &rd);
                maxfd = fds[i] > maxfd ? fds[i] : maxfd;
            }
        if (select(maxfd + 1, &rd, NULL, NULL, NULL) == -1)
            continue; /* EINTR */
        if (FD_ISSET(lfd, &rd)) {
            int fd = accept(lfd, NULL, NULL);
            if (fd >= FD_SETSIZE || (fd != -1 && n == FD_SETSIZE))
                (void)close(fd);
            else if (fd != -1)
                fds[n++] = fd;
        }
        for (int i = 0; i < n; i++) { /* and every bit, every time */
            if (fds[i] == -1 || !FD_ISSET(fds[i], &rd))
                continue;
            ssize_t got = read(fds[i], buf, sizeof buf);
            if (got <= 0 ||
                send(fds[i], buf, (size_t)got, MSG_NOSIGNAL) != got) {
                (void)close(fds[i]);
                fds[i] = -1;
            }
        }
    }
}
// [serve]

static int connect_to(const struct sockaddr_in *addr)
{
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1 ||
        connect(fd, (const struct sockaddr *)addr, sizeof *addr) == -1)
        die("socket, connect");
    return fd;
}

/* Microseconds per round trip of 16 bytes on fd. */
static double round_trip_us(int fd, int rounds)
{
    char buf[16] = "0123456789abcde";
    struct timespec t0, t1;
    if (clock_gettime(CLOCK_MONOTONIC, &t0) == -1)
        die("clock_gettime");
    for (int i = 0; i < rounds; i++) {
        ssize_t got = 0, n;
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
            die("write");
        while (got < (ssize_t)sizeof buf)
            if ((n = read(fd, buf + got, sizeof buf - (size_t)got)) <= 0)
                die("read");
            else
                got += n;
    }
    if (clock_gettime(CLOCK_MONOTONIC, &t1) == -1)
        die("clock_gettime");
    return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
            (double)(t1.tv_nsec - t0.tv_nsec)) /
           1e3 / rounds;
}

int main(int argc, char *argv[])
{
    int idle = argc > 1 ? atoi(argv[1]) : 1000;
    int rounds = argc > 2 ? atoi(argv[2]) : 1000;
    if (argc > 3 || idle < 0 || idle > 1000 || rounds < 1) {
        fprintf(stderr, "usage: %s [IDLE [ROUNDS]], IDLE up to 1000\n",
                argv[0]);
        return 2;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    struct rlimit rl = {.rlim_cur = 2 * (rlim_t)idle + 64,
                        .rlim_max = 2 * (rlim_t)idle + 64};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || lfd == -1 ||
        bind(lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(lfd, 1024) == -1 ||
        getsockname(lfd, (struct sockaddr *)&addr, &len) == -1 ||
        fflush(stdout) == EOF)
        die("setrlimit, socket, bind, listen");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0)
        serve(lfd);
    int active = connect_to(&addr);
    double alone = round_trip_us(active, rounds);
    for (int i = 0; i < idle; i++)                   /* open until the end */
        if (round_trip_us(connect_to(&addr), 1) < 0) /* once, then idle */
            die("round trip");
    double crowded = round_trip_us(active, rounds);
    printf("one client's round trip, %d rounds, select() echo server:\n",
           rounds);
    printf("  alone:                   %7.1f us\n", alone);
    printf("  with %4d idle clients:   %7.1f us (%.1f times)\n", idle, crowded,
           crowded / alone);
    if (kill(pid, SIGKILL) == -1 || waitpid(pid, NULL, 0) == -1)
        die("kill, waitpid");
    return 0;
}
