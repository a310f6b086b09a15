/*
 * accept_broken.c: accept() fails with EMFILE, and the loop spins. The
 * server's limit on descriptors leaves room for the listener and three
 * clients; five clients come. For the fourth, accept() fails with EMFILE;
 * the server notes the failure and goes back to select(). But the
 * connection is still queued, so the listener is still readable, and
 * select() returns at once, for ever: the loop burns a core until a
 * client leaves and frees a descriptor, and clients 4 and 5 hear nothing.
 *
 * Run: accept_broken
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

#define CLIENTS 5

/* One process, five connections; one line from each, or a timeout. */
static void clients(struct sockaddr_in *addr)
{
    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] == -1 ||
            connect(fds[i], (struct sockaddr *)addr, sizeof *addr) == -1)
            die("client: connect");
    }
    for (int i = 0; i < CLIENTS; i++) {
        fd_set rd;
        struct timeval tv = {0, 300 * 1000};
        char line[32];
        ssize_t n = 0;
        FD_ZERO(&rd);
        FD_SET(fds[i], &rd);
        int ready = select(fds[i] + 1, &rd, NULL, NULL, &tv);
        if (ready == -1 ||
            (ready == 1 && (n = read(fds[i], line, sizeof line)) == -1))
            die("client: select, read");
        if (ready == 0)
            printf("client %d: no answer in 300 ms\n", i + 1);
        else
            printf("client %d: %.*s", i + 1, (int)n, line);
    }
    _exit(fflush(stdout) == EOF); /* closes all five */
}

static long failures = 0;

// [accept]
static void on_listener(int lfd, int *conns, int *count)
{
    int fd = accept(lfd, NULL, NULL);
    if (fd == -1) { /* WRONG: count it and hope it goes away */
        failures++;
        return;
    }
    (void)send(fd, "welcome\n", 8,
               MSG_NOSIGNAL); /* read() tells if it failed */
    conns[(*count)++] = fd;
}
// [accept]

int main(void)
{
    struct sockaddr_in addr = {0};
    socklen_t alen = sizeof addr;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(lfd, CLIENTS) == -1 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) == -1)
        die("socket, bind, listen");
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || fflush(stdout) == EOF)
        die("signal, fflush");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0)
        clients(&addr);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit");
    rl.rlim_cur = (rlim_t)lfd + 4; /* three clients, no more */
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("setrlimit");
    struct rusage ru;

    int conns[CLIENTS], count = 0, closed = 0;
    while (count < CLIENTS || closed < count) {
        fd_set rd;
        int maxfd = lfd;
        FD_ZERO(&rd);
        FD_SET(lfd, &rd);
        for (int i = 0; i < count; i++)
            if (conns[i] != -1) {
                FD_SET(conns[i], &rd);
                maxfd = conns[i] > maxfd ? conns[i] : maxfd;
            }
        if (select(maxfd + 1, &rd, NULL, NULL, NULL) == -1)
            die("select");
        for (int i = 0; i < count; i++) { /* a client left: close it */
            char buf[16];
            if (conns[i] == -1 || !FD_ISSET(conns[i], &rd))
                continue;
            if (read(conns[i], buf, sizeof buf) > 0)
                continue;
            (void)close(conns[i]);
            conns[i] = -1;
            closed++;
        }
        if (FD_ISSET(lfd, &rd))
            on_listener(lfd, conns, &count);
    }
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    if (getrusage(RUSAGE_SELF, &ru) == -1)
        die("getrusage");
    printf("server: accept() failed %ld times; the server used %.0f ms of "
           "CPU time\n",
           failures,
           (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
    return 0;
}
