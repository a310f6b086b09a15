/*
 * select_server.c: the server of blocking_server.c, in one thread with
 * select(). Every socket is non-blocking; each connection has an input
 * buffer (for the line it has not finished) and an output buffer (for
 * answers the socket has not taken yet), and the loop asks for write
 * readiness only for connections with output waiting. It starts the
 * program `clients` (which must be on PATH) for three clients: the two of
 * blocking_server, and a third that sends three lines in one write().
 * Nobody waits for anybody else. The server stops after three clients.
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

static void set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
        die("fcntl");
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
    ssize_t n = write(c->fd, c->out, c->out_len);
    if (n == -1)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    memmove(c->out, c->out + n, c->out_len - (size_t)n);
    c->out_len -= (size_t)n;
    return 1;
}
// [writable]

/* Listen on 127.0.0.1, then start `clients PORT n`. */
static pid_t listen_and_start_clients(int *lfd, int n)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    char port[8], count[8];
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((*lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
        bind(*lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(*lfd, 16) == -1 ||
        getsockname(*lfd, (struct sockaddr *)&addr, &len) == -1)
        die("socket, bind, listen");
    snprintf(port, sizeof port, "%d", ntohs(addr.sin_port));
    snprintf(count, sizeof count, "%d", n);
    if (fflush(stdout) == EOF)
        die("fflush");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        execlp("clients", "clients", port, count, (char *)NULL);
        die("exec clients");
    }
    return pid;
}

int main(void)
{
    int lfd;
    pid_t pid = listen_and_start_clients(&lfd, CLIENTS);
    set_nonblocking(lfd);
    // [loop]
    struct conn conns[CLIENTS];
    int accepted = 0, live = 0;
    while (accepted < CLIENTS || live > 0) {
        fd_set rd, wr;
        int maxfd = lfd;
        FD_ZERO(&rd);
        FD_ZERO(&wr);
        if (accepted < CLIENTS)
            FD_SET(lfd, &rd);
        for (int i = 0; i < accepted; i++) {
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
        if (FD_ISSET(lfd, &rd)) {
            int fd = accept(lfd, NULL, NULL);
            if (fd == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
                die("accept");
            if (fd != -1) {
                set_nonblocking(fd);
                conns[accepted++] = (struct conn){.fd = fd};
                live++;
            }
        }
        for (int i = 0; i < accepted; i++) {
            struct conn *c = &conns[i];
            int alive = 1;
            if (c->fd != -1 && FD_ISSET(c->fd, &rd))
                alive = on_readable(c);
            if (alive && c->fd != -1 && FD_ISSET(c->fd, &wr))
                alive = on_writable(c);
            if (!alive) {
                if (close(c->fd) == -1)
                    die("close");
                c->fd = -1; /* the slot is skipped from now on */
                live--;
            }
        }
    }
    // [loop]
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    return 0;
}
