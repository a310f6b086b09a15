/*
 * child_pidfd.c: children as descriptors in the loop, with pidfd_open()
 * (Linux 5.3 and later; Linux only, hence _GNU_SOURCE). Chapter 2's
 * runcmd, turned into a callback: run() starts a program and registers a
 * pidfd for it, which becomes readable when the child exits; the loop
 * then calls the callback with the decoded status, after reaping exactly
 * that child with waitid(P_PIDFD). No SIGCHLD, no handler, no coalescing:
 * one descriptor per child. Four programs: one succeeds, one fails, one
 * is killed by a signal, one does not exist (exec fails; the child exits
 * with 127, as a shell does).
 *
 * Run: child_pidfd
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

struct child {
    const char *name;
    int pidfd;
    void (*done)(struct child *c,
                 const siginfo_t *si); /* on the loop's thread */
};

static int ep, running;

// [run]
static void run(struct child *c, char *const argv[])
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127); /* could not run it */
    }
    c->pidfd = pidfd_open(pid, 0); /* close-on-exec by default */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (c->pidfd == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, c->pidfd, &ev) == -1)
        die("pidfd_open/epoll_ctl");
    running++;
}
// [run]

static void report(struct child *c, const siginfo_t *si)
{
    if (si->si_code == CLD_EXITED)
        printf("%-22s exited with status %d\n", c->name, si->si_status);
    else
        printf("%-22s killed by signal %d (%s)\n", c->name, si->si_status,
               sigabbrev_np(si->si_status));
}

int main(void)
{
    if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
        die("epoll_create1");
    struct child kids[] = {{"true", -1, report},
                           {"sh -c 'exit 3'", -1, report},
                           {"sh -c 'kill -9 $$'", -1, report},
                           {"no-such-program", -1, report}};
    run(&kids[0], (char *[]){"true", NULL});
    run(&kids[1], (char *[]){"sh", "-c", "exit 3", NULL});
    run(&kids[2], (char *[]){"sh", "-c", "kill -9 $$", NULL});
    run(&kids[3], (char *[]){"no-such-program", NULL});
    // [loop]
    while (running > 0) {
        struct epoll_event ev[4];
        int n = epoll_wait(ep, ev, 4, 5000);
        if (n == -1 && errno == EINTR) /* a stop and continue: see signal(7) */
            continue;
        if (n <= 0)
            die("epoll_wait (or 5 s with nothing)");
        for (int i = 0; i < n; i++) {
            struct child *c = ev[i].data.ptr;
            siginfo_t si = {0};
            if (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED) ==
                -1) /* reap it */
                die("waitid");
            if (epoll_ctl(ep, EPOLL_CTL_DEL, c->pidfd, NULL) == -1 ||
                close(c->pidfd) == -1)
                die("unwatch");
            running--;
            c->done(c, &si);
        }
    }
    // [loop]
    if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
        die("a child is left");
    printf("no child left (waitpid: ECHILD)\n");
    if (close(ep) == -1)
        die("close");
    return 0;
}
