/*
 * newfds.c: the descriptors a call opened, and their flags (newfds.h).
 * Shared by the chapter 5 suites that check a wake-up descriptor is
 * close-on-exec and non-blocking, whatever kind it is.
 */
#include "newfds.h"

#include <fcntl.h>

void newfds_before(struct newfds *s)
{
    for (int fd = 0; fd < NEWFDS_SCAN; fd++)
        s->was_open[fd] = fcntl(fd, F_GETFD) != -1;
}

void newfds_after(struct newfds *s)
{
    s->opened = s->no_cloexec = s->blocking = 0;
    for (int fd = 0; fd < NEWFDS_SCAN; fd++) {
        int fdfl = fcntl(fd, F_GETFD);
        if (s->was_open[fd] || fdfl == -1)
            continue;
        s->opened++;
        s->no_cloexec += !(fdfl & FD_CLOEXEC);
        s->blocking += !(fcntl(fd, F_GETFL) & O_NONBLOCK);
    }
}
