/*
 * readiness.c: select() reports readiness, not completion. It says that a
 * read() would not block now; it reads nothing, so asking again gives the
 * same answer until somebody reads. Readable also covers end of file,
 * where read() returns 0; writable means there is room for some bytes,
 * not for all you may want to write.
 *
 * Run: readiness
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/select.h>
#include <unistd.h>

#include "die.h"

// [ready]
/* Whether select() says fd is ready (for writing if write is 1), asked
   with a zero timeout: look, do not wait. */
static int ready(int fd, int write)
{
    fd_set set;
    struct timeval zero = {0, 0};
    FD_ZERO(&set);
    FD_SET(fd, &set);
    int n =
        select(fd + 1, write ? NULL : &set, write ? &set : NULL, NULL, &zero);
    if (n == -1)
        die("select");
    return n == 1 && FD_ISSET(fd, &set);
}
// [ready]

static void show(const char *what, int fd, int write)
{
    printf("%-44s %s? %s\n", what, write ? "writable" : "readable",
           ready(fd, write) ? "yes" : "no");
}

static ssize_t must_read(int fd, char *buf, size_t len)
{
    ssize_t n = read(fd, buf, len);
    if (n == -1)
        die("read");
    return n;
}

int main(void)
{
    static char block[65536];
    char buf[32];
    ssize_t n;
    int p[2];
    if (pipe(p) == -1)
        die("pipe");

    // [steps]
    show("an empty pipe:", p[0], 0);
    if (write(p[1], "hello, world", 12) != 12)
        die("write");
    show("after writing 12 bytes:", p[0], 0);
    show("asked again, nothing read in between:", p[0], 0);
    n = must_read(p[0], buf, 5);
    printf("read() of 5 bytes got \"%.*s\"\n", (int)n, buf);
    show("7 bytes still in the pipe:", p[0], 0);
    n = must_read(p[0], buf, sizeof buf);
    printf("read() of up to %zu bytes got \"%.*s\"\n", sizeof buf, (int)n, buf);
    show("all read:", p[0], 0);
    // [steps]

    int flags = fcntl(p[1], F_GETFL);
    if (flags == -1 || fcntl(p[1], F_SETFL, flags | O_NONBLOCK) == -1)
        die("fcntl");
    show("the write end of the empty pipe:", p[1], 1);
    long total = 0;
    while ((n = write(p[1], block, sizeof block)) > 0)
        total += n;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        die("write");
    printf("wrote %ld bytes until write() said EAGAIN\n", total);
    show("the full pipe:", p[1], 1);
    n = must_read(p[0], block, 100);
    show("after reading 100 bytes:", p[1], 1);
    n = must_read(p[0], block, 4096 - 100);
    show("after reading a whole page (4096 bytes):", p[1], 1);

    // [eof]
    while (ready(p[0], 0)) /* drain it */
        must_read(p[0], block, sizeof block);
    show("drained:", p[0], 0);
    if (close(p[1]) == -1)
        die("close");
    show("after the writer closed its end:", p[0], 0);
    n = must_read(p[0], buf, sizeof buf);
    printf("and read() returned %zd: end of file\n", n);
    // [eof]
    if (close(p[0]) == -1)
        die("close");
    return 0;
}
