/*
 * sigmask_broken.c: a signalfd sees only signals blocked in EVERY thread
 * (Linux only, hence _GNU_SOURCE). The program starts a worker thread,
 * blocks SIGTERM, makes a signalfd for it and sends itself SIGTERM.
 * Here the worker is created BEFORE SIGTERM is blocked, so it still has
 * SIGTERM unblocked; the kernel delivers the signal to it, with the
 * default action, and the whole process ends: the shell reports status
 * 143 (128 + 15) and the signalfd never sees anything.
 *
 * Run: sigmask_broken
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static pthread_barrier_t started;

static void *worker(void *arg) /* a thread that just waits, as a pool's would */
{
    (void)arg;
    pthread_barrier_wait(&started); /* running, with its own signal mask */
    nanosleep(&(struct timespec){0, 500 * 1000000L}, NULL);
    return NULL;
}

int main(void)
{
    pthread_t t;
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    int en = pthread_barrier_init(&started, NULL, 2);
    if (en != 0)
        die_en(en, "pthread_barrier_init");
    // [order]
    if ((en = pthread_create(&t, NULL, worker, NULL)) !=
        0) /* the bug: too early */
        die_en(en, "pthread_create");
    if ((en = pthread_sigmask(SIG_BLOCK, &term, NULL)) !=
        0) /* this thread only */
        die_en(en, "pthread_sigmask");
    // [order]
    pthread_barrier_wait(&started);
    int sfd = signalfd(-1, &term, SFD_CLOEXEC);
    if (sfd == -1)
        die("signalfd");
    printf("sending SIGTERM to the process\n");
    fflush(stdout);
    if (kill(getpid(), SIGTERM) == -1)
        die("kill");
    struct pollfd p = {.fd = sfd, .events = POLLIN};
    int n = poll(&p, 1, 300);
    if (n == -1)
        die("poll");
    if (n == 0) {
        printf("the signalfd saw nothing in 300 ms\n");
    } else {
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != sizeof si)
            die("read");
        printf("the loop read signal %u (SIGTERM) from the signalfd: shutting "
               "down\n",
               si.ssi_signo);
    }
    if ((en = pthread_join(t, NULL)) != 0)
        die_en(en, "pthread_join");
    if (close(sfd) == -1)
        die("close");
    return 0;
}
