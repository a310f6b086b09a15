/*
 * accept_fixed.c: accept() in an event loop, done right. The listener is
 * non-blocking and the loop accepts until EAGAIN. On EMFILE (no descriptor
 * left) the server frees a spare descriptor kept for the purpose, accepts
 * the connection into it, says "server full", closes it and takes the
 * spare back; if another process took the slot, it waits 100 ms without
 * the spare (and the listener). The network errors of accept(2) mean that
 * one connection has gone. Room here: the listener, the spare and two
 * clients; five clients come.
 *
 * Run: accept_fixed
 */
#include <arpa/inet.h>
#include <fcntl.h>
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

static int spare = -1, refused = 0;

// [accept]
/* Errors of accept() that belong to that one connection (accept(2): the
   network errors of the protocol, to be treated like EAGAIN): retry. */
static int conn_gone(int e)
{
    return e == ECONNABORTED || e == EINTR || e == EPROTO || e == ENETDOWN ||
           e == ENOPROTOOPT || e == EHOSTDOWN || e == ENONET ||
           e == EHOSTUNREACH || e == EOPNOTSUPP || e == ENETUNREACH;
}

/* Accept every queued connection; returns the new ones in conns. */
static void on_listener(int lfd, int *conns, int *count)
{
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd == -1 && (errno == EMFILE || errno == ENFILE)) {
            if (spare == -1) /* no spare: main() waits, then tries again */
                return;
            (void)close(spare); /* make room for one */
            fd = accept(lfd, NULL, NULL);
            if (fd != -1) {
                (void)send(fd, "server full\n", 12, MSG_NOSIGNAL);
                (void)close(fd);
                refused++;
            }
            /* -1 when another process took the slot: main() retries. */
            spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd == -1 || spare == -1)
                return;
            continue;
        }
        if (fd == -1 && conn_gone(errno))
            continue; /* that one is gone: the next */
        if (fd == -1) /* EAGAIN: no more (ENOBUFS, ENOMEM: later) */
            return;
        if (send(fd, "welcome\n", 8, MSG_NOSIGNAL) == -1)
            (void)close(fd); /* gone already */
        else
            conns[(*count)++] = fd;
    }
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
    rl.rlim_cur = (rlim_t)lfd + 4; /* the spare, two clients, no more */
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("setrlimit");
    if ((spare = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
        die("open spare");
    int conns[CLIENTS], count = 0, closed = 0;
    while (count + refused < CLIENTS || closed < count) {
        fd_set rd;
        int maxfd = lfd;
        struct timeval retry = {0, 100 * 1000};
        if (spare == -1) /* take the spare back before accepting more */
            spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
        FD_ZERO(&rd);
        if (spare != -1)
            FD_SET(lfd, &rd);
        for (int i = 0; i < count; i++)
            if (conns[i] != -1) {
                FD_SET(conns[i], &rd);
                maxfd = conns[i] > maxfd ? conns[i] : maxfd;
            }
        int ready =
            select(maxfd + 1, &rd, NULL, NULL, spare == -1 ? &retry : NULL);
        if (ready == -1 && errno != EINTR)
            die("select");
        if (ready == -1)
            continue;
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
    printf("server: welcomed %d clients, turned %d away with the spare "
           "descriptor\n",
           count, refused);
    return 0;
}
