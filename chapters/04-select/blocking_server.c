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
 * once `clients` has exited. A client that fails (a reset) ends that
 * client only; but one that connects and sends nothing holds up every
 * other, for ever: that is the point of this demo.
 *
 * Run: blocking_server
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

/* Send all of buf; -1 when the client has gone (no SIGPIPE). */
static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n == -1 && errno != EINTR)
            return -1;
        buf += n > 0 ? n : 0;
        len -= n > 0 ? (size_t)n : 0;
    }
    return 0;
}

/* Read until a '\n', end of file or an error; the text is NUL-terminated. */
static void read_line(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    while (got + 1 < cap && (got == 0 || buf[got - 1] != '\n')) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* a reset ends this client's line, not the server */
        got += (size_t)n;
    }
    buf[got] = '\0';
}

/* Wait until a client connects (1) or `clients` has exited (0). */
static int wait_for_client(int lfd, int done)
{
    for (;;) {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(lfd, &rd);
        FD_SET(done, &rd);
        if (select((lfd > done ? lfd : done) + 1, &rd, NULL, NULL, NULL) >= 0)
            return !FD_ISSET(done, &rd);
        if (errno != EINTR)
            die("select");
    }
}

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
    int lfd, done;
    int64_t start = trace_now();
    pid_t pid = listen_and_start_clients(&lfd, 2, &done);
    // [serve]
    while (wait_for_client(lfd, done)) {
        int conn = accept(lfd, NULL, NULL); /* one is waiting */
        if (conn == -1)
            continue; /* that connection has gone */
        int64_t began = trace_now();
        char request[128], answer[160];
        read_line(conn, request, sizeof request); /* waits for this client */
        int len = snprintf(answer, sizeof answer, "you said: %s", request);
        (void)send_all(conn, answer, (size_t)len);
        (void)close(conn);
        trace_span("server: one client", began, trace_now());
        printf("server: answered at %6.1f ms: %s",
               (double)(trace_now() - start) / 1e6, request);
        if (fflush(stdout) == EOF)
            die("fflush");
    }
    // [serve]
    if (waitpid(pid, NULL, 0) == -1 || close(lfd) == -1 || close(done) == -1)
        die("waitpid, close");
    return 0;
}
