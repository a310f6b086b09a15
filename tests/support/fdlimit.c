/*
 * fdlimit.c: no descriptor left, or only high ones (fdlimit.h). Shared by
 * the chapter 5 suites that make a wake-up pipe impossible to make or
 * impossible to watch, so that the way it is done (and any fix to it)
 * is one.
 */
#include "fdlimit.h"
#include "wb.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

static struct rlimit old;
static int filler[FD_SETSIZE + 1];
static int nfill;

void fdlimit_none_left(void)
{
    struct rlimit low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    int lowest = 0;
    while (fcntl(lowest, F_GETFD) != -1)
        lowest++;
    low.rlim_cur = (rlim_t)lowest;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    nfill = 0;
}

void fdlimit_only_high(void)
{
    struct rlimit many;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    many = old;
    if (many.rlim_cur < FD_SETSIZE + 16 && many.rlim_max >= FD_SETSIZE + 16) {
        many.rlim_cur = FD_SETSIZE + 16;
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &many), 0);
    }
    nfill = 0;
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_msg(null_fd != -1, "cannot open /dev/null");
    filler[nfill++] = null_fd;
    for (int fd = 0; fd < FD_SETSIZE; fd++)
        if (fcntl(fd, F_GETFD) == -1) {
            ck_assert_msg(dup2(null_fd, fd) == fd, "dup2() failed");
            filler[nfill++] = fd;
        }
}

void fdlimit_restore(void)
{
    for (int i = 0; i < nfill; i++)
        close(filler[i]);
    nfill = 0;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
}
