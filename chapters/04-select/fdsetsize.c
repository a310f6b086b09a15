/*
 * fdsetsize.c: an fd_set has room for descriptors 0 to FD_SETSIZE - 1 and
 * no more. The program raises its limit on open files, opens descriptors
 * until one is FD_SETSIZE or above, and shows a watch function that
 * refuses such a descriptor with EINVAL. It never calls FD_SET() on it:
 * that would write a bit past the end of the fd_set, into whatever memory
 * follows it.
 *
 * Run: fdsetsize
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include "die.h"

static fd_set watched; /* what a loop would hand to select() */

// [watch]
/* Add fd to the set, or refuse with EINVAL if it does not fit. */
static int watch(int fd)
{
    if (fd < 0 || fd >= FD_SETSIZE) {
        errno = EINVAL;
        return -1;
    }
    FD_SET(fd, &watched);
    return 0;
}
// [watch]

static void try_watch(int fd)
{
    if (watch(fd) == 0)
        printf("watch(%d): ok\n", fd);
    else if (errno == EINVAL)
        printf("watch(%d): refused with EINVAL\n", fd);
    else
        die("watch");
}

int main(void)
{
    printf("FD_SETSIZE is %d: an fd_set is %zu bytes, one bit for each of "
           "the descriptors 0 to %d\n",
           FD_SETSIZE, sizeof(fd_set), FD_SETSIZE - 1);

    // [rlimit]
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit");
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < FD_SETSIZE + 10) {
        rl.rlim_cur = FD_SETSIZE + 10; /* the soft limit is often 1024 */
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur) {
            fprintf(stderr,
                    "fdsetsize: the hard limit on open files is "
                    "below %d\n",
                    FD_SETSIZE + 10);
            return 1;
        }
        if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
            die("setrlimit");
    }
    // [rlimit]

    int fd;
    do { /* the lowest free number each time, so they climb one by one */
        fd = open("/dev/null", O_RDONLY);
        if (fd == -1)
            die("open /dev/null");
    } while (fd < FD_SETSIZE);
    printf("opened /dev/null until open() returned descriptor %d\n", fd);

    FD_ZERO(&watched);
    try_watch(3);
    try_watch(FD_SETSIZE - 1);
    try_watch(fd);
    printf("descriptor %d would be bit %d of byte %d: the first byte after "
           "the fd_set\n",
           fd, fd % 8, fd / 8);
    return 0;
}
