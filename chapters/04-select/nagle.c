/*
 * nagle.c: Nagle's algorithm against delayed acknowledgements, measured
 * side by side with TCP_NODELAY. One process holds both ends of a TCP
 * connection on 127.0.0.1. Each round is a conversation: the server
 * writes two short lines (two send() calls, as a chat server relaying two
 * messages does), the client reads both and answers with a line, the
 * server reads the answer. The client sets TCP_NODELAY, so only the
 * server's setting differs between the two runs.
 *
 * With Nagle's algorithm (the default), the second line waits in the
 * server's kernel until the first is acknowledged; the client, which
 * talks as well as listens, delays that acknowledgement (on Linux, 40 ms
 * at least) in the hope of sending it with data of its own. With
 * TCP_NODELAY the second line leaves at once.
 *
 * Run: nagle [ROUNDS]   (default 40)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static double now_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Read exactly len bytes. */
static void read_all(int fd, char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, buf, len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            die("read");
        buf += n;
        len -= (size_t)n;
    }
}

static void send_line(int fd, const char *line)
{
    if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line))
        die("send");
}

/* A connected pair on 127.0.0.1: *server (accepted) and *client. */
static void connect_pair(int *server, int *client)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    int one = 1;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(lfd, 1) == -1 ||
        getsockname(lfd, (struct sockaddr *)&addr, &len) == -1 ||
        (*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
        setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ||
        connect(*client, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        (*server = accept(lfd, NULL, NULL)) == -1 || close(lfd) == -1)
        die("socket, bind, listen, connect, accept");
}

// [rounds]
/* Milliseconds per round, the server's TCP_NODELAY set to nodelay. */
static double per_round(int nodelay, int rounds)
{
    int server, client;
    char buf[64];
    connect_pair(&server, &client);
    if (setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &nodelay,
                   sizeof nodelay) == -1)
        die("setsockopt TCP_NODELAY");
    double t0 = now_ms();
    for (int i = 0; i < rounds; i++) {
        send_line(server, "1: hi\n"); /* two small writes in a row */
        send_line(server, "2: yo\n");
        read_all(client, buf, 12); /* the client reads both lines */
        send_line(client, "ok\n"); /* and answers */
        read_all(server, buf, 3);
    }
    double ms = (now_ms() - t0) / rounds;
    if (close(server) == -1 || close(client) == -1)
        die("close");
    return ms;
}
// [rounds]

int main(int argc, char *argv[])
{
    int rounds = argc > 1 ? atoi(argv[1]) : 40;
    if (argc > 2 || rounds < 1 || rounds > 1000) {
        fprintf(stderr, "usage: %s [ROUNDS], from 1 to 1000\n", argv[0]);
        return 2;
    }
    double on = per_round(0, rounds), off = per_round(1, rounds);
    printf("%d rounds of two small writes, then an answer:\n", rounds);
    printf("  Nagle's algorithm on (the default): %8.3f ms per round\n", on);
    printf("  TCP_NODELAY set on the server:      %8.3f ms per round\n", off);
    printf("  %.0f times faster with TCP_NODELAY\n", on / off);
    return 0;
}
