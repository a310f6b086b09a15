/*
 * accept_reset.c: what accept() does with a connection the client reset
 * while it waited in the listening queue. A client connects, then closes
 * with a reset (SO_LINGER with a zero timeout) before the server has
 * called accept(). On Linux, accept() still returns that connection, and
 * the first read() on it fails with ECONNRESET; BSD systems may instead
 * fail accept() with ECONNABORTED, or skip the connection.
 *
 * Run: accept_reset
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

int main(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    struct timespec pause = {0, 50 * 1000 * 1000};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd == -1 || client == -1 ||
        bind(lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(lfd, 4) == -1 ||
        getsockname(lfd, (struct sockaddr *)&addr, &len) == -1 ||
        connect(client, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof reset) == -1 ||
        close(client) == -1 || nanosleep(&pause, NULL) == -1)
        die("setup");
    printf("client: connected, then reset, before the server's accept()\n");
    int fd = accept(lfd, NULL, NULL);
    if (fd == -1) {
        printf("accept(): failed, %s\n", strerror(errno));
        return 0;
    }
    printf("accept(): succeeded, a new descriptor\n");
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == -1)
        printf("read(): failed, %s\n", strerror(errno));
    else
        printf("read(): returned %zd\n", n);
    if (close(fd) == -1 || close(lfd) == -1)
        die("close");
    return 0;
}
