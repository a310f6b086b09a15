/*
 * The shared part of every test suite: main(), the hygiene checks that run
 * around each test, and small helpers (clock, sleep, pipes, temp files).
 *
 * main() runs each test in a process of its own (Check's fork mode, one
 * runner per test), so a crash, a hang or an exit() in the code under test
 * fails that test and the others still run.
 *
 * A test passes only when it reached its end. Check alone would record a
 * test process that exits with status 0 (an exit(0) or a pthread_exit() in
 * the code under test) as a pass. So the test process, after the test's
 * last check and the hygiene checks, writes a token to a pipe that main()
 * made for that test; main() turns a "pass" without the token into an
 * error. Forging the token takes deliberate code that finds the pipe and
 * the token, which is plain to see in the learner's file.
 *
 * Results: when WB_RESULTS_FD names an open descriptor (the grader's, see
 * tests/support/grader/), main() writes one line per test to it as soon as
 * the test ends:
 *
 *     status <TAB> name <TAB> file:line <TAB> section <TAB> message <TAB>
 * seconds
 *
 * where status is pass, fail or error. Each test process closes that
 * descriptor before the test starts, so only main(), which runs no code of
 * the learner's (the grader refuses objects with constructors and hides
 * every symbol but the contract's), ever writes it. Without it, main()
 * prints the failures and a summary line.
 *
 * Hangs: a test that times out has waited its whole limit. Once the tests
 * that hung have used WB_HANG_LIMIT seconds (10 by default) the remaining
 * tests are not run and are reported as errors that say why, so a learner
 * whose code deadlocks hears it within seconds. WB_ALL_TESTS=1 runs every
 * test regardless.
 *
 * Containment: main() is the "child subreaper" of everything the tests
 * start, so a process a test leaves behind (even one that called setsid())
 * becomes main()'s child when its parent dies, and is killed and reaped
 * after each test. When the code is built with a sanitizer and WB_REPORTS
 * names a folder, each test's sanitizer report goes to
 * WB_REPORTS/TEST.PID, where the grader finds it.
 */
/* Linux-only: the hygiene checks read /proc, and main() makes itself the
 * reaper of orphaned descendants with prctl(). */
#define _GNU_SOURCE
#include "wb.h"

#include <dirent.h>
#include <malloc.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { WB_MAX_TESTS = 128, WB_MAX_FDS_BEFORE = 256 };

/* Built with ThreadSanitizer: gcc says so one way, clang another. */
#if defined(__SANITIZE_THREAD__)
#define WB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WB_TSAN 1
#endif
#endif

/* Valgrind's client requests, when Valgrind is installed: its header
 * tells a program whether it runs under one of Valgrind's tools. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define WB_ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef WB_ON_VALGRIND
#define WB_ON_VALGRIND() 0
#endif

/* The exit statuses the grader asks the sanitizers (and make test asks
 * Valgrind's tools, --error-exitcode) to use: grade.sh, make-test.sh. */
enum {
    WB_EXIT_LSAN = 85,
    WB_EXIT_ASAN = 86,
    WB_EXIT_UBSAN = 87,
    WB_EXIT_TSAN = 88,
    WB_EXIT_VALGRIND = 89
};

struct wb_test_info {
    const char *name;
    const char *section;
    double timeout;
    TCase *tc;
};

static struct wb_test_info wb_tests[WB_MAX_TESTS];
static int wb_ntests;
static const char *wb_exercise = "?";
static const char *wb_chapter = "?";

/* The state the hygiene checks compare against, captured by the setup
 * fixture inside each test's own process. */
/* The descriptors open before the test (main() leaves only a few). Every
 * descriptor open after it is compared, however high its number: a leaked
 * one moved above any fixed bound (dup2() after raising RLIMIT_NOFILE) is
 * still listed in /proc/self/fd. */
static int wb_fds_before[WB_MAX_FDS_BEFORE];
static int wb_nfds_before;
static int wb_tasks_before;

/* The promise the running test named last; set and read in the test's
 * own process, so one variable serves (threads of a test that name
 * promises share it, which is what the message wants). */
static char wb_promise_tag[64];

Suite *wb_begin(const char *exercise, const char *chapter)
{
    wb_exercise = exercise;
    wb_chapter = chapter;
    return suite_create(exercise);
}

static int wb_list_dir(const char *path, void (*each)(const char *, void *),
                       void *ctx)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (each != NULL)
            each(e->d_name, ctx);
        n++;
    }
    closedir(d);
    return n;
}

int wb_count_fds(void)
{
    /* opendir() itself holds one descriptor while it reads. */
    return wb_list_dir("/proc/self/fd", NULL, NULL) - 1;
}

/* Call @p each with every descriptor open now (but the one reading the
 * list), whatever its number. */
static void wb_each_fd(void (*each)(int, void *), void *ctx)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return;
    int own = dirfd(d);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        long fd = strtol(e->d_name, NULL, 10);
        if (fd >= 0 && fd != own && fd <= INT_MAX)
            each((int)fd, ctx);
    }
    closedir(d);
}

static void wb_note_fd_before(int fd, void *ctx)
{
    (void)ctx;
    if (wb_nfds_before < WB_MAX_FDS_BEFORE)
        wb_fds_before[wb_nfds_before++] = fd;
}

static int wb_was_open(int fd)
{
    for (int i = 0; i < wb_nfds_before; i++)
        if (wb_fds_before[i] == fd)
            return 1;
    return 0;
}

/* Provided by the sanitizer runtimes only; a null address otherwise. */
extern void __sanitizer_set_report_path(const char *path) __attribute__((weak));

/* The test main() runs now; set before its process is forked. */
static int wb_current = -1;

/* The end-of-test token: main() makes a pipe and picks a token for each
 * test before forking it; the test process writes the token back once the
 * test and its hygiene checks have passed. */
static int wb_end_pipe[2] = {-1, -1};
static unsigned long long wb_end_token;
/* The test process itself, not a process forked by the code under test. */
static pid_t wb_test_pid;
/* The thread that runs the test (the test process's main thread). */
static pthread_t wb_test_thread;

/* The code under test's pthread_exit(), renamed to this by the build (the
 * Makefile's LEARNER_REDIRECT, as its allocation calls go to alloc.c). On
 * the test's own thread it would end the test unfinished, and under
 * ThreadSanitizer (whose helper thread never ends) leave the process
 * waiting until its time limit: there it ends the process at once with
 * status 0, which main() reports as an early end, in every build. On any
 * other thread it is pthread_exit(). */
_Noreturn void wb_learner_pthread_exit(void *value);
_Noreturn void wb_learner_pthread_exit(void *value)
{
    if (getpid() == wb_test_pid &&
        pthread_equal(pthread_self(), wb_test_thread))
        _exit(0);
    pthread_exit(value);
}
static int wb_results_fd = -1;

static const char *wb_current_test(void)
{
    return wb_current >= 0 && wb_current < wb_ntests ? wb_tests[wb_current].name
                                                     : "unknown";
}

#ifdef WB_TSAN
static void *wb_nothing(void *arg)
{
    return arg;
}
#endif

static void wb_hygiene_setup(void)
{
    /* Only main() writes results, and only main() reads the end pipe. */
    if (wb_results_fd >= 0)
        close(wb_results_fd);
    if (wb_end_pipe[0] >= 0)
        close(wb_end_pipe[0]);
    wb_test_pid = getpid();
    wb_test_thread = pthread_self();
    /* main() made itself undumpable (so no test can trace it or open its
     * descriptors through /proc); the test's own process may be. */
    prctl(PR_SET_DUMPABLE, 1);
    /* Orphans of the processes the test starts become this process's
     * children (not main()'s), so the teardown sees a grandchild that
     * outlived its parent. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    const char *dir = getenv("WB_REPORTS");
    if (__sanitizer_set_report_path != NULL && dir != NULL && *dir != '\0') {
        static char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, wb_current_test());
        __sanitizer_set_report_path(path);
#ifdef WB_UBSAN
        /* gcc's UndefinedBehaviorSanitizer writes its report to standard
         * error whatever the path says: send this test's there. */
        char err_path[600];
        snprintf(err_path, sizeof err_path, "%s.stderr.%ld", path,
                 (long)getpid());
        int e = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (e >= 0) {
            dup2(e, 2);
            close(e);
        }
#endif
    }
#ifdef WB_TSAN
    /* ThreadSanitizer starts a helper thread of its own, which never ends,
     * at a process's first pthread_create(): make it start now, so it is
     * not taken for a thread the test left running. */
    pthread_t t;
    if (pthread_create(&t, NULL, wb_nothing, NULL) == 0)
        pthread_join(t, NULL);
#endif
    wb_nfds_before = 0;
    wb_each_fd(wb_note_fd_before, NULL);
    wb_tasks_before = wb_list_dir("/proc/self/task", NULL, NULL);
    wb_alloc_reset();
}

struct wb_fd_list {
    char *out;
    size_t cap, used;
    int n;
};

static void wb_note_leaked_fd(int fd, void *ctx)
{
    struct wb_fd_list *l = ctx;
    if (wb_was_open(fd))
        return;
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, target, sizeof target - 1);
    target[len < 0 ? 0 : len] = '\0';
    if (l->used < l->cap) {
        int w = snprintf(l->out + l->used, l->cap - l->used, "%s%d (%s)",
                         l->n > 0 ? ", " : "", fd, target);
        l->used += w > 0 ? (size_t)w : 0;
    }
    l->n++;
}

/* Describe the descriptors open now that were not open before the test,
 * as "5 (pipe:[1234]), 6 (/tmp/x)". Returns how many there are. */
static int wb_leaked_fds(char *out, size_t cap)
{
    struct wb_fd_list l = {out, cap, 0, 0};
    out[0] = '\0';
    wb_each_fd(wb_note_leaked_fd, &l);
    return l.n;
}

struct wb_pid_list {
    char *out;
    size_t cap, used;
    int n;
};

/* Kill and reap the children listed in @p path (one thread's list). */
static void wb_kill_listed(const char *path, struct wb_pid_list *l)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    int pid;
    while (fscanf(f, "%d", &pid) == 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (l->used < l->cap) {
            int w = snprintf(l->out + l->used, l->cap - l->used, "%s%d",
                             l->n ? ", " : "", pid);
            l->used += w > 0 ? (size_t)w : 0;
        }
        l->n++;
    }
    fclose(f);
}

/* Descendants of this process that are still running. This process is
 * the child subreaper of its descendants (main() makes itself one, and so
 * does each test's process), so a grandchild whose parent ended is our
 * child now. Each is killed (so it cannot outlive the test) and reaped,
 * then the children it had, and so on; their pids go into @p out.
 * Children of every thread count: each thread has a list of its own. */
static int wb_kill_children(char *out, size_t cap)
{
    struct wb_pid_list l = {out, cap, 0, 0};
    if (cap > 0)
        out[0] = '\0';
    for (int round = 0; round < 100; round++) {
        int before = l.n;
        DIR *d = opendir("/proc/self/task");
        if (d == NULL)
            break;
        const struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[300];
            snprintf(path, sizeof path, "/proc/self/task/%s/children",
                     e->d_name);
            wb_kill_listed(path, &l);
        }
        closedir(d);
        /* An orphan handed to us as it exited is a zombie here. */
        while (waitpid(-1, NULL, WNOHANG) > 0)
            l.n++;
        if (l.n == before)
            break;
    }
    return l.n;
}

static void wb_hygiene_teardown(void)
{
    char what[512];

    /* What fails from here on is the test's hygiene, not a promise. */
    wb_promise_tag[0] = '\0';

    /* An exited child that nobody waited for is a zombie: reap it here so
     * that it does not outlive the test, and report it. */
    int zombies = 0;
    pid_t pid;
    int status;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        zombies++;
    ck_assert_msg(zombies == 0,
                  "%d child process%s exited but %s never reaped with "
                  "waitpid(): each one stayed behind as a zombie",
                  zombies, zombies == 1 ? "" : "es",
                  zombies == 1 ? "was" : "were");

    int running = wb_kill_children(what, sizeof what);
    ck_assert_msg(running == 0,
                  "%d child process%s still running when the test ended "
                  "(pid %s): a process your code started (or one that it "
                  "started in turn) is still running; every child must "
                  "have ended and been reaped, and must not leave "
                  "processes of its own behind",
                  running, running == 1 ? " was" : "es were", what);

    /* A thread that is finishing may need a moment to leave the list. */
    int tasks = wb_list_dir("/proc/self/task", NULL, NULL);
    for (int i = 0; i < 50 && tasks > wb_tasks_before; i++) {
        wb_sleep_ms(2);
        tasks = wb_list_dir("/proc/self/task", NULL, NULL);
    }
    ck_assert_msg(tasks <= wb_tasks_before,
                  "%d thread%s still running when the test ended: every "
                  "thread must be joined before its owner returns",
                  tasks - wb_tasks_before,
                  tasks - wb_tasks_before == 1 ? " was" : "s were");

    int leaked = wb_leaked_fds(what, sizeof what);
    ck_assert_msg(leaked == 0,
                  "%d file descriptor%s leaked: %s; every descriptor the "
                  "code opens must be closed on every path",
                  leaked, leaked == 1 ? "" : "s", what);

    /* Counted, not guessed: reachable or not, hidden from a leak checker
     * or not, a block still live is a leak (tests/support/alloc.c). */
    size_t bytes = 0;
    size_t blocks = wb_alloc_live(&bytes);
    ck_assert_msg(blocks == 0,
                  "%zu block%s (%zu bytes) your code allocated %s not "
                  "freed when the test ended: every path, the error paths "
                  "too, must free what it allocated, unless the contract "
                  "hands it to the caller",
                  blocks, blocks == 1 ? "" : "s", bytes,
                  blocks == 1 ? "was" : "were");

    /* Every check held: the test reached its end. */
    if (getpid() == wb_test_pid && wb_end_pipe[1] >= 0) {
        ssize_t w = write(wb_end_pipe[1], &wb_end_token, sizeof wb_end_token);
        (void)w;
    }
}

/* Defined by the suites that support TRACE=1; a null address otherwise. */
extern const char *const wb_trace_test __attribute__((weak));

void wb_add(Suite *s, const TTest *fn, const char *name, const char *section,
            double timeout)
{
    const char *trace = getenv("WB_TRACE");
    if (trace != NULL && *trace != '\0' && &wb_trace_test != NULL &&
        strcmp(name, wb_trace_test) != 0)
        return;
    if (wb_ntests == WB_MAX_TESTS) {
        fprintf(stderr, "wb: more than %d tests in one suite\n", WB_MAX_TESTS);
        exit(2);
    }
    (void)s; /* main() gives each test a suite and a runner of its own */
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, wb_hygiene_setup, wb_hygiene_teardown);
    tcase_set_timeout(tc, timeout);
    tcase_add_test(tc, fn);
    wb_tests[wb_ntests++] = (struct wb_test_info){name, section, timeout, tc};
}

double wb_stress(void)
{
    const char *env = getenv("WB_STRESS");
    if (env != NULL && *env != '\0') {
        char *end;
        double f = strtod(env, &end);
        if (*end == '\0' && f > 0 && f <= 1)
            return f;
    }
    return WB_ON_VALGRIND() ? 0.05 : 1.0;
}

long wb_scaled(long full, long at_least)
{
    long n = (long)(full * wb_stress() + 0.5);
    return n > at_least ? n : at_least;
}

int64_t wb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Provided by every sanitizer runtime; a null address otherwise. */
extern size_t __sanitizer_get_current_allocated_bytes(void)
    __attribute__((weak));

size_t wb_heap_in_use(void)
{
    if (__sanitizer_get_current_allocated_bytes != NULL)
        return __sanitizer_get_current_allocated_bytes();
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

int wb_no_children(void)
{
    siginfo_t info;
    /* WNOWAIT: look without reaping, so a leftover zombie is still there
     * for the fixture to report. */
    return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == -1 &&
           errno == ECHILD;
}

/* The macro's name of an error number the exercises use, or NULL. */
static const char *wb_errno_macro(int err)
{
    static const struct {
        int err;
        const char *name;
    } names[] = {
        {EPERM, "EPERM"},
        {ENOENT, "ENOENT"},
        {ESRCH, "ESRCH"},
        {EINTR, "EINTR"},
        {EIO, "EIO"},
        {E2BIG, "E2BIG"},
        {ENOEXEC, "ENOEXEC"},
        {EBADF, "EBADF"},
        {ECHILD, "ECHILD"},
        {EAGAIN, "EAGAIN"},
        {ENOMEM, "ENOMEM"},
        {EACCES, "EACCES"},
        {EFAULT, "EFAULT"},
        {EBUSY, "EBUSY"},
        {EEXIST, "EEXIST"},
        {ENOTDIR, "ENOTDIR"},
        {EISDIR, "EISDIR"},
        {EINVAL, "EINVAL"},
        {ENFILE, "ENFILE"},
        {EMFILE, "EMFILE"},
        {ENOSPC, "ENOSPC"},
        {ESPIPE, "ESPIPE"},
        {EPIPE, "EPIPE"},
        {EDOM, "EDOM"},
        {ERANGE, "ERANGE"},
        {EDEADLK, "EDEADLK"},
        {ENOSYS, "ENOSYS"},
        {EOVERFLOW, "EOVERFLOW"},
        {ETIMEDOUT, "ETIMEDOUT"},
        {ECANCELED, "ECANCELED"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].err == err)
            return names[i].name;
    return NULL;
}

const char *wb_errname(int err)
{
    static _Thread_local char other[96];
    const char *name = wb_errno_macro(err);

    if (err == 0)
        return "0";
    if (name != NULL)
        return name;
    snprintf(other, sizeof other, "errno %d (%s)", err, strerror(err));
    return other;
}

const char *wb_errno_note(long ret)
{
    static _Thread_local char note[128];
    int err = errno;
    const char *name = wb_errno_macro(err);

    if (ret != -1)
        return "";
    if (name != NULL)
        snprintf(note, sizeof note, " (%s: %s)", name, strerror(err));
    else
        snprintf(note, sizeof note, " (errno %d: %s)", err, strerror(err));
    errno = err;
    return note;
}

void wb_promise(const char *tag)
{
    snprintf(wb_promise_tag, sizeof wb_promise_tag, "%s", tag);
}

const char *wb_promise_prefix(void)
{
    static _Thread_local char prefix[sizeof wb_promise_tag + 3];
    if (wb_promise_tag[0] == '\0')
        return "";
    snprintf(prefix, sizeof prefix, "[%s] ", wb_promise_tag);
    return prefix;
}

const char *wb_format(const char *fmt, ...)
{
    /* Several buffers in turn: a message may pass one wb_format() result
     * as an argument of the next. */
    static _Thread_local char text[4][900];
    static _Thread_local int next;
    char *out = text[next];
    next = (next + 1) % 4;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, sizeof text[0], fmt, ap);
    va_end(ap);
    return out;
}

void wb_sleep_ms(long ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) == -1 && errno == EINTR)
        continue;
}

void wb_pipe(int fds[2])
{
    ck_assert_msg(pipe(fds) == 0, "pipe() failed: %s", strerror(errno));
}

FILE *wb_tmpfile_with(const char *text)
{
    FILE *f = tmpfile();
    ck_assert_msg(f != NULL, "tmpfile() failed: %s", strerror(errno));
    size_t len = strlen(text);
    ck_assert_msg(fwrite(text, 1, len, f) == len, "writing the input failed");
    rewind(f);
    return f;
}

char *wb_slurp(FILE *in)
{
    size_t cap = 256, len = 0;
    char *buf = malloc(cap);
    ck_assert_msg(buf != NULL, "out of memory");
    int c;
    while ((c = fgetc(in)) != EOF) {
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            ck_assert_msg(bigger != NULL, "out of memory");
            buf = bigger;
        }
        buf[len++] = (char)c;
    }
    buf[len] = '\0';
    return buf;
}

/* What a fatal signal usually means in a learner's code. */
static const char *wb_signal_cause(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "; a NULL, freed or out-of-bounds pointer was followed";
    case SIGABRT:
        return "; abort() was called, often by a failed assert() or a "
               "corrupted heap";
    case SIGXFSZ:
        return "; it wrote more output than the grader allows (a print in "
               "an endless loop?)";
    case SIGKILL:
        return "; killed from outside, usually for running past the "
               "grader's time limit";
    case SIGPIPE:
        return "; it wrote to a pipe or socket whose other end was closed "
               "(or reset): on a socket, send() with MSG_NOSIGNAL reports "
               "EPIPE instead";
    default:
        return "";
    }
}

/* Check's messages for a test that did not end by itself say what happened
 * but not why; add the usual cause. */
static void wb_explain(const char *msg, const struct wb_test_info *t, char *out,
                       size_t cap)
{
    int sig, code;
    const char *mult = getenv("CK_TIMEOUT_MULTIPLIER");
    double scale = mult != NULL && atof(mult) > 0 ? atof(mult) : 1.0;

    if (strstr(msg, "timeout expired") != NULL)
        snprintf(out, cap,
                 "did not finish within its limit of %.1f s: the usual "
                 "cause is a call that waits forever (a deadlock, a missed "
                 "wake-up, a read whose writer never closes), an endless "
                 "loop, or a process that forks without end",
                 t != NULL ? t->timeout * scale : 0.0);
    else if (sscanf(msg, "Received signal %d", &sig) == 1)
        snprintf(out, cap, "crashed: killed by signal %d (%s)%s", sig,
                 strsignal(sig), wb_signal_cause(sig));
    else if (sscanf(msg, "Early exit with return value %d", &code) == 1 &&
             code == WB_EXIT_LSAN)
        snprintf(out, cap,
                 "LeakSanitizer: memory allocated during this test was "
                 "never freed (a leak; every path, the error paths too, "
                 "must free what it allocated); the report below says "
                 "where it was allocated");
    else if (sscanf(msg, "Early exit with return value %d", &code) == 1 &&
             code >= WB_EXIT_ASAN && code <= WB_EXIT_VALGRIND)
        snprintf(out, cap, "%s reported an error in this test",
                 code == WB_EXIT_ASAN    ? "AddressSanitizer"
                 : code == WB_EXIT_UBSAN ? "UndefinedBehaviorSanitizer"
                 : code == WB_EXIT_TSAN  ? "ThreadSanitizer"
                                         : "Valgrind");
    else if (sscanf(msg, "Early exit with return value %d", &code) == 1)
        snprintf(out, cap,
                 "the test process ended in the middle of the test with "
                 "exit status %d: the code under test called exit() (a "
                 "child process must end with _exit(), and a library "
                 "function must return an error instead)",
                 code);
    else
        snprintf(out, cap, "%s", msg);
}

static void wb_clean(char *s)
{
    for (; *s != '\0'; s++)
        if (*s == '\t' || *s == '\n' || *s == '\r')
            *s = ' ';
}

/* Kill and reap every process left below this one: orphans of the tests
 * were handed to us because we are their subreaper. Killing one can hand us
 * its children, so repeat until none is left. */
static void wb_reap_everything(void)
{
    char none[8];
    for (int round = 0; round < 100; round++) {
        if (wb_kill_children(none, 0) == 0 && waitpid(-1, NULL, WNOHANG) <= 0)
            return;
    }
}

/* A token nobody can guess by accident: the clock's nanoseconds mixed
 * with the pid. */
static unsigned long long wb_new_token(void)
{
    unsigned long long x =
        (unsigned long long)wb_now_ns() ^ ((unsigned long long)getpid() << 32);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x | 1;
}

/* Whether the test process wrote this test's token before it ended. */
static int wb_reached_end(void)
{
    unsigned long long got = 0;
    ssize_t n;
    int ok = 0;
    while ((n = read(wb_end_pipe[0], &got, sizeof got)) == (ssize_t)sizeof got)
        if (got == wb_end_token)
            ok = 1;
    return ok;
}

struct wb_result {
    const char *status; /* pass, fail or error */
    char where[256];
    char msg[1024];
    double seconds; /* below 0: the test did not end by itself */
};

/* Run test i in a process of its own and say how it went. */
static void wb_run_one(int i, struct wb_result *res)
{
    const struct wb_test_info *t = &wb_tests[i];
    wb_current = i;
    if (pipe(wb_end_pipe) == -1) {
        res->status = "error";
        snprintf(res->msg, sizeof res->msg, "wb: pipe(): %s", strerror(errno));
        snprintf(res->where, sizeof res->where, "tests/support/wb.c:0");
        res->seconds = -1;
        return;
    }
    fcntl(wb_end_pipe[0], F_SETFL, O_NONBLOCK);
    wb_end_token = wb_new_token();

    Suite *one = suite_create(t->name);
    suite_add_tcase(one, t->tc);
    SRunner *sr = srunner_create(one);
    srunner_set_fork_status(sr, CK_FORK);
    int64_t start = wb_now_ns();
    srunner_run_all(sr, CK_SILENT);
    res->seconds = (double)(wb_now_ns() - start) / 1e9;
    close(wb_end_pipe[1]);
    wb_end_pipe[1] = -1;
    int reached = wb_reached_end();
    close(wb_end_pipe[0]);
    wb_end_pipe[0] = -1;
    wb_reap_everything();

    TestResult **results = srunner_results(sr);
    if (srunner_ntests_run(sr) != 1 || results == NULL) {
        res->status = "error";
        snprintf(res->where, sizeof res->where, "tests/support/wb.c:0");
        snprintf(res->msg, sizeof res->msg, "the test did not run");
    } else {
        TestResult *r = results[0];
        snprintf(res->where, sizeof res->where, "%s:%d",
                 tr_lfile(r) != NULL ? tr_lfile(r) : "?", tr_lno(r));
        if (tr_rtype(r) == CK_PASS && reached) {
            res->status = "pass";
            res->msg[0] = '\0';
        } else if (tr_rtype(r) == CK_PASS) {
            res->status = "error";
            res->seconds = -1;
            snprintf(res->msg, sizeof res->msg,
                     "the test process ended before the test reached its "
                     "end, with exit status 0: the code under test called "
                     "exit(0), _exit(0) or pthread_exit() (a library "
                     "function must return to its caller; a child process "
                     "must end with _exit() in the child only)");
        } else {
            int code;
            res->status = tr_rtype(r) == CK_FAILURE ? "fail" : "error";
            if (tr_rtype(r) != CK_FAILURE)
                res->seconds = -1;
            if (!reached &&
                sscanf(tr_msg(r), "Early exit with return value %d", &code) ==
                    1 &&
                code == WB_EXIT_LSAN)
                /* The process ended early, and what it held on its stack
                 * looked leaked: the early end is the news. */
                snprintf(res->msg, sizeof res->msg,
                         "the test process ended before the test reached "
                         "its end: the code under test called exit(), "
                         "_exit() or pthread_exit() (a library function "
                         "must return to its caller; a child process must "
                         "end with _exit() in the child only)");
            else
                wb_explain(tr_msg(r), t, res->msg, sizeof res->msg);
        }
        free(results);
    }
    wb_clean(res->msg);
    wb_clean(res->where);
    srunner_free(sr);
}

int main(int argc, char **argv)
{
    Suite *s = wb_suite();
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < wb_ntests; i++)
            printf("%s\n", wb_tests[i].name);
        return 0;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
        perror("wb: prctl(PR_SET_CHILD_SUBREAPER)");
    /* A process of the same user may trace this one, or open its results
     * descriptor through /proc/PID/fd, only while it is dumpable. */
    if (prctl(PR_SET_DUMPABLE, 0) == -1)
        perror("wb: prctl(PR_SET_DUMPABLE)");

    FILE *out = NULL;
    const char *fd_text = getenv("WB_RESULTS_FD");
    if (fd_text != NULL && *fd_text != '\0') {
        wb_results_fd = atoi(fd_text);
        out = fdopen(wb_results_fd, "w");
        if (out == NULL) {
            fprintf(stderr, "wb: WB_RESULTS_FD=%s: %s\n", fd_text,
                    strerror(errno));
            return 2;
        }
        setvbuf(out, NULL, _IOLBF, 0);
    }
    const char *all = getenv("WB_ALL_TESTS");
    int run_all = all != NULL && *all != '\0' && strcmp(all, "0") != 0;
    const char *limit_text = getenv("WB_HANG_LIMIT");
    double hang_limit =
        limit_text != NULL && atof(limit_text) > 0 ? atof(limit_text) : 10.0;

    /* WB_FIRST_FAILURE=1: stop at the first test that does not pass (make
     * test's known-wrong variants need one failure, not all of them).
     * Never under the grader, which wants a line for every test. */
    const char *first = getenv("WB_FIRST_FAILURE");
    int stop_at_first = out == NULL && first != NULL && *first != '\0' &&
                        strcmp(first, "0") != 0;
    int ran = 0;

    int failed = 0, hung = 0;
    double hung_seconds = 0;
    for (int i = 0; i < wb_ntests && !(stop_at_first && failed > 0); i++) {
        const struct wb_test_info *t = &wb_tests[i];
        struct wb_result res;
        if (!run_all && hung_seconds >= hang_limit) {
            res.status = "error";
            res.seconds = -1;
            snprintf(res.where, sizeof res.where, "tests/support/wb.c:0");
            snprintf(res.msg, sizeof res.msg,
                     "not run: %d earlier test%s of this exercise hung (%.0f "
                     "s in all), so the rest were skipped; fix the hang "
                     "first (WB_ALL_TESTS=1 runs every test anyway)",
                     hung, hung == 1 ? "" : "s", hung_seconds);
        } else {
            wb_run_one(i, &res);
            ran++;
            if (strstr(res.msg, "did not finish within its limit") != NULL) {
                hung++;
                hung_seconds += res.seconds > 0 ? res.seconds : t->timeout;
            }
        }
        if (strcmp(res.status, "pass") != 0)
            failed++;
        if (out != NULL)
            fprintf(out, "%s\t%s\t%s\t%s\t%s\t%.6f\n", res.status, t->name,
                    res.where, t->section, res.msg, res.seconds);
        else if (strcmp(res.status, "pass") != 0)
            printf("%s: %s: %s\n", res.where, t->name, res.msg);
    }
    if (out == NULL && ran < wb_ntests && stop_at_first)
        printf("%s: stopped at the first failure, after %d of %d tests "
               "(WB_FIRST_FAILURE; chapter: %s)\n",
               wb_exercise, ran, wb_ntests, wb_chapter);
    else if (out == NULL)
        printf("%s: %d of %d tests passed (chapter: %s)\n", wb_exercise,
               wb_ntests - failed, wb_ntests, wb_chapter);
    else if (fclose(out) != 0)
        return 2;
    /* The suite made by wb_begin() holds no test; a runner frees it. */
    srunner_free(srunner_create(s));
    /* _exit: the leak checker, linked into the grader's builds, judges
     * each test's process, not this one. */
    fflush(stdout);
    _exit(failed == 0 ? 0 : 1);
}
