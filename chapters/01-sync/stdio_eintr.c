/*
 * stdio_eintr.c: stdio loops over short reads, but it does not retry EINTR.
 *
 * It reads one line from standard input with getline(). A timer sends it
 * SIGALRM 200 ms after it starts, while getline() is blocked in read() on
 * an empty pipe. With a handler installed without SA_RESTART, the read()
 * inside getline() fails with EINTR, and so does getline(): it returns -1
 * and sets the stream's error flag, although nothing is wrong with the
 * input. The program then clears the flag and calls getline() again, which
 * gets the line. With "restart" the handler is installed with SA_RESTART:
 * the kernel restarts the read() that had moved nothing, and the first
 * getline() gets the line.
 *
 * Run: (sleep 0.5; echo hello) | stdio_eintr [restart]  (make demos builds it)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "die.h"

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* One getline(), and what it says. Returns -1 if it failed. */
static ssize_t stdio_eintr_read(char **line, size_t *cap)
{
    errno = 0;
    ssize_t len = getline(line, cap, stdin);
    int e = errno; /* printf() may change errno */
    if (len == -1) {
        printf("getline: -1, ferror(stdin) %d, feof(stdin) %d, errno %s "
               "(%s)\n",
               ferror(stdin) != 0, feof(stdin) != 0,
               e == EINTR ? "EINTR" : "not EINTR", strerror(e));
        errno = e;
        return -1;
    }
    printf("getline: %zd bytes: %s", len, *line);
    return len;
}

int main(int argc, char *argv[])
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    int restart = argc > 1 && strcmp(argv[1], "restart") == 0;
    sa.sa_flags = restart ? SA_RESTART : 0;
    if (sigemptyset(&sa.sa_mask) == -1 || sigaction(SIGALRM, &sa, NULL) == -1)
        die("sigaction");
    printf("handler installed %s SA_RESTART\n", restart ? "with" : "without");

    timer_t timer; /* one SIGALRM, 200 ms from now */
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGALRM;
    struct itimerspec when = {{0, 0}, {0, 200 * 1000000L}};
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) == -1 ||
        timer_settime(timer, 0, &when, NULL) == -1)
        die("timer_create");

    // [read]
    char *line = NULL;
    size_t cap = 0;
    if (stdio_eintr_read(&line, &cap) == -1 && ferror(stdin) &&
        errno == EINTR) {
        clearerr(stdin); /* the input is fine: clear the flag, try again */
        printf("clearerr(stdin), then again:\n");
        stdio_eintr_read(&line, &cap);
    }
    // [read]
    printf("SIGALRM handled %d time%s\n", (int)alarms, alarms == 1 ? "" : "s");
    free(line);
    if (timer_delete(timer) == -1)
        die("timer_delete");
    return ferror(stdin) ? 1 : 0;
}
