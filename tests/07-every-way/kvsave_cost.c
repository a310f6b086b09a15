/*
 * kvsave_cost: what a SAVE costs the loop, measured (chapter 7, "A
 * snapshot of one instant"). Not a test: the numbers of that section
 * come from it.
 *
 * Starts the key-value server (kv.c) with kvsave on a loop thread, fills
 * it with N keys of 16-byte values through one pipelined client, then
 * sends SAVE while a second client sends PING after PING, one at a time.
 * Prints how long kvsave_start() held the loop (the copy), how long the
 * SAVE took until +OK, the file's size, and the slowest PING round trip
 * during the SAVE.
 *
 * Build and run from the top of the workbook: S=solutions builds it on
 * the reference solutions; in a handout, which has no solutions/,
 * S=exercises builds it on your own files.
 *
 *     S=solutions
 *     mkdir -p build && cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 \
 *        -pthread -Iexercises/07-every-way -Iexercises/05-callbacks \
 *        -Iexercises/04-select -Iexercises -Ichapters \
 *        -o build/kvsave_cost tests/07-every-way/kvsave_cost.c \
 *        $S/07-every-way/kvsave.c $S/07-every-way/kv.c \
 *        $S/05-callbacks/offload.c $S/04-select/loop.c \
 *        $S/04-select/timerq.c
 *     build/kvsave_cost 100000 /tmp/snap
 *
 * Linux-only (accept4 in kv.c, TCP on 127.0.0.1).
 */
#define _GNU_SOURCE
#include "kvsave.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static kvsave *saver;
static int64_t copy_ns; /* written on the loop's thread, read after +OK */

/* kvsave_start(), timed: the part of a SAVE that holds the loop. */
static int timed_save(kv *k, kv_pending *p, void *ctx)
{
    int64_t t0 = now_ns();
    int rc = kvsave_start(k, p, ctx);
    copy_ns = now_ns() - t0;
    return rc;
}

static void *run(void *arg)
{
    loop_run(arg);
    return NULL;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Read until @p n occurrences of "\r\n" have arrived. */
static void read_lines(int fd, long n)
{
    char buf[65536];
    while (n > 0) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0) {
            perror("read");
            exit(1);
        }
        for (ssize_t i = 0; i < r; i++)
            n -= buf[i] == '\n';
    }
}

static void send_all(int fd, const char *b, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w <= 0) {
            perror("write");
            exit(1);
        }
        b += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    const char *path = argc > 2 ? argv[2] : "/tmp/kvsave_cost.snap";
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) != 0) {
        perror("listen");
        return 1;
    }
    loop *l = loop_new();
    offload *o = l ? offload_new(l, 1) : NULL;
    saver = o ? kvsave_new(l, o, path) : NULL;
    kv_config cfg = {.max_clients = 8,
                     .max_request = 1 << 20,
                     .max_queue = 1 << 20,
                     .idle_ms = 60000,
                     .save = timed_save,
                     .save_ctx = saver};
    kv *k = saver ? kv_start(l, lfd, &cfg) : NULL;
    if (k == NULL) {
        perror("setup");
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, run, l);
    int port = ntohs(a.sin_port);
    int c = dial(port), pinger = dial(port);

    /* Fill: N SETs, sent in batches of 1,000, each batch's replies read. */
    char *batch = malloc(1000 * 80);
    for (long i = 0; i < n;) {
        size_t at = 0;
        long j = 0;
        for (; j < 1000 && i < n; j++, i++)
            at += (size_t)sprintf(batch + at,
                                  "*3\r\n$3\r\nSET\r\n$10\r\nkey:%06ld\r\n"
                                  "$16\r\nvalue:%010ld\r\n",
                                  i, i);
        send_all(c, batch, at);
        read_lines(c, j);
    }
    free(batch);

    int64_t t0 = now_ns(), worst = 0;
    long pings = 0;
    send_all(c, "SAVE\r\n", 6);
    struct pollfd p = {c, POLLIN, 0};
    while (poll(&p, 1, 0) == 0) {
        int64_t s = now_ns();
        send_all(pinger, "PING\r\n", 6);
        read_lines(pinger, 1);
        int64_t d = now_ns() - s;
        worst = d > worst ? d : worst;
        pings++;
    }
    char reply[64] = {0};
    ssize_t r = read(c, reply, sizeof reply - 1);
    int64_t total = now_ns() - t0;
    struct stat st;
    long size = stat(path, &st) == 0 ? (long)st.st_size : -1;
    printf("keys %ld, file %ld bytes, reply %.*s\n", n, size,
           r > 2 ? (int)r - 2 : 0, reply);
    printf("loop held by the copy: %.2f ms; SAVE until its reply: %.2f ms\n",
           copy_ns / 1e6, total / 1e6);
    printf("PINGs answered during the SAVE: %ld, slowest %.2f ms\n", pings,
           worst / 1e6);
    close(c);
    close(pinger);
    unlink(path);
    fflush(stdout);
    _exit(0); /* the server thread still runs: no orderly stop needed */
}
