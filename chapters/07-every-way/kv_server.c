/*
 * kv_server.c: the key-value server of chapter 7's first capstone (kv.h)
 * as a program that redis-cli and redis-benchmark can talk to. It
 * listens on 127.0.0.1, port PORT (0: the kernel picks one), prints the
 * port ("port N"), and serves until SECONDS have passed or it gets SIGTERM or
 * SIGINT; then kv_stop() answers what was asked and the program ends.
 * The Makefile links it with the reference kv, loop and timerq (with
 * yours in the learners' copy, which has no solutions). bench_kv.sh
 * builds it a second time on chapter 6's epoll loop (eloop.c).
 *
 *     kv_server 0 60 &
 *     redis-cli -p PORT set greeting hello
 *     redis-benchmark -p PORT -t get,set -c 50 -n 100000 -q
 *
 * Up to 1,000 clients, requests up to 1 MiB, idle clients dropped after
 * 5 minutes.
 *
 * Run: kv_server PORT SECONDS
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "die.h"
#include "kv.h"
#include "04-select/loop.h"

static kv *server;
static int wake[2];   /* the signal handler's byte reaches the loop here */
static long timer_id; /* the SECONDS timer */

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    (void)write(wake[1], "s", 1);
    errno = saved;
}

/* Time is up, or a signal came: stop; with nothing left, loop_run()
   returns once every client has its replies. */
static void stop_all(loop *l)
{
    (void)loop_unwatch(l, wake[0]);
    if (timer_id > 0)
        (void)loop_cancel_timer(l, timer_id);
    timer_id = 0;
    kv_stop(server);
    server = NULL;
}

static void on_wake(loop *l, int fd, int events, void *ctx)
{
    (void)fd;
    (void)events;
    (void)ctx;
    stop_all(l);
}

static void on_time_up(loop *l, void *ctx)
{
    (void)ctx;
    timer_id = 0;
    stop_all(l);
}

static int listen_on(int port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(fd, 511) == -1 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) == -1)
        die("socket, bind, listen");
    /* "port N" first, as the chapter's other servers print it, for
       survive.py and bench_kv.sh. */
    printf("port %d\nkv_server: listening on 127.0.0.1\n",
           ntohs(addr.sin_port));
    if (fflush(stdout) == EOF)
        die("fflush");
    return fd;
}

// [main]
int main(int argc, char *argv[])
{
    int port = argc == 3 ? atoi(argv[1]) : -1;
    long seconds = argc == 3 ? atol(argv[2]) : 0;
    if (port < 0 || port > 65535 || seconds < 1) {
        fprintf(stderr, "usage: %s PORT SECONDS (PORT 0: any free port)\n",
                argv[0]);
        return 2;
    }
    kv_config cfg = {.max_clients = 1000,
                     .max_request = (1 << 20) + 4096,
                     .max_queue = 256 * 1024,
                     .idle_ms = 5 * 60 * 1000};
    struct sigaction sa = {.sa_handler = on_signal};
    if (pipe(wake) == -1 || sigaction(SIGTERM, &sa, NULL) == -1 ||
        sigaction(SIGINT, &sa, NULL) == -1)
        die("pipe, sigaction");
    int lfd = listen_on(port);
    loop *l = loop_new();
    if (l == NULL || (server = kv_start(l, lfd, &cfg)) == NULL)
        die("loop_new, kv_start");
    if ((timer_id = loop_add_timer(l, seconds * 1000, on_time_up, NULL)) < 0 ||
        loop_watch(l, wake[0], LOOP_READ, on_wake, NULL) == -1)
        die("loop_add_timer, loop_watch");
    while (loop_run(l) == -1)
        if (errno != EINTR)
            die("loop_run");
    loop_free(l);
    if (close(lfd) == -1)
        die("close");
    printf("kv_server: stopped\n");
    return 0;
}
// [main]
