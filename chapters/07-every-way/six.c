/*
 * six.c: the same six requests, sent at once on six connections, to one
 * server; what each client saw. Three wait (SLEEP 100: 100 ms as on a
 * disk) and three work (BURN 50: 50 ms of CPU), taking turns. All six
 * connect first; then a thread per client sends its request (client k
 * k-1 ms after the first, so that they reach the server, and the
 * timeline's lanes, in order), reads the reply and closes; each records
 * a span from send to reply (chapters/trace.h: with WB_TRACE set, the
 * timeline has one lane per client). Prints when each request was answered, in
 * ms after the first left. Under each model the same six requests give another
 * picture: one after the other, all at once, or the waits overlapped
 * and the work in turn.
 *
 * Run: six SERVER [ARGS]   e.g. six server_epoll, six python3 s.py
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define CLIENTS 6

static const char *reqs[CLIENTS] = {"SLEEP 100", "BURN 50",   "SLEEP 100",
                                    "BURN 50",   "SLEEP 100", "BURN 50"};
static int port, fds[CLIENTS];
static int64_t go, sent[CLIENTS], answered[CLIENTS];
static char replies[CLIENTS][32];

static pid_t start(char **argv)
{
    int p[2];
    char line[64] = "";
    if (pipe(p) == -1 || fflush(stdout) == EOF)
        die("pipe");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        if (dup2(p[1], 1) == -1)
            _exit(127);
        close(p[0]);
        close(p[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    size_t n = 0; /* a line may come in pieces (Python writes words) */
    while (n < sizeof line - 1 && !memchr(line, '\n', n) &&
           poll(&pfd, 1, 5000) == 1) {
        ssize_t r = read(p[0], line + n, sizeof line - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(p[0]);
    if (sscanf(line, "port %d", &port) != 1) {
        fprintf(stderr, "six: %s printed no port\n", argv[0]);
        exit(1);
    }
    return pid;
}

// [client]
static void *client(void *arg)
{
    int k = (int)(intptr_t)arg, fd = fds[k];
    char buf[64];
    int64_t at = go + k * 1000000; /* client k+1: k ms after the first */
    struct timespec ts = {at / 1000000000, at % 1000000000};
    while ((errno = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
                                    NULL)) == EINTR)
        ;
    int len = snprintf(buf, sizeof buf, "%s\r\n", reqs[k]);
    sent[k] = trace_now();
    if (send(fd, buf, (size_t)len, MSG_NOSIGNAL) != len)
        die("six: send");
    ssize_t n = read(fd, replies[k], sizeof replies[k] - 1);
    answered[k] = trace_now();
    trace_span(reqs[k], sent[k], answered[k]);
    if (n <= 0)
        strcpy(replies[k], "(none)\r\n");
    replies[k][strcspn(replies[k], "\r")] = '\0';
    close(fd);
    return NULL;
}
// [client]

int main(int argc, char *argv[])
{
    pthread_t t[CLIENTS];
    int err;
    if (argc < 2) {
        fprintf(stderr, "usage: six SERVER [ARGS...]\n");
        return 2;
    }
    pid_t pid = start(argv + 1);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int k = 0, one = 1; k < CLIENTS; k++)
        if ((fds[k] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
            connect(fds[k], (struct sockaddr *)&a, sizeof a) == -1 ||
            setsockopt(fds[k], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one))
            die("six: connect");
    go = trace_now() + 10000000; /* in 10 ms: every thread is ready */
    for (int k = 0; k < CLIENTS; k++)
        if ((err = pthread_create(&t[k], NULL, client, (void *)(intptr_t)k)))
            die_en(err, "pthread_create");
    for (int k = 0; k < CLIENTS; k++)
        if ((err = pthread_join(t[k], NULL)) != 0)
            die_en(err, "pthread_join");
    int64_t first = sent[0]; /* under load, a later client may go first */
    for (int k = 1; k < CLIENTS; k++)
        first = sent[k] < first ? sent[k] : first;
    for (int k = 0; k < CLIENTS; k++)
        printf(
            "client %d  %-9s  %-6s  sent at %3.0f ms, answered at %3.0f ms\n",
            k + 1, reqs[k], replies[k], (double)(sent[k] - first) / 1e6,
            (double)(answered[k] - first) / 1e6);
    if (kill(pid, SIGTERM) == -1 || waitpid(pid, NULL, 0) == -1)
        die("kill, waitpid");
    return 0;
}
