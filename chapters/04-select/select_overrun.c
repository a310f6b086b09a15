/*
 * select_overrun.c: with nfds above FD_SETSIZE, select() reads bits past
 * the end of the fd_set, and writes its answer back over them. The set
 * sits in a struct right before one word of "sentinel" bits, all ones.
 * Descriptors FD_SETSIZE and up are copies of an empty pipe's read end,
 * so they are open and not readable (and they must exist: Linux uses no
 * more bits than the process has descriptor slots). select(), told to
 * look at one word more than the set holds, takes the sentinel for 64
 * more descriptors to watch, finds none of them ready, and clears every
 * one of those bits: the variable after the set changes though the
 * program never wrote it.
 *
 * Run: select_overrun
 */
#include <limits.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include "die.h"

// [layout]
enum { WORD_BITS = CHAR_BIT * sizeof(unsigned long) };

static struct {
    fd_set set;
    unsigned long neighbour; /* another variable, right after the set */
} mem;
// [layout]

int main(void)
{
    int nfds = FD_SETSIZE + WORD_BITS; /* one word too many */

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit");
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)nfds) {
        rl.rlim_cur = (rlim_t)nfds;
        if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
            die("setrlimit");
    }
    int p[2];
    if (pipe(p) == -1)
        die("pipe");
    for (int fd = FD_SETSIZE; fd < nfds; fd++) /* open, never readable */
        if (dup2(p[0], fd) == -1)
            die("dup2");

    // [overrun]
    FD_ZERO(&mem.set);
    FD_SET(p[0], &mem.set); /* one descriptor, well inside the set */
    mem.neighbour = ~0UL;   /* every bit set */
    printf("before select(): neighbour = %#lx\n", mem.neighbour);

    struct timeval zero = {0, 0};
    int n = select(nfds, &mem.set, NULL, NULL, &zero);
    if (n == -1)
        die("select");
    printf("select(%d, ...) returned %d\n", nfds, n);
    printf("after select():  neighbour = %#lx\n", mem.neighbour);
    // [overrun]
    return 0;
}
