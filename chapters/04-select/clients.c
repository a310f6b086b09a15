/*
 * clients.c: the clients of blocking_server and select_server, which start
 * it themselves. It forks N clients (1 to 3) of the server on 127.0.0.1:
 * PORT. Client 1 connects at once and takes 500 ms to type its line;
 * client 2 connects 50 ms later and sends its line at once; client 3
 * connects at 100 ms and sends three lines in one write(). Each client
 * reads one answer line per line it sent, then prints how long it waited
 * for them and what it got, and records that wait (and client 1 its
 * typing) for the timeline.
 *
 * Run (by the servers): clients PORT N
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1)
        if (errno != EINTR)
            die("nanosleep");
}

// [client]
static void client(int n, struct sockaddr_in *addr)
{
    const char *says[] = {"hello from client 1\n", "hello from client 2\n",
                          "one\ntwo\nthree\n"};
    char answer[256], label[32];
    size_t got = 0, len = strlen(says[n - 1]);
    int lines = n == 3 ? 3 : 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    sleep_ms((n - 1) * 50); /* clients come 50 ms apart */
    if (fd == -1 || connect(fd, (struct sockaddr *)addr, sizeof *addr) == -1)
        die("client: connect");
    int64_t typing = trace_now();
    sleep_ms(n == 1 ? 500 : 0); /* client 1 types slowly */
    int64_t sent = trace_now();
    if (n == 1)
        trace_span("client 1 types", typing, sent);
    if (write(fd, says[n - 1], len) != (ssize_t)len) /* small: it fits */
        die("client: write");
    while (lines > 0) { /* until all its answers are in */
        ssize_t r = read(fd, answer + got, sizeof answer - 1 - got);
        if (r <= 0)
            die("client: read");
        for (ssize_t i = 0; i < r; i++)
            lines -= answer[got + (size_t)i] == '\n';
        got += (size_t)r;
    }
    int64_t done = trace_now();
    snprintf(label, sizeof label, "client %d waits", n);
    trace_span(label, sent, done);
    for (size_t i = 0; i + 1 < got; i++) /* one line of output */
        answer[i] = answer[i] == '\n' ? '|' : answer[i];
    printf("client %d: waited %6.1f ms for: %.*s", n,
           (double)(done - sent) / 1e6, (int)got, answer);
    if (fflush(stdout) == EOF || close(fd) == -1)
        die("client: fflush, close");
    _exit(0);
}
// [client]

int main(int argc, char *argv[])
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    int port = argc == 3 ? atoi(argv[1]) : 0, n = argc == 3 ? atoi(argv[2]) : 0;
    if (port < 1 || port > 65535 || n < 1 || n > 3) {
        fprintf(stderr, "usage: clients PORT N (N is 1, 2 or 3)\n");
        return 2;
    }
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)port);
    for (int i = 1; i <= n; i++) {
        pid_t pid = fork();
        if (pid == -1)
            die("fork");
        if (pid == 0)
            client(i, &addr);
    }
    for (int i = 1; i <= n; i++)
        if (wait(NULL) == -1)
            die("wait");
    return 0;
}
