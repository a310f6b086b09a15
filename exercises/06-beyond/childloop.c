/*
 * childloop: start programs, hear of their end on the event loop.
 *
 * The contract is in childloop.h. Run the tests with
 *
 *     make check CHAPTER=6 EXERCISE=childloop
 *
 * and ask for a hint with `make hint CHAPTER=6 EXERCISE=childloop`.
 *
 * The event loop of chapter 4 (04-select/loop.h) is linked in: the
 * reference solution in the workbook, your own exercises/04-select/loop.c
 * in a handout.
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

/* TODO: the fields you need. */
struct childloop {
    int unused;
};

childloop *childloop_new(loop *l)
{
    /* TODO: see childloop.h. Read: chapter 6, "Children in the loop". */
    (void)l;
    errno = ENOSYS;
    return NULL;
}

pid_t childloop_spawn(childloop *c, char *const argv[],
                      childloop_exit_fn on_exit, void *ctx)
{
    /* TODO: see childloop.h. Read: chapter 6, "Children in the loop". */
    (void)c;
    (void)argv;
    (void)on_exit;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

unsigned childloop_running(const childloop *c)
{
    /* TODO: see childloop.h. Read: chapter 6, "Children in the loop". */
    (void)c;
    return 0;
}

void childloop_free(childloop *c)
{
    /* TODO: see childloop.h. Read: chapter 6, "Children in the loop". */
    (void)c;
}
