/*
 * unwatch_fixed.c: the loop of unwatch_broken.c, with one more line in
 * unwatch(): the descriptor is also taken out of the set of ready
 * descriptors that the loop is still walking. A descriptor unwatched
 * during a round gets no callback later in that round, whatever it is
 * reused for; C's callback runs only once C has sent something.
 *
 * Run: unwatch_fixed
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "die.h"

typedef void (*on_readable_cb)(int fd, void *ctx);
static struct {
    on_readable_cb on_readable; /* NULL: not watched */
    void *ctx;
} watches[FD_SETSIZE];
static fd_set ready; /* what the last select() reported, being walked */

// [unwatch]
static void unwatch(int fd)
{
    watches[fd].on_readable = NULL;
    FD_CLR(fd, &ready); /* no callback for it later in this round */
}
// [unwatch]

static void watch(int fd, on_readable_cb on_readable, void *ctx)
{
    if (fd < 0 || fd >= FD_SETSIZE)
        die_en(EINVAL, "watch");
    watches[fd].on_readable = on_readable;
    watches[fd].ctx = ctx;
}

// [run]
static void run_once(void)
{
    struct timeval tv = {0, 100 * 1000}; /* give up after 100 ms */
    int maxfd = -1;
    FD_ZERO(&ready);
    for (int fd = 0; fd < FD_SETSIZE; fd++)
        if (watches[fd].on_readable != NULL) {
            FD_SET(fd, &ready);
            maxfd = fd;
        }
    int n = select(maxfd + 1, &ready, NULL, NULL, &tv);
    if (n == -1)
        die("select");
    printf("select() reports %d ready\n", n);
    for (int fd = 0; fd <= maxfd; fd++)
        if (FD_ISSET(fd, &ready) && watches[fd].on_readable != NULL)
            watches[fd].on_readable(fd, watches[fd].ctx);
}
// [run]

static int pair[3][2]; /* the connections: [0] server end, [1] client end */

static void on_message(int fd, void *ctx)
{
    const char *name = ctx;
    char buf[64];
    printf("  callback of %s: read()...\n", name);
    if (fflush(stdout) == EOF)
        die("fflush");
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n <= 0)
        die("read");
    buf[n] = '\0';
    printf("  %s says: %s", name, buf);
    // [kick]
    if (strcmp(buf, "kick B\n") == 0) {
        unwatch(pair[1][0]);
        if (close(pair[1][0]) == -1 || close(pair[1][1]) == -1)
            die("close");
        printf("  unwatched and closed B\n");
        int old = pair[1][0];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair[2]) == -1)
            die("socketpair");
        watch(pair[2][0], on_message, "C");
        printf("  client C connected; its descriptor %s\n",
               pair[2][0] == old ? "has the number B had" : "is new");
    }
    // [kick]
}

static void on_alarm(int sig)
{
    static const char msg[] = "alarm: the loop has been stuck in C's read() "
                              "for 1 s; giving up\n";
    ssize_t n = write(STDOUT_FILENO, msg, sizeof msg - 1);
    (void)sig;
    _exit(n == -1 ? 2 : 1);
}

int main(void)
{
    if (signal(SIGALRM, on_alarm) == SIG_ERR)
        die("signal");
    alarm(1);
    for (int i = 0; i < 2; i++)
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair[i]) == -1)
            die("socketpair");
    if (write(pair[0][1], "kick B\n", 7) != 7 ||
        write(pair[1][1], "hello\n", 6) != 6)
        die("write");
    watch(pair[0][0], on_message, "A");
    watch(pair[1][0], on_message, "B");
    for (int round = 0; round < 2; round++)
        run_once();
    printf("done, no callback was called for a descriptor that was not "
           "ready\n");
    return 0;
}
