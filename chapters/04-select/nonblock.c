/*
 * nonblock.c: what O_NONBLOCK changes. A read() from an empty pipe and a
 * write() into a full one return at once with EAGAIN instead of waiting;
 * a write() with only some room left writes part of its bytes; and end of
 * file is still a read() that returns 0, not an error.
 *
 * Run: nonblock
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "die.h"

// [setnb]
/* Add O_NONBLOCK to the flags the descriptor already has. */
static void set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1)
        die("fcntl F_GETFL");
    if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
        die("fcntl F_SETFL");
}
// [setnb]

/* "-1 (EAGAIN)" for a call that would have blocked; dies on other errors. */
static void show(const char *what, ssize_t n)
{
    if (n >= 0)
        printf("%-36s returned %zd\n", what, n);
    else if (errno == EAGAIN || errno == EWOULDBLOCK)
        printf("%-36s returned -1, errno EAGAIN\n", what);
    else
        die(what);
}

int main(void)
{
    static char block[100000];
    int p[2];
    if (pipe(p) == -1)
        die("pipe");
    set_nonblocking(p[0]);
    set_nonblocking(p[1]);

    // [empty]
    char buf[16];
    ssize_t n = read(p[0], buf, sizeof buf); /* nothing written yet */
    show("read() from the empty pipe", n);
    // [empty]

    // [full]
    long total = 0, writes = 0;
    while ((n = write(p[1], block, 4096)) > 0) { /* fill it up */
        total += n;
        writes++;
    }
    printf("%ld writes of 4096 bytes went in: the pipe holds %ld bytes\n",
           writes, total);
    show("the next write() of 4096 bytes", n);
    // [full]

    n = read(p[0], block, 1000);
    show("read() of 1000 bytes", n);
    n = read(p[0], block, 10000);
    show("read() of 10000 bytes", n);
    n = write(p[1], block, sizeof block); /* room for less than that */
    show("write() of 100000 bytes", n);
    n = write(p[1], block, sizeof block);
    show("write() of 100000 bytes again", n);

    // [eof]
    if (close(p[1]) == -1) /* no writer left: end of file comes */
        die("close");
    total = 0;
    while ((n = read(p[0], block, sizeof block)) > 0)
        total += n;
    printf("after the writer closed, read() drained %ld bytes\n", total);
    show("and then read()", n);
    // [eof]
    if (close(p[0]) == -1)
        die("close");
    return 0;
}
