/*
 * echo_select.c: an echo server in one thread with select(), under load.
 * It starts echo_load (which must be on PATH), which measures it and
 * prints the results, and serves CONNS clients at once from one loop (one
 * more is refused; CONNS must keep every descriptor below FD_SETSIZE),
 * any number over its life, until echo_load has exited.
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
   kernel picks, and start `echo_load PORT conns rounds`. The listening
   socket is close-on-exec: echo_load does not inherit it. *done reads end
   of file once echo_load has exited: it holds the pipe's only write end. */
static pid_t start_load(int conns, int rounds, int *lfd, int *done)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t alen = sizeof addr;
    struct rlimit rl; /* a descriptor per connection */
    char args[3][16];
    int pipefd[2];
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || pipe(pipefd) == -1 ||
        (*lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
        bind(*lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(*lfd, conns) == -1 ||
        getsockname(*lfd, (struct sockaddr *)&addr, &alen) == -1 ||
        fflush(stdout) == EOF)
        die("setup");
    snprintf(args[0], 16, "%d", ntohs(addr.sin_port));
    snprintf(args[1], 16, "%d", conns);
    snprintf(args[2], 16, "%d", rounds);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("echo_load", "echo_load", args[0], args[1], args[2],
               (char *)NULL);
        die("exec echo_load");
    }
    if (pid == -1 || close(pipefd[1]) == -1) /* only echo_load has it */
        die("fork, close");
    *done = pipefd[0];
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
/* Serve until echo_load has exited and every connection has closed. At
   most conns clients at once: one more is told so and closed. Whatever
   goes wrong with one client (a reset, an echo it does not read) ends
   that client, never the server. */
static void serve(int lfd, int done, int *fds, int conns)
{
    char buf[4096];
    int listening = 1, live = 0; /* accepting; connections open */
    while (listening || live > 0) {
        fd_set rd;
        int maxfd = lfd > done ? lfd : done;
        FD_ZERO(&rd);
        if (listening) {
            FD_SET(lfd, &rd);
            FD_SET(done, &rd);
        }
        for (int i = 0; i < conns; i++)
            if (fds[i] != -1) {
                FD_SET(fds[i], &rd);
                maxfd = fds[i] > maxfd ? fds[i] : maxfd;
            }
        if (select(maxfd + 1, &rd, NULL, NULL, NULL) == -1) {
            if (errno == EINTR)
                continue;
            die("select");
        }
        listening = listening && !FD_ISSET(done, &rd);
        while (listening && FD_ISSET(lfd, &rd)) { /* all queued */
            int fd = accept(lfd, NULL, NULL), i = 0;
            if (fd == -1)
                break; /* EAGAIN: none left (other errors: accept_fixed) */
            while (i < conns && fds[i] != -1)
                i++;
            if (i == conns || fd >= FD_SETSIZE ||
                fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
                (void)send(fd, "server full\n", 12, MSG_NOSIGNAL);
                (void)close(fd);
                continue;
            }
            fds[i] = fd;
            live++;
        }
        for (int i = 0; i < conns; i++) {
            if (fds[i] == -1 || !FD_ISSET(fds[i], &rd))
                continue;
            ssize_t n = read(fds[i], buf, sizeof buf);
            if (n == -1 && (errno == EINTR || errno == EAGAIN))
                continue;
            /* End of file, an error, or an echo the socket does not take
               whole (a client that sends without reading): it is over. */
            if (n <= 0 || send(fds[i], buf, (size_t)n, MSG_NOSIGNAL) != n) {
                (void)close(fds[i]);
                fds[i] = -1;
                live--;
            }
        }
    }
}
// [serve]

int main(int argc, char *argv[])
{
    int conns, rounds, lfd, done;
    parse(argc, argv, FD_SETSIZE - 16, &conns, &rounds);
    int *fds = malloc((size_t)conns * sizeof *fds);
    if (fds == NULL)
        die("malloc");
    for (int i = 0; i < conns; i++)
        fds[i] = -1; /* a free slot */
    pid_t load = start_load(conns, rounds, &lfd, &done);
    int flags = fcntl(lfd, F_GETFL); /* accept() until EAGAIN */
    if (flags == -1 || fcntl(lfd, F_SETFL, flags | O_NONBLOCK) == -1)
        die("fcntl");
    serve(lfd, done, fds, conns);
    if (waitpid(load, NULL, 0) == -1 || close(lfd) == -1 || close(done) == -1)
        die("waitpid, close");
    free(fds);
    return 0;
}
