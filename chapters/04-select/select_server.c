/*
 * select_server.c: the server of blocking_server.c, in one thread with
 * select(). Every socket is non-blocking; each connection has an input
 * buffer (for the line it has not finished) and an output buffer (for
 * answers the socket has not taken yet), and the loop asks for write
 * readiness only for connections with output waiting. It starts the
 * program `clients` (which must be on PATH) for three clients: the two of
 * blocking_server, and a third that sends three lines in one write().
 * Nobody waits for anybody else. Three clients at once (one more is
 * refused), any number in all, until `clients` has exited. A failure
 * ends that client only; send() with MSG_NOSIGNAL fails with EPIPE
 * instead of raising SIGPIPE when a client has gone.
 *
 * Run: select_server
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

#define CLIENTS 3
#define MAX_LINE 100

// [conn]
struct conn {
    int fd;                 /* -1: this slot is free */
    char in[MAX_LINE + 1];  /* the line not finished yet */
    size_t in_len;          /* (a longer line closes the connection) */
    char out[4 * MAX_LINE]; /* answers the socket has not taken yet */
    size_t out_len;
};
// [conn]

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags == -1 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// [readable]
/* Returns 0 when the connection is over. */
static int on_readable(struct conn *c)
{
    ssize_t n = read(c->fd, c->in + c->in_len, MAX_LINE - c->in_len);
    if (n == -1)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c->in_len += (size_t)n;
    char *nl;
    while ((nl = memchr(c->in, '\n', c->in_len)) != NULL) {
        size_t line = (size_t)(nl - c->in) + 1, said = sizeof "you said: " - 1;
        if (said + line > sizeof c->out - c->out_len)
            return 0; /* its answers pile up: a client that does not read */
        memcpy(c->out + c->out_len, "you said: ", said);
        memcpy(c->out + c->out_len + said, c->in, line);
        c->out_len += said + line;
        memmove(c->in, nl + 1, c->in_len - line);
        c->in_len -= line;
    }
    return n > 0 && c->in_len < MAX_LINE; /* end of file, or too long */
}
// [readable]

// [writable]
static int on_writable(struct conn *c)
{
    ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
    if (n == -1)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    memmove(c->out, c->out + n, c->out_len - (size_t)n);
    c->out_len -= (size_t)n;
    return 1;
}
// [writable]

/* Listen on 127.0.0.1 (close-on-exec), then start `clients PORT n`.
 *done reads end of file once it has exited (it holds the write end). */
static pid_t listen_and_start_clients(int *lfd, int n, int *done)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    char port[8], count[8];
    int pipefd[2];
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (pipe(pipefd) == -1 ||
        (*lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
        bind(*lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(*lfd, 16) == -1 ||
        getsockname(*lfd, (struct sockaddr *)&addr, &len) == -1 ||
        fflush(stdout) == EOF)
        die("socket, bind, listen");
    snprintf(port, sizeof port, "%d", ntohs(addr.sin_port));
    snprintf(count, sizeof count, "%d", n);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("clients", "clients", port, count, (char *)NULL);
        die("exec clients");
    }
    if (pid == -1 || close(pipefd[1]) == -1) /* only `clients` has it */
        die("fork, close");
    *done = pipefd[0];
    return pid;
}

int main(void)
{
    int lfd, done, listening = 1, live = 0;
    pid_t pid = listen_and_start_clients(&lfd, CLIENTS, &done);
    if (set_nonblocking(lfd) == -1)
        die("fcntl");
    // [loop]
    struct conn conns[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        conns[i].fd = -1;
    while (listening || live > 0) {
        fd_set rd, wr;
        int maxfd = lfd > done ? lfd : done;
        FD_ZERO(&rd);
        FD_ZERO(&wr);
        if (listening) { /* until `clients` has exited */
            FD_SET(lfd, &rd);
            FD_SET(done, &rd);
        }
        for (int i = 0; i < CLIENTS; i++) {
            if (conns[i].fd == -1)
                continue;
            FD_SET(conns[i].fd, &rd);
            if (conns[i].out_len > 0) /* only when there is output */
                FD_SET(conns[i].fd, &wr);
            maxfd = conns[i].fd > maxfd ? conns[i].fd : maxfd;
        }
        if (select(maxfd + 1, &rd, &wr, NULL, NULL) == -1) {
            if (errno == EINTR)
                continue;
            die("select");
        }
        listening = listening && !FD_ISSET(done, &rd);
        if (listening && FD_ISSET(lfd, &rd)) {
            int fd = accept(lfd, NULL, NULL), i = 0;
            while (fd != -1 && i < CLIENTS && conns[i].fd != -1)
                i++;
            if (fd != -1 && (i == CLIENTS || set_nonblocking(fd) == -1)) {
                (void)send(fd, "server full\n", 12, MSG_NOSIGNAL);
                (void)close(fd); /* refused: no slot free */
            } else if (fd != -1) {
                conns[i] = (struct conn){.fd = fd};
                live++;
            } /* fd == -1: that connection has gone, or none is left */
        }
        for (int i = 0; i < CLIENTS; i++) {
            struct conn *c = &conns[i];
            int alive = 1;
            if (c->fd != -1 && FD_ISSET(c->fd, &rd))
                alive = on_readable(c);
            if (alive && c->fd != -1 && FD_ISSET(c->fd, &wr))
                alive = on_writable(c);
            if (!alive) {
                (void)close(c->fd); /* this client only is over */
                c->fd = -1;         /* the slot is free again */
                live--;
            }
        }
    }
    // [loop]
    if (waitpid(pid, NULL, 0) == -1 || close(lfd) == -1 || close(done) == -1)
        die("waitpid, close");
    return 0;
}
