/**
 * @file trace.h
 * @brief Record when a task started and ended, for the timeline pictures.
 *
 * A demo takes trace_now() when a task starts and calls trace_span() when
 * it ends. When the environment variable WB_TRACE names a file, each span
 * is appended to that file as one line:
 *
 *     <pid> <thread> <start_ns> <end_ns> <label>\n
 *
 * pid is getpid() at the moment of the call, thread a number that tells
 * the threads of one process apart (see trace_thread()), the two times
 * come from CLOCK_MONOTONIC in nanoseconds (one clock for every process
 * of the machine, so spans of different processes line up), and the
 * label is the rest of the line. book/timeline.c draws such a file.
 *
 * When WB_TRACE is unset or empty, trace_span() returns after one cached
 * test. Tracing never prints anything and never changes errno: a
 * failure to open or write the file loses that event and nothing else.
 * Give WB_TRACE an absolute path: the file is opened anew for every
 * event, so a relative path would follow the program's chdir().
 *
 * Why the file is opened, written and closed for every event instead of
 * keeping a descriptor open:
 * - O_APPEND moves to the end of the file and writes in one step, and
 *   Linux does not interleave two write()s to one regular file, so one
 *   write() per line keeps every line whole across processes and
 *   threads, whoever opened the file and when.
 * - No descriptor outlives the call. The workbook's test fixture fails a
 *   test that ends with a descriptor it did not have when it started; a
 *   cached descriptor would trip it the first time a solution traced
 *   during a test. Nothing is left behind for fork() or exec() either,
 *   and there is no first-call race over who opens the descriptor.
 * - The price is small: see the numbers in trace_span().
 *
 * Only C11 and POSIX 2008 are used (no gettid(), no _GNU_SOURCE), and
 * neither stdio nor malloc, so a child may trace right after fork().
 * Every file that includes trace.h keeps its own cached copy of WB_TRACE
 * (the functions are static inline).
 */
#ifndef TRACE_H
#define TRACE_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/** @brief Longest WB_TRACE path kept; a longer one turns tracing off. */
#define TRACE_PATH_MAX 4096
/** @brief Longest label written, in bytes; the rest is cut off. */
#define TRACE_LABEL_MAX 200

/**
 * @brief The time now on CLOCK_MONOTONIC, in nanoseconds.
 *
 * The clock is shared by all processes of the machine, never jumps back,
 * and counts from an arbitrary point (often the boot). Safe from any
 * thread.
 * @return nanoseconds; 0 if the clock cannot be read (on Linux it can).
 */
static inline int64_t trace_now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

/** @brief Internal: the cached trace path and the once-flag guarding it. */
struct trace_state_ {
    pthread_once_t once;       /**< guards the one copy of WB_TRACE */
    char path[TRACE_PATH_MAX]; /**< the trace file, "" when tracing is off */
};

/**
 * @brief Internal: this file's one trace state.
 * @return the state; it lives as long as the process.
 */
static inline struct trace_state_ *trace_state_(void)
{
    static struct trace_state_ state = {PTHREAD_ONCE_INIT, {0}};
    return &state;
}

/**
 * @brief Internal: copy WB_TRACE into the state. Runs once per process,
 *        under pthread_once().
 *
 * The value is copied so that a later setenv() cannot pull it away; a
 * change of WB_TRACE after the first trace call therefore has no effect.
 */
static inline void trace_load_(void)
{
    struct trace_state_ *s = trace_state_();
    const char *value = getenv("WB_TRACE");
    size_t len = value == NULL ? 0 : strlen(value);

    if (len > 0 && len < sizeof s->path)
        memcpy(s->path, value, len + 1);
}

/**
 * @brief Whether tracing is on, that is WB_TRACE was set and not empty
 *        when this process first asked.
 *
 * Safe from any thread: the first callers wait on pthread_once() while
 * one of them reads the environment; after that it is one load. Use it
 * to skip work that only tracing needs.
 * @return 1 when spans are written, 0 when trace_span() does nothing.
 */
static inline int trace_enabled(void)
{
    struct trace_state_ *s = trace_state_();

    if (pthread_once(&s->once, trace_load_) != 0)
        return 0;
    return s->path[0] != '\0';
}

/**
 * @brief A number for the calling thread, unique among the threads of
 *        its process that are alive at the same time.
 *
 * POSIX makes pthread_t opaque, so the bytes of pthread_self() are
 * copied into an unsigned long. On Linux (glibc and musl) pthread_t is
 * an unsigned long or a pointer, so this is the whole value. Caveats: it
 * is not the kernel's thread id (the one `ps -L` shows); the number of a
 * thread that has been joined may be given to a later thread (the
 * timeline then draws both in one lane, which is harmless as they never
 * overlap); and a fork()ed child's thread has the number of the parent
 * thread that forked, which is why a lane is named by pid and number
 * together. Where pthread_t is a wider struct, only its first bytes are
 * used and two threads could share a number.
 * @return the number.
 */
static inline unsigned long trace_thread(void)
{
    pthread_t self = pthread_self();
    unsigned long id = 0;

    memcpy(&id, &self, sizeof self < sizeof id ? sizeof self : sizeof id);
    return id;
}

/**
 * @brief Internal: write @p value in decimal at @p out.
 * @param out   where the digits go; room for 20 bytes is needed.
 * @param value the number.
 * @return how many bytes were written.
 */
static inline size_t trace_put_u64_(char *out, uint64_t value)
{
    char digits[20];
    size_t n = 0;

    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    for (size_t i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return n;
}

/**
 * @brief Record one task that ran from @p start_ns to @p end_ns.
 *
 * When tracing is on (see trace_enabled()) it appends one line to the
 * WB_TRACE file with a single write() on a descriptor opened with
 * O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC (mode 0644) and closed before
 * it returns, so lines from many processes and threads never tear. The
 * pid is asked for at every call: a fork()ed child writes its own.
 * Otherwise it returns at once. Safe from any thread, and in a child
 * after fork(). errno is left as it was; a failed open() or write()
 * loses the event silently.
 *
 * Cost per event, measured on the 2-core build machine (ext4, load
 * average about 5, 100,000 events in a loop): open, write and close 7 to
 * 12 us; one write() on a cached descriptor would be 1.5 to 3.3 us;
 * tracing off 9 to 20 ns (trace_now() itself is about 75 ns). The demos
 * record tens or hundreds of events, so the dearer, leak-free way costs
 * them a millisecond or two at most.
 *
 * @param label    what ran ("One", "read block 3"). Spaces are kept;
 *                 tabs, newlines and other control characters become
 *                 spaces; it is cut at TRACE_LABEL_MAX bytes. NULL or
 *                 "" is written as "-".
 * @param start_ns when it started, from trace_now().
 * @param end_ns   when it ended, from trace_now(); not before start_ns.
 */
static inline void trace_span(const char *label, int64_t start_ns,
                              int64_t end_ns)
{
    /* 4 numbers of at most 20 digits, 4 spaces, the label, "\n". */
    char line[4 * 21 + TRACE_LABEL_MAX + 1];
    size_t n = 0;
    int saved_errno = errno;
    int fd;

    if (!trace_enabled())
        return;
    n += trace_put_u64_(line + n, (uint64_t)getpid());
    line[n++] = ' ';
    n += trace_put_u64_(line + n, trace_thread());
    line[n++] = ' ';
    n += trace_put_u64_(line + n, (uint64_t)(start_ns < 0 ? 0 : start_ns));
    line[n++] = ' ';
    n += trace_put_u64_(line + n, (uint64_t)(end_ns < 0 ? 0 : end_ns));
    line[n++] = ' ';
    if (label == NULL || label[0] == '\0')
        label = "-";
    for (size_t i = 0; label[i] != '\0' && i < TRACE_LABEL_MAX; i++) {
        unsigned char c = (unsigned char)label[i];
        line[n++] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
    }
    line[n++] = '\n';

    fd = open(trace_state_()->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
              0644);
    if (fd != -1) {
        /* A regular file is written whole or not at all unless the disk
           is full; a second write() for the rest could be split from the
           first by another writer, so a short write is not retried. A
           signal before anything was written is. */
        while (write(fd, line, n) == -1 && errno == EINTR)
            continue;
        /* Nothing to do if close() fails: the line is written or lost
           already, and after EINTR Linux has released the descriptor,
           so it must not be closed again. */
        (void)close(fd);
    }
    errno = saved_errno;
}

#endif
