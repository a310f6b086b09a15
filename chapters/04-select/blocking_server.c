/*
 * blocking_server.c: a server that serves one client at a time, and what
 * that costs the second client.
 *
 * The server accepts a connection, reads the request with a blocking
 * read(), answers, closes, and only then accepts the next connection.
 * It starts the program `clients` (which must be on PATH) for two
 * clients: client 1 connects first and takes 500 ms to send its line (a
 * person typing, a slow network); client 2 connects 50 ms later and sends
 * at once, but its answer waits until the server is done with client 1.
 * The server listens on 127.0.0.1 on a port the kernel picks, and stops
 * after two clients.
 *
 * Run: blocking_server
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            die("write");
        buf += n;
        len -= (size_t)n;
    }
}

/* Read until a '\n' or end of file; the text is NUL-terminated. */
static void read_line(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    while (got + 1 < cap && (got == 0 || buf[got - 1] != '\n')) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            die("read");
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
}

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
    int64_t start = trace_now();
    pid_t pid = listen_and_start_clients(&lfd, 2);
    // [serve]
    for (int served = 0; served < 2; served++) {
        int conn = accept(lfd, NULL, NULL); /* waits for a connection */
        if (conn == -1)
            die("accept");
        int64_t began = trace_now();
        char request[128], answer[160];
        read_line(conn, request, sizeof request); /* waits for this client */
        int len = snprintf(answer, sizeof answer, "you said: %s", request);
        write_all(conn, answer, (size_t)len);
        if (close(conn) == -1)
            die("close");
        trace_span("server: one client", began, trace_now());
        printf("server: answered at %6.1f ms: %s",
               (double)(trace_now() - start) / 1e6, request);
        if (fflush(stdout) == EOF)
            die("fflush");
    }
    // [serve]
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    return 0;
}
