/*
 * echo_threads.c: an echo server with a thread per connection, under
 * load. It starts echo_load (which must be on PATH, and measures it), and
 * a thread per connection that echoes with blocking read() and send()
 * until its client leaves or fails: CONNS at once (one more is refused),
 * any number over its life, until echo_load has exited.
 *
 * Run: echo_threads CONNS [ROUNDS]   (ROUNDS default: 20000 / CONNS, >= 10)
 */
#include <pthread.h>
#include <semaphore.h>
#include <sys/select.h>
#include <stdint.h>
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

/* Wait until a client connects (1) or echo_load has exited (0). */
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

static sem_t slots; /* one per client it may still take */

// [thread]
static void *on_client(void *arg) /* echo until the client leaves */
{
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 || send_all(fd, buf, (size_t)n) == -1)
            break; /* a reset, say: this client only is over */
    }
    (void)close(fd);
    if (sem_post(&slots) == -1)
        die("sem_post");
    return NULL;
}
// [thread]

int main(int argc, char *argv[])
{
    int conns, rounds, lfd, done, en;
    parse(argc, argv, 10000, &conns, &rounds);
    pthread_attr_t detached;
    if (sem_init(&slots, 0, (unsigned)conns) == -1 ||
        (en = pthread_attr_init(&detached)) != 0 ||
        (en = pthread_attr_setdetachstate(&detached,
                                          PTHREAD_CREATE_DETACHED)) != 0)
        die("sem_init, pthread_attr");
    pid_t load = start_load(conns, rounds, &lfd, &done);
    // [accept]
    while (wait_for_client(lfd, done)) {
        int fd = accept(lfd, NULL, NULL);
        pthread_t t;
        if (fd == -1)
            continue;                    /* that connection has gone */
        if (sem_trywait(&slots) == -1) { /* conns at once: no more */
            (void)send(fd, "server full\n", 12, MSG_NOSIGNAL);
            (void)close(fd);
        } else if (pthread_create(&t, &detached, on_client,
                                  (void *)(intptr_t)fd) != 0) {
            (void)close(fd);
            (void)sem_post(&slots);
        }
    }
    for (int i = 0; i < conns; i++) /* every thread has given back */
        while (sem_wait(&slots) == -1)
            if (errno != EINTR)
                die("sem_wait");
    // [accept]
    if (waitpid(load, NULL, 0) == -1 || close(lfd) == -1 || close(done) == -1)
        die("waitpid, close");
    return 0;
}
