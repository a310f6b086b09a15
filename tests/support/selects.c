/*
 * selects.c: counts the select() calls of a test binary.
 *
 * A suite that lists this file in tests/NN-topic/NAME.links gets this
 * definition of select(), which the linker prefers to the C library's:
 * it counts the call, then calls the real select() (the next definition,
 * found with dlsym()). A loop that sleeps in select() while it waits
 * calls it once or twice; a loop that spins calls it thousands of times,
 * however loaded the machine. See wb_select_calls() in wb.h.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include "wb.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/select.h>

static atomic_long select_calls;

int select(int nfds, fd_set *restrict rd, fd_set *restrict wr,
           fd_set *restrict ex, struct timeval *restrict timeout)
{
    static int (*real_select)(int, fd_set *, fd_set *, fd_set *,
                              struct timeval *);
    atomic_fetch_add(&select_calls, 1);
    if (real_select == NULL) {
        void *sym = dlsym(RTLD_NEXT, "select");
        memcpy(&real_select, &sym, sizeof real_select);
    }
    if (real_select == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return real_select(nfds, rd, wr, ex, timeout);
}

long wb_select_calls(void)
{
    return atomic_load(&select_calls);
}
