/*
 * echo_fork.c: an echo server with a process per connection, under load.
 * It starts echo_load (which must be on PATH), accepts CONNS connections
 * and forks a child for each, which echoes with blocking read() and
 * write() until its client leaves. echo_load measures the server and its
 * children and prints the results.
 *
 * Run: echo_fork CONNS [ROUNDS]   (ROUNDS default: 20000 / CONNS, >= 10)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

/* Raise the limit on descriptors, listen on 127.0.0.1 on a port the
   kernel picks, and start `echo_load PORT conns rounds`. */
static pid_t start_load(int conns, int rounds, int *lfd)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t alen = sizeof addr;
    struct rlimit rl; /* a descriptor per connection */
    char args[3][16];
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1 ||
        (*lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
        bind(*lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(*lfd, conns) == -1 ||
        getsockname(*lfd, (struct sockaddr *)&addr, &alen) == -1 ||
        fflush(stdout) == EOF)
        die("setup");
    snprintf(args[0], 16, "%d", ntohs(addr.sin_port));
    snprintf(args[1], 16, "%d", conns);
    snprintf(args[2], 16, "%d", rounds);
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        execlp("echo_load", "echo_load", args[0], args[1], args[2],
               (char *)NULL);
        die("exec echo_load");
    }
    return pid;
}

/* CONNS and ROUNDS from the command line, or the usage message. */
static void parse(int argc, char *argv[], int max, int *conns, int *rounds)
{
    *conns = argc > 1 ? atoi(argv[1]) : 0;
    *rounds = argc > 2 ? atoi(argv[2]) : 20000 / (*conns > 0 ? *conns : 1);
    *rounds = *rounds < 10 ? 10 : *rounds;
    if (argc < 2 || argc > 3 || *conns < 1 || *conns > max) {
        fprintf(stderr, "usage: %s CONNS [ROUNDS], CONNS from 1 to %d\n",
                argv[0], max);
        exit(2);
    }
}

// [child]
static void on_client(int fd) /* echo until the client closes */
{
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 || write(fd, buf, (size_t)n) != n) /* it fits */
            die("read, write");
    }
    if (close(fd) == -1)
        die("close");
}
// [child]

int main(int argc, char *argv[])
{
    int conns, rounds, lfd;
    parse(argc, argv, 10000, &conns, &rounds);
    pid_t load = start_load(conns, rounds, &lfd);
    // [accept]
    for (int i = 0; i < conns; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd == -1)
            die("accept");
        pid_t pid = fork();
        if (pid == -1)
            die("fork");
        if (pid == 0) { /* the child serves this client only */
            if (close(lfd) == -1)
                die("close");
            on_client(fd);
            _exit(0);
        }
        if (close(fd) == -1) /* the parent keeps no copy */
            die("close");
    }
    // [accept]
    for (int i = 0; i <= conns; i++) /* the children and echo_load */
        if (wait(NULL) == -1)
            die("wait");
    (void)load;
    if (close(lfd) == -1)
        die("close");
    return 0;
}
