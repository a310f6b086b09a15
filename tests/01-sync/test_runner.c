/*
 * Tests of the sequential task runner (exercises/01-sync/runner.h).
 *
 * The tasks here are probes: each one notes, from inside, when it was
 * called and when it was about to return, so the tests can check the
 * times runner_run() recorded against what really happened.
 *
 * The suite links tests/support/wrap.c (runner.links), so a test can make
 * clock_gettime() fail the way it does on a system without a monotonic
 * clock.
 *
 * _DEFAULT_SOURCE is for MAP_ANONYMOUS (Linux and the BSDs; POSIX only
 * since 2024).
 */
#define _DEFAULT_SOURCE
#include "wb.h"
#include "runner.h"
#include "errnote.h"
#include "trace.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MS 1000000LL /* nanoseconds in a millisecond */
/* How much longer than its sleep a task may take on a loaded machine. */
#define SLACK_NS (1000 * MS)

/* The context of one probe task. */
struct probe {
    int index;        /* position in the task list */
    long sleep_ms;    /* how long the task sleeps */
    int ret;          /* what the task returns */
    int calls;        /* how many times it was called */
    int64_t in_start; /* clock read first thing inside the task */
    int64_t in_end;   /* clock read last thing inside the task */
    int *log;         /* shared: the order tasks were called in */
    int *log_len;
};

static int probe_task(void *ctx)
{
    struct probe *p = ctx;
    p->in_start = wb_now_ns();
    p->calls++;
    if (p->log != NULL)
        p->log[(*p->log_len)++] = p->index;
    if (p->sleep_ms > 0)
        wb_sleep_ms(p->sleep_ms);
    p->in_end = wb_now_ns();
    char label[32];
    snprintf(label, sizeof label, "%c (%ld ms)", 'A' + p->index % 26,
             p->sleep_ms);
    trace_span(label, p->in_start, p->in_end);
    return p->ret;
}

enum { MAXT = 8 };

/* Tasks, probes and records for one test; records start as a sentinel
 * so a test can tell whether runner_run() wrote them. */
struct setup {
    struct runner_task tasks[MAXT];
    struct probe probes[MAXT];
    struct runner_record records[MAXT];
    int log[MAXT];
    int log_len;
};

#define SENTINEL (-7)

static void setup_init(struct setup *s, size_t n, const long *sleeps,
                       const int *rets)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        s->probes[i] = (struct probe){
            .index = (int)i,
            .sleep_ms = sleeps != NULL ? sleeps[i] : 0,
            .ret = rets != NULL ? rets[i] : 0,
            .log = s->log,
            .log_len = &s->log_len,
        };
        s->tasks[i] = (struct runner_task){"probe", probe_task, &s->probes[i]};
    }
    for (size_t i = 0; i < MAXT; i++)
        s->records[i] = (struct runner_record){SENTINEL, SENTINEL, SENTINEL};
}

static int total_calls(const struct setup *s, size_t n)
{
    int calls = 0;
    for (size_t i = 0; i < n; i++)
        calls += s->probes[i].calls;
    return calls;
}

static int untouched(const struct runner_record *r)
{
    return r->start_ns == SENTINEL && r->end_ns == SENTINEL &&
           r->result == SENTINEL;
}

START_TEST(test_runs_every_task_once_in_order)
{
    struct setup s;
    setup_init(&s, 5, NULL, NULL);
    int got = runner_run(s.tasks, 5, s.records);
    WB_PROMISE("failures");
    WB_EXPECT(got == 0,
              "5 tasks that all return 0: expected runner_run() to return "
              "0 failures, got %d%s",
              got, wb_errno_note(got));
    WB_PROMISE("order");
    for (int i = 0; i < 5; i++)
        WB_EXPECT(s.probes[i].calls == 1,
                  "task %d must be called exactly once; it was called %d "
                  "times",
                  i, s.probes[i].calls);
    for (int i = 0; i < 5; i++)
        WB_EXPECT(s.log[i] == i,
                  "tasks must run in the order given: call number %d "
                  "should be task %d, it was task %d",
                  i, i, s.log[i]);
    WB_PROMISE("result");
    for (int i = 0; i < 5; i++)
        WB_EXPECT(s.records[i].result == 0,
                  "record %d: expected result 0 (what the task returned), "
                  "got %d",
                  i, s.records[i].result);
}
END_TEST

START_TEST(test_times_bracket_each_task)
{
    const long sleeps[] = {5, 10, 5};
    struct setup s;
    setup_init(&s, 3, sleeps, NULL);
    int64_t before = wb_now_ns();
    int got = runner_run(s.tasks, 3, s.records);
    int64_t after = wb_now_ns();
    WB_EXPECT(got == 0, "expected 0 failures, got %d", got);
    WB_PROMISE("times");
    for (int i = 0; i < 3; i++) {
        const struct runner_record *r = &s.records[i];
        const struct probe *p = &s.probes[i];
        WB_EXPECT(r->start_ns >= before && r->end_ns <= after,
                  "task %d: its times must be CLOCK_MONOTONIC readings "
                  "taken during the call of runner_run(), between %lld "
                  "and %lld ns; got start %lld, end %lld",
                  i, (long long)before, (long long)after,
                  (long long)r->start_ns, (long long)r->end_ns);
        WB_EXPECT(r->start_ns <= p->in_start,
                  "task %d: the start must be read BEFORE the task is "
                  "called; the task began at %lld ns but the record says "
                  "it started at %lld ns (%.3f ms later)",
                  i, (long long)p->in_start, (long long)r->start_ns,
                  (double)(r->start_ns - p->in_start) / MS);
        WB_EXPECT(r->end_ns >= p->in_end,
                  "task %d: the end must be read AFTER the task returns; "
                  "the task was still running at %lld ns but the record "
                  "says it ended at %lld ns",
                  i, (long long)p->in_end, (long long)r->end_ns);
        int64_t took = r->end_ns - r->start_ns;
        WB_EXPECT(took >= sleeps[i] * MS && took < sleeps[i] * MS + SLACK_NS,
                  "task %d sleeps %ld ms: its recorded duration (end - "
                  "start) should be at least that and not far above; got "
                  "%.3f ms",
                  i, sleeps[i], (double)took / MS);
    }
}
END_TEST

START_TEST(test_each_start_after_previous_end)
{
    const long sleeps[] = {5, 5, 5, 5};
    struct setup s;
    setup_init(&s, 4, sleeps, NULL);
    int got = runner_run(s.tasks, 4, s.records);
    WB_EXPECT(got == 0, "expected 0 failures, got %d", got);
    WB_PROMISE("times");
    for (int i = 0; i < 4; i++)
        WB_EXPECT(s.records[i].end_ns >= s.records[i].start_ns,
                  "task %d: a task cannot end before it starts; got start "
                  "%lld, end %lld",
                  i, (long long)s.records[i].start_ns,
                  (long long)s.records[i].end_ns);
    for (int i = 1; i < 4; i++)
        WB_EXPECT(s.records[i].start_ns >= s.records[i - 1].end_ns,
                  "in a sequential run task %d starts only after task %d "
                  "has ended: expected start %lld >= previous end %lld",
                  i, i - 1, (long long)s.records[i].start_ns,
                  (long long)s.records[i - 1].end_ns);
    WB_PROMISE("order");
    for (int i = 1; i < 4; i++)
        WB_EXPECT(s.probes[i].in_start >= s.probes[i - 1].in_end,
                  "task %d was called while task %d was still running: "
                  "each task must return before the next one is called",
                  i, i - 1);
}
END_TEST

START_TEST(test_failure_does_not_stop_later_tasks)
{
    const int rets[] = {0, 1, -1, 0, 42, INT_MIN};
    struct setup s;
    setup_init(&s, 6, NULL, rets);
    int got = runner_run(s.tasks, 6, s.records);
    WB_PROMISE("failures");
    for (int i = 0; i < 6; i++)
        WB_EXPECT(s.probes[i].calls == 1,
                  "task %d must run once even though earlier tasks failed "
                  "(tasks 1 and 2 return 1 and -1); it ran %d times",
                  i, s.probes[i].calls);
    WB_EXPECT(got == 4,
              "tasks return 0, 1, -1, 0, 42, INT_MIN: expected 4 failures "
              "(every non-zero result), got %d",
              got);
    WB_PROMISE("result");
    for (int i = 0; i < 6; i++) {
        WB_EXPECT(s.records[i].result == rets[i],
                  "record %d: expected the task's own return value %d, got "
                  "%d",
                  i, rets[i], s.records[i].result);
        WB_PROMISE("times");
        WB_EXPECT(s.records[i].start_ns > 0 &&
                      s.records[i].end_ns >= s.records[i].start_ns,
                  "record %d must hold the task's times, failed or not; "
                  "got start %lld, end %lld",
                  i, (long long)s.records[i].start_ns,
                  (long long)s.records[i].end_ns);
        WB_PROMISE("result");
    }
}
END_TEST

START_TEST(test_zero_tasks)
{
    WB_PROMISE("empty");
    errno = 0;
    int got = runner_run(NULL, 0, NULL);
    WB_EXPECT(got == 0,
              "no tasks (n = 0, both arrays NULL) is allowed and has 0 "
              "failures; got %d%s",
              got, wb_errno_note(got));
    struct setup s;
    setup_init(&s, 2, NULL, NULL);
    got = runner_run(s.tasks, 0, s.records);
    WB_EXPECT(got == 0, "n = 0 with real arrays: expected 0, got %d", got);
    WB_EXPECT(total_calls(&s, 2) == 0 && untouched(&s.records[0]),
              "n = 0 must run nothing and write no record");
    int64_t span = runner_span_ns(NULL, 0);
    WB_EXPECT(span == 0, "the span of 0 records is 0; got %lld",
              (long long)span);
}
END_TEST

START_TEST(test_null_arrays_rejected)
{
    WB_PROMISE("einval");
    struct setup s;
    setup_init(&s, 2, NULL, NULL);
    errno = 0;
    int got = runner_run(NULL, 2, s.records);
    WB_EXPECT(got == -1 && errno == EINVAL,
              "tasks = NULL with n = 2: expected -1 with errno EINVAL, got "
              "%d with errno %s",
              got, wb_errname(errno));
    errno = 0;
    got = runner_run(s.tasks, 2, NULL);
    WB_EXPECT(got == -1 && errno == EINVAL,
              "records = NULL with n = 2: expected -1 with errno EINVAL, "
              "got %d with errno %s",
              got, wb_errname(errno));
    WB_EXPECT(total_calls(&s, 2) == 0,
              "with records = NULL no task may run (there is nowhere to "
              "record it); %d task calls were made",
              total_calls(&s, 2));
    WB_EXPECT(untouched(&s.records[0]) && untouched(&s.records[1]),
              "on EINVAL the records must not be written; they were "
              "changed");
    /* The same with one task: n > 0 is enough to need both arrays. */
    errno = 0;
    got = runner_run(NULL, 1, s.records);
    WB_EXPECT(got == -1 && errno == EINVAL,
              "tasks = NULL with n = 1: expected -1 with errno EINVAL, got "
              "%d with errno %s",
              got, wb_errname(errno));
    errno = 0;
    got = runner_run(s.tasks, 1, NULL);
    WB_EXPECT(got == -1 && errno == EINVAL,
              "records = NULL with n = 1: expected -1 with errno EINVAL, "
              "got %d with errno %s (task 0 was called %d times)",
              got, wb_errname(errno), s.probes[0].calls);
    WB_PROMISE("span");
    errno = 0;
    int64_t span = runner_span_ns(NULL, 3);
    WB_EXPECT(span == -1 && errno == EINVAL,
              "runner_span_ns(NULL, 3): expected -1 with errno EINVAL, got "
              "%lld with errno %s",
              (long long)span, wb_errname(errno));
}
END_TEST

START_TEST(test_null_fn_rejected_before_anything_runs)
{
    WB_PROMISE("einval");
    /* Only the last task is bad, then only the first. */
    static const int bad_ones[] = {3, 0};
    for (int k = 0; k < 2; k++) {
        int bad = bad_ones[k];
        struct setup s;
        setup_init(&s, 4, NULL, NULL);
        s.tasks[bad].fn = NULL;
        errno = 0;
        int got = runner_run(s.tasks, 4, s.records);
        WB_EXPECT(got == -1 && errno == EINVAL,
                  "task %d has fn = NULL: expected -1 with errno EINVAL, "
                  "got %d with errno %s",
                  bad, got, wb_errname(errno));
        WB_EXPECT(total_calls(&s, 4) == 0,
                  "every task must be checked before the first one runs; "
                  "with task %d bad, tasks 0-3 were called %d, %d, %d and "
                  "%d times",
                  bad, s.probes[0].calls, s.probes[1].calls, s.probes[2].calls,
                  s.probes[3].calls);
        for (int i = 0; i < 4; i++)
            WB_EXPECT(untouched(&s.records[i]),
                      "on EINVAL the records must not be written; record %d "
                      "was changed (task %d was the bad one)",
                      i, bad);
    }
}
END_TEST

/* For the tests whose tasks must not run: how many times one did. */
static int plain_calls;

static int plain_task(void *ctx)
{
    (void)ctx;
    plain_calls++;
    return 0;
}

START_TEST(test_too_many_tasks_rejected)
{
    WB_PROMISE("too-many");
    /* A page of valid tasks that ends where a page nobody may read
     * begins: a runner that looks at the tasks before it looks at n walks
     * off the end of the array and faults (instead of stopping at a NULL
     * fn, as it would in a zeroed array). The call runs in a child, so
     * that the fault can be reported as what it is. */
    long page = sysconf(_SC_PAGESIZE);
    WB_EXPECT(page > 0, "sysconf(_SC_PAGESIZE) failed");
    char *map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    WB_EXPECT(map != MAP_FAILED, "mmap() failed: %s", strerror(errno));
    WB_EXPECT(mprotect(map + page, (size_t)page, PROT_NONE) == 0,
              "mprotect() failed: %s", strerror(errno));
    size_t fit = (size_t)page / sizeof(struct runner_task);
    struct runner_task *tasks = (struct runner_task *)(void *)(map + page);
    tasks -= fit;
    for (size_t i = 0; i < fit; i++)
        tasks[i] = (struct runner_task){"ok", plain_task, NULL};
    int fds[2];
    wb_pipe(fds);
    WB_EXPECT(fflush(NULL) == 0, "fflush() failed: %s", strerror(errno));
    pid_t pid = fork();
    WB_EXPECT(pid != -1, "fork() failed: %s", strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        struct runner_record records[1];
        errno = 0;
        int answer[3];
        answer[0] = runner_run(tasks, (size_t)INT_MAX + 1, records);
        answer[1] = errno;
        answer[2] = plain_calls;
        _exit(write(fds[1], answer, sizeof answer) == sizeof answer ? 0 : 1);
    }
    close(fds[1]);
    int answer[3] = {0, 0, 0};
    ssize_t got;
    do
        got = read(fds[0], answer, sizeof answer);
    while (got == -1 && errno == EINTR);
    close(fds[0]);
    int status = 0;
    WB_EXPECT(waitpid(pid, &status, 0) == pid, "waitpid() failed: %s",
              strerror(errno));
    munmap(map, 2 * (size_t)page);
    WB_EXPECT(got == (ssize_t)sizeof answer,
              "runner_run(tasks, INT_MAX + 1, records), with %zu valid "
              "tasks followed by memory nobody may read, never returned: "
              "%s %d. It read the tasks past the end of the array. n "
              "above INT_MAX must be refused with EINVAL from n alone, "
              "before any task is read",
              fit,
              WIFSIGNALED(status) ? "it was killed by signal"
                                  : "the child ended with status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    WB_EXPECT(answer[0] == -1 && answer[1] == EINVAL,
              "n = INT_MAX + 1: expected -1 with errno EINVAL (the count "
              "of failures could not fit the int returned), got %d with "
              "errno %s",
              answer[0], wb_errname(answer[1]));
    WB_EXPECT(answer[2] == 0, "n = INT_MAX + 1 must run nothing; %d tasks ran",
              answer[2]);
}
END_TEST

START_TEST(test_clock_failure_runs_nothing)
{
    WB_PROMISE("no-clock");
    struct runner_task tasks[3];
    struct runner_record records[3];
    for (int i = 0; i < 3; i++) {
        tasks[i] = (struct runner_task){"plain", plain_task, NULL};
        records[i] = (struct runner_record){SENTINEL, SENTINEL, SENTINEL};
    }
    /* Every clock_gettime() from here on fails, as on a system without
     * CLOCK_MONOTONIC. */
    wb_wrap_fail(WB_CLOCK_GETTIME, 1, EINVAL, 1);
    errno = 0;
    int got = runner_run(tasks, 3, records);
    int saved = errno;
    int reads = wb_wrap_calls(WB_CLOCK_GETTIME);
    wb_wrap_reset(WB_CLOCK_GETTIME, 0);
    WB_EXPECT(got == -1 && saved == EINVAL,
              "clock_gettime() fails with EINVAL (no monotonic clock): "
              "expected runner_run() to return -1 with errno EINVAL, got "
              "%d%s (%d tasks ran, clock_gettime() was called %d times). "
              "Read the clock once before the first task, and give up if "
              "even that fails",
              got, errnote_with(got, saved), plain_calls, reads);
    WB_EXPECT(plain_calls == 0,
              "the clock cannot be read, so no task may run (its times "
              "could not be recorded); %d tasks ran",
              plain_calls);
}
END_TEST

START_TEST(test_span_is_first_start_to_last_end)
{
    WB_PROMISE("span");
    const struct runner_record made_up[] = {
        {1000, 1500, 0}, {1500, 2100, 1}, {2200, 4000, 0}};
    int64_t span = runner_span_ns(made_up, 3);
    WB_EXPECT(span == 3000,
              "records {1000..1500}, {1500..2100}, {2200..4000}: expected "
              "a span of 4000 - 1000 = 3000 ns, got %lld",
              (long long)span);
    span = runner_span_ns(made_up, 1);
    WB_EXPECT(span == 500, "one record {1000..1500}: expected 500, got %lld",
              (long long)span);
    /* Not what runner_run() writes, but the formula says what to do. */
    const struct runner_record odd[] = {{100, 900, 0}, {50, 400, 0}};
    span = runner_span_ns(odd, 2);
    WB_EXPECT(span == 300,
              "records {100..900}, {50..400}: expected records[1].end_ns - "
              "records[0].start_ns = 400 - 100 = 300 ns (the last "
              "record's end minus the first record's start, as they are), "
              "got %lld",
              (long long)span);

    const long sleeps[] = {5, 5, 5};
    struct setup s;
    setup_init(&s, 3, sleeps, NULL);
    WB_EXPECT(runner_run(s.tasks, 3, s.records) == 0, "expected 0 failures");
    span = runner_span_ns(s.records, 3);
    WB_EXPECT(span == s.records[2].end_ns - s.records[0].start_ns,
              "expected the span to be the last end minus the first "
              "start (%lld ns), got %lld",
              (long long)(s.records[2].end_ns - s.records[0].start_ns),
              (long long)span);
    WB_EXPECT(span >= 15 * MS && span < 15 * MS + SLACK_NS,
              "three tasks of 5 ms in sequence: expected a span of at "
              "least 15 ms (the sum), got %.3f ms",
              (double)span / MS);
}
END_TEST

/* For the long run: each task checks it is the next one due. */
struct counted {
    int index;
    int *next;
};

static int counted_task(void *ctx)
{
    struct counted *c = ctx;
    if (*c->next != c->index)
        return 1;
    (*c->next)++;
    return 0;
}

START_TEST(test_many_quick_tasks)
{
    enum { N = 10000 };
    struct runner_task *tasks = calloc(N, sizeof *tasks);
    struct runner_record *records = calloc(N, sizeof *records);
    struct counted *ctx = calloc(N, sizeof *ctx);
    WB_EXPECT(tasks != NULL && records != NULL && ctx != NULL, "out of memory");
    memset(records, 0xa5, N * sizeof *records); /* junk, not zeros */
    int next = 0;
    for (int i = 0; i < N; i++) {
        ctx[i] = (struct counted){i, &next};
        tasks[i] = (struct runner_task){NULL, counted_task, &ctx[i]};
    }
    int got = runner_run(tasks, N, records);
    int ran = next;
    int bad = -1;
    for (int i = 1; i < N && bad < 0; i++)
        if (records[i].start_ns < records[i - 1].end_ns)
            bad = i;
    free(tasks);
    free(records);
    free(ctx);
    WB_PROMISE("order");
    WB_EXPECT(got == 0 && ran == N,
              "10000 tasks (with NULL names, which runner_run() does not "
              "use), each expecting to be next: expected 0 failures and "
              "all %d run in order, got %d failures and %d in order",
              N, got, ran);
    WB_PROMISE("times");
    WB_EXPECT(bad < 0, "task %d started before task %d ended", bad, bad - 1);
}
END_TEST

/* make check CHAPTER=1 EXERCISE=runner TRACE=1 draws this test's tasks. */
const char *const wb_trace_test = "test_times_bracket_each_task";

Suite *wb_suite(void)
{
    Suite *s = wb_begin("runner", "chapters/01-sync/chapter.md");
    WB_ADD(s, test_runs_every_task_once_in_order, "One step at a time");
    WB_ADD(s, test_times_bracket_each_task, "Measuring wall time and CPU time");
    WB_ADD(s, test_each_start_after_previous_end, "N tasks in sequence");
    WB_ADD(s, test_failure_does_not_stop_later_tasks, "Exit codes and errors");
    WB_ADD(s, test_zero_tasks, "N tasks in sequence");
    WB_ADD(s, test_null_arrays_rejected, "Exit codes and errors");
    WB_ADD(s, test_null_fn_rejected_before_anything_runs,
           "A sequential task runner");
    WB_ADD(s, test_too_many_tasks_rejected, "A sequential task runner");
    WB_ADD(s, test_clock_failure_runs_nothing, "A sequential task runner");
    WB_ADD(s, test_span_is_first_start_to_last_end, "N tasks in sequence");
    WB_ADD(s, test_many_quick_tasks, "One step at a time");
    return s;
}
