/*
 * fdset_fortify.c: glibc's run-time check of the fd_set macros. Built
 * with optimisation and -D_FORTIFY_SOURCE=2 (the line below adds the
 * define to the book's flags, which already have -O1), FD_SET() on a
 * descriptor outside 0 to FD_SETSIZE - 1 ends the program with a message
 * instead of writing past the set. Without the flag, or without -O, the
 * same call writes the bit out of bounds and the program goes on.
 *
 * Run: fdset_fortify [FD]   (default: FD_SETSIZE)
 */
// cflags: -D_FORTIFY_SOURCE=2
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>

int main(int argc, char *argv[])
{
    if (argc > 2) {
        fprintf(stderr, "usage: fdset_fortify [FD]\n");
        return 2;
    }
    /* From the command line, so the compiler cannot see the value. */
    int fd = argc == 2 ? atoi(argv[1]) : FD_SETSIZE;

    // [set]
    fd_set set;
    FD_ZERO(&set);
    printf("FD_SET(%d, &set), with FD_SETSIZE %d\n", fd, FD_SETSIZE);
    fflush(stdout); /* the check writes to stderr, then aborts */
    FD_SET(fd, &set);
    printf("FD_SET(%d, &set) returned\n", fd);
    // [set]
    return FD_ISSET(fd, &set) ? 0 : 1;
}
