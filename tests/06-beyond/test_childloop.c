/*
 * Tests of childloop (exercises/06-beyond/childloop.h): programs started
 * from the event loop of chapter 4, their end reported on the loop.
 *
 * The loop is the reference loop (solutions/04-select/loop.c, through
 * childloop.links). Each test records every on_exit in a board: the
 * pid, code, signal, context, whether loop_run() was running, and
 * whether the child was still a zombie then.
 *
 * Linux-only: it reads /proc/PID/stat and /proc/self/status.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "fdlimit.h"
#include "childloop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXKIDS 80

struct board {
    int n;
    pid_t pid[MAXKIDS];
    int code[MAXKIDS], signo[MAXKIDS];
    void *ctx[MAXKIDS];
    int in_run[MAXKIDS]; /* loop_run() was running */
    int zombie[MAXKIDS]; /* kill(pid, 0) still found the process */
    int stop_after;      /* stop the loop after this many; 0 never */
    long stop_timer;     /* a timer to cancel when stop_after is met */
};

static struct board *board_of; /* the board the callbacks fill */
static int in_run;

static void on_exit_note(childloop *c, pid_t pid, int code, int signo,
                         void *ctx)
{
    (void)c;
    struct board *b = board_of;
    if (b->n < MAXKIDS) {
        int i = b->n;
        b->pid[i] = pid;
        b->code[i] = code;
        b->signo[i] = signo;
        b->ctx[i] = ctx;
        b->in_run[i] = in_run;
        b->zombie[i] = kill(pid, 0) == 0 || errno != ESRCH;
    }
    b->n++;
}

static void on_stop_timer(loop *l, void *ctx)
{
    (void)ctx;
    loop_stop(l);
}

static loop *new_loop(void)
{
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed: out of memory?");
    return l;
}

static childloop *new_childloop(loop *l)
{
    childloop *c = childloop_new(l);
    ck_assert_msg(c != NULL, "childloop_new() failed%s", wb_errno_note(-1));
    return c;
}

/* Run the loop for at most @p limit_ms (0: no limit; the loop must end
 * by itself, or the test times out); the time it took, in ms. The limit
 * is a timer, cancelled by on_exit_count() once stop_after children are
 * in: a pending timer would keep loop_run() from returning. */
static long run_for(loop *l, long limit_ms)
{
    long id = 0;
    if (limit_ms > 0) {
        id = loop_add_timer(l, limit_ms, on_stop_timer, NULL);
        ck_assert(id > 0);
    }
    board_of->stop_timer = id;
    int64_t t0 = wb_now_ns();
    in_run = 1;
    int rc = loop_run(l);
    in_run = 0;
    ck_assert_msg(rc == 0, "loop_run() failed%s", wb_errno_note(rc));
    if (id > 0)
        loop_cancel_timer(l, id); /* ENOENT when it ran or was cancelled */
    return (long)((wb_now_ns() - t0) / 1000000);
}

/* on_exit that also cancels the limit once all are in. */
static loop *the_loop;
static void on_exit_count(childloop *c, pid_t pid, int code, int signo,
                          void *ctx)
{
    on_exit_note(c, pid, code, signo, ctx);
    if (board_of->stop_after > 0 && board_of->n == board_of->stop_after)
        loop_cancel_timer(the_loop, board_of->stop_timer);
}

static int find(const struct board *b, pid_t pid)
{
    for (int i = 0; i < b->n && i < MAXKIDS; i++)
        if (b->pid[i] == pid)
            return i;
    return -1;
}

static pid_t spawn_ok(childloop *c, char *const argv[], void *ctx)
{
    errno = 0;
    pid_t pid = childloop_spawn(c, argv, on_exit_count, ctx);
    WB_EXPECT(pid > 0, "childloop_spawn(\"%s\", ...) should start it; got %d%s",
              argv[0], (int)pid, wb_errno_note(pid));
    return pid;
}

/* Whether process @p pid is a zombie (ended, not reaped). */
static int is_zombie(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *paren = strrchr(buf, ')');
    return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

START_TEST(test_exit_codes)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    char *t[] = {"true", NULL};
    char *seven[] = {"sh", "-c", "exit 7", NULL};
    char *max[] = {"/bin/sh", "-c", "exit 255", NULL};
    pid_t p0 = spawn_ok(c, t, &b.n);
    pid_t p7 = spawn_ok(c, seven, &b.code);
    pid_t p255 = spawn_ok(c, max, NULL);
    wb_sleep_ms(50); /* they have all ended, most likely */
    WB_PROMISE("loop-thread");
    WB_EXPECT(b.n == 0,
              "on_exit should run from loop_run(), never inside "
              "childloop_spawn(); %d ran before loop_run()",
              b.n);
    b.stop_after = 3;
    run_for(l, 1500);
    WB_PROMISE("exactly-once");
    WB_EXPECT(b.n == 3,
              "3 children ended; on_exit should run 3 times, "
              "it ran %d times",
              b.n);
    pid_t pids[] = {p0, p7, p255};
    int codes[] = {0, 7, 255};
    void *ctxs[] = {&b.n, &b.code, NULL};
    for (int k = 0; k < 3; k++) {
        int i = find(&b, pids[k]);
        WB_PROMISE("exactly-once");
        WB_EXPECT(i >= 0, "no on_exit for child %d (exit %d)", (int)pids[k],
                  codes[k]);
        WB_EXPECT(b.ctx[i] == ctxs[k],
                  "on_exit should get the ctx given to childloop_spawn()");
        WB_PROMISE("status");
        WB_EXPECT(b.code[i] == codes[k] && b.signo[i] == 0,
                  "a child that exits with %d should give code %d and signo "
                  "0; got code %d, signo %d",
                  codes[k], codes[k], b.code[i], b.signo[i]);
        WB_PROMISE("loop-thread");
        WB_EXPECT(b.in_run[i], "on_exit should run from loop_run()");
    }
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_killed_by_a_signal)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    char *sleeper[] = {"sleep", "10", NULL};
    char *self[] = {"sh", "-c", "kill -USR1 $$", NULL};
    pid_t a = spawn_ok(c, sleeper, NULL);
    pid_t u = spawn_ok(c, self, NULL);
    kill(a, SIGKILL);
    b.stop_after = 2;
    run_for(l, 1500);
    WB_PROMISE("status");
    int i = find(&b, a), j = find(&b, u);
    WB_EXPECT(i >= 0 && b.code[i] == -1 && b.signo[i] == SIGKILL,
              "a child killed with SIGKILL should give code -1 and signo %d; "
              "got %s",
              SIGKILL,
              i < 0 ? "no on_exit"
                    : wb_format("code %d, signo %d", b.code[i], b.signo[i]));
    WB_EXPECT(j >= 0 && b.code[j] == -1 && b.signo[j] == SIGUSR1,
              "a child killed by SIGUSR1 should give code -1 and signo %d; "
              "got %s",
              SIGUSR1,
              j < 0 ? "no on_exit"
                    : wb_format("code %d, signo %d", b.code[j], b.signo[j]));
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_many_children)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    enum { N = 64 };
    pid_t pids[N];
    char cmd[N][32];
    for (int k = 0; k < N; k++) {
        snprintf(cmd[k], sizeof cmd[k], "exit %d", k);
        char *argv[] = {"sh", "-c", cmd[k], NULL};
        pids[k] = spawn_ok(c, argv, cmd[k]);
    }
    WB_EXPECT(childloop_running(c) == N,
              "%d children started: childloop_running() should say %d, "
              "it says %u",
              N, N, childloop_running(c));
    b.stop_after = N;
    run_for(l, 3000);
    WB_PROMISE("exactly-once");
    WB_EXPECT(b.n == N,
              "%d children ended; on_exit should run %d times, "
              "it ran %d times",
              N, N, b.n);
    for (int k = 0; k < N; k++) {
        int i = find(&b, pids[k]);
        WB_EXPECT(i >= 0 && b.code[i] == k && b.ctx[i] == cmd[k],
                  "child %d (exit %d) should get one on_exit with code %d and "
                  "its ctx; %s",
                  k, k, k, i < 0 ? "it got none" : "its code or ctx differ");
    }
    WB_PROMISE("reaped");
    WB_EXPECT(wb_no_children(), "every child should be reaped after its "
                                "on_exit; some are still there");
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_children_that_end_together)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    enum { N = 20 };
    pid_t pids[N];
    char *sleeper[] = {"sleep", "10", NULL};
    for (int k = 0; k < N; k++)
        pids[k] = spawn_ok(c, sleeper, NULL);
    /* All end before the loop runs: their SIGCHLDs merge into one. */
    for (int k = 0; k < N; k++)
        kill(pids[k], SIGKILL);
    for (int k = 0; k < N; k++)
        for (int w = 0; w < 500 && !is_zombie(pids[k]); w++)
            wb_sleep_ms(2);
    b.stop_after = N;
    long ms = run_for(l, 1000);
    WB_PROMISE("together");
    WB_EXPECT(b.n == N,
              "%d children ended together (one SIGCHLD for all): all "
              "should be reported, ask every child with waitpid(WNOHANG) "
              "on each signal; %d were reported in %ld ms",
              N, b.n, ms);
    WB_PROMISE("run-ends");
    WB_EXPECT(ms < 900,
              "once every child is reported loop_run() should return; it "
              "ran %ld ms, until the test's limit",
              ms);
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_reaped_before_on_exit)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    char *f[] = {"false", NULL};
    for (int k = 0; k < 5; k++)
        spawn_ok(c, f, NULL);
    b.stop_after = 5;
    run_for(l, 1500);
    WB_PROMISE("reaped");
    WB_EXPECT(b.n == 5, "5 children should be reported; %d were", b.n);
    for (int i = 0; i < b.n && i < MAXKIDS; i++)
        WB_EXPECT(!b.zombie[i] && b.code[i] == 1,
                  "when on_exit runs the child should be reaped (kill(pid, "
                  "0) fails with ESRCH) and `false` gives code 1; child %d: "
                  "%s, code %d",
                  (int)b.pid[i], b.zombie[i] ? "still there" : "reaped",
                  b.code[i]);
    WB_EXPECT(wb_no_children(), "no child should be left after loop_run()");
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_program_not_started)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    struct {
        char *prog;
        int err;
    } cases[] = {{"/nonexistent/program", ENOENT},
                 {"wb-no-such-program", ENOENT},
                 {"/dev/null", EACCES}};
    for (int k = 0; k < 3; k++) {
        char *argv[] = {cases[k].prog, NULL};
        errno = 0;
        int64_t t0 = wb_now_ns();
        pid_t pid = childloop_spawn(c, argv, on_exit_count, NULL);
        int err = errno;
        long ms = (long)((wb_now_ns() - t0) / 1000000);
        WB_PROMISE("not-started");
        const char *want = wb_format("%s", wb_errname(cases[k].err));
        WB_EXPECT(pid == -1 && err == cases[k].err,
                  "childloop_spawn(\"%s\") cannot start it: it should "
                  "return -1 with errno %s (execvp()'s, from the child); "
                  "got %d with errno %s",
                  cases[k].prog, want, (int)pid, wb_errname(err));
        WB_EXPECT(ms < 1000,
                  "a failed start should be reported at once; it "
                  "took %ld ms",
                  ms);
        WB_EXPECT(wb_no_children(),
                  "the child that could not exec \"%s\" should be reaped "
                  "before childloop_spawn() returns: it is left as a zombie",
                  cases[k].prog);
    }
    WB_EXPECT(childloop_running(c) == 0,
              "no child runs: childloop_running() should say 0, not %u",
              childloop_running(c));
    long ms = run_for(l, 0);
    WB_EXPECT(b.n == 0,
              "a program that was not started gets no on_exit; "
              "%d ran",
              b.n);
    WB_PROMISE("run-ends");
    WB_EXPECT(ms < 900,
              "with no child running loop_run() should return at "
              "once; it ran %ld ms",
              ms);
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_other_children_left_alone)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    fflush(NULL);
    pid_t mine = fork();
    ck_assert(mine >= 0);
    if (mine == 0)
        _exit(3);
    char *t[] = {"true", NULL};
    spawn_ok(c, t, NULL);
    wb_sleep_ms(20);
    b.stop_after = 1;
    run_for(l, 1000);
    WB_PROMISE("others");
    int st = 0;
    pid_t r = waitpid(mine, &st, 0);
    WB_EXPECT(r == mine && WIFEXITED(st) && WEXITSTATUS(st) == 3,
              "a child the test forked itself should be left to the test "
              "(the childloop waits only for its own pids); waitpid() on it "
              "gave %d%s",
              (int)r, wb_errno_note(r));
    childloop_free(c);
    loop_free(l);
}
END_TEST

static int sigchld_blocked(void)
{
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, SIGCHLD);
}

START_TEST(test_child_signal_mask)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    /* Exit 0 when SIGCHLD (bit 17, 0x10000) is not blocked in the shell. */
    char *argv[] = {"sh", "-c",
                    "m=$(sed -n 's/^SigBlk:[[:space:]]*//p' "
                    "/proc/self/status); [ $((0x$m & 0x10000)) -eq 0 ]",
                    NULL};
    spawn_ok(c, argv, NULL);
    b.stop_after = 1;
    run_for(l, 1500);
    WB_PROMISE("mask");
    WB_EXPECT(b.n == 1 && b.code[0] == 0,
              "the program should start with SIGCHLD unblocked (the "
              "caller's mask before childloop_new(), not the blocked one: "
              "a mask survives exec); %s",
              b.n == 1 ? "it was blocked" : "it was not reported");
    childloop_free(c);
    loop_free(l);
}
END_TEST

static void on_exit_chain(childloop *c, pid_t pid, int code, int signo,
                          void *ctx)
{
    on_exit_count(c, pid, code, signo, ctx);
    if (board_of->n < 5) {
        char *t[] = {"true", NULL};
        WB_EXPECT(childloop_spawn(c, t, on_exit_chain, NULL) > 0,
                  "childloop_spawn() from an on_exit should work");
    }
}

START_TEST(test_spawn_from_on_exit)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    char *t[] = {"true", NULL};
    ck_assert(childloop_spawn(c, t, on_exit_chain, NULL) > 0);
    b.stop_after = 5;
    long ms = run_for(l, 1500);
    WB_PROMISE("exactly-once");
    WB_EXPECT(b.n == 5,
              "a chain of 5 children, each started from the "
              "last one's on_exit, should give 5 on_exit; got %d",
              b.n);
    WB_PROMISE("run-ends");
    WB_EXPECT(ms < 1400,
              "after the last child loop_run() should return; "
              "it ran %ld ms",
              ms);
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_free_kills_and_reaps)
{
    struct board b = {0};
    board_of = &b;
    int fds = wb_count_fds();
    WB_EXPECT(!sigchld_blocked(), "the test starts with SIGCHLD unblocked");
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    WB_PROMISE("free");
    WB_EXPECT(sigchld_blocked(), "childloop_new() should block SIGCHLD in "
                                 "the calling thread (read \"Children in "
                                 "the loop\")");
    char *sleeper[] = {"sleep", "10", NULL};
    for (int k = 0; k < 3; k++)
        spawn_ok(c, sleeper, NULL);
    int64_t t0 = wb_now_ns();
    childloop_free(c);
    long ms = (long)((wb_now_ns() - t0) / 1000000);
    WB_EXPECT(ms < 1000,
              "childloop_free() should kill its children with "
              "SIGKILL; it took %ld ms",
              ms);
    WB_EXPECT(wb_no_children(), "childloop_free() should reap every child "
                                "it killed; some are left");
    WB_EXPECT(b.n == 0, "childloop_free() calls no on_exit; %d ran", b.n);
    WB_EXPECT(wb_count_fds() == fds,
              "childloop_free() should close its descriptor: %d open before "
              "childloop_new(), %d after childloop_free()",
              fds, wb_count_fds());
    WB_EXPECT(!sigchld_blocked(), "childloop_free() should unblock SIGCHLD "
                                  "again");
    long ms2 = run_for(l, 0);
    WB_EXPECT(ms2 < 900,
              "after childloop_free() the loop should watch "
              "nothing of it; loop_run() ran %ld ms",
              ms2);
    loop_free(l);
}
END_TEST

START_TEST(test_failed_start_keeps_the_others)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    char *nap[] = {"sleep", "0.2", NULL};
    pid_t p = spawn_ok(c, nap, &b);
    char *none[] = {"/nonexistent/program", NULL};
    errno = 0;
    pid_t bad = childloop_spawn(c, none, on_exit_count, NULL);
    int err = errno;
    WB_PROMISE("not-started");
    WB_EXPECT(bad == -1 && err == ENOENT,
              "childloop_spawn(\"/nonexistent/program\") should return -1 "
              "with ENOENT; got %d with errno %s",
              (int)bad, wb_errname(err));
    b.stop_after = 1;
    long ms = run_for(l, 1500);
    WB_PROMISE("exactly-once");
    WB_EXPECT(b.n == 1 && b.pid[0] == p && b.code[0] == 0,
              "a child (sleep 0.2) was running when another program failed "
              "to start: the running one should still get its on_exit, "
              "with code 0; %s after %ld ms. A failed start must leave the "
              "signalfd watched while other children run",
              b.n == 0 ? "it got none"
                       : wb_format("%d on_exit ran, the first code %d", b.n,
                                   b.code[0]),
              ms);
    WB_PROMISE("reaped");
    WB_EXPECT(wb_no_children(), "no child should be left after loop_run()");
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_fork_and_pipe_failures)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    char *t[] = {"true", NULL};
    WB_PROMISE("failed-spawn");
    /* fork() fails. */
    wb_wrap_fail(WB_FORK, 1, EAGAIN, 0);
    errno = 0;
    pid_t pid = childloop_spawn(c, t, on_exit_count, NULL);
    int err = errno;
    wb_wrap_reset(WB_FORK, 0);
    WB_EXPECT(pid == -1 && err == EAGAIN,
              "when fork() fails with EAGAIN, childloop_spawn() should "
              "return -1 with EAGAIN; got %d with errno %s",
              (int)pid, wb_errname(err));
    /* No limit: a loop that still watches the signalfd never returns,
     * and the test times out. */
    long ms = run_for(l, 0);
    WB_EXPECT(ms < 900 && b.n == 0,
              "after a spawn whose fork() failed no child runs: loop_run() "
              "should return at once, with no on_exit; it ran %ld ms",
              ms);
    /* pipe() fails: every descriptor below a lowered limit is taken. */
    fdlimit_none_left();
    size_t heap0 = wb_heap_in_use();
    int refused = 0, errs = 0;
    for (int k = 0; k < 200; k++) {
        errno = 0;
        pid = childloop_spawn(c, t, on_exit_count, NULL);
        refused += pid == -1;
        errs += pid == -1 && errno == EMFILE;
        if (pid > 0)
            break;
    }
    size_t heap1 = wb_heap_in_use();
    fdlimit_restore();
    WB_EXPECT(refused == 200 && errs == 200,
              "with no descriptor left (RLIMIT_NOFILE), 200 spawns should "
              "each return -1 with EMFILE (pipe()'s error); %d returned -1, "
              "%d with EMFILE",
              refused, errs);
    WB_EXPECT(heap1 <= heap0 + 1024,
              "200 spawns that failed (pipe() could not be made) should "
              "leave no memory behind; the heap grew by %zu bytes",
              heap1 - heap0);
    ms = run_for(l, 0);
    WB_EXPECT(ms < 900 && b.n == 0,
              "after spawns whose pipe() failed no child runs: loop_run() "
              "should return at once, with no on_exit; it ran %ld ms",
              ms);
    WB_EXPECT(wb_no_children(), "a spawn that failed should start nothing");
    childloop_free(c);
    loop_free(l);
}
END_TEST

static void on_exit_unused(childloop *c, pid_t pid, int code, int signo,
                           void *ctx)
{
    (void)c, (void)pid, (void)code, (void)signo, (void)ctx;
}

/* --- Failures, interruptions, and state kept between calls --------------- */

/* The signal mask of the calling thread as a list of bits, for
 * comparing: 1 to SIGRTMAX. */
static void mask_now(unsigned char bits[], int n)
{
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    for (int s = 1; s < n; s++)
        bits[s] = sigismember(&now, s) == 1;
}

/* The first signal on which two masks differ, or 0. */
static int mask_differs(const unsigned char a[], const unsigned char b[], int n)
{
    for (int s = 1; s < n; s++)
        if (a[s] != b[s])
            return s;
    return 0;
}

/* Leave junk (every bit set) on the stack below the caller's frame, where
 * the next function it calls keeps its locals: a sigset_t that is never
 * emptied then holds every signal, as it may in any program. */
static __attribute__((noinline)) void dirty_stack(void)
{
    volatile unsigned char junk[16384];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0xFF;
}

START_TEST(test_mask_changes_only_sigchld)
{
    enum { NS = 65 };
    unsigned char before[NS], during[NS], after[NS];
    /* The caller has a signal of its own blocked: it must stay so. */
    sigset_t usr2, old;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, &old);
    loop *l = new_loop();
    mask_now(before, NS);
    dirty_stack();
    childloop *c = childloop_new(l);
    mask_now(during, NS);
    before[SIGCHLD] = 1;
    int d = mask_differs(before, during, NS);
    before[SIGCHLD] = 0;
    WB_PROMISE("free");
    WB_EXPECT(c != NULL && d == 0,
              "childloop_new() should block SIGCHLD and nothing else; %s",
              c == NULL
                  ? "it failed"
                  : wb_format("signal %d (%s) changed too", d, strsignal(d)));
    dirty_stack();
    childloop_free(c);
    mask_now(after, NS);
    d = mask_differs(before, after, NS);
    WB_EXPECT(d == 0,
              "after childloop_free() the thread's mask should be the one it "
              "had before childloop_new() (SIGCHLD unblocked, SIGUSR2, which "
              "the caller blocked, still blocked); signal %d (%s) differs",
              d, strsignal(d));
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    loop_free(l);
}
END_TEST

START_TEST(test_new_fails_cleanly)
{
    loop *l = new_loop();
    WB_PROMISE("failed-new");
    /* No memory. */
    wb_alloc_fail(1);
    errno = 0;
    childloop *c = childloop_new(l);
    int err = errno;
    wb_alloc_fail(0);
    WB_EXPECT(c == NULL && err == ENOMEM,
              "childloop_new() with no memory should return NULL with ENOMEM; "
              "got %s with errno %s",
              c == NULL ? "NULL" : "a childloop", wb_errname(err));
    WB_EXPECT(!sigchld_blocked(), "a childloop_new() that failed should "
                                  "leave SIGCHLD unblocked");
    if (c != NULL)
        childloop_free(c);
    /* No descriptor for the signalfd. */
    fdlimit_none_left();
    errno = 0;
    c = childloop_new(l);
    err = errno;
    int blocked = sigchld_blocked();
    fdlimit_restore();
    WB_EXPECT(c == NULL && err == EMFILE,
              "with no descriptor left (RLIMIT_NOFILE), childloop_new() "
              "should return NULL with EMFILE (signalfd()'s error); got %s "
              "with errno %s",
              c == NULL ? "NULL" : "a childloop", wb_errname(err));
    WB_EXPECT(!blocked, "a childloop_new() whose signalfd() failed should "
                        "leave SIGCHLD unblocked, as it was");
    if (c != NULL)
        childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_spawn_without_memory)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    char *t[] = {"true", NULL};
    WB_PROMISE("failed-spawn");
    wb_alloc_fail(1);
    errno = 0;
    pid_t pid = childloop_spawn(c, t, on_exit_count, NULL);
    int err = errno;
    wb_alloc_fail(0);
    WB_EXPECT(pid == -1 && err == ENOMEM,
              "when malloc() fails, childloop_spawn() should return -1 with "
              "ENOMEM; got %d with errno %s",
              (int)pid, wb_errname(err));
    WB_EXPECT(wb_no_children(), "a spawn that failed should start nothing");
    long ms = run_for(l, 0);
    WB_EXPECT(ms < 900 && b.n == 0,
              "after a spawn that failed no child runs: loop_run() should "
              "return at once, with no on_exit; it ran %ld ms",
              ms);
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_spawn_when_the_loop_refuses)
{
    struct board b = {0};
    board_of = &b;
    /* Every descriptor below FD_SETSIZE is taken: the signalfd gets a
     * number the loop of chapter 4 refuses ([fd-setsize]). */
    struct rlimit old, high;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    high = old;
    if (high.rlim_cur < FD_SETSIZE + 64)
        high.rlim_cur = FD_SETSIZE + 64;
    if (high.rlim_max != RLIM_INFINITY && high.rlim_cur > high.rlim_max)
        high.rlim_max = high.rlim_cur;
    ck_assert_msg(setrlimit(RLIMIT_NOFILE, &high) == 0,
                  "raising RLIMIT_NOFILE to %d failed%s", FD_SETSIZE + 64,
                  wb_errno_note(-1));
    loop *l = the_loop = new_loop();
    static unsigned char taken[FD_SETSIZE];
    memset(taken, 0, sizeof taken);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert(null >= 0);
    for (int fd = 0; fd < FD_SETSIZE; fd++)
        if (fcntl(fd, F_GETFD) == -1 && fcntl(null, F_DUPFD_CLOEXEC, fd) == fd)
            taken[fd] = 1;
    childloop *c = childloop_new(l);
    char *t[] = {"true", NULL};
    errno = 0;
    pid_t pid = c == NULL ? -2 : childloop_spawn(c, t, on_exit_count, NULL);
    int err = errno;
    for (int fd = 0; fd < FD_SETSIZE; fd++)
        if (taken[fd])
            close(fd);
    close(null);
    WB_PROMISE("failed-spawn");
    WB_EXPECT(pid == -1 && err == EINVAL,
              "the childloop's signalfd got a descriptor above FD_SETSIZE, "
              "which loop_watch() refuses with EINVAL: childloop_spawn() "
              "should return -1 with that errno and start nothing; got %d "
              "with errno %s",
              (int)pid, wb_errname(err));
    WB_EXPECT(wb_no_children(), "a spawn that failed should start nothing");
    if (c != NULL)
        childloop_free(c);
    loop_free(l);
    setrlimit(RLIMIT_NOFILE, &old);
}
END_TEST

START_TEST(test_spawn_again_after_the_loop_ended)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    char *t[] = {"true", NULL};
    char *none[] = {"/nonexistent/program", NULL};
    WB_PROMISE("exactly-once");
    for (int round = 1; round <= 3; round++) {
        /* Round 2: a start that fails with nothing running, then one
         * that works; rounds 1 and 3: only the one that works. */
        if (round == 2) {
            pid_t bad = childloop_spawn(c, none, on_exit_count, NULL);
            WB_EXPECT(bad == -1, "childloop_spawn(\"/nonexistent/program\") "
                                 "should return -1");
        }
        pid_t p = spawn_ok(c, t, NULL);
        b.stop_after = round;
        long ms = run_for(l, 1000);
        WB_EXPECT(b.n == round && b.pid[round - 1] == p,
                  "round %d: a child started after loop_run() had returned "
                  "%sshould get its on_exit in the next loop_run(); %d "
                  "on_exit in all after %ld ms",
                  round, round == 2 ? "(and after a start that failed) " : "",
                  b.n, ms);
    }
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_other_zombies_left_alone)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    WB_PROMISE("others");
    fflush(NULL);
    pid_t mine = fork();
    ck_assert(mine >= 0);
    if (mine == 0)
        _exit(3);
    for (int w = 0; w < 500 && !is_zombie(mine); w++)
        wb_sleep_ms(2);
    /* A program that cannot start: its child is reaped, not ours. */
    char *none[] = {"/nonexistent/program", NULL};
    pid_t bad = childloop_spawn(c, none, on_exit_count, NULL);
    WB_EXPECT(bad == -1, "childloop_spawn(\"/nonexistent/program\") should "
                         "return -1");
    WB_EXPECT(is_zombie(mine),
              "a child the test forked itself (ended, not reaped) should be "
              "left to the test when a program fails to start: the "
              "childloop reaps only its own pids");
    /* childloop_free() kills and reaps its own child only. */
    char *sleeper[] = {"sleep", "10", NULL};
    spawn_ok(c, sleeper, NULL);
    childloop_free(c);
    int st = 0;
    /* Once, under ThreadSanitizer at a load of 49, waitpid() said 0
     * here although /proc had shown the child a zombie (as it shows a
     * thread-group leader whose other threads are still ending): wait a
     * little. A childloop that reaped it makes waitpid() fail at once. */
    pid_t r = 0;
    for (int w = 0; w < 1000 && r == 0; w++) {
        r = waitpid(mine, &st, WNOHANG);
        if (r == 0)
            wb_sleep_ms(2);
    }
    WB_EXPECT(r == mine && WIFEXITED(st) && WEXITSTATUS(st) == 3,
              "a child the test forked itself should be left to the test "
              "(the childloop waits only for its own pids, in "
              "childloop_free() too); waitpid() on it gave %d%s",
              (int)r, wb_errno_note(r));
    if (r == 0)
        waitpid(mine, &st, 0);
    loop_free(l);
}
END_TEST

START_TEST(test_failed_child_never_returns)
{
    loop *l = new_loop();
    childloop *c = new_childloop(l);
    pid_t me = getpid();
    int m[2];
    wb_pipe(m);
    char *none[] = {"/nonexistent/program", NULL};
    pid_t bad = childloop_spawn(c, none, on_exit_unused, NULL);
    if (getpid() != me) {
        /* The child that could not exec came back here. */
        char x = 'x';
        ssize_t w = write(m[1], &x, 1);
        (void)w;
        _exit(0);
    }
    close(m[1]);
    int fl = fcntl(m[0], F_GETFL);
    fcntl(m[0], F_SETFL, fl | O_NONBLOCK);
    char x;
    ssize_t n = read(m[0], &x, 1);
    close(m[0]);
    WB_PROMISE("not-started");
    WB_EXPECT(bad == -1 && n <= 0,
              "the child whose execvp() failed should end at once (_exit()), "
              "never return from childloop_spawn() into the caller's code; "
              "%s",
              n > 0 ? "it went on with the test's code"
                    : wb_format("childloop_spawn() returned %d", (int)bad));
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_waitpid_interrupted)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    WB_PROMISE("eintr");
    /* The status of a child that ended: the first waitpid() fails. */
    char *t[] = {"true", NULL};
    pid_t p = spawn_ok(c, t, NULL);
    for (int w = 0; w < 500 && !is_zombie(p); w++)
        wb_sleep_ms(2);
    b.stop_after = 1;
    wb_wrap_fail(WB_WAITPID, 1, EINTR, 0);
    long ms = run_for(l, 1000);
    wb_wrap_reset(WB_WAITPID, 0);
    WB_EXPECT(b.n == 1 && b.pid[0] == p && b.code[0] == 0,
              "a waitpid() interrupted by a signal (EINTR) should be made "
              "again: the child (true) should get its on_exit with code 0; "
              "%d on_exit after %ld ms",
              b.n, ms);
    /* The reaping of a child that could not exec. */
    char *none[] = {"/nonexistent/program", NULL};
    wb_wrap_fail(WB_WAITPID, 1, EINTR, 0);
    errno = 0;
    pid_t bad = childloop_spawn(c, none, on_exit_count, NULL);
    int err = errno;
    wb_wrap_reset(WB_WAITPID, 0);
    WB_EXPECT(bad == -1 && err == ENOENT,
              "childloop_spawn(\"/nonexistent/program\") should return -1 "
              "with ENOENT; got %d with errno %s",
              (int)bad, wb_errname(err));
    WB_EXPECT(wb_no_children(),
              "the child that could not exec should be reaped before "
              "childloop_spawn() returns, even when the first waitpid() "
              "fails with EINTR: it is left as a zombie");
    /* childloop_free() reaps what it killed. */
    char *sleeper[] = {"sleep", "10", NULL};
    spawn_ok(c, sleeper, NULL);
    wb_wrap_fail(WB_WAITPID, 1, EINTR, 0);
    childloop_free(c);
    wb_wrap_reset(WB_WAITPID, 0);
    WB_EXPECT(wb_no_children(),
              "childloop_free() should reap the child it killed, even when "
              "the first waitpid() fails with EINTR");
    loop_free(l);
}
END_TEST

static volatile sig_atomic_t alarms;

static void on_alarm(int signo)
{
    (void)signo;
    alarms++;
}

START_TEST(test_exec_wait_interrupted)
{
    loop *l = new_loop();
    childloop *c = new_childloop(l);
    WB_PROMISE("eintr");
    /* A timer interrupts system calls every 100 us, with no SA_RESTART:
     * some of them the read() that waits for the exec's result. */
    struct sigaction sa = {0}, old_sa;
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old_sa);
    struct itimerval every = {{0, 100}, {0, 100}}, off = {{0, 0}, {0, 0}};
    alarms = 0;
    setitimer(ITIMER_REAL, &every, NULL);
    char *none[] = {"wb-no-such-program", NULL};
    int k = 0, wrong = 0;
    pid_t pid = -1;
    int err = 0;
    int64_t t0 = wb_now_ns();
    for (; k < 200 && (k < 20 || wb_now_ns() - t0 < 300 * 1000000LL); k++) {
        errno = 0;
        pid = childloop_spawn(c, none, on_exit_unused, NULL);
        err = errno;
        if (pid != -1 || err != ENOENT) {
            wrong = 1;
            break;
        }
    }
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old_sa, NULL);
    WB_EXPECT(!wrong,
              "with signals arriving all the time (%d caught), every "
              "childloop_spawn(\"wb-no-such-program\") should return -1 with "
              "ENOENT: a read() of the exec's result that a signal "
              "interrupts (EINTR) is made again; spawn %d returned %d with "
              "errno %s",
              (int)alarms, k + 1, (int)pid, wb_errname(err));
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_waiting_does_not_spin)
{
    struct board b = {0};
    board_of = &b;
    loop *l = the_loop = new_loop();
    childloop *c = new_childloop(l);
    char *t[] = {"true", NULL};
    char *nap[] = {"sleep", "0.3", NULL};
    spawn_ok(c, t, NULL);
    spawn_ok(c, nap, NULL);
    b.stop_after = 2;
    long s0 = wb_select_calls();
    long ms = run_for(l, 1500);
    long calls = wb_select_calls() - s0;
    WB_PROMISE("no-spin");
    WB_EXPECT(b.n == 2, "2 children should be reported; %d were", b.n);
    WB_EXPECT(calls < 50,
              "while a child runs (sleep 0.3) after another one ended, the "
              "loop should sleep in select(): the SIGCHLD read, nothing is "
              "ready; it called select() %ld times in %ld ms",
              calls, ms);
    childloop_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_bad_arguments)
{
    WB_PROMISE("bad-args");
    errno = 0;
    WB_EXPECT(childloop_new(NULL) == NULL && errno == EINVAL,
              "childloop_new(NULL) should fail with EINVAL");
    loop *l = new_loop();
    childloop *c = new_childloop(l);
    char *t[] = {"true", NULL};
    char *empty[] = {NULL};
    struct {
        childloop *c;
        char *const *argv;
        childloop_exit_fn fn;
        const char *what;
    } cases[] = {{NULL, t, on_exit_unused, "a NULL childloop"},
                 {c, NULL, on_exit_unused, "a NULL argv"},
                 {c, empty, on_exit_unused, "argv[0] NULL"},
                 {c, t, NULL, "a NULL on_exit"}};
    for (int k = 0; k < 4; k++) {
        errno = 0;
        pid_t pid =
            childloop_spawn(cases[k].c, cases[k].argv, cases[k].fn, NULL);
        int err = errno;
        WB_EXPECT(pid == -1 && err == EINVAL,
                  "childloop_spawn() with %s should fail with EINVAL; got "
                  "%d with errno %s",
                  cases[k].what, (int)pid, wb_errname(err));
    }
    WB_EXPECT(wb_no_children(), "a refused call starts nothing");
    WB_EXPECT(childloop_running(NULL) == 0, "childloop_running(NULL) is 0");
    childloop_free(NULL);
    childloop_free(c);
    loop_free(l);
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("childloop", "chapters/06-beyond/chapter.md");
    WB_ADD(s, test_exit_codes, "Children in the loop");
    WB_ADD(s, test_killed_by_a_signal, "Children in the loop");
    WB_ADD_TIMEOUT(s, test_many_children, "Children in the loop", 4.0);
    WB_ADD(s, test_children_that_end_together, "Children in the loop");
    WB_ADD(s, test_reaped_before_on_exit, "Children in the loop");
    WB_ADD(s, test_program_not_started, "Children in the loop");
    WB_ADD(s, test_failed_start_keeps_the_others, "Children in the loop");
    WB_ADD(s, test_fork_and_pipe_failures, "Children in the loop");
    WB_ADD(s, test_other_children_left_alone, "Children in the loop");
    WB_ADD(s, test_child_signal_mask, "Signals in the loop");
    WB_ADD(s, test_spawn_from_on_exit, "Children in the loop");
    WB_ADD(s, test_free_kills_and_reaps, "Children in the loop");
    WB_ADD(s, test_bad_arguments, "Children in the loop");
    WB_ADD(s, test_mask_changes_only_sigchld, "Signals in the loop");
    WB_ADD(s, test_new_fails_cleanly, "Children in the loop");
    WB_ADD(s, test_spawn_without_memory, "Children in the loop");
    WB_ADD(s, test_spawn_when_the_loop_refuses, "Children in the loop");
    WB_ADD(s, test_spawn_again_after_the_loop_ended, "Children in the loop");
    WB_ADD(s, test_other_zombies_left_alone, "Children in the loop");
    WB_ADD(s, test_failed_child_never_returns, "Children in the loop");
    WB_ADD(s, test_waitpid_interrupted, "Children in the loop");
    WB_ADD(s, test_exec_wait_interrupted, "Children in the loop");
    WB_ADD(s, test_waiting_does_not_spin, "Children in the loop");
    return s;
}
