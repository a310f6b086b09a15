/*
 * orphan: a child whose parent ends first is adopted.
 *
 * Three generations: the program (main) starts a parent, the parent
 * starts a child and exits at once. The child, now an orphan, watches its
 * parent pid change to the process that adopted it (pid 1, or the
 * nearest "subreaper" such as systemd --user), shows it with ps, and
 * lives on for a while. main knows when the orphan is gone because the
 * orphan holds the write end of a pipe that main reads to end of file.
 *
 *     orphan [ms]
 *
 * ms is how long the orphan lives after its adoption (default 500). To
 * watch it from another terminal: `orphan 20000 &` then `ps -l`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static void orphan_sleep_ms(long ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) == -1)
        if (errno != EINTR)
            die("nanosleep");
}

// [child]
/* The orphan-to-be: runs in the grandchild of main. */
static void orphan_child(pid_t first, long ms)
{
    /* getppid() may already say the adopter: the parent can be gone
     * before this line runs. So the parent's pid comes as an argument. */
    printf("child  %ld: my parent is %ld\n", (long)getpid(), (long)first);
    if (fflush(stdout) == EOF)
        _exit(1);
    for (int i = 0; getppid() == first; i++) { /* wait for it to end */
        if (i == 5000)
            _exit(1); /* 5 s: something is wrong; give up */
        orphan_sleep_ms(1);
    }
    pid_t adopter = getppid();
    printf("child  %ld: my parent has ended; my parent is now %ld:\n",
           (long)getpid(), (long)adopter);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ps -o pid,ppid,stat,comm -p %ld,%ld",
             (long)adopter, (long)getpid());
    if (fflush(stdout) == EOF || system(cmd) == -1)
        _exit(1);
    orphan_sleep_ms(ms);
    _exit(0);
}
// [child]

int main(int argc, char *argv[])
{
    long ms = argc > 1 ? strtol(argv[1], NULL, 10) : 500;
    if (ms < 0 || ms > 600000) {
        fprintf(stderr, "usage: orphan [ms]   (0 to 600000)\n");
        return 2;
    }
    int done[2]; /* the orphan holds done[1]; its end is our EOF */
    if (pipe(done) == -1)
        die("pipe");
    if (fflush(stdout) == EOF)
        die("fflush");

    // [parent]
    pid_t parent = fork();
    if (parent == -1)
        die("fork");
    if (parent == 0) {
        if (close(done[0]) == -1)
            _exit(1);
        pid_t me = getpid();
        pid_t child = fork();
        if (child == -1)
            _exit(1);
        if (child == 0)
            orphan_child(me, ms); /* never returns */
        printf("parent %ld: started child %ld, and I exit now\n",
               (long)getpid(), (long)child);
        if (fflush(stdout) == EOF)
            _exit(1);
        _exit(0); /* without waiting for the child */
    }
    // [parent]

    if (close(done[1]) == -1)
        die("close");
    if (waitpid(parent, NULL, 0) == -1) /* main reaps the parent */
        die("waitpid");
    char byte;
    ssize_t got;
    while ((got = read(done[0], &byte, 1)) == -1 && errno == EINTR)
        continue;
    if (got == -1)
        die("read");
    if (close(done[0]) == -1)
        die("close");
    printf("main   %ld: the orphan has ended too\n", (long)getpid());
    return 0;
}
