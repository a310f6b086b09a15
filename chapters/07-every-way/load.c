/*
 * load.c: chapter 7's load generator and meter. It starts a server (the
 * command after --, which must print "port N" first) or uses one already
 * running (-p PORT, and -s PID to measure it), opens CONNS connections to
 * 127.0.0.1, and on each sends REQS requests, DEPTH at a time (a closed
 * loop: the next DEPTH leave when all replies of the last have come; 1
 * means one request, one reply). With --rate R (-r R) the loop is open
 * instead: requests leave on a timetable, R per second in all, spread
 * evenly over the connections, whether or not the replies to the earlier
 * ones have come, and each latency counts from the time the request was
 * due to leave, not from when it left: a server that stalls cannot hide
 * the queue behind it (a closed loop waits with it, and so measures too
 * few slow requests: "coordinated omission"). It stops when every
 * connection is done or after SECONDS, and prints one line of key=value
 * pairs:
 *   rps      answered requests per second, over the whole run
 *   p50_us, p99_us, max_us   latency of one request, send to reply
 *            (open loop: from the time it was due to leave)
 *   rate     the rate asked (--rate), 0 for a closed loop
 *   done, want   requests answered and asked; errors: error replies;
 *            dropped: connections the server closed before the end
 *   cpu_s    the server's CPU time (all its threads, and its children's,
 *            from /proc/PID/stat: clock ticks, so +-0.01 s)
 *   mem_mib  the server's peak memory: the most, over samples every
 *            100 ms, of its resident set plus its children's private
 *            pages (/proc/PID/statm), or its own peak (VmHWM), if more
 *   load_cpu the share of one CPU this program used: near 100 means the
 *            client, not the server, was the limit
 * Mixes (-m): ping; getset (SET and GET in turn on 1,000 keys, values of
 * -d bytes, default 3 as redis-benchmark); cpu (getset, every 10th
 * request BURN 1); wait (getset, every 10th request SLEEP 10).
 * One thread and epoll; Linux-only (/proc, epoll), hence _GNU_SOURCE.
 *
 * Run: load [-c CONNS] [-n REQS] [-P DEPTH | --rate R] [-m MIX] [-d BYTES]
 *           [-t SECONDS] [-N NAME] (-p PORT [-s PID] | -- SERVER [ARGS])
 * e.g. load -c 10 -n 1000 -- server_epoll
 *      load -c 10 -n 1000 --rate 20000 -- server_epoll
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

typedef struct {
    int fd, batch, got; /* requests in this batch, replies to it so far */
    long done;          /* requests answered */
    long queued;        /* open loop: requests put in out so far */
    int64_t sent_at;    /* when this batch left */
    int polling_out;    /* registered for EPOLLOUT */
    char *out, *in;
    size_t out_len, out_off, in_len, in_cap;
} conn;

static int conns = 1, depth = 1, value_size = 3;
static long reqs = 1000;
static const char *mix = "getset";
static int64_t *lat; /* the latency of every answered request, ns */
static double rate;  /* --rate: requests per second in all; 0: closed */
static int64_t gap_ns, start_ns; /* open loop: one connection's interval */
static long nlat, errors, dropped;

static int64_t now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        die("clock_gettime");
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Request number i of connection c, appended to buf; its length. */
static int request(char *buf, int c, long i)
{
    char value[1025];
    int key = (int)((c * 7919L + i / 2) % 1000);
    if (strcmp(mix, "ping") == 0)
        return sprintf(buf, "*1\r\n$4\r\nPING\r\n");
    if (strcmp(mix, "cpu") == 0 && i % 10 == 9)
        return sprintf(buf, "*2\r\n$4\r\nBURN\r\n$1\r\n1\r\n");
    if (strcmp(mix, "wait") == 0 && i % 10 == 9)
        return sprintf(buf, "*2\r\n$5\r\nSLEEP\r\n$2\r\n10\r\n");
    if (i % 2 == 1)
        return sprintf(buf, "*2\r\n$3\r\nGET\r\n$8\r\nkey:%04d\r\n", key);
    memset(value, 'x', (size_t)value_size);
    value[value_size] = '\0';
    return sprintf(buf, "*3\r\n$3\r\nSET\r\n$8\r\nkey:%04d\r\n$%d\r\n%s\r\n",
                   key, value_size, value);
}

/* The length of the first whole reply in p[0..n), 0 if not whole yet. */
static size_t reply_len(const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    if (nl == NULL)
        return 0;
    size_t head = (size_t)(nl - p) + 1;
    if (p[0] != '$' || p[1] == '-')
        return head;
    size_t len = (size_t)atol(p + 1) + 2;
    return n - head >= len ? head + len : 0;
}

/* Send the next batch of c (number k); 0, or -1 when it is finished. */
static int next_batch(conn *c, int k)
{
    long left = reqs - c->done;
    if (left <= 0)
        return -1;
    c->batch = left < depth ? (int)left : depth;
    c->got = 0;
    c->out_len = c->out_off = 0;
    for (int j = 0; j < c->batch; j++)
        c->out_len += (size_t)request(c->out + c->out_len, k, c->done + j);
    c->sent_at = now_ns();
    return 0;
}

// [open]
/* Open loop: when request i of connection k is due to leave. The
   connections take turns, evenly spaced: k starts k/conns of a gap in. */
static int64_t due(int k, long i)
{
    return start_ns + (int64_t)k * gap_ns / conns + i * gap_ns;
}

/* Open loop: put every request whose time has come in c->out, as long as
   there is room (a server that stops reading fills the socket, then
   out: the requests wait here, late, and their lateness counts). */
static void queue_due(conn *c, int k, int64_t t, size_t cap)
{
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
    while (c->queued < reqs && due(k, c->queued) <= t &&
           cap - c->out_len >= 1100)
        c->out_len += (size_t)request(c->out + c->out_len, k, c->queued++);
}
// [open]

/* Write what the socket takes of the batch; poll for EPOLLOUT only while
   some is left (it rarely is: a batch is small). */
static void flush(conn *c, int k, int efd)
{
    while (c->out_off < c->out_len) {
        ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1)
            break; /* full, or reset: the next read tells */
        c->out_off += (size_t)w;
    }
    int want = c->out_off < c->out_len;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0),
                             .data.u32 = (uint32_t)k};
    if (want != c->polling_out && epoll_ctl(efd, EPOLL_CTL_MOD, c->fd, &ev))
        die("epoll_ctl");
    c->polling_out = want;
}

/* /proc/PID/stat: CPU ticks of pid and its reaped children; its own
   resident pages (statm). -1 if it has gone. */
static long proc_ticks(long pid)
{
    char path[64], text[1024];
    unsigned long ut, st;
    long cut, cst;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *p = strrchr(text, ')'); /* fields 14 to 17 after the name */
    if (p == NULL || sscanf(p + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                            "%lu %lu %ld %ld",
                            &ut, &st, &cut, &cst) != 4)
        return -1;
    return (long)(ut + st) + cut + cst;
}

/* Resident pages of pid (whole, or private: resident minus shared). */
static long statm_pages(long pid, int private_only)
{
    char path[64];
    long size, res, shared;
    snprintf(path, sizeof path, "/proc/%ld/statm", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int ok = fscanf(f, "%ld %ld %ld", &size, &res, &shared) == 3;
    fclose(f);
    return !ok ? 0 : private_only ? res - shared : res;
}

/* The server's memory now, in pages: its own, its children's private. */
static long memory_pages(long pid)
{
    char path[64];
    long total = statm_pages(pid, 0), child;
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", pid, pid);
    FILE *f = fopen(path, "r");
    while (f != NULL && fscanf(f, "%ld", &child) == 1)
        total += statm_pages(child, 1);
    if (f != NULL)
        fclose(f);
    return total;
}

/* Whether pid has a child process now (process-per-connection servers:
   their CPU time counts once they have ended and been reaped). */
static int has_children(long pid)
{
    char path[64];
    long child;
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", pid, pid);
    FILE *f = fopen(path, "r");
    int some = f != NULL && fscanf(f, "%ld", &child) == 1;
    if (f != NULL)
        fclose(f);
    return some;
}

static long status_kib(long pid, const char *key)
{
    char path[64], line[256];
    long v = 0;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, strlen(key)) == 0)
            v = atol(line + strlen(key));
    if (f != NULL)
        fclose(f);
    return v;
}

/* Start the server; its pid, *port from its first line "port N". */
static pid_t start_server(char **argv, int *port)
{
    int p[2];
    char line[64] = "";
    size_t n = 0;
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
        fprintf(stderr, "load: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    while (n < sizeof line - 1 && memchr(line, '\n', n) == NULL &&
           poll(&pfd, 1, 10000) == 1) {
        ssize_t r = read(p[0], line + n, sizeof line - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        line[n] = '\0';
    }
    close(p[0]); /* the server's later output: it gets EPIPE, or nothing */
    if (sscanf(line, "port %d", port) != 1) {
        fprintf(stderr, "load: %s printed no \"port N\" in 10 s\n", argv[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        exit(1);
    }
    return pid;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void usage(void)
{
    fprintf(stderr, "usage: load [-c CONNS] [-n REQS] [-P DEPTH | --rate R] "
                    "[-m ping|getset|cpu|wait] [-d BYTES] [-t SECONDS] "
                    "[-N NAME] (-p PORT [-s PID] | -- SERVER [ARGS...])\n");
    exit(2);
}

int main(int argc, char *argv[])
{
    int port = 0, opt, live = 0;
    long pid = 0, seconds = 30;
    const char *name = NULL;
    static const struct option longs[] = {{"rate", required_argument, 0, 'r'},
                                          {0, 0, 0, 0}};
    while ((opt = getopt_long(argc, argv, "c:n:P:m:d:t:N:p:s:r:", longs,
                              NULL)) != -1) {
        long v = optarg ? atol(optarg) : 0;
        if (opt == 'r' && v >= 1 && v <= 10000000)
            rate = (double)v;
        else if (opt == 'c' && v >= 1 && v <= 10000)
            conns = (int)v;
        else if (opt == 'n' && v >= 1)
            reqs = v;
        else if (opt == 'P' && v >= 1 && v <= 1000)
            depth = (int)v;
        else if (opt == 'm' && strstr(" ping getset cpu wait ", optarg))
            mix = optarg;
        else if (opt == 'd' && v >= 1 && v <= 1024)
            value_size = (int)v;
        else if (opt == 't' && v >= 1)
            seconds = v;
        else if (opt == 'N')
            name = optarg;
        else if (opt == 'p' && v >= 1 && v <= 65535)
            port = (int)v;
        else if (opt == 's' && v >= 1)
            pid = v;
        else
            usage();
    }
    if ((port == 0) == (optind == argc) || (long)conns * reqs > 20000000 ||
        (rate > 0 && depth > 1))
        usage();
    gap_ns = (int64_t)(1e9 * conns / (rate > 0 ? rate : 1));
    size_t out_cap = (size_t)(rate > 0 ? 64 : depth) * 1100;
    if (name == NULL) /* the server's file name, python3 script's too */
        name = port                       ? "server"
               : argv[argc - 1][0] == '-' ? argv[optind]
                                          : argv[argc - 1];
    if (strrchr(name, '/') != NULL)
        name = strrchr(name, '/') + 1;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1 ||
        signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("setrlimit, signal");
    pid_t child = port ? 0 : start_server(argv + optind, &port);
    if (child)
        pid = child;

    conn *cs = calloc((size_t)conns, sizeof *cs);
    lat = malloc((size_t)(conns * reqs) * sizeof *lat);
    int efd = epoll_create1(EPOLL_CLOEXEC);
    if (cs == NULL || lat == NULL || efd == -1)
        die("load: calloc, malloc, epoll_create1");
    long ticks0 = pid ? proc_ticks(pid) : 0, peak = pid ? memory_pages(pid) : 0;
    struct rusage ru0, ru1;
    if (getrusage(RUSAGE_SELF, &ru0) == -1)
        die("getrusage");
    int64_t t0 = now_ns(), deadline = t0 + seconds * 1000000000, last = t0;

    // [connect]
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int k = 0; k < conns; k++) {
        conn *c = &cs[k];
        int one = 1;
        c->in_cap = (size_t)depth * 1100 + 65536;
        c->out = malloc(out_cap);
        c->in = malloc(c->in_cap);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = k};
        if (c->out == NULL || c->in == NULL ||
            (c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
            connect(c->fd, (struct sockaddr *)&a, sizeof a) == -1 ||
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ||
            fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1 ||
            epoll_ctl(efd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
            die("load: connect");
        c->polling_out = 1;
        if (rate == 0)
            next_batch(c, k);
        live++;
    }
    // [connect]
    start_ns = now_ns(); /* the timetable starts when all are connected */

    // [loop]
    struct epoll_event evs[256];
    while (live > 0 && now_ns() < deadline) {
        int64_t next = now_ns() + 100000000; /* sleep 100 ms at most */
        for (int k = 0; rate > 0 && k < conns; k++) {
            conn *c = &cs[k]; /* open loop: send what is due, then */
            if (c->fd == -1)  /* sleep until the next one is */
                continue;
            queue_due(c, k, now_ns(), out_cap);
            flush(c, k, efd);
            if (c->queued < reqs && out_cap - c->out_len >= 1100 &&
                due(k, c->queued) < next) /* full: EPOLLOUT wakes us */
                next = due(k, c->queued);
        }
        int64_t wait = next - now_ns();
        struct timespec ts = {0, wait > 0 ? (long)wait : 0};
        int n = epoll_pwait2(efd, evs, 256, &ts, NULL);
        if (n == -1 && errno != EINTR)
            die("epoll_wait");
        int64_t t = now_ns();
        if (pid && t - last >= 100000000) { /* a memory sample */
            long m = memory_pages(pid);
            peak = m > peak ? m : peak;
            last = t;
        }
        for (int i = 0; i < n; i++) {
            int k = (int)evs[i].data.u32;
            conn *c = &cs[k];
            if (c->fd == -1)
                continue;
            flush(c, k, efd);
            ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
            if (r == -1 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0) { /* the server closed it (one too many?) */
                close(c->fd);
                c->fd = -1;
                live--;
                dropped++;
                continue;
            }
            c->in_len += (size_t)r;
            size_t off = 0, len;
            while ((len = reply_len(c->in + off, c->in_len - off)) > 0) {
                errors += c->in[off] == '-';
                lat[nlat++] = t - (rate > 0 ? due(k, c->done) : c->sent_at);
                off += len;
                c->got++;
                c->done++;
            }
            memmove(c->in, c->in + off, c->in_len - off);
            c->in_len -= off;
            if (rate > 0 && c->done == reqs) {
                close(c->fd);
                c->fd = -1;
                live--;
            } else if (rate > 0) {
                continue;
            } else if (c->got == c->batch && next_batch(c, k) == 0) {
                flush(c, k, efd);
            } else if (c->got == c->batch) {
                close(c->fd); /* done: the server may serve the next */
                c->fd = -1;
                live--;
            }
        }
    }
    // [loop]
    int64_t t1 = now_ns();
    if (getrusage(RUSAGE_SELF, &ru1) == -1)
        die("getrusage");
    for (int k = 0; k < conns; k++) {
        if (cs[k].fd != -1)
            close(cs[k].fd);
        free(cs[k].in);
        free(cs[k].out);
    }
    double cpu = 0, mem = 0;
    if (pid) { /* let children that serve closed clients end */
        for (int i = 0; i < 50 && has_children(pid); i++)
            usleep(20000);
        cpu = (double)(proc_ticks(pid) - ticks0) / (double)sysconf(_SC_CLK_TCK);
        mem = (double)peak * (double)sysconf(_SC_PAGESIZE) / 1048576;
        double hwm = (double)status_kib(pid, "VmHWM:") / 1024;
        mem = hwm > mem ? hwm : mem;
    }
    if (child && (kill(child, SIGTERM) == -1 || waitpid(child, NULL, 0) == -1))
        die("kill, waitpid");
    qsort(lat, (size_t)nlat, sizeof *lat, cmp64);
    double secs = (double)(t1 - t0) / 1e9;
    double mine = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec +
                           ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                  (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec +
                           ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) /
                      1e6;
    printf("server=%s conns=%d depth=%d mix=%s done=%ld want=%ld errors=%ld "
           "dropped=%ld secs=%.2f rps=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f "
           "cpu_s=%.2f mem_mib=%.1f load_cpu=%.0f rate=%.0f\n",
           name, conns, depth, mix, nlat, conns * reqs, errors, dropped, secs,
           (double)nlat / secs, nlat ? (double)lat[nlat / 2] / 1e3 : 0,
           nlat ? (double)lat[nlat * 99 / 100] / 1e3 : 0,
           nlat ? (double)lat[nlat - 1] / 1e3 : 0, cpu, mem, 100 * mine / secs,
           rate);
    free(lat);
    free(cs);
    close(efd);
    return nlat == conns * reqs && errors == 0 ? 0 : 1;
}
