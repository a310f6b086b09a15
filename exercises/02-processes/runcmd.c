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
    /* TODO: check the arguments. Make a pipe for the output and a second
     * one, closed on exec, on which the child reports a failed execvp()
     * (its errno). fork(); the child redirects stdin from /dev/null and
     * stdout into the pipe (dup2), closes what it does not need and
     * calls execvp(). The parent closes the write ends, learns from the
     * second pipe whether the exec worked, then poll()s and read()s the
     * output until end-of-file or the deadline, kills the command
     * (SIGKILL) if time ran out, and always waitpid()s it. End-of-file
     * does not mean the command has ended: wait with WNOHANG and short
     * sleeps until it ends or the deadline passes.
     * Read: chapter 2, "exec: running another program", "A child's
     * standard output into a pipe: dup2()", "Reading with a time limit:
     * poll()" and "The full pipe". */
    (void)argv;
    (void)timeout_ms;
    (void)res;
    errno = ENOSYS;
    return -1;
}

void runcmd_free(runcmd_result *res)
{
    /* TODO: free res->out and set it to NULL (and out_len to 0).
     * Read: chapter 2, "Pipes". */
    (void)res;
}
