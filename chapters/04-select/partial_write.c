/*
 * partial_write.c: a socket takes only as much as fits in its buffers.
 * The program connects to itself over 127.0.0.1, makes the server's end
 * non-blocking, and writes 16 MiB to a client that is not reading: write()
 * takes part of it, then says EAGAIN, and select() does not call the
 * socket writable again until the client has read a good part of what
 * was sent. The rest has to wait in the program's own memory.
 *
 * Run: partial_write
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "die.h"

#define BIG (16 << 20) /* 16 MiB */

static int writable(int fd)
{
    fd_set set;
    struct timeval zero = {0, 0};
    FD_ZERO(&set);
    FD_SET(fd, &set);
    int n = select(fd + 1, NULL, &set, NULL, &zero);
    if (n == -1)
        die("select");
    return n;
}

int main(void)
{
    static char data[BIG];
    struct sockaddr_in addr = {0};
    socklen_t len = sizeof addr;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), client, conn;
    if (lfd == -1)
        die("socket");
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(lfd, 1) == -1 ||
        getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
        die("bind, listen, getsockname");
    if ((client = socket(AF_INET, SOCK_STREAM, 0)) == -1)
        die("socket");
    if (connect(client, (struct sockaddr *)&addr, sizeof addr) == -1)
        die("connect"); /* completes before accept(): the kernel queues it */
    if ((conn = accept(lfd, NULL, NULL)) == -1)
        die("accept");
    int flags = fcntl(conn, F_GETFL);
    if (flags == -1 || fcntl(conn, F_SETFL, flags | O_NONBLOCK) == -1)
        die("fcntl");

    // [partial]
    ssize_t n = write(conn, data, BIG);
    if (n == -1)
        die("write");
    printf("write() of %d bytes took %zd\n", BIG, n);
    long sent = n;
    n = write(conn, data + sent, (size_t)(BIG - sent));
    if (n != -1 || (errno != EAGAIN && errno != EWOULDBLOCK))
        die("the second write() should have said EAGAIN");
    printf("the next write() said EAGAIN; writable now? %s\n",
           writable(conn) ? "yes" : "no");
    // [partial]

    long taken = 0; /* the client reads, 64 KiB at a time */
    while (!writable(conn)) {
        ssize_t got = read(client, data, 65536);
        if (got <= 0)
            die("read");
        taken += got;
    }
    printf("writable again after the client read %ld bytes\n", taken);
    n = write(conn, data + sent, (size_t)(BIG - sent));
    if (n == -1)
        die("write");
    sent += n;
    printf("then write() took %zd more; %ld bytes still wait in our own "
           "buffer\n",
           n, BIG - sent);
    if (close(conn) == -1 || close(client) == -1 || close(lfd) == -1)
        die("close");
    return 0;
}
