/*
 * The shared part of every test suite: main(), the hygiene checks that run
 * around each test, and small helpers (clock, sleep, pipes, temp files).
 *
 * main() runs the suite in Check's fork mode, so every test is a process of
 * its own: a crash, a hang or an exit() in the code under test fails that
 * test and the others still run. When the environment variable WB_RESULTS
 * names a file, one line per test is written there for the grader
 * (tests/support/grade.sh):
 *
 *     status <TAB> name <TAB> file:line <TAB> section <TAB> message
 *
 * where status is pass, fail or error.
 *
 * Containment: main() is the "child subreaper" of everything the tests
 * start, so a process a test leaves behind (even one that called setsid())
 * becomes main()'s child when its parent dies, and is killed and reaped
 * before main() returns. When the code is built with a sanitizer and
 * WB_REPORTS names a folder, each test's sanitizer report goes to
 * WB_REPORTS/TEST.PID, where the grader finds it.
 */
/* Linux-only: the hygiene checks read /proc, and main() makes itself the
 * reaper of orphaned descendants with prctl(). */
#define _GNU_SOURCE
#include "wb.h"

#include <dirent.h>
#include <errno.h>
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

enum { WB_MAX_TESTS = 128, WB_MAX_FDS = 1024 };

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
    WB_EXIT_ASAN = 86,
    WB_EXIT_UBSAN = 87,
    WB_EXIT_TSAN = 88,
    WB_EXIT_VALGRIND = 89
};

struct wb_test_info {
    const char *name;
    const char *section;
    double timeout;
};

static struct wb_test_info wb_tests[WB_MAX_TESTS];
static int wb_ntests;
static const char *wb_exercise = "?";
static const char *wb_chapter = "?";

/* The state the hygiene checks compare against, captured by the setup
 * fixture inside each test's own process. */
static unsigned char wb_fds_before[WB_MAX_FDS];
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

static void wb_mark_fd(const char *name, void *ctx)
{
    unsigned char *set = ctx;
    long fd = strtol(name, NULL, 10);
    if (fd >= 0 && fd < WB_MAX_FDS)
        set[fd] = 1;
}

int wb_count_fds(void)
{
    /* opendir() itself holds one descriptor while it reads. */
    return wb_list_dir("/proc/self/fd", NULL, NULL) - 1;
}

static void wb_snapshot_fds(unsigned char set[WB_MAX_FDS])
{
    memset(set, 0, WB_MAX_FDS);
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return;
    int own = dirfd(d);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.')
            wb_mark_fd(e->d_name, set);
    }
    if (own >= 0 && own < WB_MAX_FDS)
        set[own] = 0;
    closedir(d);
}

/* Provided by the sanitizer runtimes only; a null address otherwise. */
extern void __sanitizer_set_report_path(const char *path) __attribute__((weak));

/* Test cases run in the order they were added, and Check runs each one's
 * unchecked fixture in this process just before forking its test: counting
 * those calls tells the forked test which one it is. */
static int wb_current = -1;

static void wb_next_test(void)
{
    wb_current++;
}

static const char *wb_current_test(void)
{
    return wb_current >= 0 && wb_current < wb_ntests ? wb_tests[wb_current].name
                                                     : "unknown";
}

static void wb_hygiene_setup(void)
{
    const char *dir = getenv("WB_REPORTS");
    if (__sanitizer_set_report_path != NULL && dir != NULL && *dir != '\0') {
        static char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, wb_current_test());
        __sanitizer_set_report_path(path);
    }
    wb_snapshot_fds(wb_fds_before);
    wb_tasks_before = wb_list_dir("/proc/self/task", NULL, NULL);
}

/* Describe the descriptors open now that were not open before the test,
 * as "5 (pipe:[1234]), 6 (/tmp/x)". Returns how many there are. */
static int wb_leaked_fds(char *out, size_t cap)
{
    unsigned char now[WB_MAX_FDS];
    wb_snapshot_fds(now);
    int n = 0;
    size_t used = 0;
    out[0] = '\0';
    for (int fd = 0; fd < WB_MAX_FDS; fd++) {
        if (!now[fd] || wb_fds_before[fd])
            continue;
        char link[64], target[256];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t len = readlink(link, target, sizeof target - 1);
        target[len < 0 ? 0 : len] = '\0';
        if (used < cap) {
            int w = snprintf(out + used, cap - used, "%s%d (%s)",
                             n > 0 ? ", " : "", fd, target);
            used += w > 0 ? (size_t)w : 0;
        }
        n++;
    }
    return n;
}

/* Children of this process that are still running. Each is killed (so it
 * cannot outlive the test) and reaped; their pids go into @p out. */
static int wb_kill_children(char *out, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)getpid(),
             (int)getpid());
    FILE *f = fopen(path, "r");
    int n = 0;
    size_t used = 0;
    out[0] = '\0';
    if (f == NULL)
        return 0;
    int pid;
    while (fscanf(f, "%d", &pid) == 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (used < cap) {
            int w =
                snprintf(out + used, cap - used, "%s%d", n ? ", " : "", pid);
            used += w > 0 ? (size_t)w : 0;
        }
        n++;
    }
    fclose(f);
    return n;
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
                  "(pid %s): every child must have ended and been reaped",
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
    wb_tests[wb_ntests++] = (struct wb_test_info){name, section, timeout};
    TCase *tc = tcase_create(name);
    tcase_add_unchecked_fixture(tc, wb_next_test, NULL);
    tcase_add_checked_fixture(tc, wb_hygiene_setup, wb_hygiene_teardown);
    tcase_set_timeout(tc, timeout);
    tcase_add_test(tc, fn);
    suite_add_tcase(s, tc);
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
    static _Thread_local char text[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return text;
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

static const struct wb_test_info *wb_find(const char *name)
{
    for (int i = 0; i < wb_ntests; i++)
        if (strcmp(wb_tests[i].name, name) == 0)
            return &wb_tests[i];
    return NULL;
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
        return "; it wrote to a pipe whose read end was closed";
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

int main(int argc, char **argv)
{
    Suite *s = wb_suite();
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
        perror("wb: prctl(PR_SET_CHILD_SUBREAPER)");
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < wb_ntests; i++)
            printf("%s\n", wb_tests[i].name);
        return 0;
    }

    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_FORK);
    const char *xml = getenv("WB_XML");
    const char *tap = getenv("WB_TAP");
    if (xml != NULL && *xml != '\0')
        srunner_set_xml(sr, xml);
    if (tap != NULL && *tap != '\0')
        srunner_set_tap(sr, tap);
    srunner_run_all(sr, CK_SILENT);
    wb_reap_everything();

    const char *path = getenv("WB_RESULTS");
    FILE *out = NULL;
    if (path != NULL && *path != '\0') {
        out = fopen(path, "w");
        if (out == NULL) {
            fprintf(stderr, "wb: cannot write %s: %s\n", path, strerror(errno));
            return 2;
        }
    }

    int n = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
    TestResult **results = srunner_results(sr);
    for (int i = 0; i < n; i++) {
        TestResult *r = results[i];
        const struct wb_test_info *t = wb_find(tr_tcname(r));
        const char *status = tr_rtype(r) == CK_PASS      ? "pass"
                             : tr_rtype(r) == CK_FAILURE ? "fail"
                                                         : "error";
        char msg[1024];
        if (tr_rtype(r) == CK_PASS)
            msg[0] = '\0';
        else
            wb_explain(tr_msg(r), t, msg, sizeof msg);
        wb_clean(msg);
        if (out != NULL)
            fprintf(out, "%s\t%s\t%s:%d\t%s\t%s\n", status, tr_tcname(r),
                    tr_lfile(r) != NULL ? tr_lfile(r) : "?", tr_lno(r),
                    t != NULL ? t->section : "", msg);
        else if (tr_rtype(r) != CK_PASS)
            printf("%s:%d: %s: %s\n", tr_lfile(r), tr_lno(r), tr_tcname(r),
                   msg);
    }
    if (out == NULL)
        printf("%s: %d of %d tests passed (chapter: %s)\n", wb_exercise,
               n - failed, n, wb_chapter);
    else if (fclose(out) != 0)
        return 2;
    free(results);
    srunner_free(sr);
    /* Every registered test must have run: a test that vanished would make
     * the score look better than it is. */
    if (n != wb_ntests)
        return 2;
    return failed == 0 ? 0 : 1;
}
