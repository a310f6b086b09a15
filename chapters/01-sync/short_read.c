/*
 * short_read.c: read() returns what is there, up to the size you ask for.
 *
 * It calls read(0, buf, size) until read() returns 0 (end of file) and
 * prints what each call returned. From a regular file every call gets the
 * full size except the last; from a pipe a call returns as soon as some
 * bytes are there, so the counts follow the writer, not the buffer.
 *
 * Run: short_read [size] < data/haiku.txt          (size: default 16)
 *      (printf 'hello '; sleep 0.2; printf 'world\n') | short_read
 * (make demos builds it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "die.h"

/* Print the bytes with \n shown as such, so a line fits on one line. */
static void show(const char *buf, ssize_t n)
{
    putchar('"');
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\n')
            fputs("\\n", stdout);
        else
            putchar(buf[i]);
    putchar('"');
}

int main(int argc, char *argv[])
{
    char buf[4096];
    long size = 16;
    if (argc > 1) {
        char *end;
        size = strtol(argv[1], &end, 10);
        if (argc > 2 || end == argv[1] || *end != '\0' || size < 1 ||
            size > (long)sizeof buf) {
            fprintf(stderr, "usage: short_read [size from 1 to %zu]\n",
                    sizeof buf);
            return 2;
        }
    }
    // [loop]
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, (size_t)size);
        if (n == -1 && errno == EINTR)
            continue; /* a signal came before any byte: just ask again */
        if (n == -1)
            die("read");
        printf("read(0, buf, %ld) = %zd  ", size, n);
        if (n == 0) {
            printf("end of file\n");
            break;
        }
        show(buf, n);
        putchar('\n');
    }
    // [loop]
    if (fflush(stdout) == EOF)
        die("fflush");
    return 0;
}
