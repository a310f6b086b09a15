/*
 * shutdown.c: signals as descriptors, and a graceful shutdown on SIGTERM
 * (Linux only, hence _GNU_SOURCE). The program blocks SIGTERM and reads it
 * from a signalfd that its epoll loop watches like any other descriptor,
 * so the "handler" is ordinary code on the loop's thread. A feeder child
 * sends a job every 100 ms; each job takes 300 ms (a timerfd of its own).
 * At 450 ms the feeder sends SIGTERM: the loop stops taking jobs, lets the
 * ones in flight finish, and exits; if they took longer than 1 s, it
 * would give up on them. A second SIGTERM would end it at once. With
 * WB_TRACE set, it records each job, the signal and the shutdown for the
 * timeline (chapters/trace.h).
 *
 * Run: shutdown
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

static int ep;
static double t0;

static double ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6 - t0;
}

static int watch(int fd) /* register fd; the fd itself is the user data */
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (fd == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
        die("watch");
    return fd;
}

static int timer_in(long msec)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec it = {.it_value = {msec / 1000, msec % 1000 * 1000000L}};
    if (fd == -1 || timerfd_settime(fd, 0, &it, NULL) == -1)
        die("timerfd");
    return watch(fd);
}

static int64_t began[64]; /* for the timeline: a job's start and number, */
static int number[64];    /* by its timer's descriptor */

static int job_start(int n)
{
    int fd = timer_in(300);
    if (fd < 64)
        began[fd] = trace_now(), number[fd] = n;
    return fd;
}

static void job_end(int fd)
{
    char label[16];
    snprintf(label, sizeof label, "job %d", fd < 64 ? number[fd] : 0);
    if (fd < 64)
        trace_span(label, began[fd], trace_now());
    if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == -1 || close(fd) == -1)
        die("close");
}

int main(void)
{
    t0 = 0, t0 = ms();
    // [block]
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &term, NULL) ==
        -1) /* before any thread or child */
        die("sigprocmask");
    ep = epoll_create1(EPOLL_CLOEXEC);
    int sfd =
        watch(signalfd(-1, &term, SFD_CLOEXEC)); /* SIGTERM, as a descriptor */
    // [block]
    int jobs[2];
    if (pipe2(jobs, O_CLOEXEC) == -1)
        die("pipe2");
    fflush(stdout);
    pid_t feeder = fork();
    if (feeder == -1)
        die("fork");
    if (feeder ==
        0) { /* one job every 100 ms; SIGTERM to the parent at 450 ms */
        if (close(jobs[0]) == -1)
            _exit(1);
        for (int i = 1; i <= 20; i++) {
            if (i == 5) {
                nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
                int64_t t = trace_now();
                kill(getppid(), SIGTERM);
                trace_span("SIGTERM", t, t + 3000000); /* a 3 ms mark */
            }
            if (write(jobs[1], "j", 1) != 1)
                _exit(0); /* the loop stopped reading: we are done */
            nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
        }
        _exit(0);
    }
    if (close(jobs[1]) == -1)
        die("close");
    int src = watch(jobs[0]), in_flight = 0, started = 0, deadline = -1;
    int64_t stop_at = trace_now();
    // [loop]
    while (src != -1 || in_flight > 0) { /* accepting, or finishing */
        struct epoll_event ev;
        if (epoll_wait(ep, &ev, 1, -1) == -1) {
            if (errno == EINTR) /* a stop and continue: see signal(7) */
                continue;
            die("epoll_wait");
        }
        int fd = ev.data.fd;
        if (fd == sfd) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) != sizeof si)
                die("read signalfd");
            if (src == -1) {
                printf("%4.0f ms  second SIGTERM: exit now\n", ms());
                break;
            }
            printf("%4.0f ms  SIGTERM from pid %s: stop taking jobs, %d in "
                   "flight\n",
                   ms(), si.ssi_pid == (uint32_t)feeder ? "of the feeder" : "?",
                   in_flight);
            if (epoll_ctl(ep, EPOLL_CTL_DEL, src, NULL) == -1 ||
                close(src) == -1)
                die("unwatch"); /* DEL first: see "A closed descriptor..." */
            src = -1;
            deadline = timer_in(1000); /* the bound on finishing */
            stop_at = trace_now();
        } else if (fd == src) {
            char c;
            if (read(src, &c, 1) != 1)
                die("read job");
            job_start(++started), in_flight++;
            printf("%4.0f ms  job %d started\n", ms(), started);
        } else if (fd == deadline) {
            printf("%4.0f ms  1 s bound passed: giving up on %d jobs\n", ms(),
                   in_flight);
            break;
        } else { /* a job's timer: the job is done */
            job_end(fd);
            printf("%4.0f ms  a job finished, %d in flight\n", ms(),
                   --in_flight);
        }
    }
    // [loop]
    trace_span("finishing", stop_at, trace_now());
    int st;
    if (waitpid(feeder, &st, 0) == -1)
        die("waitpid");
    printf("exit: %d jobs started, %d unfinished\n", started, in_flight);
    return 0;
}
