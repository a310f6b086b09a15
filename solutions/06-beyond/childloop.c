/*
 * childloop: start programs, hear of their end on the event loop.
 * Reference solution; the contract is in exercises/06-beyond/childloop.h.
 *
 * SIGCHLD is blocked and read from a signalfd the loop watches. A read
 * says "one child or more ended", never which ones or how many: the
 * callback asks each child of ours with waitpid(WNOHANG).
 *
 * Linux-only: signalfd.
 */
#define _GNU_SOURCE
#include "childloop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

struct child {
    pid_t pid;
    childloop_exit_fn on_exit;
    void *ctx;
    int status; /* from waitpid(), once reaped */
    struct child *next;
};

struct childloop {
    loop *l;
    int sfd;
    sigset_t caller_mask; /* before SIGCHLD was blocked */
    int blocked;          /* we blocked SIGCHLD: unblock it at the end */
    int watched;
    unsigned running;
    struct child *children;
};

childloop *childloop_new(loop *l)
{
    if (l == NULL) {
        errno = EINVAL;
        return NULL;
    }
    childloop *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->l = l;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int rc = pthread_sigmask(SIG_BLOCK, &chld, &c->caller_mask);
    if (rc != 0) {
        free(c);
        errno = rc;
        return NULL;
    }
    c->blocked = !sigismember(&c->caller_mask, SIGCHLD);
    c->sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (c->sfd == -1) {
        int err = errno;
        if (c->blocked)
            pthread_sigmask(SIG_UNBLOCK, &chld, NULL);
        free(c);
        errno = err;
        return NULL;
    }
    return c;
}

static pid_t wait_eintr(pid_t pid, int *status, int flags)
{
    pid_t r;
    do
        r = waitpid(pid, status, flags);
    while (r == -1 && errno == EINTR);
    return r;
}

// [reap]
static void on_sigchld(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)events;
    childloop *c = ctx;
    /* Empty the signalfd: merged or not, these signals say the same. */
    struct signalfd_siginfo si[16];
    while (read(fd, si, sizeof si) > 0)
        ;
    /* Ask every child of ours; take the ended ones off the list first,
     * since an on_exit may start new children. */
    struct child *ended = NULL, **tail = &ended;
    for (struct child **pp = &c->children; *pp != NULL;) {
        struct child *ch = *pp;
        if (wait_eintr(ch->pid, &ch->status, WNOHANG) == ch->pid) {
            *pp = ch->next;
            ch->next = NULL;
            *tail = ch;
            tail = &ch->next;
        } else {
            pp = &ch->next;
        }
    }
    while (ended != NULL) {
        struct child *ch = ended;
        ended = ch->next;
        c->running--;
        int code = -1, signo = 0;
        if (WIFEXITED(ch->status))
            code = WEXITSTATUS(ch->status);
        else if (WIFSIGNALED(ch->status))
            signo = WTERMSIG(ch->status);
        ch->on_exit(c, ch->pid, code, signo, ch->ctx);
        free(ch);
    }
    if (c->running == 0 && c->watched) {
        loop_unwatch(c->l, c->sfd);
        c->watched = 0;
    }
}
// [reap]

/* Reads the errno the child sends when execvp() fails; 0 when the pipe
 * closed on a successful exec. */
static int exec_error(int rfd)
{
    int err = 0;
    ssize_t n;
    do
        n = read(rfd, &err, sizeof err);
    while (n == -1 && errno == EINTR);
    return n == (ssize_t)sizeof err ? err : 0;
}

// [spawn]
pid_t childloop_spawn(childloop *c, char *const argv[],
                      childloop_exit_fn on_exit, void *ctx)
{
    if (c == NULL || argv == NULL || argv[0] == NULL || on_exit == NULL) {
        errno = EINVAL;
        return -1;
    }
    int err;
    struct child *ch = malloc(sizeof *ch);
    if (ch == NULL)
        return -1;
    if (!c->watched &&
        loop_watch(c->l, c->sfd, LOOP_READ, on_sigchld, c) == -1) {
        free(ch);
        return -1;
    }
    c->watched = 1;
    int p[2];
    if (pipe2(p, O_CLOEXEC) == -1)
        goto fail;
    pid_t pid = fork();
    if (pid == -1) {
        err = errno;
        close(p[0]);
        close(p[1]);
        errno = err;
        goto fail;
    }
    if (pid == 0) {
        pthread_sigmask(SIG_SETMASK, &c->caller_mask, NULL);
        close(p[0]);
        execvp(argv[0], argv);
        err = errno;
        ssize_t w = write(p[1], &err, sizeof err);
        (void)w;
        _exit(127);
    }
    close(p[1]);
    err = exec_error(p[0]);
    close(p[0]);
    if (err != 0) {
        wait_eintr(pid, NULL, 0); /* no zombie */
        errno = err;
        goto fail;
    }
    ch->pid = pid;
    ch->on_exit = on_exit;
    ch->ctx = ctx;
    ch->next = c->children;
    c->children = ch;
    c->running++;
    return pid;
fail:
    err = errno;
    free(ch);
    if (c->running == 0) {
        loop_unwatch(c->l, c->sfd);
        c->watched = 0;
    }
    errno = err;
    return -1;
}
// [spawn]

unsigned childloop_running(const childloop *c)
{
    return c == NULL ? 0 : c->running;
}

void childloop_free(childloop *c)
{
    if (c == NULL)
        return;
    while (c->children != NULL) {
        struct child *ch = c->children;
        c->children = ch->next;
        kill(ch->pid, SIGKILL);
        wait_eintr(ch->pid, NULL, 0);
        free(ch);
    }
    if (c->watched)
        loop_unwatch(c->l, c->sfd);
    close(c->sfd);
    if (c->blocked) {
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        pthread_sigmask(SIG_UNBLOCK, &chld, NULL);
    }
    free(c);
}
