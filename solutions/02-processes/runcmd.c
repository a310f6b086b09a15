/*
 * runcmd: the reference solution (contract in
 * exercises/02-processes/runcmd.h).
 */
#include "runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t runcmd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before @p deadline (-1: none), for poll(): -1 for no
 * limit, 0 when the time is up. */
static int runcmd_left_ms(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - runcmd_now_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

static void runcmd_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        continue;
}

static int runcmd_reap(pid_t pid, int *wstatus)
{
    while (waitpid(pid, wstatus, 0) == -1) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

static void runcmd_close_pair(const int p[2])
{
    close(p[0]);
    close(p[1]);
}

// [child]
/* In the child: the plumbing, then exec. Never returns. */
static void runcmd_child(char *const argv[], const int out[2], const int err[2])
{
    close(out[0]);
    close(err[0]);
    int in = open("/dev/null", O_RDONLY);
    if (in != -1 && dup2(in, STDIN_FILENO) != -1 &&
        dup2(out[1], STDOUT_FILENO) != -1) {
        if (in > STDOUT_FILENO) /* 1: the dup2() above replaced it */
            close(in);
        if (out[1] != STDOUT_FILENO)
            close(out[1]);
        execvp(argv[0], argv);
    }
    /* Still here: tell the parent why, through the pipe that exec would
     * have closed. */
    int e = errno;
    while (write(err[1], &e, sizeof e) == -1 && errno == EINTR)
        continue;
    _exit(127);
}
// [child]

int runcmd_run(char *const argv[], long timeout_ms, runcmd_result *res)
{
    if (res != NULL)
        *res = (runcmd_result){.code = -1, .out = NULL};
    if (argv == NULL || argv[0] == NULL || res == NULL) {
        errno = EINVAL;
        return -1;
    }
    int64_t deadline = -1; /* none */
    if (timeout_ms > 0) {
        int64_t now = runcmd_now_ms();
        /* A limit the clock can never reach is no limit; now + timeout_ms
         * would overflow. */
        if (timeout_ms < INT64_MAX - now)
            deadline = now + timeout_ms;
    }

    int out[2], err[2];
    if (pipe(out) == -1)
        return -1;
    if (pipe(err) == -1) {
        int saved = errno;
        runcmd_close_pair(out);
        errno = saved;
        return -1;
    }
    if (fcntl(err[1], F_SETFD, FD_CLOEXEC) == -1 || fflush(NULL) == EOF) {
        int saved = errno;
        runcmd_close_pair(out);
        runcmd_close_pair(err);
        errno = saved;
        return -1;
    }
    pid_t pid = fork();
    if (pid == -1) {
        int saved = errno;
        runcmd_close_pair(out);
        runcmd_close_pair(err);
        errno = saved;
        return -1;
    }
    if (pid == 0)
        runcmd_child(argv, out, err);

    // [exec-check]
    /* Only the child holds the write ends now: end-of-file on each pipe
     * means every copy is closed. */
    close(out[1]);
    close(err[1]);
    /* The error pipe closes on a successful exec (0 bytes) or carries the
     * child's errno. */
    int child_errno = 0;
    ssize_t got;
    while ((got = read(err[0], &child_errno, sizeof child_errno)) == -1 &&
           errno == EINTR)
        continue;
    int read_errno = errno;
    close(err[0]);
    if (got != 0) {
        int ws;
        close(out[0]);
        if (got == -1)
            kill(pid, SIGKILL);
        runcmd_reap(pid, &ws);
        errno = got == -1 ? read_errno : child_errno;
        return -1;
    }
    // [exec-check]

    // [read-loop]
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int failure = buf == NULL ? ENOMEM : 0;
    int timed_out = 0;
    while (failure == 0) {
        int wait_ms = runcmd_left_ms(deadline);
        if (wait_ms == 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pfd = {.fd = out[0], .events = POLLIN};
        int ready = poll(&pfd, 1, wait_ms);
        if (ready == -1) {
            if (errno != EINTR)
                failure = errno;
            continue;
        }
        if (ready == 0)
            continue; /* the loop's first line sees the time is up */
        if (cap - len < 2) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                failure = ENOMEM;
                continue;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(out[0], buf + len, cap - len - 1);
        if (n == -1) {
            if (errno != EINTR)
                failure = errno;
            continue;
        }
        if (n == 0)
            break; /* every write end closed: the output is complete */
        len += (size_t)n;
    }
    close(out[0]);
    // [read-loop]

    // [wait]
    /* The output has ended; the command may still be running. Wait for
     * it, but not past the deadline. */
    int ws = 0, reaped = 0;
    while (failure == 0 && !timed_out && !reaped) {
        pid_t w = waitpid(pid, &ws, deadline < 0 ? 0 : WNOHANG);
        if (w == pid) {
            reaped = 1;
        } else if (w == -1 && errno != EINTR) {
            failure = errno;
        } else if (w == 0) {
            int left = runcmd_left_ms(deadline);
            if (left == 0)
                timed_out = 1;
            else
                runcmd_sleep_ms(left < 5 ? left : 5);
        }
    }
    if (!reaped) {
        /* Time is up, or something failed: the command must not outlive
         * the call. */
        kill(pid, SIGKILL);
        if (runcmd_reap(pid, &ws) == -1 && failure == 0)
            failure = errno;
    }
    // [wait]
    if (failure != 0) {
        free(buf);
        errno = failure;
        return -1;
    }
    buf[len] = '\0';
    res->out = buf;
    res->out_len = len;
    res->timed_out = timed_out;
    if (WIFEXITED(ws)) {
        res->code = WEXITSTATUS(ws);
        res->signo = 0;
    } else {
        res->code = -1;
        res->signo = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
    }
    return 0;
}

void runcmd_free(runcmd_result *res)
{
    if (res == NULL)
        return;
    free(res->out);
    res->out = NULL;
    res->out_len = 0;
}
