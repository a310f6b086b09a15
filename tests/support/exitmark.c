/*
 * exitmark.c: did a forked child end with exit()? (exitmark.h). Shared by
 * the chapter 2 suites that check the [exit] promise (a child ends with
 * _exit()), so that the handler and its pipe are written once.
 */
#include "exitmark.h"
#include "wb.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int exit_marker_fd = -1;
static int exit_marker_read = -1;
static pid_t exit_marker_owner;

/* The atexit() handler: it reports, through the pipe, a process other
 * than the test's own that ran it. */
static void on_exit_mark(void)
{
    if (exit_marker_fd >= 0 && getpid() != exit_marker_owner) {
        ssize_t n = write(exit_marker_fd, "X", 1);
        (void)n;
    }
}

void exitmark_arm(void)
{
    static int registered;
    int fds[2];
    wb_pipe(fds);
    exit_marker_read = fds[0];
    exit_marker_fd = fds[1];
    exit_marker_owner = getpid();
    if (!registered)
        WB_EXPECT(atexit(on_exit_mark) == 0, "atexit() failed");
    registered = 1;
}

ssize_t exitmark_count(size_t most)
{
    char marks[64];
    if (most > sizeof marks)
        most = sizeof marks;
    int fd = exit_marker_fd;
    exit_marker_fd = -1;
    close(fd);
    ssize_t n;
    while ((n = read(exit_marker_read, marks, most)) == -1 && errno == EINTR)
        continue;
    close(exit_marker_read);
    exit_marker_read = -1;
    return n;
}
