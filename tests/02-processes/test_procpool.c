/*
 * Tests of procpool (exercises/02-processes/procpool.h): M jobs, at most K
 * children at once.
 *
 * The jobs measure the pool from the inside: each one counts itself in a
 * page of shared memory (MAP_SHARED, so every child updates the same
 * counters) while it runs, and the test reads the highest count seen.
 * _DEFAULT_SOURCE is for MAP_ANONYMOUS (Linux and the BSDs have it; POSIX
 * 2008 does not).
 */
#define _DEFAULT_SOURCE
#include "wb.h"
#include "procpool.h"
#include "autoreap.h"
#include "crash.h"
#include "interrupt.h"
#include "exitmark.h"
#include "stdioflush.h"
#include "trace.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_JOBS = 32 };

/* The page the children of one test share. */
struct gauge {
    atomic_int active;         /* jobs running now */
    atomic_int highest;        /* the most ever running at once */
    atomic_llong hold_until;   /* see count_job() */
    int over;                  /* a count that proves a bound broken */
    atomic_int finished;       /* jobs finished so far */
    atomic_int runs[MAX_JOBS]; /* how often each job ran */
    int finish_seq[MAX_JOBS];  /* the order the jobs finished in */
};

static struct gauge *gauge_new(int over)
{
    struct gauge *g = mmap(NULL, sizeof *g, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    WB_EXPECT(g != MAP_FAILED, "mmap() failed: %s", strerror(errno));
    atomic_init(&g->active, 0);
    atomic_init(&g->highest, 0);
    atomic_init(&g->hold_until, 0);
    atomic_init(&g->finished, 0);
    for (int j = 0; j < MAX_JOBS; j++) {
        atomic_init(&g->runs[j], 0);
        g->finish_seq[j] = -1;
    }
    g->over = over;
    return g;
}

static void gauge_free(struct gauge *g)
{
    munmap(g, sizeof *g);
}

/* Count this job as running, and hold it until either more jobs run at
 * once than g->over (the bound is broken: no need to wait longer) or 100
 * ms have passed since the first job began. So the first jobs stay alive
 * long enough for every child the pool starts at once to overlap with
 * them, however slowly the machine forks; the later jobs find the time
 * passed and end at once. */
static int count_job(size_t j, void *ctx)
{
    struct gauge *g = ctx;
    int now = atomic_fetch_add(&g->active, 1) + 1;
    int high = atomic_load(&g->highest);
    while (now > high && !atomic_compare_exchange_weak(&g->highest, &high, now))
        continue;
    long long first = 0;
    long long until = wb_now_ns() + 100 * 1000000LL;
    if (!atomic_compare_exchange_strong(&g->hold_until, &first, until))
        until = first;
    while (atomic_load(&g->highest) <= g->over && wb_now_ns() < until)
        wb_sleep_ms(1);
    wb_sleep_ms(1);
    atomic_fetch_add(&g->runs[j], 1);
    atomic_fetch_sub(&g->active, 1);
    return 0;
}

/* Junk in every field of every result, so a field the pool never sets
 * shows up (a negative pid is no child's). */
static void fill_junk(procpool_result *r, size_t m)
{
    for (size_t j = 0; j < m; j++)
        r[j] = (procpool_result){.pid = -7, .code = 77, .signo = 55};
}

static void expect_all_ok(const procpool_result *r, size_t m)
{
    WB_PROMISE("status");
    for (size_t j = 0; j < m; j++)
        WB_EXPECT(r[j].pid > 0 && r[j].code == 0 && r[j].signo == 0,
                  "job %zu returned 0: expected {pid > 0, code 0, signo 0}; "
                  "got {pid %d, code %d, signo %d}%s",
                  j, (int)r[j].pid, r[j].code, r[j].signo,
                  r[j].pid > 0 && r[j].code == -1
                      ? ": its status was never recorded; wait for every "
                        "child the pool started"
                      : "");
}

START_TEST(test_bound_never_exceeded_and_reached)
{
    const size_t m = 10, k = 3;
    struct gauge *g = gauge_new((int)k);
    procpool_result r[10];
    fill_junk(r, m);
    int failed = procpool_run(m, k, count_job, g, r);
    int high = atomic_load(&g->highest);
    gauge_free(g);
    WB_EXPECT(failed == 0, "expected 0 failed jobs; got %d%s", failed,
              wb_errno_note(failed));
    WB_PROMISE("bound");
    WB_EXPECT(high <= (int)k,
              "with K = %zu, at most %zu jobs may run at once; the jobs "
              "counted %d running at the same time",
              k, k, high);
    WB_PROMISE("full");
    WB_EXPECT(high == (int)k,
              "with K = %zu and %zu jobs, the pool should be full (%zu "
              "jobs at once) while work remains; the most running at once "
              "was %d",
              k, m, k, high);
    expect_all_ok(r, m);
}
END_TEST

START_TEST(test_k_one_runs_one_at_a_time)
{
    const size_t m = 4;
    struct gauge *g = gauge_new(1);
    procpool_result r[4];
    fill_junk(r, m);
    int failed = procpool_run(m, 1, count_job, g, r);
    int high = atomic_load(&g->highest);
    gauge_free(g);
    WB_PROMISE("bound");
    WB_EXPECT(failed == 0, "expected 0 failed jobs; got %d%s", failed,
              wb_errno_note(failed));
    WB_EXPECT(high == 1,
              "with K = 1 the jobs run one after the other; %d ran at once",
              high);
    expect_all_ok(r, m);
}
END_TEST

START_TEST(test_more_slots_than_jobs)
{
    const size_t m = 3;
    struct gauge *g = gauge_new((int)m);
    procpool_result r[3];
    fill_junk(r, m);
    int failed = procpool_run(m, 8, count_job, g, r);
    int high = atomic_load(&g->highest);
    gauge_free(g);
    WB_PROMISE("full");
    WB_EXPECT(failed == 0, "expected 0 failed jobs; got %d%s", failed,
              wb_errno_note(failed));
    WB_EXPECT(high == (int)m,
              "with K = 8 and only %zu jobs, all of them should run at "
              "once; the most at once was %d",
              m, high);
    expect_all_ok(r, m);
}
END_TEST

/* Job j exits with j % 4, except job 5 (SIGKILL) and job 7 (SIGSEGV).
 * Earlier jobs take longer (3 ms less for each later job), so the jobs
 * end in another order than they start. */
enum { MIXED = 12 };

static int mixed_job(size_t j, void *ctx)
{
    struct gauge *g = ctx;
    atomic_fetch_add(&g->runs[j], 1);
    wb_sleep_ms((long)(MIXED - j) * 3);
    if (j == 5 || j == 7) {
        crash_with(j == 5 ? SIGKILL : SIGSEGV);
    }
    return (int)(j % 4);
}

START_TEST(test_every_job_reported_once)
{
    enum { M = MIXED };
    struct gauge *g = gauge_new(0);
    procpool_result r[M];
    fill_junk(r, M);
    int failed = procpool_run(M, 4, mixed_job, g, r);
    int runs[M];
    for (int j = 0; j < M; j++)
        runs[j] = atomic_load(&g->runs[j]);
    gauge_free(g);
    WB_PROMISE("each-once");
    WB_EXPECT(failed != -1, "expected the number of failed jobs; got -1%s",
              wb_errno_note(failed));
    WB_PROMISE("reaped");
    WB_EXPECT(wb_no_children(), "procpool_run() returned with a child of the "
                                "pool still unreaped");
    for (int j = 0; j < M; j++) {
        WB_PROMISE("each-once");
        WB_EXPECT(runs[j] == 1,
                  "job %d should run exactly once; it ran %d "
                  "times",
                  j, runs[j]);
        WB_EXPECT(r[j].pid > 0,
                  "job %d: results[%d].pid should be its "
                  "child's pid; got %d",
                  j, j, (int)r[j].pid);
        for (int i = 0; i < j; i++)
            WB_EXPECT(r[i].pid != r[j].pid,
                      "jobs %d and %d report the same pid %d: each job "
                      "runs in a child of its own",
                      i, j, (int)r[j].pid);
        WB_PROMISE("status");
        if (j == 5 || j == 7) {
            int sig = j == 5 ? SIGKILL : SIGSEGV;
            WB_EXPECT(r[j].signo == sig && r[j].code == -1,
                      "job %d was killed by signal %d: expected {code -1, "
                      "signo %d}; got {code %d, signo %d} (check "
                      "WIFSIGNALED() before WEXITSTATUS(): an exit code "
                      "means nothing for a child that a signal killed)",
                      j, sig, sig, r[j].code, r[j].signo);
        } else {
            WB_EXPECT(r[j].code == j % 4 && r[j].signo == 0,
                      "job %d exited with code %d: expected {code %d, signo "
                      "0} in results[%d]; got {code %d, signo %d} (the jobs "
                      "end in another order than they start: find the job "
                      "by the pid that waitpid() returns)",
                      j, j % 4, j % 4, j, r[j].code, r[j].signo);
        }
    }
    /* Codes 1, 2, 3 fail, and the two jobs killed by signals. */
    int want_failed = 0;
    for (int j = 0; j < M; j++)
        want_failed += (j == 5 || j == 7 || j % 4 != 0);
    WB_PROMISE("count");
    WB_EXPECT(failed == want_failed,
              "expected %d failed jobs (those with codes 1 to 3, and the "
              "two killed by a signal); got %d",
              want_failed, failed);
}
END_TEST

/* Job 0 is slow, the others quick; each notes when it finished, and
 * records a span for the timeline that TRACE=1 draws. */
static int slow_first_job(size_t j, void *ctx)
{
    struct gauge *g = ctx;
    int64_t start = trace_now();
    wb_sleep_ms(j == 0 ? 200 : 5);
    g->finish_seq[j] = atomic_fetch_add(&g->finished, 1);
    char label[32];
    snprintf(label, sizeof label, "job %zu", j);
    trace_span(label, start, trace_now());
    return 0;
}

START_TEST(test_reaps_whichever_ends_first)
{
    enum { M = 6 };
    struct gauge *g = gauge_new(0);
    procpool_result r[M];
    int failed = procpool_run(M, 2, slow_first_job, g, r);
    int seq0 = g->finish_seq[0];
    gauge_free(g);
    WB_PROMISE("any-child");
    WB_EXPECT(failed == 0, "expected 0 failed jobs; got %d%s", failed,
              wb_errno_note(failed));
    WB_EXPECT(seq0 == M - 1,
              "with K = 2, job 0 takes 200 ms and jobs 1 to 5 take 5 ms "
              "each: they should all pass through the second slot while job "
              "0 runs, so job 0 finishes last; it finished in place %d of "
              "%d. Wait for any child (waitpid(-1, ...)), not the oldest",
              seq0 + 1, M);
    expect_all_ok(r, M);
}
END_TEST

/* The job leaves the caller's process group for one of its own, then
 * exits with its number: it is still the pool's child. */
static int own_group_job(size_t j, void *ctx)
{
    (void)ctx;
    if (setpgid(0, 0) == -1)
        return 100;
    wb_sleep_ms(5);
    return (int)j;
}

START_TEST(test_waits_for_children_in_other_groups)
{
    enum { M = 4 };
    procpool_result r[M];
    fill_junk(r, M);
    errno = 0;
    int failed = procpool_run(M, 2, own_group_job, NULL, r);
    WB_PROMISE("any-child");
    WB_EXPECT(failed == M - 1,
              "each job moved itself to a process group of its own "
              "(setpgid(0, 0)) and exited with its number: expected %d "
              "failed jobs (codes 1 to %d); got %d%s",
              M - 1, M - 1, failed,
              failed == -1 && errno == ECHILD
                  ? " with ECHILD: waitpid(0, ...) waits only for children "
                    "in the caller's process group; wait with "
                    "waitpid(-1, ...) for any child"
                  : wb_errno_note(failed));
    WB_PROMISE("status");
    for (int j = 0; j < M; j++)
        WB_EXPECT(r[j].pid > 0 && r[j].code == j && r[j].signo == 0,
                  "job %d: expected {pid > 0, code %d, signo 0}; got {pid "
                  "%d, code %d, signo %d}",
                  j, j, (int)r[j].pid, r[j].code, r[j].signo);
    WB_PROMISE("reaped");
    WB_EXPECT(wb_no_children(), "every child must be reaped when "
                                "procpool_run() returns");
}
END_TEST

static int sleepy_job(size_t j, void *ctx)
{
    (void)j;
    (void)ctx;
    wb_sleep_ms(200);
    return 0;
}

static int64_t cpu_used_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

START_TEST(test_waiting_costs_no_cpu)
{
    enum { M = 2 };
    procpool_result r[M];
    int64_t wall0 = wb_now_ns(), cpu0 = cpu_used_ns();
    int failed = procpool_run(M, 1, sleepy_job, NULL, r);
    int64_t cpu_ms = (cpu_used_ns() - cpu0) / 1000000;
    int64_t wall_ms = (wb_now_ns() - wall0) / 1000000;
    WB_EXPECT(failed == 0, "expected 0 failed jobs; got %d%s", failed,
              wb_errno_note(failed));
    WB_PROMISE("sleeps");
    WB_EXPECT(cpu_ms < 40,
              "with K = 1, two jobs of 200 ms each: procpool_run() took %lld "
              "ms and used %lld ms of CPU time itself (user and system, its "
              "children not counted), at most 40 expected. Sleep in "
              "waitpid() until a child ends (options 0); do not poll with "
              "WNOHANG",
              (long long)wall_ms, (long long)cpu_ms);
    expect_all_ok(r, M);
}
END_TEST

static int poke_parent_job(size_t j, void *ctx)
{
    (void)ctx;
    if (j == 0) {
        wb_sleep_ms(30);
        kill(getppid(), SIGUSR1);
        wb_sleep_ms(20);
    }
    return (int)j + 1;
}

START_TEST(test_wait_interrupted_by_signal)
{
    interrupt_on_usr1(); /* no SA_RESTART: waitpid() fails with EINTR */
    procpool_result r[3];
    errno = 0;
    int failed = procpool_run(3, 2, poke_parent_job, NULL, r);
    WB_PROMISE("eintr");
    WB_EXPECT(failed == 3,
              "a signal handler interrupted waitpid() (EINTR): expected the "
              "wait to be resumed and 3 failed jobs (codes 1, 2, 3); got %d"
              "%s",
              failed, wb_errno_note(failed));
    WB_EXPECT(interrupt_usr1_seen(),
              "the child's signal never reached the caller");
    for (int j = 0; j < 3; j++)
        WB_EXPECT(r[j].code == j + 1, "job %d: expected code %d; got %d", j,
                  j + 1, r[j].code);
}
END_TEST

/* Output a job writes straight to the descriptor in ctx, while the
 * parent's own text sits in a stdio buffer. */
static int write_to_ctx_fd(size_t j, void *ctx)
{
    (void)j;
    int fd = *(const int *)ctx;
    const char msg[] = "child\n";
    return write(fd, msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1) ? 0 : 1;
}

START_TEST(test_flushes_before_fork)
{
    int fd;
    FILE *f = stdioflush_pending(&fd);
    procpool_result r[1];
    int failed = procpool_run(1, 1, write_to_ctx_fd, &fd, r);
    WB_EXPECT(failed == 0, "expected 0 failed jobs; got %d%s", failed,
              wb_errno_note(failed));
    int order = stdioflush_order(f);
    WB_PROMISE("flush");
    WB_EXPECT(order == 1,
              "the caller printed \"before\" (still in a stdio buffer), "
              "then job 0 wrote \"child\": expected the file to hold "
              "\"before\\nchild\\n\"; %s. Flush stdio (fflush(NULL)) "
              "before the first fork()",
              order == -1 ? "\"before\" came after \"child\""
                          : "it holds something else");
}
END_TEST

static int quick_job(size_t j, void *ctx)
{
    (void)j;
    (void)ctx;
    return 0;
}

START_TEST(test_children_end_with__exit)
{
    exitmark_arm(); /* tests/support/exitmark.c, in procpool.links */
    procpool_result r[4];
    int failed = procpool_run(4, 2, quick_job, NULL, r);
    ssize_t n = exitmark_count(8);
    WB_PROMISE("exit");
    WB_EXPECT(failed == 0, "expected 0 failed jobs; got %d%s", failed,
              wb_errno_note(failed));
    WB_EXPECT(n == 0,
              "%zd of the 4 children ran the caller's atexit() handlers: "
              "they ended with exit() (or returned into the caller's "
              "code); a child must end with _exit()",
              n);
}
END_TEST

static int never_called(size_t j, void *ctx)
{
    (void)j;
    (void)ctx;
    return 99;
}

/* --- fork() fails half-way --------------------------------------------- */

/* procpool.links links this suite with
 * tests/support/wrap.c, so a test can make fork() fail. */

static int exit_with_index(size_t j, void *ctx)
{
    (void)ctx;
    wb_sleep_ms(5);
    return (int)j + 1;
}

START_TEST(test_fork_fails_halfway)
{
    enum { M = 6 };
    procpool_result r[M];
    memset(r, 0x5a, sizeof r);
    wb_wrap_reset(WB_FORK, 4); /* three jobs start, the fourth cannot */
    errno = 0;
    int got = procpool_run(M, 2, exit_with_index, NULL, r);
    int err = errno;
    int forks = wb_wrap_calls(WB_FORK);
    wb_wrap_reset(WB_FORK, 0);
    WB_PROMISE("fork-fails");
    WB_EXPECT(got == -1 && err == EAGAIN,
              "the fourth fork() failed with EAGAIN: expected "
              "procpool_run() to return -1 with errno EAGAIN; got %d "
              "(errno %s)",
              got, wb_errname(err));
    WB_EXPECT(forks == 4,
              "after the fourth fork() failed, the pool should start no "
              "more jobs; it called fork() %d times",
              forks);
    int ran = 0, never = 0;
    for (int j = 0; j < M; j++) {
        if (r[j].pid > 0) {
            ran++;
            WB_PROMISE("fork-fails");
            WB_EXPECT(r[j].code == j + 1 && r[j].signo == 0,
                      "job %d ran and exited with code %d: expected {code "
                      "%d, signo 0}; got {code %d, signo %d}. After fork() "
                      "fails, wait for the children already running and "
                      "record their statuses",
                      j, j + 1, j + 1, r[j].code, r[j].signo);
        } else {
            never++;
            WB_PROMISE("not-started");
            WB_EXPECT(r[j].pid == 0 && r[j].code == -1 && r[j].signo == 0,
                      "job %d never started: expected {pid 0, code -1, "
                      "signo 0}; got {pid %d, code %d, signo %d}",
                      j, (int)r[j].pid, r[j].code, r[j].signo);
        }
    }
    WB_PROMISE("fork-fails");
    WB_EXPECT(ran == 3 && never == 3,
              "three jobs started before fork() failed: their results "
              "should be filled in and the other three left as never "
              "started; %d have a pid and %d do not",
              ran, never);
    WB_PROMISE("reaped");
    WB_EXPECT(wb_no_children(),
              "after fork() failed the pool must still wait for the jobs "
              "already running: a child is left");
}
END_TEST

START_TEST(test_zero_jobs)
{
    int got = procpool_run(0, 2, never_called, NULL, NULL);
    WB_PROMISE("empty");
    WB_EXPECT(got == 0,
              "procpool_run(0, 2, job, ctx, NULL) has nothing to "
              "do: expected 0; got %d%s",
              got, wb_errno_note(got));
    WB_EXPECT(wb_no_children(), "no job, no child: a child was created");
}
END_TEST

START_TEST(test_invalid_arguments)
{
    procpool_result r[2];
    errno = 0;
    int got = procpool_run(2, 1, NULL, NULL, r);
    WB_PROMISE("einval");
    WB_EXPECT(got == -1 && errno == EINVAL,
              "a NULL job function: expected -1 with EINVAL; got %d%s", got,
              wb_errno_note(got));
    errno = 0;
    got = procpool_run(2, 0, never_called, NULL, r);
    WB_EXPECT(got == -1 && errno == EINVAL,
              "K = 0 (no child may ever run): expected -1 with EINVAL; got "
              "%d%s",
              got, wb_errno_note(got));
    errno = 0;
    got = procpool_run(2, 1, never_called, NULL, NULL);
    WB_EXPECT(got == -1 && errno == EINVAL,
              "NULL results for 2 jobs: expected -1 with EINVAL; got %d%s", got,
              wb_errno_note(got));
    errno = 0;
    got = procpool_run(1, 1, never_called, NULL, NULL);
    WB_EXPECT(got == -1 && errno == EINVAL,
              "NULL results for 1 job: expected -1 with EINVAL; got %d%s", got,
              wb_errno_note(got));
    WB_EXPECT(wb_no_children(), "a call rejected for its arguments must not "
                                "fork");
}
END_TEST

/* --- Return values above 255 ------------------------------------------ */

/* Job 0 returns 256, which arrives as exit code 0; job 1 returns 300,
 * which arrives as 44; job 2 returns 0. */
static int return_above_255(size_t j, void *ctx)
{
    (void)ctx;
    return j == 0 ? 256 : j == 1 ? 300 : 0;
}

START_TEST(test_exit_code_low_8_bits)
{
    procpool_result r[3];
    fill_junk(r, 3);
    int failed = procpool_run(3, 3, return_above_255, NULL, r);
    WB_PROMISE("exit-code");
    WB_EXPECT(failed == 1,
              "jobs 0, 1 and 2 returned 256, 300 and 0: their children exit "
              "with 0, 44 and 0 (the low 8 bits), so one job fails; expected "
              "1, got %d%s. Judge a job by the exit code waitpid() reports",
              failed, wb_errno_note(failed));
    WB_EXPECT(r[0].code == 0 && r[0].signo == 0,
              "job 0 returned 256, so its child exited with code 0: expected "
              "{code 0, signo 0}; got {code %d, signo %d}",
              r[0].code, r[0].signo);
    WB_EXPECT(r[1].code == 44 && r[1].signo == 0,
              "job 1 returned 300, so its child exited with code 44: "
              "expected {code 44, signo 0}; got {code %d, signo %d}",
              r[1].code, r[1].signo);
}
END_TEST

/* --- fflush() fails ---------------------------------------------------- */

/* Checks that every job of @p r that has no pid was never started:
 * {pid 0, code -1, signo 0}. Returns how many jobs have a pid. */
static int expect_unstarted_clean(const procpool_result *r, int m)
{
    int started = 0;
    WB_PROMISE("not-started");
    for (int j = 0; j < m; j++) {
        if (r[j].pid > 0) {
            started++;
            continue;
        }
        WB_EXPECT(r[j].pid == 0 && r[j].code == -1 && r[j].signo == 0,
                  "job %d never started: expected {pid 0, code -1, signo 0}, "
                  "whatever the array held; got {pid %d, code %d, signo %d}",
                  j, (int)r[j].pid, r[j].code, r[j].signo);
    }
    return started;
}

START_TEST(test_flush_fails)
{
    enum { M = 4 };
    FILE *full = stdioflush_full();
    procpool_result r[M];
    fill_junk(r, M);
    wb_wrap_reset(WB_FORK, 0);
    errno = 0;
    int got = procpool_run(M, 2, quick_job, NULL, r);
    int err = errno;
    int forks = wb_wrap_calls(WB_FORK);
    fclose(full); /* fails too (ENOSPC), and closes the stream */
    WB_PROMISE("flush-fails");
    WB_EXPECT(got == -1 && err == ENOSPC,
              "a stdio stream on /dev/full held unwritten text, so "
              "fflush(NULL) failed with ENOSPC: expected procpool_run() to "
              "return -1 with errno ENOSPC; got %d (errno %s)%s",
              got, wb_errname(err),
              got >= 0 ? ": call fflush(NULL) before the first fork(), and "
                         "give up when it returns EOF"
                       : "");
    WB_EXPECT(forks == 0,
              "fflush() failed before the first job, so no job may start; "
              "fork() was called %d times",
              forks);
    int started = expect_unstarted_clean(r, M);
    WB_EXPECT(started == 0, "no job started, yet %d have a pid", started);
}
END_TEST

/* --- waitpid() fails --------------------------------------------------- */

static int short_job(size_t j, void *ctx)
{
    (void)j;
    (void)ctx;
    wb_sleep_ms(5);
    return 0;
}

START_TEST(test_wait_fails)
{
    enum { M = 5 };
    /* With SIGCHLD ignored, the kernel reaps each child as it ends: the
     * pool's waitpid() waits for its children to end, then fails with
     * ECHILD, and their statuses are lost. */
    autoreap_start();
    procpool_result r[M];
    fill_junk(r, M);
    wb_wrap_reset(WB_FORK, 0);
    errno = 0;
    int got = procpool_run(M, 2, short_job, NULL, r);
    int err = errno;
    int forks = wb_wrap_calls(WB_FORK);
    autoreap_stop();
    WB_PROMISE("wait-fails");
    WB_EXPECT(got == -1 && err == ECHILD,
              "SIGCHLD was set to SIG_IGN, so the kernel reaped the pool's "
              "children and waitpid() failed with ECHILD: expected -1 with "
              "errno ECHILD; got %d (errno %s)%s",
              got, wb_errname(err),
              got >= 0 ? ": that count is made of statuses waitpid() never "
                         "gave; retry waitpid() on EINTR only, and stop with "
                         "-1 on any other error"
                       : "");
    WB_EXPECT(forks >= 1 && forks <= 2,
              "with K = 2, at most 2 jobs can start before the first "
              "waitpid() fails, and then no more may start; fork() was "
              "called %d times",
              forks);
    for (int j = 0; j < M; j++)
        if (r[j].pid > 0)
            WB_EXPECT(r[j].code == -1 && r[j].signo == 0,
                      "job %d's status was lost (ECHILD): expected {code -1, "
                      "signo 0}; got {code %d, signo %d}",
                      j, r[j].code, r[j].signo);
    int started = expect_unstarted_clean(r, M);
    WB_EXPECT(started == forks,
              "%d jobs were started (fork() calls), but %d results have a "
              "pid",
              forks, started);
}
END_TEST

/* make check CHAPTER=2 EXERCISE=procpool TRACE=1 draws this test's jobs,
 * one lane per slot of the pool (the grader passes the options named on
 * the next line to book/timeline.c): with K = 2, two lanes.
 * wb_trace_options: --slots */
const char *const wb_trace_test = "test_reaps_whichever_ends_first";

Suite *wb_suite(void)
{
    Suite *s = wb_begin("procpool", "chapters/02-processes/chapter.md");
    WB_ADD(s, test_bound_never_exceeded_and_reached,
           "A pool of worker processes");
    WB_ADD(s, test_k_one_runs_one_at_a_time, "A pool of worker processes");
    WB_ADD(s, test_more_slots_than_jobs, "A pool of worker processes");
    WB_ADD(s, test_every_job_reported_once,
           "Waiting for children: wait() and waitpid()");
    WB_ADD(s, test_reaps_whichever_ends_first, "A pool of worker processes");
    WB_ADD(s, test_waits_for_children_in_other_groups,
           "A pool of worker processes");
    WB_ADD(s, test_waiting_costs_no_cpu, "A pool of worker processes");
    WB_ADD(s, test_wait_interrupted_by_signal,
           "Waiting for children: wait() and waitpid()");
    WB_ADD(s, test_flushes_before_fork,
           "exit() and _exit(), and flushing before fork()");
    WB_ADD(s, test_flush_fails,
           "exit() and _exit(), and flushing before fork()");
    WB_ADD(s, test_children_end_with__exit,
           "exit() and _exit(), and flushing before fork()");
    WB_ADD(s, test_zero_jobs, "A pool of worker processes");
    WB_ADD(s, test_invalid_arguments, "A pool of worker processes");
    WB_ADD(s, test_fork_fails_halfway, "A pool of worker processes");
    WB_ADD(s, test_wait_fails, "Pitfalls");
    WB_ADD(s, test_exit_code_low_8_bits,
           "Waiting for children: wait() and waitpid()");
    return s;
}
