/*
 * etfair: fair edge-triggered reading (reference solution).
 * Linux only: epoll is Linux's, hence _GNU_SOURCE.
 *
 * The contract is in exercises/06-beyond/etfair.h.
 *
 * A table indexed by descriptor holds each added descriptor's callback
 * and its links in the ready list, a doubly linked FIFO threaded
 * through the table by descriptor number (so etfair_remove() takes a
 * descriptor out of it in O(1), and nothing holds a pointer into the
 * table across a callback, which may grow it).
 *
 * A round: wait (timeout 0 when the ready list is not empty: those
 * descriptors will get no new edge), append the reported descriptors
 * that are not on the list yet, then serve as many descriptors from the
 * head as the list held when serving began. A turn reads until EAGAIN
 * (drained: off the list), end of file or an error (removed), or the
 * budget is spent (back to the tail, for the next round).
 */
#define _GNU_SOURCE
#include "etfair.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct etfair_entry {
    etfair_cb on_data; /* NULL when the descriptor is not added */
    void *ctx;
    int queued;          /* on the ready list */
    int prev, next;      /* ready list links, -1 at the ends */
    unsigned long gen;   /* which etfair_add() of this number */
    unsigned long round; /* the round that last gave it a turn */
};

enum { ETFAIR_EVENTS = 64, ETFAIR_CHUNK = 16384 };

struct etfair {
    int epfd;
    size_t budget;
    struct etfair_entry *tab; /* indexed by descriptor */
    size_t ntab;
    int head, tail; /* the ready list, -1 when empty */
    int nready;
    unsigned long gens, rounds;
    int running;
    char buf[ETFAIR_CHUNK];
};

etfair *etfair_new(size_t budget)
{
    if (budget == 0) {
        errno = EINVAL;
        return NULL;
    }
    etfair *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r->epfd == -1) {
        free(r);
        return NULL;
    }
    r->budget = budget;
    r->head = r->tail = -1;
    return r;
}

void etfair_free(etfair *r)
{
    if (r == NULL)
        return;
    close(r->epfd);
    free(r->tab);
    free(r);
}

static int etfair_added(const etfair *r, int fd)
{
    return fd >= 0 && (size_t)fd < r->ntab && r->tab[fd].on_data != NULL;
}

static void etfair_push(etfair *r, int fd)
{
    struct etfair_entry *e = &r->tab[fd];
    e->queued = 1;
    e->next = -1;
    e->prev = r->tail;
    if (r->tail >= 0)
        r->tab[r->tail].next = fd;
    else
        r->head = fd;
    r->tail = fd;
    r->nready++;
}

static void etfair_unlink(etfair *r, int fd)
{
    struct etfair_entry *e = &r->tab[fd];
    if (!e->queued)
        return;
    if (e->prev >= 0)
        r->tab[e->prev].next = e->next;
    else
        r->head = e->next;
    if (e->next >= 0)
        r->tab[e->next].prev = e->prev;
    else
        r->tail = e->prev;
    e->queued = 0;
    r->nready--;
}

int etfair_add(etfair *r, int fd, etfair_cb on_data, void *ctx)
{
    if (r == NULL || on_data == NULL || fd < 0) {
        errno = EINVAL;
        return -1;
    }
    if (etfair_added(r, fd)) {
        errno = EEXIST;
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl == -1)
        return -1; /* EBADF */
    if (!(fl & O_NONBLOCK)) {
        errno = EINVAL; /* a drained read would block, not say EAGAIN */
        return -1;
    }
    if ((size_t)fd >= r->ntab) {
        size_t n = r->ntab ? r->ntab : 64;
        while (n <= (size_t)fd)
            n *= 2;
        struct etfair_entry *t = realloc(r->tab, n * sizeof *t);
        if (t == NULL) {
            errno = ENOMEM;
            return -1;
        }
        for (size_t i = r->ntab; i < n; i++)
            t[i] = (struct etfair_entry){NULL, NULL, 0, -1, -1, 0, 0};
        r->tab = t;
        r->ntab = n;
    }
    /* Edge-triggered: reported when data arrives, not while it waits. A
     * descriptor that already holds data is reported at once. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
                             .data.fd = fd};
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
        return -1; /* EBADF, EPERM, ENOMEM, ENOSPC; nothing changed */
    r->tab[fd] = (struct etfair_entry){on_data, ctx, 0, -1, -1, ++r->gens, 0};
    return 0;
}

int etfair_remove(etfair *r, int fd)
{
    if (r == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (!etfair_added(r, fd)) {
        errno = ENOENT;
        return -1;
    }
    (void)epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
    etfair_unlink(r, fd);
    r->tab[fd] = (struct etfair_entry){NULL, NULL, 0, -1, -1, 0, 0};
    return 0;
}

/* End of file or an error: remove fd, then tell its callback. */
static void etfair_finish(etfair *r, int fd, ssize_t n)
{
    etfair_cb cb = r->tab[fd].on_data;
    void *ctx = r->tab[fd].ctx;
    (void)etfair_remove(r, fd);
    cb(r, fd, NULL, n, ctx);
}

/* One turn of fd: up to the budget. It is off the list when called. */
static void etfair_turn(etfair *r, int fd)
{
    size_t got = 0;
    unsigned long gen = r->tab[fd].gen;
    r->tab[fd].round = r->rounds;
    while (got < r->budget) {
        size_t want = r->budget - got;
        if (want > sizeof r->buf)
            want = sizeof r->buf;
        ssize_t n = read(fd, r->buf, want);
        if (n > 0) {
            got += (size_t)n;
            r->tab[fd].on_data(r, fd, r->buf, n, r->tab[fd].ctx);
            if (!etfair_added(r, fd) || r->tab[fd].gen != gen)
                return; /* removed (maybe added again) by the callback */
            continue;
        }
        if (n == 0) {
            etfair_finish(r, fd, 0);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return; /* drained: the next edge brings it back */
        etfair_finish(r, fd, -(ssize_t)errno);
        return;
    }
    /* The budget is spent and data may remain: no edge will say so. */
    etfair_push(r, fd);
}

int etfair_round(etfair *r, int timeout_ms)
{
    if (r == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (r->running) {
        errno = EBUSY;
        return -1;
    }
    struct epoll_event ev[ETFAIR_EVENTS];
    int n =
        epoll_wait(r->epfd, ev, ETFAIR_EVENTS, r->nready > 0 ? 0 : timeout_ms);
    if (n == -1) {
        if (errno != EINTR)
            return -1;
        n = 0; /* a signal: serve what is left over, if anything */
    }
    for (int i = 0; i < n; i++) {
        int fd = ev[i].data.fd;
        if (etfair_added(r, fd) && !r->tab[fd].queued)
            etfair_push(r, fd);
    }
    r->running = 1;
    /* One turn each for the descriptors on the list now. Those that
     * spend their budget go back to the tail marked with this round:
     * reaching one of them at the head ends the round. */
    r->rounds++;
    while (r->head >= 0 && r->tab[r->head].round != r->rounds) {
        int fd = r->head;
        etfair_unlink(r, fd);
        etfair_turn(r, fd);
    }
    r->running = 0;
    return r->nready;
}
