/*
 * pool: M jobs run by worker processes, at most K alive at once.
 *
 * The parent starts a child per job while fewer than K are running; when
 * K are running it blocks in wait() until one ends, records that job's
 * result, and starts the next. Each job sleeps a little and exits with a
 * code; job 5 fails (exit status 1) and job 6 is killed by a signal, to
 * show that one failure costs only its own job. Each child records its
 * job with trace.h, so the book can draw one lane per child.
 *
 *     pool [jobs [k]]        defaults: 8 jobs, k = 3
 *
 * Times and pids vary from run to run; the most children ever alive at
 * once never exceeds k.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define POOL_MAX_JOBS 64

static struct timespec pool_start;

static long pool_ms(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
        die("clock_gettime");
    return (now.tv_sec - pool_start.tv_sec) * 1000 +
           (now.tv_nsec - pool_start.tv_nsec) / 1000000;
}

// [job]
/* The work of job `job`, run in a child: never returns. */
static void pool_job(int job)
{
    long ms = 40 + (job * 37 % 5) * 30; /* 40 to 160 ms, job by job */
    struct timespec t = {0, ms * 1000000L};
    char label[32];
    int64_t began = trace_now(); /* the child's first moment */
    while (nanosleep(&t, &t) == -1 && errno == EINTR)
        continue;
    /* The timeline colours a bar by its label, so the failures stand out. */
    const char *fate = job == 5 ? ", exit 1" : job == 6 ? ", SIGTERM" : "";
    snprintf(label, sizeof label, "job %d%s", job, fate);
    trace_span(label, began, trace_now()); /* the child traces itself */
    if (job == 5)
        _exit(1); /* a job that fails */
    if (job == 6)
        raise(SIGTERM); /* a job that is killed */
    _exit(0);
}
// [job]

int main(int argc, char *argv[])
{
    char *end1 = "", *end2 = "";
    long jobs = argc > 1 ? strtol(argv[1], &end1, 10) : 8;
    long k = argc > 2 ? strtol(argv[2], &end2, 10) : 3;
    if (*end1 || *end2 || jobs < 0 || jobs > POOL_MAX_JOBS || k < 1 ||
        k > POOL_MAX_JOBS) {
        fprintf(stderr, "usage: pool [jobs [k]]  (jobs 0..%d, k >= 1)\n",
                POOL_MAX_JOBS);
        return 2;
    }
    pid_t pid_of[POOL_MAX_JOBS];
    int status_of[POOL_MAX_JOBS];
    if (clock_gettime(CLOCK_MONOTONIC, &pool_start) == -1)
        die("clock_gettime");

    // [loop]
    int next = 0, running = 0, peak = 0;
    while (next < jobs || running > 0) {
        if (next < jobs && running < k) { /* a free slot: start a job */
            if (fflush(stdout) == EOF)
                die("fflush");
            pid_t pid = fork();
            if (pid == -1)
                die("fork");
            if (pid == 0)
                pool_job(next);
            pid_of[next] = pid;
            running++;
            peak = running > peak ? running : peak;
            printf("%4ld ms  start job %d (pid %ld), %d running\n", pool_ms(),
                   next, (long)pid, running);
            next++;
            continue;
        }
        int status; /* no free slot, or no job left: wait for any child */
        pid_t pid = wait(&status);
        if (pid == -1 && errno == EINTR)
            continue;
        if (pid == -1)
            die("wait");
        running--;
        int j = 0;
        while (j < next - 1 && pid_of[j] != pid) /* which job was it? */
            j++;
        status_of[j] = status;
        printf("%4ld ms  job %d (pid %ld) ended, %d running\n", pool_ms(), j,
               (long)pid, running);
    }
    // [loop]

    // [report]
    for (int j = 0; j < jobs; j++) {
        int st = status_of[j];
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            printf("job %d: ok\n", j);
        else if (WIFEXITED(st))
            printf("job %d: FAILED, exit status %d\n", j, WEXITSTATUS(st));
        else
            printf("job %d: FAILED, killed by signal %d\n", j, WTERMSIG(st));
    }
    printf("%ld jobs in %ld ms; at most %d children alive at once "
           "(limit %ld)\n",
           jobs, pool_ms(), peak, k);
    // [report]
    return 0;
}
