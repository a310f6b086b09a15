/*
 * runcmd: run a command with a time limit and capture its output.
 *
 * The contract is in runcmd.h. Run the tests with
 *
 *     make check CHAPTER=2 EXERCISE=runcmd
 *
 * and ask for a hint with `make hint CHAPTER=2 EXERCISE=runcmd`.
 */
#include "runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int runcmd_run(char *const argv[], long timeout_ms, runcmd_result *res)
{
    /* TODO: see runcmd.h. Read: chapter 2, "exec: running another program",
     * "A child's standard output into a pipe: dup2()", "Reading with a time
     * limit: poll()" and "The full pipe". */
    (void)argv;
    (void)timeout_ms;
    (void)res;
    errno = ENOSYS;
    return -1;
}

void runcmd_free(runcmd_result *res)
{
    /* TODO: see runcmd.h. Read: chapter 2, "Pipes". */
    (void)res;
}
