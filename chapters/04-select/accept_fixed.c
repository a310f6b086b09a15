/*
 * accept_fixed.c: accept() in an event loop, done right. The listener is
 * non-blocking and the loop accepts until EAGAIN, so a readiness that has
 * gone stale costs nothing. When accept() fails with EMFILE (no
 * descriptor left), the server frees a spare descriptor it keeps for the
 * purpose, accepts the connection, tells the client "server full", closes
 * it, and takes the spare back: the queue drains and the loop sleeps.
 * Here the server's limit leaves room for the listener, the spare and two
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
        if (ready == 1 && (n = read(fds[i], line, sizeof line)) == -1)
            die("client: read");
        if (ready == -1)
            die("client: select");
        if (ready == 0)
            printf("client %d: no answer in 300 ms\n", i + 1);
        else
            printf("client %d: %.*s", i + 1, (int)n, line);
    }
    if (fflush(stdout) == EOF)
        die("fflush");
    _exit(0); /* closes all five */
}

static int spare = -1, refused = 0;

// [accept]
/* Accept every queued connection; returns the new ones in conns. */
static void on_listener(int lfd, int *conns, int *count)
{
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd == -1 && (errno == EMFILE || errno == ENFILE)) {
            if (close(spare) == -1) /* make room for one */
                die("close");
            fd = accept(lfd, NULL, NULL);
            if (fd != -1) {
                if (write(fd, "server full\n", 12) == -1 && errno != EPIPE)
                    die("write");
                if (close(fd) == -1)
                    die("close");
                refused++;
            }
            if ((spare = open("/dev/null", O_RDONLY)) == -1)
                die("open spare");
            if (fd == -1) /* EMFILE came first: nobody was waiting */
                return;
            continue;
        }
        if (fd == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
                         errno == ECONNABORTED || errno == EINTR))
            return; /* nothing left to accept: back to the loop */
        if (fd == -1)
            die("accept");
        if (write(fd, "welcome\n", 8) == -1 && errno != EPIPE)
            die("write");
        conns[(*count)++] = fd;
    }
}
// [accept]

int main(void)
{
    struct sockaddr_in addr = {0};
    socklen_t alen = sizeof addr;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(lfd, CLIENTS) == -1 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) == -1)
        die("socket, bind, listen");
    int flags = fcntl(lfd, F_GETFL);
    if (flags == -1 || fcntl(lfd, F_SETFL, flags | O_NONBLOCK) == -1)
        die("fcntl");
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
    if ((spare = open("/dev/null", O_RDONLY)) == -1)
        die("open spare");

    int conns[CLIENTS], count = 0, closed = 0;
    while (count + refused < CLIENTS || closed < count) {
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
            if (close(conns[i]) == -1)
                die("close");
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
