/*
 * Tests of runcmd (exercises/02-processes/runcmd.h): fork + exec with a
 * time limit, standard output captured through a pipe.
 *
 * The commands are standard tools (sh, echo, seq, sleep, cat) found on
 * PATH.
 */
#include "wb.h"
#include "runcmd.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* " (errno text)" after a call that returned -1, "" otherwise. */
static const char *err_note(int rc)
{
    static char buf[128];
    if (rc != -1)
        return "";
    snprintf(buf, sizeof buf, " (%s)", strerror(errno));
    return buf;
}

static int no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

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

START_TEST(test_captures_output)
{
    char *argv[] = {"echo", "hello", "world", NULL};
    runcmd_result r;
    int rc = runcmd_run(argv, 0, &r);
    WB_EXPECT(rc == 0,
              "runcmd_run(echo hello world) should return 0; got "
              "%d%s",
              rc, err_note(rc));
    WB_EXPECT(r.code == 0 && r.signo == 0 && r.timed_out == 0,
              "echo exits with 0: expected code 0, signo 0, timed_out 0; got "
              "code %d, signo %d, timed_out %d",
              r.code, r.signo, r.timed_out);
    WB_EXPECT(r.out != NULL && r.out_len == 12 &&
                  strcmp(r.out, "hello world\n") == 0,
              "expected the output \"hello world\\n\" (12 bytes); got \"%s\" "
              "(%zu bytes)",
              shown(r.out), r.out_len);
    runcmd_free(&r);
    WB_EXPECT(r.out == NULL && r.out_len == 0,
              "runcmd_free() should set out to NULL and out_len to 0");
    runcmd_free(&r);
    runcmd_free(NULL);
}
END_TEST

START_TEST(test_exit_codes)
{
    char *three[] = {"sh", "-c", "echo out; exit 3", NULL};
    runcmd_result r;
    int rc = runcmd_run(three, 1000, &r);
    WB_EXPECT(rc == 0 && r.code == 3 && r.signo == 0 && r.timed_out == 0,
              "sh -c 'exit 3': expected 0 and {code 3, signo 0, timed_out "
              "0}; got %d%s and {code %d, signo %d, timed_out %d}",
              rc, err_note(rc), r.code, r.signo, r.timed_out);
    WB_EXPECT(r.out != NULL && strcmp(r.out, "out\n") == 0,
              "a failing command's output is kept: expected \"out\\n\"; got "
              "\"%s\"",
              shown(r.out));
    runcmd_free(&r);

    /* 127 is what a shell reports for "command not found"; here the
     * command itself chose it, and it ran. */
    char *own127[] = {"sh", "-c", "exit 127", NULL};
    rc = runcmd_run(own127, 1000, &r);
    WB_EXPECT(rc == 0 && r.code == 127,
              "a command that exits with 127 by itself ran: expected 0 and "
              "code 127; got %d%s and code %d. Tell a failed exec from an "
              "exit code through a pipe of its own, not through 127",
              rc, err_note(rc), r.code);
    runcmd_free(&r);
}
END_TEST

START_TEST(test_killed_by_signal)
{
    char *argv[] = {"sh", "-c", "ulimit -c 0; kill -SEGV $$", NULL};
    runcmd_result r;
    int rc = runcmd_run(argv, 1000, &r);
    WB_EXPECT(rc == 0, "expected 0; got %d%s", rc, err_note(rc));
    WB_EXPECT(r.signo == SIGSEGV && r.code == -1 && r.timed_out == 0,
              "the command killed itself with SIGSEGV: expected {code -1, "
              "signo %d, timed_out 0}; got {code %d, signo %d, timed_out %d}",
              SIGSEGV, r.code, r.signo, r.timed_out);
    runcmd_free(&r);
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
    runcmd_result r;
    int rc = runcmd_run(argv, 0, &r);
    WB_EXPECT(rc == 0 && r.code == 0,
              "seq 1 400000: expected 0 and code 0; got %d%s and code %d", rc,
              err_note(rc), r.code);
    WB_EXPECT(r.out_len == want,
              "seq wrote %zu bytes (far more than a pipe holds); out_len is "
              "%zu",
              want, r.out_len);
    WB_EXPECT(strncmp(r.out, "1\n2\n3\n", 6) == 0 &&
                  strcmp(r.out + want - 7, "400000\n") == 0,
              "the output should start with 1, 2, 3 and end with 400000");
    runcmd_free(&r);
}
END_TEST

START_TEST(test_timeout_kills)
{
    char *argv[] = {"sleep", "5", NULL};
    runcmd_result r;
    int64_t start = wb_now_ns();
    int rc = runcmd_run(argv, 50, &r);
    int64_t ms = (wb_now_ns() - start) / 1000000;
    WB_EXPECT(rc == 0,
              "a command that timed out still ran: expected 0; got "
              "%d%s",
              rc, err_note(rc));
    WB_EXPECT(r.timed_out == 1 && r.signo == SIGKILL && r.code == -1,
              "sleep 5 with a limit of 50 ms: expected {timed_out 1, signo "
              "SIGKILL (%d), code -1}; got {timed_out %d, signo %d, code %d}",
              SIGKILL, r.timed_out, r.signo, r.code);
    WB_EXPECT(ms >= 45 && ms < 1000,
              "the limit was 50 ms: expected runcmd_run() to return after "
              "about 50 ms; it took %lld ms",
              (long long)ms);
    WB_EXPECT(r.out != NULL && r.out_len == 0,
              "sleep printed nothing: expected out \"\" (not NULL); got %s",
              r.out == NULL ? "NULL" : shown(r.out));
    runcmd_free(&r);
}
END_TEST

START_TEST(test_timeout_keeps_output)
{
    char *argv[] = {"sh", "-c", "echo partial; exec sleep 5", NULL};
    runcmd_result r;
    int rc = runcmd_run(argv, 100, &r);
    WB_EXPECT(rc == 0 && r.timed_out == 1 && r.signo == SIGKILL,
              "expected 0 and {timed_out 1, signo SIGKILL}; got %d%s and "
              "{timed_out %d, signo %d}",
              rc, err_note(rc), r.timed_out, r.signo);
    WB_EXPECT(r.out != NULL && strcmp(r.out, "partial\n") == 0,
              "what the command printed before it was killed is kept: "
              "expected \"partial\\n\"; got \"%s\"",
              shown(r.out));
    runcmd_free(&r);
}
END_TEST

START_TEST(test_timeout_after_output_closed)
{
    /* The command closes its standard output, then goes on running: the
     * pipe reaches end-of-file long before the command ends. */
    char *argv[] = {"sh", "-c", "exec >&-; exec sleep 5", NULL};
    runcmd_result r;
    int64_t start = wb_now_ns();
    int rc = runcmd_run(argv, 80, &r);
    int64_t ms = (wb_now_ns() - start) / 1000000;
    WB_EXPECT(rc == 0 && r.timed_out == 1 && r.signo == SIGKILL,
              "a command that closed its output but kept running past the "
              "80 ms limit: expected 0 and {timed_out 1, signo SIGKILL}; got "
              "%d%s and {timed_out %d, signo %d}",
              rc, err_note(rc), r.timed_out, r.signo);
    WB_EXPECT(ms < 1000, "the limit was 80 ms; runcmd_run() took %lld ms",
              (long long)ms);
    runcmd_free(&r);
}
END_TEST

START_TEST(test_missing_program)
{
    char *absolute[] = {"/nonexistent/wb-no-such-program", NULL};
    runcmd_result r;
    int64_t start = wb_now_ns();
    errno = 0;
    int rc = runcmd_run(absolute, 0, &r);
    int err = errno;
    int64_t ms = (wb_now_ns() - start) / 1000000;
    WB_EXPECT(rc == -1 && err == ENOENT,
              "a program that does not exist: expected -1 with ENOENT (the "
              "errno of execvp() in the child); got %d (%s)",
              rc, strerror(err));
    WB_EXPECT(r.out == NULL, "after a failed call out must be NULL");
    WB_EXPECT(ms < 500,
              "a missing program should be reported at once; it "
              "took %lld ms",
              (long long)ms);
    WB_EXPECT(no_children(), "the child that failed to exec must be reaped "
                             "(no zombie)");

    /* A PATH whose folders can all be searched: execvp() reports EACCES
     * instead of ENOENT when one of them cannot (the grader's user may
     * not enter every folder of yours). */
    WB_EXPECT(setenv("PATH", "/usr/bin:/bin", 1) == 0, "setenv() failed");
    char *on_path[] = {"wb-no-such-program-on-path", "x", NULL};
    errno = 0;
    rc = runcmd_run(on_path, 0, &r);
    err = errno;
    WB_EXPECT(rc == -1 && err == ENOENT,
              "a program name found nowhere on PATH: expected -1 with "
              "ENOENT; got %d (%s)",
              rc, strerror(err));
    WB_EXPECT(no_children(), "the child that failed to exec must be reaped "
                             "(no zombie)");
}
END_TEST

START_TEST(test_not_executable)
{
    char *argv[] = {"/dev/null", NULL};
    runcmd_result r;
    errno = 0;
    int rc = runcmd_run(argv, 0, &r);
    int err = errno;
    WB_EXPECT(rc == -1 && err == EACCES,
              "/dev/null is not a program: expected -1 with EACCES; got %d "
              "(%s)",
              rc, strerror(err));
    WB_EXPECT(no_children(), "the child that failed to exec must be reaped "
                             "(no zombie)");
}
END_TEST

START_TEST(test_stdin_is_dev_null)
{
    /* cat copies its standard input: with /dev/null it ends at once. */
    char *argv[] = {"cat", NULL};
    runcmd_result r;
    int rc = runcmd_run(argv, 1000, &r);
    WB_EXPECT(rc == 0 && r.timed_out == 0 && r.code == 0,
              "cat with /dev/null as its input ends at once: expected 0 and "
              "{timed_out 0, code 0}; got %d%s and {timed_out %d, code %d}",
              rc, err_note(rc), r.timed_out, r.code);
    WB_EXPECT(r.out != NULL && r.out_len == 0,
              "expected an empty output \"\" (not NULL); got %s",
              r.out == NULL ? "NULL" : shown(r.out));
    runcmd_free(&r);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    char *argv[] = {"echo", NULL};
    char *empty[] = {NULL};
    runcmd_result r;
    errno = 0;
    int rc = runcmd_run(NULL, 0, &r);
    WB_EXPECT(rc == -1 && errno == EINVAL,
              "runcmd_run(NULL, ...): expected -1 with EINVAL; got %d (%s)", rc,
              strerror(errno));
    errno = 0;
    rc = runcmd_run(empty, 0, &r);
    WB_EXPECT(rc == -1 && errno == EINVAL,
              "an argv whose argv[0] is NULL: expected -1 with EINVAL; got "
              "%d (%s)",
              rc, strerror(errno));
    errno = 0;
    rc = runcmd_run(argv, 0, NULL);
    WB_EXPECT(rc == -1 && errno == EINVAL,
              "runcmd_run(argv, 0, NULL): expected -1 with EINVAL; got %d "
              "(%s)",
              rc, strerror(errno));
    WB_EXPECT(no_children(), "a call rejected for its arguments must not "
                             "fork");
}
END_TEST

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_seen = 1;
}

START_TEST(test_interrupted_by_signal)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll() and read() fail with EINTR */
    WB_EXPECT(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction() failed");
    char *argv[] = {"sh", "-c",
                    "sleep 0.03; kill -USR1 $PPID; sleep 0.03; echo done",
                    NULL};
    runcmd_result r;
    int rc = runcmd_run(argv, 1500, &r);
    WB_EXPECT(usr1_seen, "the command's signal never reached the caller");
    WB_EXPECT(rc == 0 && r.code == 0 && r.timed_out == 0 && r.out != NULL &&
                  strcmp(r.out, "done\n") == 0,
              "a signal handler interrupted the wait (EINTR): expected it to "
              "be resumed, code 0 and \"done\\n\"; got %d%s, code %d, "
              "timed_out %d, \"%s\"",
              rc, err_note(rc), r.code, r.timed_out, shown(r.out));
    runcmd_free(&r);
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("runcmd", "chapters/02-processes/chapter.md");
    WB_ADD(s, test_captures_output, "Pipes");
    WB_ADD(s, test_exit_codes, "exec: running another program");
    WB_ADD(s, test_killed_by_signal,
           "Waiting for children: wait() and waitpid()");
    WB_ADD_TIMEOUT(s, test_large_output_no_deadlock, "Pipes", 3.0);
    WB_ADD(s, test_timeout_kills, "Pitfalls");
    WB_ADD(s, test_timeout_keeps_output, "Pitfalls");
    WB_ADD(s, test_timeout_after_output_closed, "Pitfalls");
    WB_ADD(s, test_missing_program, "exec: running another program");
    WB_ADD(s, test_not_executable, "exec: running another program");
    WB_ADD(s, test_stdin_is_dev_null, "exec: running another program");
    WB_ADD(s, test_invalid_arguments, "exec: running another program");
    WB_ADD(s, test_interrupted_by_signal, "Pipes");
    return s;
}
