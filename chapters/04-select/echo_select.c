/*
 * echo_select.c: an echo server in one thread with select(), under load.
 * It starts echo_load (which must be on PATH) and serves its CONNS
 * connections from one loop until every client has left. echo_load
 * measures it and prints the results. CONNS must leave every descriptor
 * below FD_SETSIZE.
 *
 * Run: echo_select CONNS [ROUNDS]   (ROUNDS default: 20000 / CONNS, >= 10)
 */
#include <fcntl.h>
#include <sys/select.h>
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

// [serve]
static void serve(int lfd, int *fds, int conns)
{
    char buf[4096];
    int accepted = 0, live = 0; /* connections so far, and still open */
    while (live > 0 || accepted < conns) {
        fd_set rd;
        int maxfd = lfd;
        FD_ZERO(&rd);
        if (accepted < conns)
            FD_SET(lfd, &rd);
        for (int i = 0; i < accepted; i++)
            if (fds[i] != -1) {
                FD_SET(fds[i], &rd);
                maxfd = fds[i] > maxfd ? fds[i] : maxfd;
            }
        if (select(maxfd + 1, &rd, NULL, NULL, NULL) == -1)
            die("select");
        while (FD_ISSET(lfd, &rd) && accepted < conns) { /* all queued */
            int fd = accept(lfd, NULL, NULL);
            if (fd == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            if (fd == -1 || fd >= FD_SETSIZE)
                die("accept, or a descriptor past FD_SETSIZE");
            int flags = fcntl(fd, F_GETFL);
            if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
                die("fcntl");
            fds[accepted++] = fd;
            live++;
        }
        for (int i = 0; i < accepted; i++) {
            if (fds[i] == -1 || !FD_ISSET(fds[i], &rd))
                continue;
            ssize_t n = read(fds[i], buf, sizeof buf);
            if (n > 0 && write(fds[i], buf, (size_t)n) != n)
                die("write"); /* one message in flight: it fits */
            if (n == -1 && errno != EINTR && errno != EAGAIN &&
                errno != EWOULDBLOCK)
                die("read");
            if (n == 0 && close(fds[i]) == -1)
                die("close");
            fds[i] = n == 0 ? -1 : fds[i];
            live -= n == 0;
        }
    }
}
// [serve]

int main(int argc, char *argv[])
{
    int conns, rounds, lfd;
    parse(argc, argv, FD_SETSIZE - 16, &conns, &rounds);
    int *fds = malloc((size_t)conns * sizeof *fds);
    if (fds == NULL)
        die("malloc");
    pid_t load = start_load(conns, rounds, &lfd);
    int flags = fcntl(lfd, F_GETFL); /* accept() until EAGAIN */
    if (flags == -1 || fcntl(lfd, F_SETFL, flags | O_NONBLOCK) == -1)
        die("fcntl");
    serve(lfd, fds, conns);
    if (waitpid(load, NULL, 0) == -1 || close(lfd) == -1)
        die("waitpid, close");
    free(fds);
    return 0;
}
