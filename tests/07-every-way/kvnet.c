/*
 * kvnet: the TCP helpers of chapter 7's capstone suites (kvnet.h).
 */
#define _GNU_SOURCE
#include "kvnet.h"
#include "wb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    return a;
}

int kvnet_listen(int sndbuf, int backlog, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    WB_EXPECT(fd >= 0, "socket() failed%s", wb_errno_note(fd));
    if (sndbuf > 0)
        ck_assert_int_eq(
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
    struct sockaddr_in a = loopback(0);
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    WB_EXPECT(rc == 0, "bind(127.0.0.1:0) failed%s", wb_errno_note(rc));
    rc = listen(fd, backlog);
    WB_EXPECT(rc == 0, "listen() failed%s", wb_errno_note(rc));
    socklen_t len = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

int kvnet_connect(int port, int rcvbuf, int nonblocking)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    WB_EXPECT(fd >= 0, "socket() failed%s", wb_errno_note(fd));
    if (rcvbuf > 0)
        ck_assert_int_eq(
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
    struct sockaddr_in a = loopback(port);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    WB_EXPECT(rc == 0, "connect() to the server failed%s", wb_errno_note(rc));
    int one = 1;
    ck_assert_int_eq(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one),
                     0);
    if (nonblocking)
        ck_assert_int_ne(fcntl(fd, F_SETFL, O_NONBLOCK), -1);
    return fd;
}

int kvnet_readable_within(int fd, long ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int n;
    do
        n = poll(&p, 1, (int)ms);
    while (n == -1 && errno == EINTR);
    return n == 1;
}

void kvnet_send_all(int fd, const char *data, size_t len, char who)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        WB_EXPECT(n > 0, "client %c could not send to the server%s", who,
                  wb_errno_note(n));
        data += n;
        len -= (size_t)n;
    }
}

size_t kvnet_resp(char *b, size_t cap, size_t at, int argc,
                  const char *const *argv, const size_t *lens)
{
    char head[32];
    int n = snprintf(head, sizeof head, "*%d\r\n", argc);
    ck_assert_msg(at + (size_t)n <= cap, "request buffer too small");
    memcpy(b + at, head, (size_t)n);
    at += (size_t)n;
    for (int i = 0; i < argc; i++) {
        n = snprintf(head, sizeof head, "$%zu\r\n", lens[i]);
        ck_assert_msg(at + (size_t)n + lens[i] + 2 <= cap,
                      "request buffer too small");
        memcpy(b + at, head, (size_t)n);
        at += (size_t)n;
        memcpy(b + at, argv[i], lens[i]);
        at += lens[i];
        memcpy(b + at, "\r\n", 2);
        at += 2;
    }
    return at;
}

const char *kvnet_show(const char *s, size_t len)
{
    static _Thread_local char buf[4][200];
    static _Thread_local int next;
    char *out = buf[next++ % 4];
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < len && o < 180; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 80) {
            o += (size_t)snprintf(out + o, 200 - o, "...(%zu bytes)", len);
            break;
        }
        if (c == '\r')
            o += (size_t)snprintf(out + o, 200 - o, "\\r");
        else if (c == '\n')
            o += (size_t)snprintf(out + o, 200 - o, "\\n");
        else if (c >= 32 && c < 127 && c != '"' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, 200 - o, "\\x%02x", c);
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}
