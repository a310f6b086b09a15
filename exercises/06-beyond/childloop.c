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

/* TODO: the fields: the loop; the signalfd; the signal mask the caller
 * had (the child restores it); whether the descriptor is watched; and a
 * list of the children still running (pid, on_exit, ctx). */
struct childloop {
    int unused;
};

childloop *childloop_new(loop *l)
{
    /* TODO: EINVAL for NULL. Block SIGCHLD with pthread_sigmask(),
     * keeping the old mask; open signalfd(-1, {SIGCHLD}, SFD_NONBLOCK |
     * SFD_CLOEXEC). Undo the block if that fails.
     * Read: chapter 6, "Children in the loop". */
    (void)l;
    errno = ENOSYS;
    return NULL;
}

pid_t childloop_spawn(childloop *c, char *const argv[],
                      childloop_exit_fn on_exit, void *ctx)
{
    /* TODO: EINVAL for NULL arguments. A close-on-exec pipe tells the
     * parent whether execvp() worked: the child restores the caller's
     * mask, calls execvp(), and on failure writes its errno into the
     * pipe and calls _exit(127). The parent reads the pipe: end of file
     * means the exec worked; an errno means reap that child now and
     * fail with it. Record the child; watch the signalfd if it is not.
     * Read: chapter 6, "Children in the loop". */
    (void)c;
    (void)argv;
    (void)on_exit;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

unsigned childloop_running(const childloop *c)
{
    /* TODO: how many children are recorded. */
    (void)c;
    return 0;
}

void childloop_free(childloop *c)
{
    /* TODO: nothing for NULL. SIGKILL and reap (blocking waitpid) every
     * recorded child; unwatch and close the signalfd; unblock SIGCHLD if
     * childloop_new() blocked it; free everything. */
    (void)c;
}
