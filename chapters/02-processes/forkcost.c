/*
 * forkcost: what starting a process costs, measured.
 *
 * Times `n` rounds of three ways to start a child and wait for it:
 * fork() with a child that calls _exit() at once; fork() then exec of
 * `true`; and posix_spawn() of `true`. It measures them twice: from this
 * small program, and again after it has filled `mb` megabytes of memory,
 * because fork() must copy the page tables of everything the parent has
 * mapped. Last, it times a child that writes one byte into every page of
 * those megabytes: each first write copies a page (copy-on-write).
 *
 *     forkcost [n [mb]]       defaults: 500 rounds, 256 MB
 *
 * Microseconds per round; they depend on the machine and its load.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

extern char **environ;

enum forkcost_way { FORKCOST_FORK, FORKCOST_EXEC, FORKCOST_SPAWN };

static char *forkcost_big; /* the megabytes, or NULL */
static size_t forkcost_size;

static double forkcost_now_us(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void forkcost_reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "forkcost: a child failed\n");
        exit(1);
    }
}

// [rounds]
/* Microseconds per round of starting one child and reaping it. */
static double forkcost_rounds(enum forkcost_way way, int n, int touch)
{
    char *argv[] = {"true", NULL};
    double t0 = forkcost_now_us();
    for (int i = 0; i < n; i++) {
        pid_t pid;
        if (way == FORKCOST_SPAWN) {
            int err = posix_spawnp(&pid, "true", NULL, NULL, argv, environ);
            if (err != 0)
                die_en(err, "posix_spawnp");
        } else if ((pid = fork()) == -1) {
            die("fork");
        } else if (pid == 0) {
            if (way == FORKCOST_EXEC) {
                execvp("true", argv);
                _exit(127);
            }
            for (size_t b = 0; touch && b < forkcost_size; b += 4096)
                forkcost_big[b] = 2; /* each page's first write copies it */
            _exit(0);
        }
        forkcost_reap(pid);
    }
    return (forkcost_now_us() - t0) / n;
}
// [rounds]

int main(int argc, char *argv[])
{
    int n = argc > 1 ? atoi(argv[1]) : 500;
    long mb = argc > 2 ? atol(argv[2]) : 256;
    if (n < 1 || mb < 1 || mb > 4096) {
        fprintf(stderr, "usage: forkcost [n [mb]]\n");
        return 2;
    }
    if (fflush(stdout) == EOF)
        die("fflush");

    // [main]
    double small[3], large[3];
    for (int w = FORKCOST_FORK; w <= FORKCOST_SPAWN; w++)
        small[w] = forkcost_rounds((enum forkcost_way)w, n, 0);

    forkcost_size = (size_t)mb << 20;
    forkcost_big = malloc(forkcost_size);
    if (forkcost_big == NULL)
        die("malloc");
    memset(forkcost_big, 1, forkcost_size); /* make every page real */
    for (int w = FORKCOST_FORK; w <= FORKCOST_SPAWN; w++)
        large[w] = forkcost_rounds((enum forkcost_way)w, n, 0);
    double copy = forkcost_rounds(FORKCOST_FORK, 3, 1);
    // [main]

    printf("forkcost: %d rounds each; microseconds per child, "
           "started and reaped\n",
           n);
    printf("                          small parent   parent with %ld MB\n", mb);
    static const char *const names[3] = {"fork + _exit", "fork + exec true",
                                         "posix_spawn true"};
    for (int w = 0; w < 3; w++)
        printf("  %-20s %10.0f us %14.0f us\n", names[w], small[w], large[w]);
    printf("  fork, child writes all %ld MB: %.0f us\n", mb, copy);
    free(forkcost_big);
    return 0;
}
