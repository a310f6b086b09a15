/*
 * pollhup: what poll() reports for the read end of a pipe, and when.
 *
 * It asks only for POLLIN, and prints the revents poll() gives back, at
 * four moments: a writer is open and the pipe is empty; a writer is open
 * and there is data; the writer has closed but there is still data; the
 * writer has closed and the data has all been read (end of file). On
 * Linux the last one is POLLHUP alone, without POLLIN, so a loop that
 * reads only when (revents & POLLIN) never reads its end of file, and
 * calls poll() again and again, which returns at once every time.
 *
 *     pollhup                      (one process; the output is always the same)
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "die.h"

/* poll() the descriptor for POLLIN, without waiting; print revents. */
static void pollhup_show(const char *when, int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready = poll(&p, 1, 0);
    if (ready == -1)
        die("poll");
    printf("%-38s revents:%s%s%s%s\n", when, p.revents == 0 ? " none" : "",
           p.revents & POLLIN ? " POLLIN" : "",
           p.revents & POLLHUP ? " POLLHUP" : "",
           p.revents & POLLERR ? " POLLERR" : "");
}

int main(void)
{
    int fds[2];
    char buf[16];
    if (pipe(fds) == -1)
        die("pipe");
    pollhup_show("writer open, pipe empty", fds[0]);
    if (write(fds[1], "hello", 5) != 5)
        die("write");
    pollhup_show("writer open, 5 bytes waiting", fds[0]);
    if (close(fds[1]) == -1)
        die("close");
    pollhup_show("writer closed, 5 bytes waiting", fds[0]);
    if (read(fds[0], buf, sizeof buf) != 5)
        die("read");
    pollhup_show("writer closed, all read (end of file)", fds[0]);
    // [eof]
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    if (poll(&p, 1, 0) == -1)
        die("poll");
    if (p.revents & (POLLIN | POLLHUP)) { /* not POLLIN alone */
        ssize_t got = read(fds[0], buf, sizeof buf);
        if (got == -1)
            die("read");
        printf("read() after POLLHUP returns %zd: end of file\n", got);
    }
    // [eof]
    if (close(fds[0]) == -1)
        die("close");
    return 0;
}
