/**
 * @file pmap.h
 * @brief A parallel map over processes: one child per item, results back
 *        through pipes, in input order.
 *
 * Exercise 2 of chapter 2 ("Processes: two things at once with fork()").
 *
 * pmap_run() starts one child process per item, all of them before it
 * waits for any, so the items are worked on at the same time. Item `i`'s
 * child calls the map function with `i` and the write end of a pipe of
 * its own, writes its result there, and ends. The parent reads each pipe
 * until end-of-file, reaps each child, and fills `results[i]` for item
 * `i`, whatever order the children finish in.
 *
 * The children share no memory with the parent (see "Separate memory:
 * copy-on-write"): the pipe is the only way a result comes back. A child
 * that crashes or exits with a non-zero code marks its own item failed;
 * the other items keep their results.
 *
 * Call pmap_run() from a single-threaded program (it forks), and only
 * from one thread at a time.
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [order] results[i] describes item i, whatever order the children
 *   finish in.
 * - [parallel] Every child is started before the parent reads from or
 *   waits for any of them: all the items run at the same time.
 * - [data] When item i succeeds, results[i].data holds every byte its
 *   child wrote, results[i].len of them, followed by an extra `'\0'`;
 *   it is never NULL, even for an empty result ("" with len 0), and it
 *   may itself contain `'\0'` bytes.
 * - [big] A child may write megabytes: the parent reads each pipe to
 *   its end before it reaps that child, so no child blocks forever on a
 *   full pipe.
 * - [status] results[i].ok is 1 when child i exited with code 0, else 0;
 *   results[i].code is its exit code (0 to 255), or -1 when a signal
 *   killed it; results[i].signo is that signal, or 0. Each item gets the
 *   status of its own child (`waitpid()` on child i), even when another
 *   child ends first.
 * - [exit-code] Child i exits with the low 8 bits of the value the map
 *   function returned, and the item is judged by that exit code: 7
 *   fails with code 7, while 256 arrives as 0 and succeeds like 0.
 * - [failed-item] A failed item has data NULL and len 0 (what its child
 *   wrote is discarded and freed); the other items keep their results,
 *   and pmap_run() returns how many items failed.
 * - [own-pipe] Every pipe end is closed in every process that does not
 *   use it: the parent keeps only the read ends (it closes each write
 *   end right after its fork()), and a child keeps only its own write
 *   end (it closes its read end and the read ends of earlier items'
 *   pipes that it inherited).
 * - [flush] pmap_run() flushes every stdio output stream before it
 *   forks, so text the caller left in a buffer is written once, before
 *   anything the children write.
 * - [exit] The children end with `_exit()`: they never run the caller's
 *   `atexit()` handlers.
 * - [eintr] A `read()` or `waitpid()` that a signal handler interrupts
 *   (`EINTR`) is resumed.
 * - [empty] With n = 0 pmap_run() returns 0 and starts no child; results
 *   may then be NULL.
 * - [einval] A NULL fn, or a NULL results while n > 0, gives -1 with
 *   `errno` `EINVAL` before anything else happens: no child is started
 *   and the results array is not touched.
 * - [fail-clean] On every other failure (`fflush()`, `pipe()`, `fork()`,
 *   memory, or a `read()` or `waitpid()` that fails with anything but
 *   `EINTR`) pmap_run() returns -1 with that `errno`, and then every
 *   results[i].data is NULL: the data of the items already collected is
 *   freed, so there is nothing to free. No child of the map is left:
 *   those already started are killed with SIGKILL and reaped, not
 *   waited for. Every item not collected yet (every item, when
 *   `fflush()`, `pipe()`, `fork()` or memory failed) holds {ok 0,
 *   code -1, signo 0, data NULL, len 0}.
 * - [free] pmap_free() frees every data and sets it to NULL and its len
 *   to 0, so a second call is harmless; with a NULL array it does
 *   nothing.
 */
#ifndef PMAP_H
#define PMAP_H

#include <stddef.h>

/**
 * @brief The work for one item, run in that item's child process.
 *
 * Write the item's result, any number of bytes (megabytes are fine), to
 * @p out_fd, then return. Do not close @p out_fd: the child's end closes
 * it. Anything the function changes in memory stays in the child.
 *
 * @param index   which item, 0 to n-1.
 * @param out_fd  the write end of this item's pipe.
 * @param ctx     the pointer given to pmap_run(): the child's copy of
 *                what it points to (typically the array of inputs).
 * @return the child's exit code: 0 when the item succeeded, 1 to 255 when
 *         it failed. Only the low 8 bits reach the parent, as with
 *         `_exit()`: 256 arrives as 0, a success, and 300 as 44.
 */
typedef int (*pmap_fn)(size_t index, int out_fd, void *ctx);

/**
 * @brief What became of one item.
 *
 * results[i] describes item i. The caller owns the array; pmap_result::data is
 * allocated by pmap_run() and released by pmap_free().
 */
typedef struct pmap_result {
    /** 1 when the child exited with code 0 (the item succeeded), 0
     *  otherwise. */
    int ok;
    /** The child's exit code (0 to 255), or -1 when a signal killed it. */
    int code;
    /** The signal that killed the child (SIGSEGV, SIGKILL, ...), or 0
     *  when it exited. */
    int signo;
    /** Everything the child wrote to its pipe, followed by an extra
     *  `'\0'` (so a text result is a C string); never NULL when
     *  pmap_result::ok is 1, even for an empty result. NULL when the item
     *  failed: what a failed child wrote is discarded. Allocated with
     *  malloc(); freed by pmap_free(). */
    char *data;
    /** How many bytes the child wrote (the `'\0'` not counted); 0 when
     *  the item failed. The result may itself contain `'\0'` bytes. */
    size_t len;
} pmap_result;

/**
 * @brief Run @p fn on items 0 to @p n - 1, each in a child process of its
 *        own, all at the same time, and collect the results in order.
 *
 * Flushes stdio before forking. The children end with `_exit()`. Every
 * pipe end is closed in every process that does not use it (the parent
 * keeps only the read ends; a child keeps only its own write end, and so
 * closes its read end and the read ends of earlier items' pipes that it
 * inherited), so the parent sees end-of-file on a pipe as soon as its
 * child ends, and no child holds descriptors that are not its own. The
 * parent reads each pipe to its end before it reaps that child, so a
 * child writing megabytes never blocks forever. Reads and waits that a
 * signal handler interrupts (`EINTR`) are resumed. Every child is reaped
 * before pmap_run() returns, on every path.
 *
 * Each item costs one child process and one open descriptor while the
 * map runs, so @p n is limited by the process and descriptor limits
 * (`ulimit -u`, `ulimit -n`).
 *
 * @param n        how many items; 0 is allowed and does nothing.
 * @param fn       the work for one item; must not be NULL.
 * @param ctx      passed to every call of @p fn; may be NULL.
 * @param results  an array of @p n results that pmap_run() fills in
 *                 (its previous content is overwritten, not freed); may
 *                 be NULL only when @p n is 0. Free the data with
 *                 pmap_free() after a successful call.
 * @return the number of failed items (0 to @p n) when every item was run;
 *         the other items' results are complete. -1 with `errno` set when
 *         the map could not be run. After every failure but `EINVAL`,
 *         every `results[i].data` is NULL (there is nothing to free) and
 *         no child of the map is left, running or unreaped (those already
 *         started are killed with SIGKILL and reaped):
 *         - `EINVAL`: @p fn is NULL, or @p results is NULL while @p n > 0;
 *           nothing is started and @p results is left as it was;
 *         - `EMFILE`, `ENFILE`: from `pipe()`, too many open descriptors;
 *         - `EAGAIN`, `ENOMEM`: from `fork()` or from memory allocation;
 *         - any `errno` of `fflush()` (`ENOSPC`, `EIO`, ...), `read()` or
 *           `waitpid()` (`ECHILD`: someone else reaped a child) other
 *           than `EINTR`.
 */
int pmap_run(size_t n, pmap_fn fn, void *ctx, pmap_result *results);

/**
 * @brief Free the data of @p n results filled in by pmap_run().
 *
 * Sets every `data` to NULL and `len` to 0, so calling it twice is
 * harmless. Does nothing when @p results is NULL.
 *
 * @param results  the array given to pmap_run(); the array itself is the
 *                 caller's and is not freed.
 * @param n        its length.
 */
void pmap_free(pmap_result *results, size_t n);

#endif
