/**
 * @file wb.h
 * @brief What every test suite of the workbook shares.
 *
 * A test file includes this header, writes its tests with Check's
 * START_TEST / END_TEST, and defines one function, wb_suite(), that
 * registers them with WB_ADD(). The shared main() in wb_main.c runs the
 * suite in fork mode, one process per test, and reports the results in
 * the form the grader reads.
 *
 * Every test added with WB_ADD() gets the hygiene checks: a file
 * descriptor the test did not have when it started and still has open
 * when it ends, or a child process it did not reap, fails the test with
 * a message of its own.
 */
#ifndef WB_H
#define WB_H

#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/**
 * @brief Defined by each test file: build and return the suite.
 *
 * Call wb_begin() first and WB_ADD() once per test.
 * @return the suite the shared main() runs.
 */
Suite *wb_suite(void);

/**
 * @brief Start the suite of one exercise.
 * @param exercise  the exercise's name, as in its file names ("runner").
 * @param chapter   the chapter file the hints point at
 *                  ("chapters/01-sync/chapter.md").
 * @return a new suite.
 */
Suite *wb_begin(const char *exercise, const char *chapter);

/**
 * @brief Add one test as a test case of its own, with the hygiene checks.
 * @param s        the suite from wb_begin().
 * @param fn       the test, defined with START_TEST.
 * @param name     the test's name, shown by the grader.
 * @param section  the heading of the chapter section that explains what
 *                 the test checks; printed under a failure.
 * @param timeout  seconds before the test counts as hung.
 */
void wb_add(Suite *s, const TTest *fn, const char *name, const char *section,
            double timeout);

/** @brief Add test @p fn, named after itself, with the default timeout. */
#define WB_ADD(s, fn, section) wb_add((s), (fn), #fn, (section), 2.0)

/** @brief Like WB_ADD() with a timeout of @p secs seconds. */
#define WB_ADD_TIMEOUT(s, fn, section, secs)                                   \
    wb_add((s), (fn), #fn, (section), (secs))

/**
 * @brief Fail the test unless @p cond holds.
 *
 * The message (printf format and arguments) says what was expected and
 * what happened: "expected 3 records, got 2". When the test named a
 * promise with WB_PROMISE(), the message starts with its tag in square
 * brackets ("[eof-rest] expected ..."), and the grader prints the
 * promise's sentence from the contract under the failure.
 */
#define WB_EXPECT(cond, ...)                                                   \
    ck_assert_msg((cond), "%s%s", wb_promise_prefix(), wb_format(__VA_ARGS__))

/**
 * @brief Name the contract promise the checks that follow are about.
 *
 * A contract (NAME.h) lists its promises as bullets that start with a
 * tag in square brackets, `- [eof-rest] At end of file ...`. A test calls
 * WB_PROMISE("eof-rest") before the checks of that promise; a test may
 * name several, one after the other. `make test` fails when a promise of
 * a contract is named by no test of its suite, or a test names a tag its
 * contract does not have.
 * @param tag the promise's tag, without the brackets.
 */
#define WB_PROMISE(tag) wb_promise(tag)

/** @brief See WB_PROMISE(). @param tag the promise's tag. */
void wb_promise(const char *tag);

/**
 * @brief "[tag] " of the promise named last in this test, or "".
 * @return a string owned by the test support.
 */
const char *wb_promise_prefix(void);

/**
 * @brief printf() into a buffer of the calling thread, for messages.
 * @param fmt printf format.
 * @return the text, in one of four buffers of the calling thread used in
 *         turn (so a result may be an argument of the next call).
 */
const char *wb_format(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/**
 * @brief The test `make check ... TRACE=1` runs, when the suite has one.
 *
 * A suite whose tasks record trace_span() events (chapters/trace.h) names
 * the test that shows them best:
 *
 *     const char *const wb_trace_test = "test_times_bracket_each_task";
 *
 * When WB_TRACE is set, only that test is registered, so the timeline the
 * grader draws is of that one run.
 */
extern const char *const wb_trace_test;

/**
 * @brief How much of its full size a stress test should run: 1 normally.
 *
 * Valgrind's tools run one thread at a time and many times slower, so a
 * test that pushes thousands of items through many threads would outlast
 * its limit there. Under Valgrind wb_stress() returns a small fraction
 * (0.05); the environment variable WB_STRESS, a number above 0 and at
 * most 1, sets it explicitly. Scale the iteration counts of stress loops
 * by it, never the checks that catch a bug by construction.
 * @return a number above 0 and at most 1.
 */
double wb_stress(void);

/**
 * @brief A count scaled by wb_stress(), but never below @p at_least.
 * @param full      the count for a full-size run.
 * @param at_least  the smallest count that still tests something.
 * @return full * wb_stress(), rounded, at least @p at_least.
 */
long wb_scaled(long full, long at_least);

/** @brief Monotonic clock in nanoseconds. */
int64_t wb_now_ns(void);

/** @brief Sleep @p ms milliseconds, resuming after signals. */
void wb_sleep_ms(long ms);

/** @brief The calls tests/support/wrap.c can count and fail. */
enum wb_wrapped {
    WB_FORK,               /**< fork(): fails with -1, errno EAGAIN */
    WB_PTHREAD_CREATE,     /**< pthread_create(): returns EAGAIN */
    WB_WRITE,              /**< write(): fails with -1, errno EIO */
    WB_FFLUSH,             /**< fflush(): fails with EOF, errno EIO */
    WB_WAITPID,            /**< waitpid(): fails with -1, errno EINTR */
    WB_PTHREAD_MUTEX_INIT, /**< pthread_mutex_init(): returns ENOMEM */
    WB_PTHREAD_COND_INIT,  /**< pthread_cond_init(): returns ENOMEM */
    WB_CLOCK_GETTIME,      /**< clock_gettime(): fails with -1, errno EINVAL */
    WB_FSYNC,              /**< fsync(): fails with -1, errno EIO; can hold */
    WB_RENAME,             /**< rename(): fails with -1, errno EIO; can hold */
    WB_READ,               /**< read(): fails with -1, errno EIO */
    WB_PIPE,               /**< pipe(): fails with -1, errno EMFILE */
    WB_FCNTL,              /**< fcntl(): fails with -1, errno EBADF */
    WB_SEND,               /**< send(): fails with -1, errno ECONNRESET */
    WB_WRAPPED_COUNT       /**< how many there are */
};

/**
 * @brief Start counting the calls of @p f anew, and choose one to fail.
 *
 * Only in suites that list tests/support/wrap.c in their NAME.links (the
 * Makefile then links them with -Wl,--wrap=NAME for each function of
 * ::wb_wrapped). Calls from the suite's own objects count too (the test,
 * the test support, Check): arm a failure just before the call under
 * test, and reset it (fail 0) right after. A failed call does nothing
 * but fail, with the error the enum names.
 * @param f    the function.
 * @param fail the call, counting from 1 after this reset, that fails;
 *             0 for none.
 */
void wb_wrap_reset(enum wb_wrapped f, int fail);

/**
 * @brief Like wb_wrap_reset(), with the error number chosen, and
 *        optionally every later call failing too.
 * @param f         the function.
 * @param fail      the first call (from 1) that fails; 0 for none.
 * @param err       the error number it fails with; 0 for the default.
 * @param and_later 1: every call after it fails as well.
 */
void wb_wrap_fail(enum wb_wrapped f, int fail, int err, int and_later);

/**
 * @brief How many times @p f was called since its last wb_wrap_reset(),
 *        the failed calls included. Same suites as wb_wrap_reset().
 * @param f the function.
 * @return the count.
 */
int wb_wrap_calls(enum wb_wrapped f);

/**
 * @brief Make every write() pass on at most @p max bytes (a short
 *        write, as a pipe or socket may do); 0 lifts the limit.
 * @param max the most bytes one write() writes.
 */
void wb_wrap_write_limit(size_t max);

/**
 * @brief Make every send() on descriptor @p fd pass on at most @p max
 *        bytes (a short send, as a socket with little room does), or
 *        none (0: it fails with `EAGAIN`, as on a full socket).
 * @param fd  the descriptor; -1 for every one.
 * @param max the most bytes one send() sends; 0: none; -1 lifts the
 *            limit.
 */
void wb_wrap_send_limit(int fd, long max);

/**
 * @brief Like wb_wrap_send_limit(), and every other send() it shapes
 *        fails with `EAGAIN` (the first, the third, ...): a socket with
 *        room for little, which a server must wait on between sends.
 *
 * The others pass on at most @p max bytes, or all they are given when
 * @p max is -1. wb_wrap_send_limit() ends the alternation; switching
 * from one wb_wrap_send_alternate() to another keeps its turn.
 * @param fd  the descriptor; -1 for every one.
 * @param max the most bytes the sends between refusals send; -1: any.
 */
void wb_wrap_send_alternate(int fd, long max);

/**
 * @brief Shape only the send()s of one thread (a server's loop, not the
 *        test's clients) with wb_wrap_send_limit() and
 *        wb_wrap_send_alternate(); the others go through as they are.
 * @param thread the thread; NULL: every thread again.
 */
void wb_wrap_send_thread(const pthread_t *thread);

/**
 * @brief Call @p fn(@p arg) once, at the next send() that
 *        wb_wrap_send_limit() or wb_wrap_send_alternate() makes fail
 *        with `EAGAIN`, in that send()'s thread, before it returns (a
 *        test may stop its loop there).
 * @param fn  the function; NULL: none.
 * @param arg its argument.
 */
void wb_wrap_send_on_refusal(void (*fn)(void *), void *arg);

/**
 * @brief Make one write() return 0 for a non-empty request, writing
 *        nothing and setting no errno (a device may do that).
 * @param call the write() (counting from 1 after the last wb_wrap_reset()
 *             of ::WB_WRITE) that returns 0; 0: none.
 */
void wb_wrap_write_zero(int call);

/**
 * @brief Add @p ns to every clock_gettime() reading from now on (a clock
 *        that jumps); 0 puts the clock back.
 * @param ns the shift in nanoseconds, negative for backwards.
 */
void wb_wrap_clock_shift(int64_t ns);

/**
 * @brief Make one call of @p f wait, inside its wrapper and before the
 *        real call, until wb_wrap_release(): a slow disk, on demand.
 *
 * Only ::WB_FSYNC and ::WB_RENAME can be held (the calls a durable write
 * ends with). The held thread polls every millisecond, so a test that
 * fails while a call is held ends as usual (Check's fork mode ends the
 * process). Does not reset the count: the call number counts from the
 * last wb_wrap_reset() or wb_wrap_fail() of @p f.
 * @param f    ::WB_FSYNC or ::WB_RENAME.
 * @param call the call (from 1) that waits; 0: none.
 */
void wb_wrap_hold(enum wb_wrapped f, int call);

/**
 * @brief Wait up to @p ms for the call chosen by wb_wrap_hold() to be
 *        waiting.
 * @param f  ::WB_FSYNC or ::WB_RENAME.
 * @param ms how long to wait, in milliseconds.
 * @return the kernel thread id (gettid()) of the thread that is held, or
 *         0 when none was held within @p ms.
 */
long wb_wrap_held(enum wb_wrapped f, long ms);

/**
 * @brief The descriptor the call that wb_wrap_held() saw waiting works
 *        on: fsync()'s argument, still open while the call is held (the
 *        test may fstat() it). -1 for rename().
 * @param f ::WB_FSYNC or ::WB_RENAME.
 * @return the descriptor, or -1.
 */
int wb_wrap_held_fd(enum wb_wrapped f);

/**
 * @brief Let the held call of @p f go on (and clear the hold, so no
 *        later call waits).
 * @param f ::WB_FSYNC or ::WB_RENAME.
 */
void wb_wrap_release(enum wb_wrapped f);

/**
 * @brief How many select() calls the process has made, from any thread.
 *
 * Only in suites that list tests/support/selects.c in their NAME.links:
 * it counts every call, then passes it on to the C library's select().
 * @return the count since the process started.
 */
long wb_select_calls(void);

/**
 * @brief Bytes the process has allocated and not yet freed.
 *
 * The sanitizer's own count when one is linked in (exact under
 * AddressSanitizer and ThreadSanitizer; LeakSanitizer leaves small blocks
 * out), glibc's mallinfo2() otherwise (which counts freed small blocks its
 * cache keeps): compare big allocations, or many rounds, to see a leak.
 * @return the bytes in use.
 */
size_t wb_heap_in_use(void);

/**
 * @brief Blocks the code under test allocated and has not freed yet.
 *
 * Counted since the test began (tests/support/alloc.c: the code under
 * test's allocation calls are routed there when it is linked). The fixture
 * fails a test that ends with any; a block the contract hands to the
 * caller is freed by the test with free().
 * @param bytes where to store their total size, or NULL.
 * @return how many blocks.
 */
size_t wb_alloc_live(size_t *bytes);

/** @brief Forget every counted block, and the failure wb_alloc_fail()
 *         armed (the fixture, before each test). */
void wb_alloc_reset(void);

/**
 * @brief Make one allocation of the code under test fail: NULL with
 *        errno `ENOMEM`, as when there is no memory.
 *
 * Counts the calls of malloc(), calloc(), realloc(), reallocarray(),
 * strdup() and strndup() that the code under test makes (the objects
 * whose allocations tests/support/alloc.c counts; not the trusted objects
 * of a NAME.links), from this call on.
 * @param call the call (from 1) that fails; 0: none.
 */
void wb_alloc_fail(int call);

/** @brief The allocation calls counted since the last wb_alloc_fail(),
 *         the failed one included. */
int wb_alloc_calls(void);

/**
 * @brief Make one allocation of a building block fail: NULL with errno
 *        `ENOMEM`.
 *
 * Like wb_alloc_fail(), for the building blocks a suite links (the
 * solutions/ files of its NAME.links, or the learner's own in a handout:
 * the loop, the linebuf...), whose blocks are not counted: a test can
 * make the loop under the code under test run out of memory. Counts
 * their calls of malloc(), calloc(), realloc(), reallocarray(), strdup()
 * and strndup() from this call on, in every thread.
 * @param call the call (from 1) that fails; 0: none.
 */
void wb_block_alloc_fail(int call);

/** @brief The building blocks' allocation calls counted since the last
 *         wb_block_alloc_fail(), the failed one included. */
int wb_block_alloc_calls(void);

/**
 * @brief Whether the calling process has no child left, running or
 *        unreaped. Reaps nothing.
 * @return 1 when waitpid() reports ECHILD, 0 otherwise.
 */
int wb_no_children(void);

/**
 * @brief An error number as the contracts spell it, for messages.
 * @param err an errno value, or 0.
 * @return "0", the macro's name ("EINVAL", "ERANGE", ...) for the error
 *         numbers the exercises use, otherwise "errno N (text)". The
 *         text of an unknown number lives in a buffer of the calling
 *         thread, overwritten by its next call.
 */
const char *wb_errname(int err);

/**
 * @brief What went wrong with a call that signals errors with -1 and
 *        errno, for the end of a message.
 * @param ret the call's return value; errno is read only when it is -1.
 * @return " (ENAME: text)" when @p ret is -1, "" otherwise; in a buffer
 *         of the calling thread, overwritten by its next call.
 */
const char *wb_errno_note(long ret);

/**
 * @brief Create a pipe whose ends are closed on exec; fail the test if
 *        pipe() fails.
 * @param fds receives the read end in fds[0] and the write end in fds[1].
 */
void wb_pipe(int fds[2]);

/**
 * @brief Write @p text to a new temporary file and open it for reading.
 *
 * The file is unlinked at once, so nothing is left behind; the stream is
 * the test's to fclose().
 * @param text  the file's whole content.
 * @return the stream, positioned at the start.
 */
FILE *wb_tmpfile_with(const char *text);

/**
 * @brief Read everything from @p in into a new NUL-terminated string.
 * @param in a stream positioned where reading starts.
 * @return the text, to be freed by the caller.
 */
char *wb_slurp(FILE *in);

/**
 * @brief Count the open file descriptors of this process.
 * @return how many entries /proc/self/fd lists.
 */
int wb_count_fds(void);

#endif
