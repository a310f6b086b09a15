/*
 * crash.c: what a crash in the code serving one client takes down, under
 * each model. For each server named, it starts it with --crash (resp.h:
 * the request CRASH then writes through a NULL pointer), connects three
 * clients, has client 2 send CRASH, then asks clients 1 and 3, and a new
 * client 4, for PING again, and says what each saw and whether the
 * server is still running. A process per client loses one child; a
 * thread per client, a pool or a loop lose the whole process.
 *
 * Run: crash SERVER...   e.g. crash server_fork server_threads
 */
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

/* Start `name --crash 20`, which prints "port N"; its pid, *port. */
static pid_t start(const char *name, int *port)
{
    int p[2];
    char line[64] = "";
    if (pipe(p) == -1 || fflush(stdout) == EOF)
        die("pipe");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        struct rlimit none = {0, 0}; /* no core file */
        if (dup2(p[1], 1) == -1 || setrlimit(RLIMIT_CORE, &none) == -1)
            _exit(127);
        close(p[0]);
        close(p[1]);
        execlp(name, name, "--crash", "20", (char *)NULL);
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
    if (sscanf(line, "port %d", port) != 1) {
        fprintf(stderr, "crash: %s printed no port\n", name);
        exit(1);
    }
    return pid;
}

static int dial(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        die("socket");
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return fd;
    close(fd);
    return -1;
}

/* Send one inline request on fd, print the reply's first line, or that
   the connection closed (an end of file or a reset: both mean that no
   one serves it any more). 2 s at most. */
static void ask(int fd, const char *who, const char *req)
{
    char got[256];
    size_t n = 0;
    printf("  %-16s %-5s -> ", who, req);
    if (fd == -1) {
        printf("connection refused\n");
        return;
    }
    int len = snprintf(got, sizeof got, "%s\r\n", req);
    if (send(fd, got, (size_t)len, MSG_NOSIGNAL) != len) {
        printf("connection closed, no reply\n");
        return;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (n < sizeof got - 1 && !memchr(got, '\n', n) &&
           poll(&pfd, 1, 2000) == 1) {
        ssize_t r = read(fd, got + n, sizeof got - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    char *nl = n > 0 ? memchr(got, '\r', n) : NULL;
    if (nl == NULL)
        printf("connection closed, no reply\n");
    else
        printf("%.*s\n", (int)(nl - got), got);
}

// [demo]
static void crash_one(const char *name)
{
    int port, fd[4], status;
    char who[32];
    pid_t pid = start(name, &port);
    printf("%s --crash:\n", name);
    for (int i = 0; i < 3; i++) {
        fd[i] = dial(port);
        snprintf(who, sizeof who, "client %d", i + 1);
        ask(fd[i], who, "PING");
    }
    ask(fd[1], "client 2", "CRASH");
    /* Give a dying server 1 s to be gone (it is, in microseconds). */
    pid_t gone = 0;
    for (int i = 0; i < 100 && gone == 0; i++) {
        struct timespec ms10 = {0, 10000000};
        if ((gone = waitpid(pid, &status, WNOHANG)) == 0)
            nanosleep(&ms10, NULL);
    }
    ask(fd[0], "client 1", "PING");
    ask(fd[2], "client 3", "PING");
    fd[3] = dial(port);
    ask(fd[3], "client 4 (new)", "PING");
    if (gone == 0) {
        printf("  the server: still running\n\n");
        if (kill(pid, SIGTERM) == -1 || waitpid(pid, &status, 0) == -1)
            die("kill, waitpid");
    } else if (WIFSIGNALED(status)) {
        printf("  the server: killed by signal %d (%s)\n\n", WTERMSIG(status),
               WTERMSIG(status) == SIGSEGV ? "SIGSEGV" : "?");
    } else {
        printf("  the server: exited with status %d\n\n", WEXITSTATUS(status));
    }
    for (int i = 0; i < 4; i++)
        if (fd[i] != -1)
            close(fd[i]);
}
// [demo]

int main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: crash SERVER...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        crash_one(argv[i]);
    return 0;
}
