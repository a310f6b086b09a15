/*
 * runchild: run a function in a child process and decode how it ended.
 *
 * The contract is in runchild.h. Run the tests with
 *
 *     make check CHAPTER=2 EXERCISE=runchild
 *
 * and ask for a hint with `make hint CHAPTER=2 EXERCISE=runchild`.
 */
#include "runchild.h"

#include <errno.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int runchild_decode(int wstatus, runchild_status *out)
{
    /* TODO: see runchild.h. Read: chapter 2, "Waiting for children: wait()
     * and waitpid()". */
    (void)wstatus;
    (void)out;
    errno = ENOSYS;
    return -1;
}

int runchild_run(runchild_fn fn, void *ctx, runchild_status *out)
{
    /* TODO: see runchild.h. Read: chapter 2, "fork() returns twice", "exit()
     * and _exit(), and flushing before fork()" and "Waiting for children:
     * wait() and waitpid()". */
    (void)fn;
    (void)ctx;
    (void)out;
    errno = ENOSYS;
    return -1;
}
