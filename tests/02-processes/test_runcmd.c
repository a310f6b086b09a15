/*
 * Tests of runcmd (exercises/02-processes/runcmd.h): fork + exec with a
 * time limit, standard output captured through a pipe.
 *
 * The commands are standard tools (sh, echo, seq, sleep, cat) found on
 * PATH.
 *
 * Linux-only: test_pipe_ends_do_not_reach_command looks at a process's
 * descriptors in /proc, and adopts its orphans with prctl().
 */
#include "wb.h"
#include "runcmd.h"
#include "autoreap.h"
#include "dirtyheap.h"
#include "interrupt.h"
#include "stdioflush.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The start of @p s, newlines shown as \n, for a one-line message. */
static const char *shown(const char *s)
{
    static char buf[80];
    size_t k = 0;
    if (s == NULL)
        return "(null)";
    for (; *s != '\0' && k + 4 < sizeof buf; s++) {
        if (*s == '\n') {
            buf[k++] = '\\';
            buf[k++] = 'n';
        } else {
            buf[k++] = *s;
        }
    }
    buf[k] = '\0';
    return buf;
}

/* Junk in every field, so a field runcmd_run() never sets shows up. */
static char junk_out[] = "junk";
static const runcmd_result junk = {
    .code = 77, .signo = 55, .timed_out = 9, .out = junk_out, .out_len = 999};

/* runcmd_free(), but never on the junk a call left in place (a failure
 * the checks have already reported). */
static void free_result(runcmd_result *r)
{
    if (r->out == junk_out)
        r->out = NULL;
    runcmd_free(r);
}

/* Whether @p r is what a failed call must leave: {-1, 0, 0, NULL, 0}. */
static int is_failed_result(const runcmd_result *r)
{
    return r->code == -1 && r->signo == 0 && r->timed_out == 0 &&
           r->out == NULL && r->out_len == 0;
}

static const char *out_note(const runcmd_result *r)
{
    return r->out == NULL ? "NULL" : r->out == junk_out ? "never set" : "set";
}

/* runcmd_run(@p argv, @p timeout_ms, @p r), timed: its result, and in
 * *@p ms the milliseconds it took. */
static int run_timed(char *const argv[], long timeout_ms, runcmd_result *r,
                     int64_t *ms)
{
    int64_t start = wb_now_ns();
    int rc = runcmd_run(argv, timeout_ms, r);
    *ms = (wb_now_ns() - start) / 1000000;
    return rc;
}

START_TEST(test_captures_output)
{
    char *argv[] = {"echo", "hello", "world", NULL};
    runcmd_result r = junk;
    int rc = runcmd_run(argv, 0, &r);
    WB_PROMISE("capture");
    WB_EXPECT(rc == 0,
              "runcmd_run(echo hello world) should return 0; got "
              "%d%s",
              rc, wb_errno_note(rc));
    WB_EXPECT(r.code == 0 && r.signo == 0 && r.timed_out == 0,
              "echo exits with 0: expected code 0, signo 0, timed_out 0; got "
              "code %d, signo %d, timed_out %d",
              r.code, r.signo, r.timed_out);
    WB_EXPECT(r.out != NULL && r.out_len == 12 &&
                  strcmp(r.out, "hello world\n") == 0,
              "expected the output \"hello world\\n\" (12 bytes); got \"%s\" "
              "(%zu bytes)",
              shown(r.out), r.out_len);
    free_result(&r);
    WB_PROMISE("free");
    WB_EXPECT(r.out == NULL && r.out_len == 0,
              "runcmd_free() should set out to NULL and out_len to 0");
    runcmd_free(&r);
    runcmd_free(NULL);
}
END_TEST

START_TEST(test_binary_output)
{
    /* printf turns \000 into a '\0' byte. */
    char *argv[] = {"printf", "a\\000b\\000", NULL};
    runcmd_result r = junk;
    int rc = runcmd_run(argv, 1000, &r);
    WB_PROMISE("capture");
    WB_EXPECT(rc == 0 && r.code == 0,
              "printf 'a\\000b\\000': expected 0 and code 0; got %d%s and "
              "code %d",
              rc, wb_errno_note(rc), r.code);
    WB_EXPECT(r.out != NULL && r.out_len == 4 &&
                  memcmp(r.out, "a\0b\0", 5) == 0,
              "the command wrote the 4 bytes 'a', '\\0', 'b', '\\0': expected "
              "out_len 4 and those bytes, then the extra '\\0'; got out_len "
              "%zu (count the bytes read(), not the string's length: the "
              "output may hold '\\0' bytes)",
              r.out_len);
    free_result(&r);
}
END_TEST

START_TEST(test_output_is_nul_terminated)
{
    /* Longer than the few bytes at the start of a freed heap block that
     * the allocator reuses for its own pointers. */
    const char *line = "a line long enough to pass the heap's own headers";
    char *argv[] = {"printf", "%s", (char *)line, NULL};
    runcmd_result r = junk;
    dirtyheap_leave_garbage();
    int rc = runcmd_run(argv, 0, &r);
    WB_PROMISE("capture");
    WB_EXPECT(rc == 0 && r.out != NULL && r.out != junk_out &&
                  r.out_len == strlen(line) &&
                  memcmp(r.out, line, r.out_len) == 0,
              "printf '%%s' '%s': expected 0 and that output; got %d%s and "
              "%zu bytes",
              line, rc, wb_errno_note(rc), r.out_len);
    WB_EXPECT(r.out[r.out_len] == '\0',
              "the output must be followed by an extra '\\0' at "
              "out[out_len] (out[%zu]); that byte is %d: the buffer came "
              "from malloc() with old bytes in it, so write the '\\0' "
              "yourself",
              r.out_len, (unsigned char)r.out[r.out_len]);
    free_result(&r);
}
END_TEST

START_TEST(test_exit_codes)
{
    char *three[] = {"sh", "-c", "echo out; exit 3", NULL};
    runcmd_result r = junk;
    int rc = runcmd_run(three, 1000, &r);
    WB_PROMISE("status");
    WB_EXPECT(rc == 0 && r.code == 3 && r.signo == 0 && r.timed_out == 0,
              "sh -c 'exit 3': expected 0 and {code 3, signo 0, timed_out "
              "0}; got %d%s and {code %d, signo %d, timed_out %d}",
              rc, wb_errno_note(rc), r.code, r.signo, r.timed_out);
    WB_EXPECT(r.out != NULL && strcmp(r.out, "out\n") == 0,
              "a failing command's output is kept: expected \"out\\n\"; got "
              "\"%s\"",
              shown(r.out));
    free_result(&r);

    /* 127 is what a shell reports for "command not found"; here the
     * command itself chose it, and it ran. */
    char *own127[] = {"sh", "-c", "exit 127", NULL};
    rc = runcmd_run(own127, 1000, &r);
    WB_PROMISE("exec-fails");
    WB_EXPECT(rc == 0 && r.code == 127,
              "a command that exits with 127 by itself ran: expected 0 and "
              "code 127; got %d%s and code %d. Tell a failed exec from an "
              "exit code through a pipe of its own, not through 127",
              rc, wb_errno_note(rc), r.code);
    free_result(&r);
}
END_TEST

START_TEST(test_killed_by_signal)
{
    char *argv[] = {"sh", "-c", "ulimit -c 0; kill -SEGV $$", NULL};
    runcmd_result r = junk;
    int rc = runcmd_run(argv, 1000, &r);
    WB_PROMISE("status");
    WB_EXPECT(rc == 0, "expected 0; got %d%s", rc, wb_errno_note(rc));
    WB_EXPECT(r.signo == SIGSEGV && r.code == -1 && r.timed_out == 0,
              "the command killed itself with SIGSEGV: expected {code -1, "
              "signo %d, timed_out 0}; got {code %d, signo %d, timed_out %d}",
              SIGSEGV, r.code, r.signo, r.timed_out);
    free_result(&r);
}
END_TEST

/* seq 1 N prints every number from 1 to N on a line of its own. */
static size_t seq_length(long n)
{
    size_t total = 0;
    for (long i = 1; i <= n; i++) {
        char buf[24];
        total += (size_t)snprintf(buf, sizeof buf, "%ld\n", i);
    }
    return total;
}

START_TEST(test_large_output_no_deadlock)
{
    char *argv[] = {"seq", "1", "400000", NULL};
    size_t want = seq_length(400000); /* about 2.7 MB */
    runcmd_result r = junk;
    int rc = runcmd_run(argv, 0, &r);
    WB_PROMISE("big");
    WB_EXPECT(rc == 0 && r.code == 0,
              "seq 1 400000: expected 0 and code 0; got %d%s and code %d", rc,
              wb_errno_note(rc), r.code);
    WB_EXPECT(r.out_len == want,
              "seq wrote %zu bytes (far more than a pipe holds); out_len is "
              "%zu",
              want, r.out_len);
    WB_EXPECT(strncmp(r.out, "1\n2\n3\n", 6) == 0 &&
                  strcmp(r.out + want - 7, "400000\n") == 0,
              "the output should start with 1, 2, 3 and end with 400000");
    free_result(&r);
}
END_TEST

START_TEST(test_timeout_kills)
{
    char *argv[] = {"sleep", "1", NULL};
    runcmd_result r = junk;
    int64_t ms;
    int rc = run_timed(argv, 50, &r, &ms);
    WB_PROMISE("timeout");
    WB_EXPECT(rc == 0,
              "a command that timed out still ran: expected 0; got "
              "%d%s",
              rc, wb_errno_note(rc));
    WB_EXPECT(ms < 900,
              "sleep 1 with a limit of 50 ms: runcmd_run() returned after "
              "%lld ms, once sleep had ended by itself, so nothing stopped "
              "it at the limit. Something waited for the command to end "
              "before the limit was checked: a blocking waitpid(), or a "
              "read of a pipe whose write end the command still holds "
              "(the exec-error pipe needs FD_CLOEXEC, so that a successful "
              "exec closes it)",
              (long long)ms);
    WB_EXPECT(r.timed_out == 1 && r.signo == SIGKILL && r.code == -1,
              "sleep 1 with a limit of 50 ms: expected {timed_out 1, signo "
              "SIGKILL (%d), code -1}; got {timed_out %d, signo %d, code %d}",
              SIGKILL, r.timed_out, r.signo, r.code);
    WB_EXPECT(ms >= 45 && ms < 700,
              "the limit was 50 ms: expected runcmd_run() to return after "
              "about 50 ms; it took %lld ms",
              (long long)ms);
    WB_PROMISE("capture");
    WB_EXPECT(r.out != NULL && r.out_len == 0,
              "sleep printed nothing: expected out \"\" (not NULL); got %s",
              r.out == NULL ? "NULL" : shown(r.out));
    free_result(&r);
}
END_TEST

START_TEST(test_timeout_keeps_output)
{
    char *argv[] = {"sh", "-c", "echo partial; exec sleep 1", NULL};
    runcmd_result r = junk;
    int rc = runcmd_run(argv, 100, &r);
    WB_PROMISE("timeout");
    WB_EXPECT(rc == 0 && r.timed_out == 1 && r.signo == SIGKILL,
              "expected 0 and {timed_out 1, signo SIGKILL}; got %d%s and "
              "{timed_out %d, signo %d}",
              rc, wb_errno_note(rc), r.timed_out, r.signo);
    WB_EXPECT(r.out != NULL && strcmp(r.out, "partial\n") == 0,
              "what the command printed before it was killed is kept: "
              "expected \"partial\\n\"; got \"%s\"",
              shown(r.out));
    free_result(&r);
}
END_TEST

START_TEST(test_timeout_after_output_closed)
{
    /* The command closes its standard output, then goes on running: the
     * pipe reaches end-of-file long before the command ends. */
    char *argv[] = {"sh", "-c", "exec >&-; exec sleep 1", NULL};
    runcmd_result r = junk;
    int64_t ms;
    int rc = run_timed(argv, 80, &r, &ms);
    WB_PROMISE("timeout-after-eof");
    WB_EXPECT(rc == 0 && r.timed_out == 1 && r.signo == SIGKILL,
              "a command that closed its output but kept running past the "
              "80 ms limit: expected 0 and {timed_out 1, signo SIGKILL}; got "
              "%d%s and {timed_out %d, signo %d}",
              rc, wb_errno_note(rc), r.timed_out, r.signo);
    WB_EXPECT(ms < 700, "the limit was 80 ms; runcmd_run() took %lld ms",
              (long long)ms);
    free_result(&r);
}
END_TEST

START_TEST(test_timeout_kill_cannot_be_ignored)
{
    /* The command ignores SIGTERM, and the exec keeps that. */
    char *argv[] = {"sh", "-c", "trap '' TERM; echo ready; exec sleep 1", NULL};
    runcmd_result r = junk;
    int64_t ms;
    int rc = run_timed(argv, 150, &r, &ms);
    WB_PROMISE("timeout");
    WB_EXPECT(rc == 0 && r.timed_out == 1 && r.signo == SIGKILL && r.code == -1,
              "a command that ignores SIGTERM, limit 150 ms: expected 0 and "
              "{timed_out 1, signo SIGKILL (%d), code -1}; got %d%s and "
              "{timed_out %d, signo %d, code %d}",
              SIGKILL, rc, wb_errno_note(rc), r.timed_out, r.signo, r.code);
    WB_EXPECT(ms < 700,
              "the command ignores SIGTERM; runcmd_run() took %lld ms with a "
              "limit of 150 ms, about as long as the command runs by "
              "itself (1 s): at the limit send SIGKILL, which cannot be "
              "caught or ignored",
              (long long)ms);
    WB_EXPECT(r.out != NULL && strcmp(r.out, "ready\n") == 0,
              "expected the output \"ready\\n\"; got \"%s\"", shown(r.out));
    free_result(&r);
}
END_TEST

START_TEST(test_time_limit_counts_from_the_call)
{
    /* Output keeps arriving long after the limit has passed: the shell's
     * own echo in a loop that never ends, no process started per line,
     * so no gap between two lines comes near the limit even on a loaded
     * machine (a loop that started a sleep for each line once left gaps
     * longer than 150 ms, and a wrong version that restarts the limit
     * with each output then timed out too). The shell ignores SIGPIPE
     * (and its echo's errors go to /dev/null), so it does not die of a
     * pipe closed before the kill: SIGKILL ends it. */
    char *argv[] = {"sh", "-c",
                    "trap '' PIPE; exec 2>/dev/null; "
                    "while :; do echo tick; done",
                    NULL};
    runcmd_result r = junk;
    int64_t ms;
    int rc = run_timed(argv, 150, &r, &ms);
    WB_PROMISE("timeout");
    WB_EXPECT(
        rc == 0 && r.timed_out == 1,
        "a command that prints lines without pause and never ends, "
        "limit 150 ms: expected 0 and timed_out 1; got %d%s and timed_out "
        "%d after %lld ms. The limit counts from the call: give each "
        "poll() only the time left until the deadline, not the whole "
        "limit again",
        rc, wb_errno_note(rc), r.timed_out, (long long)ms);
    WB_EXPECT(r.signo == SIGKILL && r.code == -1,
              "when the time is up the command is killed with SIGKILL: "
              "expected {signo SIGKILL (%d), code -1}; got {signo %d, code "
              "%d}",
              SIGKILL, r.signo, r.code);
    WB_EXPECT(ms < 700,
              "the limit was 150 ms from the call; runcmd_run() took %lld ms",
              (long long)ms);
    WB_EXPECT(r.out != NULL && strncmp(r.out, "tick\n", 5) == 0,
              "the lines printed before the limit are kept: expected "
              "\"tick\\n...\"; got \"%s\"",
              shown(r.out));
    free_result(&r);
}
END_TEST

START_TEST(test_missing_program)
{
    char *absolute[] = {"/nonexistent/wb-no-such-program", NULL};
    /* Garbage, so a result that is never set shows up. */
    runcmd_result r = {5, 5, 5, absolute[0], 5};
    int64_t start = wb_now_ns();
    errno = 0;
    int rc = runcmd_run(absolute, 0, &r);
    int err = errno;
    int64_t ms = (wb_now_ns() - start) / 1000000;
    WB_PROMISE("exec-fails");
    WB_EXPECT(rc == -1 && err == ENOENT,
              "a program that does not exist: expected -1 with ENOENT (the "
              "errno of execvp() in the child); got %d (errno %s)",
              rc, wb_errname(err));
    WB_PROMISE("failed-result");
    WB_EXPECT(r.code == -1 && r.signo == 0 && r.timed_out == 0 &&
                  r.out == NULL && r.out_len == 0,
              "after a failed call the result must be {code -1, signo 0, "
              "timed_out 0, out NULL, out_len 0} (so that runcmd_free() on "
              "it is harmless); got {%d, %d, %d, %s, %zu}",
              r.code, r.signo, r.timed_out, r.out == NULL ? "NULL" : "not NULL",
              r.out_len);
    WB_PROMISE("exec-fails");
    WB_EXPECT(ms < 500,
              "a missing program should be reported at once; it "
              "took %lld ms",
              (long long)ms);
    WB_PROMISE("cleanup");
    WB_EXPECT(wb_no_children(), "the child that failed to exec must be reaped "
                                "(no zombie)");

    /* A PATH whose folders can all be searched: execvp() reports EACCES
     * instead of ENOENT when one of them cannot (the grader's user may
     * not enter every folder of yours). */
    WB_EXPECT(setenv("PATH", "/usr/bin:/bin", 1) == 0, "setenv() failed");
    char *on_path[] = {"wb-no-such-program-on-path", "x", NULL};
    errno = 0;
    rc = runcmd_run(on_path, 0, &r);
    err = errno;
    WB_PROMISE("exec-fails");
    WB_EXPECT(rc == -1 && err == ENOENT,
              "a program name found nowhere on PATH: expected -1 with "
              "ENOENT; got %d (errno %s)",
              rc, wb_errname(err));
    WB_EXPECT(wb_no_children(), "the child that failed to exec must be reaped "
                                "(no zombie)");
}
END_TEST

START_TEST(test_not_executable)
{
    char *argv[] = {"/dev/null", NULL};
    runcmd_result r = junk;
    errno = 0;
    int rc = runcmd_run(argv, 0, &r);
    int err = errno;
    WB_PROMISE("exec-fails");
    WB_EXPECT(rc == -1 && err == EACCES,
              "/dev/null is not a program: expected -1 with EACCES; got %d "
              "(errno %s)",
              rc, wb_errname(err));
    WB_EXPECT(wb_no_children(), "the child that failed to exec must be reaped "
                                "(no zombie)");
    WB_PROMISE("failed-result");
    WB_EXPECT(is_failed_result(&r),
              "after a failed call the result must be {code -1, signo 0, "
              "timed_out 0, out NULL, out_len 0}; got {%d, %d, %d, %s, %zu}",
              r.code, r.signo, r.timed_out, out_note(&r), r.out_len);
}
END_TEST

/* Put @p fd in place of descriptor @p target until restore_fd(); returns
 * a close-on-exec copy of what @p target was (-1 if it was closed). */
static int replace_fd(int target, int fd)
{
    int saved = fcntl(target, F_DUPFD_CLOEXEC, 3);
    WB_EXPECT(saved != -1 || errno == EBADF,
              "fcntl(F_DUPFD_CLOEXEC) failed: %s", strerror(errno));
    WB_EXPECT(dup2(fd, target) == target, "dup2() failed: %s", strerror(errno));
    return saved;
}

static void restore_fd(int target, int saved)
{
    if (saved == -1) {
        close(target);
        return;
    }
    WB_EXPECT(dup2(saved, target) == target, "dup2() failed: %s",
              strerror(errno));
    close(saved);
}

START_TEST(test_stdin_is_dev_null)
{
    /* The caller's standard input is a pipe that holds a line and never
     * ends (the test keeps its write end open): a command that read it
     * would print the line and then wait forever. cat copies its standard
     * input: with /dev/null it ends at once, printing nothing. */
    int in[2];
    wb_pipe(in);
    WB_EXPECT(write(in[1], "from the caller\n", 16) == 16, "write() failed");
    int saved = replace_fd(STDIN_FILENO, in[0]);
    close(in[0]);
    char *argv[] = {"cat", NULL};
    runcmd_result r = junk;
    int rc = runcmd_run(argv, 500, &r);
    restore_fd(STDIN_FILENO, saved);
    close(in[1]);
    WB_PROMISE("stdin");
    WB_EXPECT(rc == 0 && r.timed_out == 0 && r.code == 0,
              "cat with /dev/null as its input ends at once: expected 0 and "
              "{timed_out 0, code 0}; got %d%s and {timed_out %d, code %d}%s",
              rc, wb_errno_note(rc), r.timed_out, r.code,
              r.timed_out ? ": it was still reading the caller's standard "
                            "input when the time ran out; open /dev/null and "
                            "dup2() it onto descriptor 0 in the child"
                          : "");
    WB_EXPECT(r.out != NULL && r.out_len == 0,
              "expected an empty output \"\" (not NULL); got %s%s",
              r.out == NULL ? "NULL" : shown(r.out),
              r.out != NULL && r.out_len > 0
                  ? ", what the caller's standard input held: the "
                    "command's must be /dev/null"
                  : "");
    free_result(&r);
}
END_TEST

START_TEST(test_stderr_is_callers)
{
    /* The caller's standard error is a pipe, so the test sees what the
     * command writes there. */
    int err[2];
    wb_pipe(err);
    fflush(stderr);
    int saved = replace_fd(STDERR_FILENO, err[1]);
    close(err[1]);
    char *argv[] = {"sh", "-c", "echo to-out; echo to-err >&2", NULL};
    runcmd_result r = junk;
    int rc = runcmd_run(argv, 1000, &r);
    restore_fd(STDERR_FILENO, saved);
    char got[64];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof got - 1 &&
           (n = read(err[0], got + len, sizeof got - 1 - len)) != 0) {
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            break;
        len += (size_t)n;
    }
    got[len] = '\0';
    close(err[0]);
    WB_PROMISE("stderr");
    WB_EXPECT(rc == 0 && r.code == 0,
              "sh -c 'echo to-out; echo to-err >&2': expected 0 and code 0; "
              "got %d%s and code %d",
              rc, wb_errno_note(rc), r.code);
    WB_EXPECT(r.out != NULL && strcmp(r.out, "to-out\n") == 0,
              "only the standard output is captured: expected \"to-out\\n\"; "
              "got \"%s\"",
              shown(r.out));
    WB_EXPECT(strcmp(got, "to-err\n") == 0,
              "the command's standard error is the caller's: expected "
              "\"to-err\\n\" there; got \"%s\" (dup2() the pipe onto "
              "descriptor 1 only)",
              shown(got));
    free_result(&r);
}
END_TEST

/* The descriptors of process @p pid above 2 that are pipes this process
 * does not have open itself, as "3 (pipe:[123])", into @p out. Returns how
 * many. */
static int foreign_pipes(pid_t pid, char *out, size_t cap)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    int n = 0;
    size_t used = 0;
    out[0] = '\0';
    for (int fd = 3; fd < 1024; fd++) {
        char link[96], target[128];
        snprintf(link, sizeof link, "%s/%d", dir, fd);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (strncmp(target, "pipe:", 5) != 0)
            continue;
        int ours = 0;
        for (int mine = 0; mine < 1024 && !ours; mine++) {
            char mlink[64], mtarget[128];
            snprintf(mlink, sizeof mlink, "/proc/self/fd/%d", mine);
            ssize_t mlen = readlink(mlink, mtarget, sizeof mtarget - 1);
            if (mlen > 0) {
                mtarget[mlen] = '\0';
                ours = strcmp(mtarget, target) == 0;
            }
        }
        if (ours)
            continue;
        /* Both ends of a pipe show the same pipe:[inode]; the access
         * mode in fdinfo tells which end this is. */
        char info[64];
        snprintf(info, sizeof info, "/proc/%d/fdinfo/%d", (int)pid, fd);
        FILE *f = fopen(info, "r");
        unsigned flags = 0;
        if (f != NULL) {
            char line[128];
            while (fgets(line, sizeof line, f) != NULL)
                if (sscanf(line, "flags: %o", &flags) == 1)
                    break;
            fclose(f);
        }
        if (used < cap) {
            int w = snprintf(
                out + used, cap - used, "%s%d (%s, %s end)", n > 0 ? ", " : "",
                fd, target, (flags & O_ACCMODE) == O_WRONLY ? "write" : "read");
            used += w > 0 ? (size_t)w : 0;
        }
        n++;
    }
    return n;
}

START_TEST(test_pipe_ends_do_not_reach_command)
{
    /* The command starts a background child with its output sent to
     * /dev/null, prints the child's pid and ends. That child inherits
     * every descriptor the command had besides 0, 1 and 2: if an end of
     * runcmd_run()'s pipe is among them, the pipe stays open after the
     * command ends. This test adopts the orphaned child so it can end it. */
    WB_EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "prctl() failed: %s",
              strerror(errno));
    char *argv[] = {"sh", "-c", "sleep 1 >/dev/null 2>&1 & echo $!", NULL};
    runcmd_result r = junk;
    int64_t ms;
    int rc = run_timed(argv, 1500, &r, &ms);
    long bg = rc == 0 && r.out != NULL ? strtol(r.out, NULL, 10) : 0;
    char leaked[256] = "";
    int nleaked = 0;
    if (bg > 0 && bg < INT_MAX) {
        nleaked = foreign_pipes((pid_t)bg, leaked, sizeof leaked);
        kill((pid_t)bg, SIGKILL);
        while (waitpid((pid_t)bg, NULL, 0) == -1 && errno == EINTR)
            continue;
    }
    WB_PROMISE("own-pipes");
    WB_EXPECT(rc == 0 && r.code == 0 && bg > 0,
              "sh -c 'sleep 1 >/dev/null 2>&1 & echo $!': expected 0, code 0 "
              "and a pid as output; got %d%s, code %d, \"%s\"",
              rc, wb_errno_note(rc), r.code, shown(r.out));
    WB_EXPECT(ms < 500,
              "the command ended at once, but runcmd_run() returned only "
              "after %lld ms%s: its background child (output sent to "
              "/dev/null) still held a copy of the pipe's write end, so "
              "end-of-file waited for that child. Close the pipe ends in "
              "the child after dup2(), or make them close-on-exec",
              (long long)ms, r.timed_out ? ", when the time ran out" : "");
    WB_EXPECT(nleaked == 0,
              "the command's background child has %s open: the ends of the "
              "pipes runcmd_run() makes must never reach the command (close "
              "them in the child after dup2(), or make them close-on-exec)",
              leaked);
    free_result(&r);
}
END_TEST

/* runcmd.links links this suite with
 * tests/support/wrap.c, so a test can make fork() fail. */
START_TEST(test_fork_fails)
{
    char *argv[] = {"echo", "never", NULL};
    runcmd_result r = junk;
    wb_wrap_reset(WB_FORK, 1);
    errno = 0;
    int rc = runcmd_run(argv, 1000, &r);
    int err = errno;
    int forks = wb_wrap_calls(WB_FORK);
    wb_wrap_reset(WB_FORK, 0);
    WB_PROMISE("fork-fails");
    WB_EXPECT(rc == -1 && err == EAGAIN,
              "fork() failed with EAGAIN: expected runcmd_run() to return "
              "-1 with errno EAGAIN; got %d (errno %s)",
              rc, wb_errname(err));
    WB_EXPECT(forks == 1,
              "runcmd_run() should call fork() once and give up when it "
              "fails; it called fork() %d times",
              forks);
    WB_PROMISE("failed-result");
    WB_EXPECT(is_failed_result(&r),
              "after a failed call the result must be {code -1, signo 0, "
              "timed_out 0, out NULL, out_len 0}; got {code %d, signo %d, "
              "timed_out %d, out %s, out_len %zu}",
              r.code, r.signo, r.timed_out, out_note(&r), r.out_len);
    /* The fixture checks that the pipes made before fork() were closed. */
}
END_TEST

START_TEST(test_invalid_arguments)
{
    char *argv[] = {"echo", NULL};
    char *empty[] = {NULL};
    runcmd_result r = junk;
    errno = 0;
    int rc = runcmd_run(NULL, 0, &r);
    WB_PROMISE("einval");
    WB_EXPECT(rc == -1 && errno == EINVAL,
              "runcmd_run(NULL, ...): expected -1 with EINVAL; got %d%s", rc,
              wb_errno_note(rc));
    errno = 0;
    rc = runcmd_run(empty, 0, &r);
    WB_EXPECT(rc == -1 && errno == EINVAL,
              "an argv whose argv[0] is NULL: expected -1 with EINVAL; got "
              "%d%s",
              rc, wb_errno_note(rc));
    WB_PROMISE("failed-result");
    WB_EXPECT(is_failed_result(&r),
              "after a failed call (EINVAL too) the result must be {code -1, "
              "signo 0, timed_out 0, out NULL, out_len 0}; got {%d, %d, %d, "
              "%s, %zu}",
              r.code, r.signo, r.timed_out, out_note(&r), r.out_len);
    WB_PROMISE("einval");
    errno = 0;
    rc = runcmd_run(argv, 0, NULL);
    WB_EXPECT(rc == -1 && errno == EINVAL,
              "runcmd_run(argv, 0, NULL): expected -1 with EINVAL; got %d%s",
              rc, wb_errno_note(rc));
    WB_EXPECT(wb_no_children(), "a call rejected for its arguments must not "
                                "fork");
}
END_TEST

/* --- No limit ------------------------------------------------------- */

START_TEST(test_no_limit)
{
    /* A negative limit, the most negative one, and one too far away for
     * the clock to reach: none of them limits the command. */
    char *argv[] = {"sh", "-c", "sleep 0.1; echo hi", NULL};
    long limits[] = {-1, LONG_MIN, LONG_MAX};
    const char *names[] = {"-1", "LONG_MIN", "LONG_MAX"};
    WB_PROMISE("no-limit");
    for (int k = 0; k < 3; k++) {
        runcmd_result r = junk;
        int rc = runcmd_run(argv, limits[k], &r);
        WB_EXPECT(rc == 0 && r.timed_out == 0 && r.code == 0 && r.signo == 0 &&
                      r.out != NULL && r.out != junk_out &&
                      strcmp(r.out, "hi\n") == 0,
                  "sh -c 'sleep 0.1; echo hi' with timeout_ms %s, which "
                  "means no limit: expected 0 and {code 0, signo 0, "
                  "timed_out 0, out \"hi\\n\"}; got %d%s and {code %d, signo "
                  "%d, timed_out %d, out \"%s\"}%s",
                  names[k], rc, wb_errno_note(rc), r.code, r.signo, r.timed_out,
                  r.out == junk_out ? "never set" : shown(r.out),
                  k == 2 ? ": now + LONG_MAX overflows; a limit the clock "
                           "cannot reach is no limit"
                         : ": a limit of 0 or less is no limit, not a "
                           "deadline in the past");
        free_result(&r);
    }
}
END_TEST

/* --- Signals ------------------------------------------------------------ */

START_TEST(test_wait_interrupted_after_eof)
{
    /* The command closes its output at once (end-of-file), then signals
     * the caller while the caller waits for it to end. */
    interrupt_on_usr1(); /* no SA_RESTART: waitpid() fails with EINTR */
    char *argv[] = {"sh", "-c",
                    "exec >/dev/null; sleep 0.05; kill -USR1 $PPID; "
                    "sleep 0.05; exit 4",
                    NULL};
    long limits[] = {0, 1500};
    WB_PROMISE("eintr");
    for (int k = 0; k < 2; k++) {
        interrupt_usr1_forget();
        runcmd_result r = junk;
        int rc = runcmd_run(argv, limits[k], &r);
        WB_EXPECT(rc == 0 && r.code == 4 && r.signo == 0 && r.timed_out == 0,
                  "the command closed its output, then a signal handler "
                  "interrupted the wait for its end (EINTR), timeout_ms %ld: "
                  "expected the wait to be resumed, 0 and {code 4, signo 0, "
                  "timed_out 0}; got %d%s and {code %d, signo %d, timed_out "
                  "%d}",
                  limits[k], rc, wb_errno_note(rc), r.code, r.signo,
                  r.timed_out);
        WB_EXPECT(interrupt_usr1_seen(),
                  "the command's signal never reached the caller");
        free_result(&r);
    }
}
END_TEST

START_TEST(test_interruptions_keep_time_left)
{
    /* A signal every 40 ms while a silent command runs for 1.5 s with a
     * limit of 300 ms: a wait that starts over with the whole limit after
     * each interruption never reaches its end. */
    char *argv[] = {"sleep", "1.5", NULL};
    runcmd_result r = junk;
    timer_t ticker = interrupt_tick_start(40);
    int64_t ms;
    int rc = run_timed(argv, 300, &r, &ms);
    interrupt_tick_stop(ticker);
    WB_PROMISE("eintr-time-left");
    WB_EXPECT(rc == 0 && r.timed_out == 1 && r.signo == SIGKILL && ms < 1200,
              "sleep 1.5 with a limit of 300 ms while SIGALRM interrupts the "
              "caller every 40 ms: expected 0 and {timed_out 1, signo "
              "SIGKILL} soon after 300 ms; got %d%s and {timed_out %d, "
              "signo %d} after %lld ms (%d signals). After EINTR, wait again "
              "with the time left until the deadline, not the whole limit",
              rc, wb_errno_note(rc), r.timed_out, r.signo, (long long)ms,
              interrupt_ticks());
    free_result(&r);
}
END_TEST

/* --- fflush() and waitpid() fail ------------------------------------- */

START_TEST(test_flush_fails)
{
    FILE *full = stdioflush_full();
    char *argv[] = {"echo", "never", NULL};
    runcmd_result r = junk;
    wb_wrap_reset(WB_FORK, 0);
    errno = 0;
    int rc = runcmd_run(argv, 1000, &r);
    int err = errno;
    int forks = wb_wrap_calls(WB_FORK);
    fclose(full); /* fails too (ENOSPC), and closes the stream */
    WB_PROMISE("flush-fails");
    WB_EXPECT(rc == -1 && err == ENOSPC,
              "a stdio stream on /dev/full held unwritten text, so "
              "fflush(NULL) failed with ENOSPC: expected runcmd_run() to "
              "return -1 with errno ENOSPC; got %d (errno %s)%s",
              rc, wb_errname(err),
              rc == 0 ? ": call fflush(NULL) before fork(), and give up "
                        "when it returns EOF"
                      : "");
    WB_EXPECT(forks == 0,
              "fflush() failed, so no command may be started; fork() was "
              "called %d times",
              forks);
    WB_PROMISE("failed-result");
    WB_EXPECT(is_failed_result(&r),
              "after a failed call the result must be {code -1, signo 0, "
              "timed_out 0, out NULL, out_len 0}; got {%d, %d, %d, %s, %zu}",
              r.code, r.signo, r.timed_out, out_note(&r), r.out_len);
    free_result(&r);
    /* The fixture checks that the pipes made before fflush() were closed. */
}
END_TEST

START_TEST(test_wait_fails)
{
    /* With SIGCHLD ignored, the kernel reaps the command as it ends: the
     * caller's waitpid() fails with ECHILD, and there is no status. */
    autoreap_start();
    char *argv[] = {"sh", "-c", "echo lost; sleep 0.05", NULL};
    long limits[] = {0, 1500};
    for (int k = 0; k < 2; k++) {
        runcmd_result r = junk;
        errno = 0;
        int rc = runcmd_run(argv, limits[k], &r);
        int err = errno;
        WB_PROMISE("wait-fails");
        WB_EXPECT(rc == -1 && err == ECHILD,
                  "SIGCHLD was set to SIG_IGN, so the kernel reaped the "
                  "command and waitpid() failed with ECHILD (timeout_ms "
                  "%ld): expected -1 with errno ECHILD; got %d (errno %s)",
                  limits[k], rc, wb_errname(err));
        WB_PROMISE("failed-result");
        WB_EXPECT(is_failed_result(&r),
                  "after a failed call the result must be {code -1, signo "
                  "0, timed_out 0, out NULL, out_len 0} (free the output "
                  "read so far); got {%d, %d, %d, %s, %zu}",
                  r.code, r.signo, r.timed_out, out_note(&r), r.out_len);
        free_result(&r);
    }
    autoreap_stop();
}
END_TEST

START_TEST(test_interrupted_by_signal)
{
    interrupt_on_usr1(); /* no SA_RESTART: poll() and read() fail with EINTR */
    char *argv[] = {"sh", "-c",
                    "sleep 0.03; kill -USR1 $PPID; sleep 0.03; echo done",
                    NULL};
    runcmd_result r = junk;
    int rc = runcmd_run(argv, 1500, &r);
    WB_PROMISE("eintr");
    WB_EXPECT(rc == 0 && r.code == 0 && r.timed_out == 0 && r.out != NULL &&
                  strcmp(r.out, "done\n") == 0,
              "a signal handler interrupted the wait (EINTR): expected it to "
              "be resumed, code 0 and \"done\\n\"; got %d%s, code %d, "
              "timed_out %d, \"%s\"",
              rc, wb_errno_note(rc), r.code, r.timed_out, shown(r.out));
    WB_EXPECT(interrupt_usr1_seen(),
              "the command's signal never reached the caller");
    free_result(&r);
}
END_TEST

/* --- More time limits ---------------------------------------------------- */

START_TEST(test_one_ms_limit)
{
    /* The smallest limit there is: 1 ms is a limit, not "no limit". */
    char *argv[] = {"sleep", "1", NULL};
    runcmd_result r = junk;
    int64_t ms;
    int rc = run_timed(argv, 1, &r, &ms);
    WB_PROMISE("timeout");
    WB_EXPECT(rc == 0 && r.timed_out == 1 && r.signo == SIGKILL && ms < 700,
              "sleep 1 with a limit of 1 ms: expected 0 and {timed_out 1, "
              "signo SIGKILL} soon after the call; got %d%s and {timed_out "
              "%d, signo %d} after %lld ms (only 0 or less means no limit)",
              rc, wb_errno_note(rc), r.timed_out, r.signo, (long long)ms);
    free_result(&r);
}
END_TEST

static int64_t cpu_used_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

START_TEST(test_wait_after_eof_sleeps)
{
    /* The command closes its output at once and ends 100 ms later: the
     * wait after end-of-file, with no limit and with a far one. */
    char *argv[] = {"sh", "-c", "exec >&-; exec sleep 0.1", NULL};
    long limits[] = {0, 5000};
    for (int k = 0; k < 2; k++) {
        runcmd_result r = junk;
        wb_wrap_reset(WB_WAITPID, 0);
        int64_t wall0 = wb_now_ns(), cpu0 = cpu_used_ns();
        int rc = runcmd_run(argv, limits[k], &r);
        int64_t cpu_ms = (cpu_used_ns() - cpu0) / 1000000;
        int64_t ms = (wb_now_ns() - wall0) / 1000000;
        int waits = wb_wrap_calls(WB_WAITPID);
        WB_EXPECT(rc == 0 && r.code == 0 && r.signo == 0 && r.timed_out == 0,
                  "sh -c 'exec >&-; exec sleep 0.1', timeout_ms %ld: "
                  "expected 0 and {code 0, signo 0, timed_out 0}; got %d%s "
                  "and {code %d, signo %d, timed_out %d}",
                  limits[k], rc, wb_errno_note(rc), r.code, r.signo,
                  r.timed_out);
        WB_PROMISE("prompt");
        WB_EXPECT(ms < 2000,
                  "the command ended after 100 ms, timeout_ms %ld: "
                  "runcmd_run() returned only after %lld ms. A limit is a "
                  "bound: once the command has ended, return",
                  limits[k], (long long)ms);
        WB_PROMISE("sleeps");
        WB_EXPECT(cpu_ms < 40 && waits <= ms / 2 + 10,
                  "waiting 100 ms for the command to end after end-of-file "
                  "(timeout_ms %ld), runcmd_run() used %lld ms of CPU time "
                  "(at most 40 expected) and called waitpid() %d times in "
                  "%lld ms (at most one every 2 ms expected). Sleep while "
                  "you wait: waitpid() without WNOHANG when there is no "
                  "limit, a few milliseconds of sleep between two "
                  "waitpid(..., WNOHANG) when there is one",
                  limits[k], (long long)cpu_ms, waits, (long long)ms);
        free_result(&r);
    }
}
END_TEST

/* Sends SIGUSR1 to the thread in @p arg after 50 ms. */
static void *usr1_later(void *arg)
{
    wb_sleep_ms(50);
    pthread_kill(*(pthread_t *)arg, SIGUSR1);
    return NULL;
}

START_TEST(test_signal_then_silence)
{
    /* One signal interrupts the wait for output, then the command stays
     * silent past the limit: the wait after the interruption must still
     * end at the limit. */
    interrupt_on_usr1(); /* no SA_RESTART */
    /* The signal comes from a thread of the test, not from the command:
     * a shell started late on a loaded machine was killed at the limit
     * before it could send it. */
    char *argv[] = {"sleep", "1.5", NULL};
    interrupt_usr1_forget();
    runcmd_result r = junk;
    pthread_t self = pthread_self(), sender;
    ck_assert_int_eq(pthread_create(&sender, NULL, usr1_later, &self), 0);
    int64_t ms;
    int rc = run_timed(argv, 250, &r, &ms);
    pthread_join(sender, NULL);
    WB_PROMISE("eintr-time-left");
    WB_EXPECT(rc == 0 && r.timed_out == 1 && r.signo == SIGKILL && ms < 1000,
              "a signal interrupted the wait for output after 50 ms, then "
              "the command printed nothing for 1.5 s, limit 250 ms: "
              "expected 0 and {timed_out 1, signo SIGKILL} soon after 250 "
              "ms; got %d%s and {timed_out %d, signo %d} after %lld ms. "
              "After EINTR go back to waiting with the time left; do not "
              "read() a pipe that has nothing to read",
              rc, wb_errno_note(rc), r.timed_out, r.signo, (long long)ms);
    WB_EXPECT(interrupt_usr1_seen(),
              "the test's signal never reached the caller");
    free_result(&r);
}
END_TEST

/* --- The caller's standard descriptors closed ---------------------------- */

START_TEST(test_caller_std_closed)
{
    /* Each set of the caller's descriptors 0, 1, 2 closed during the
     * call: pipe() and open() then hand out those numbers. The command
     * must still read /dev/null, write its output into the pipe, and
     * have the caller's standard error (closed here when the caller's
     * is; /dev/null when it is open, so the suite's own stays quiet). */
    char *argv[] = {"sh", "-c", "cat && echo out; echo err >&2; exit 0", NULL};
    fflush(NULL);
    for (int set = 1; set < 8; set++) {
        int saved[3];
        for (int fd = 0; fd < 3; fd++) {
            saved[fd] = -1;
            if (set & (1 << fd)) {
                saved[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                close(fd);
            } else if (fd == STDERR_FILENO) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                saved[fd] = replace_fd(fd, null);
                close(null);
            }
        }
        runcmd_result r = junk;
        int rc = runcmd_run(argv, 1000, &r);
        for (int fd = 0; fd < 3; fd++) {
            if (saved[fd] != -1) {
                dup2(saved[fd], fd);
                close(saved[fd]);
            }
        }
        WB_PROMISE("std-closed");
        WB_EXPECT(rc == 0 && r.code == 0 && r.timed_out == 0 && r.out != NULL &&
                      r.out != junk_out && strcmp(r.out, "out\n") == 0,
                  "the caller's descriptors%s%s%s were closed, so the pipe "
                  "and /dev/null took those numbers: sh -c 'cat && echo "
                  "out; echo err >&2' should still give 0, code 0 and the "
                  "output \"out\\n\"; got %d%s, code %d, timed_out %d, "
                  "\"%s\". In the child, check each number before you "
                  "close it: after dup2() it may be one of the command's "
                  "own descriptors",
                  set & 1 ? " 0" : "", set & 2 ? " 1" : "", set & 4 ? " 2" : "",
                  rc, wb_errno_note(rc), r.code, r.timed_out,
                  r.out == junk_out ? "never set" : shown(r.out));
        free_result(&r);
    }
}
END_TEST

/* --- pipe() and waitpid() fail ------------------------------------------- */

/* The limit on descriptors that leaves @p free of them to open. */
static rlim_t limit_leaving(int free)
{
    int fd = 0;
    for (int seen = 0;; fd++) {
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF && ++seen == free)
            break;
    }
    return (rlim_t)fd + 1;
}

START_TEST(test_pipe_fails)
{
    /* With one descriptor left the first pipe() fails; with two, the
     * second: EMFILE both times. */
    char *argv[] = {"echo", "never", NULL};
    struct rlimit old;
    WB_EXPECT(getrlimit(RLIMIT_NOFILE, &old) == 0, "getrlimit() failed");
    for (int free = 1; free <= 2; free++) {
        rlim_t before = limit_leaving(1);
        struct rlimit low = {limit_leaving(free), old.rlim_max};
        runcmd_result r = junk;
        wb_wrap_reset(WB_FORK, 0);
        WB_EXPECT(setrlimit(RLIMIT_NOFILE, &low) == 0, "setrlimit() failed: %s",
                  strerror(errno));
        errno = 0;
        int rc = runcmd_run(argv, 1000, &r);
        int err = errno;
        setrlimit(RLIMIT_NOFILE, &old);
        int forks = wb_wrap_calls(WB_FORK);
        WB_PROMISE("pipe-fails");
        WB_EXPECT(rc == -1 && err == EMFILE && forks == 0,
                  "only %d descriptor%s could still be opened, so the %s "
                  "pipe() failed with EMFILE: expected -1 with errno EMFILE "
                  "and no fork(); got %d (errno %s) after %d fork()",
                  free, free == 1 ? "" : "s", free == 1 ? "first" : "second",
                  rc, wb_errname(err), forks);
        WB_PROMISE("failed-result");
        WB_EXPECT(is_failed_result(&r),
                  "after a failed call the result must be {code -1, signo "
                  "0, timed_out 0, out NULL, out_len 0}; got {%d, %d, %d, "
                  "%s, %zu}",
                  r.code, r.signo, r.timed_out, out_note(&r), r.out_len);
        WB_PROMISE("cleanup");
        WB_EXPECT(limit_leaving(1) == before,
                  "after the failed call every descriptor runcmd_run() "
                  "opened must be closed again: descriptor %d is still "
                  "open",
                  (int)before - 1);
        free_result(&r);
    }

    /* The first pipe() fails, and the next would not (ENFILE: the
     * system's table was full for a moment). */
    runcmd_result r = junk;
    rlim_t before = limit_leaving(1);
    wb_wrap_reset(WB_FORK, 0);
    wb_wrap_fail(WB_PIPE, 1, ENFILE, 0);
    errno = 0;
    int rc = runcmd_run(argv, 1000, &r);
    int err = errno;
    wb_wrap_reset(WB_PIPE, 0);
    int forks = wb_wrap_calls(WB_FORK);
    WB_EXPECT(rc == -1 && err == ENFILE && forks == 0 && is_failed_result(&r) &&
                  limit_leaving(1) == before,
              "the first pipe() failed with ENFILE: expected -1 with errno "
              "ENFILE, no fork(), the failed result and no descriptor left "
              "open; got %d (errno %s), %d fork(), {%d, %d, %d, %s, %zu}%s",
              rc, wb_errname(err), forks, r.code, r.signo, r.timed_out,
              out_note(&r), r.out_len,
              limit_leaving(1) == before ? "" : ", a descriptor left open");
    free_result(&r);
}
END_TEST

START_TEST(test_wait_interrupted)
{
    /* The first waitpid() fails with EINTR (as if a signal handler had
     * interrupted it): on the kill at the limit, after a failed exec, and
     * with no limit. */
    char *sleeper[] = {"sleep", "1", NULL};
    char *missing[] = {"/nonexistent/wb-no-such-program", NULL};
    char *five[] = {"sh", "-c", "exit 5", NULL};
    char *const *cmds[] = {sleeper, missing, five};
    long limits[] = {50, 0, 0};
    const char *names[] = {"sleep 1, limit 50 ms", "a missing program",
                           "sh -c 'exit 5', no limit"};
    WB_PROMISE("eintr");
    for (int k = 0; k < 3; k++) {
        runcmd_result r = junk;
        wb_wrap_reset(WB_WAITPID, 1);
        errno = 0;
        int rc = runcmd_run(cmds[k], limits[k], &r);
        int err = errno;
        int waits = wb_wrap_calls(WB_WAITPID);
        wb_wrap_reset(WB_WAITPID, 0);
        int ok = k == 0   ? rc == 0 && r.timed_out == 1 && r.signo == SIGKILL
                 : k == 1 ? rc == -1 && err == ENOENT
                          : rc == 0 && r.code == 5 && r.signo == 0;
        WB_EXPECT(ok,
                  "%s, the first waitpid() failed with EINTR: expected it "
                  "to be called again and %s; got %d (errno %s), {code %d, "
                  "signo %d, timed_out %d}",
                  names[k],
                  k == 0   ? "0 with {timed_out 1, signo SIGKILL}"
                  : k == 1 ? "-1 with ENOENT"
                           : "0 with {code 5, signo 0}",
                  rc, wb_errname(err), r.code, r.signo, r.timed_out);
        WB_EXPECT(waits >= 2 && wb_no_children(),
                  "%s: after the interrupted waitpid() the command must "
                  "still be reaped (waitpid() called %d times)",
                  names[k], waits);
        free_result(&r);
    }
}
END_TEST

START_TEST(test_wait_fails_after_kill)
{
    /* With SIGCHLD ignored the kernel reaps the command it killed at the
     * limit: the waitpid() after the kill fails with ECHILD. */
    autoreap_start();
    char *argv[] = {"sleep", "1", NULL};
    runcmd_result r = junk;
    errno = 0;
    int rc = runcmd_run(argv, 50, &r);
    int err = errno;
    autoreap_stop();
    WB_PROMISE("wait-fails");
    WB_EXPECT(rc == -1 && err == ECHILD,
              "SIGCHLD was set to SIG_IGN, so the kernel reaped the command "
              "runcmd_run() killed at its limit (50 ms), and waitpid() "
              "failed with ECHILD: expected -1 with errno ECHILD; got %d "
              "(errno %s)",
              rc, wb_errname(err));
    WB_PROMISE("failed-result");
    WB_EXPECT(is_failed_result(&r),
              "after a failed call the result must be {code -1, signo 0, "
              "timed_out 0, out NULL, out_len 0}; got {%d, %d, %d, %s, %zu}",
              r.code, r.signo, r.timed_out, out_note(&r), r.out_len);
    free_result(&r);
}
END_TEST

START_TEST(test_read_fails)
{
    /* read() fails with EIO: the first read() (the exec check, in the
     * reference), then the second (the output). The command would run
     * for a second (it ignores SIGPIPE, so a pipe closed under its echo
     * does not end it): it must be killed, reaped, and the call fail with
     * EIO at once. */
    char *argv[] = {"sh", "-c",
                    "trap '' PIPE; exec 2>/dev/null; echo hi; exec sleep 1",
                    NULL};
    for (int call = 1; call <= 2; call++) {
        runcmd_result r = junk;
        wb_wrap_fail(WB_READ, call, EIO, 0);
        int64_t start = wb_now_ns();
        errno = 0;
        int rc = runcmd_run(argv, 0, &r);
        int err = errno;
        int64_t ms = (wb_now_ns() - start) / 1000000;
        wb_wrap_reset(WB_READ, 0);
        WB_PROMISE("read-fails");
        WB_EXPECT(rc == -1 && err == EIO && ms < 700,
                  "read() call %d failed with EIO while a command that "
                  "prints hi and sleeps 1 s ran: expected -1 with errno EIO "
                  "soon after "
                  "(kill the command, do not wait for it to end); got %d "
                  "(errno %s) after %lld ms",
                  call, rc, wb_errname(err), (long long)ms);
        WB_PROMISE("failed-result");
        WB_EXPECT(is_failed_result(&r),
                  "after a failed call the result must be {code -1, signo "
                  "0, timed_out 0, out NULL, out_len 0}; got {%d, %d, %d, "
                  "%s, %zu}",
                  r.code, r.signo, r.timed_out, out_note(&r), r.out_len);
        WB_PROMISE("cleanup");
        WB_EXPECT(wb_no_children(), "the command must be reaped when "
                                    "runcmd_run() fails");
        free_result(&r);
    }
}
END_TEST

START_TEST(test_read_interrupted)
{
    /* Each of the first reads fails with EINTR in turn: it is resumed. */
    char *argv[] = {"echo", "hi", NULL};
    WB_PROMISE("eintr");
    for (int call = 1; call <= 3; call++) {
        runcmd_result r = junk;
        wb_wrap_fail(WB_READ, call, EINTR, 0);
        int rc = runcmd_run(argv, 0, &r);
        wb_wrap_reset(WB_READ, 0);
        WB_EXPECT(rc == 0 && r.code == 0 && r.out != NULL &&
                      r.out != junk_out && strcmp(r.out, "hi\n") == 0,
                  "read() call %d failed with EINTR (as if a signal handler "
                  "had interrupted it): expected it to be called again, 0, "
                  "code 0 and \"hi\\n\"; got %d%s, code %d, \"%s\"",
                  call, rc, wb_errno_note(rc), r.code,
                  r.out == junk_out ? "never set" : shown(r.out));
        free_result(&r);
    }
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("runcmd", "chapters/02-processes/chapter.md");
    WB_ADD(s, test_captures_output, "Pipes");
    WB_ADD(s, test_binary_output, "Pipes");
    WB_ADD(s, test_exit_codes, "exec: running another program");
    WB_ADD(s, test_killed_by_signal,
           "Waiting for children: wait() and waitpid()");
    WB_ADD_TIMEOUT(s, test_large_output_no_deadlock, "The full pipe", 3.0);
    WB_ADD(s, test_timeout_kills, "Reading with a time limit: poll()");
    WB_ADD(s, test_timeout_keeps_output, "Reading with a time limit: poll()");
    WB_ADD(s, test_timeout_after_output_closed,
           "Reading with a time limit: poll()");
    WB_ADD(s, test_timeout_kill_cannot_be_ignored,
           "Reading with a time limit: poll()");
    WB_ADD_TIMEOUT(s, test_time_limit_counts_from_the_call,
                   "Reading with a time limit: poll()", 3.0);
    WB_ADD(s, test_missing_program, "exec: running another program");
    WB_ADD(s, test_not_executable, "exec: running another program");
    WB_ADD(s, test_stdin_is_dev_null, "exec: running another program");
    WB_ADD(s, test_stderr_is_callers,
           "A child's standard output into a pipe: dup2()");
    WB_ADD(s, test_pipe_ends_do_not_reach_command, "Pipes");
    WB_ADD(s, test_invalid_arguments, "exec: running another program");
    WB_ADD(s, test_fork_fails, "fork() returns twice");
    WB_ADD(s, test_interrupted_by_signal, "Pipes");
    WB_ADD(s, test_wait_interrupted_after_eof,
           "Reading with a time limit: poll()");
    WB_ADD_TIMEOUT(s, test_interruptions_keep_time_left,
                   "Reading with a time limit: poll()", 3.0);
    WB_ADD(s, test_no_limit, "Reading with a time limit: poll()");
    WB_ADD(s, test_output_is_nul_terminated, "Pipes");
    WB_ADD(s, test_flush_fails,
           "exit() and _exit(), and flushing before fork()");
    WB_ADD(s, test_wait_fails, "Pitfalls");
    WB_ADD(s, test_one_ms_limit, "Reading with a time limit: poll()");
    WB_ADD_TIMEOUT(s, test_wait_after_eof_sleeps,
                   "Reading with a time limit: poll()", 3.0);
    WB_ADD(s, test_signal_then_silence, "Reading with a time limit: poll()");
    WB_ADD(s, test_caller_std_closed,
           "A child's standard output into a pipe: dup2()");
    WB_ADD(s, test_pipe_fails, "Pipes");
    WB_ADD(s, test_wait_interrupted,
           "Waiting for children: wait() and waitpid()");
    WB_ADD(s, test_wait_fails_after_kill, "Pitfalls");
    WB_ADD(s, test_read_fails, "Pipes");
    WB_ADD(s, test_read_interrupted, "Pipes");
    return s;
}
