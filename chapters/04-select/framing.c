/*
 * framing.c: a byte stream has no messages in it. The writer sends six
 * pieces into a socket; each read() returns whatever has arrived, which
 * may be half a line, several lines, or part of a line longer than any
 * buffer. "naive" takes each read() as one request and gets it wrong;
 * "lines" keeps the bytes of an unfinished line until its '\n' comes,
 * hands out every complete line, and drops a line longer than MAX_LINE
 * instead of growing without bound.
 *
 * Run: framing naive|lines
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "die.h"

#define MAX_LINE 16 /* longest line accepted, without its '\n' */

static void show(const char *what, const char *s, size_t n)
{
    printf("%s\"", what); /* the bytes, with '\n' written as \n */
    for (size_t i = 0; i < n; i++)
        printf(s[i] == '\n' ? "\\n" : "%c", s[i]);
    printf("\"\n");
}

// [linebuf]
struct lines {
    char line[MAX_LINE + 1]; /* the unfinished line, and room for a NUL */
    size_t len;
    int skipping; /* in a line that was too long: drop up to its '\n' */
};

/* Take in n bytes; hand out each line they complete. */
static void lines_feed(struct lines *lb, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            if (lb->skipping)
                printf("  end of the long line: its bytes were dropped\n");
            else
                show("  line: ", lb->line, lb->len);
            lb->len = 0;
            lb->skipping = 0;
        } else if (lb->skipping) {
            continue; /* still inside the long line */
        } else if (lb->len == MAX_LINE) {
            printf("  line longer than %d bytes: dropping it\n", MAX_LINE);
            lb->skipping = 1;
        } else {
            lb->line[lb->len++] = data[i];
        }
    }
    if (lb->len > 0 && !lb->skipping)
        printf("  kept %zu bytes of an unfinished line\n", lb->len);
}
// [linebuf]

int main(int argc, char *argv[])
{
    const char *pieces[] = {
        "GET /in",           "dex\nGET /about\nGET /co", "ntact\n",
        "GET /a-very-long-", "name-indeed\nGET /",       "last\n"};
    int naive = argc == 2 && strcmp(argv[1], "naive") == 0;
    if (argc != 2 || (!naive && strcmp(argv[1], "lines") != 0)) {
        fprintf(stderr, "usage: framing naive|lines\n");
        return 2;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die("socketpair");
    struct lines lb = {{0}, 0, 0};
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        size_t len = strlen(pieces[i]);
        if (write(sv[1], pieces[i], len) != (ssize_t)len)
            die("write");
        // [read]
        char buf[64];
        ssize_t n = read(sv[0], buf, sizeof buf); /* what has arrived */
        if (n == -1)
            die("read");
        show("read() returned: ", buf, (size_t)n);
        if (naive)
            show("  request: ", buf, (size_t)n); /* wrong */
        else
            lines_feed(&lb, buf, (size_t)n);
        // [read]
    }
    if (close(sv[0]) == -1 || close(sv[1]) == -1)
        die("close");
    return 0;
}
