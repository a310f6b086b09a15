/**
 * @file loop.h
 * @brief An event loop on select(): callbacks for ready descriptors and
 *        for timers, in one thread.
 *
 * Exercise 3 of chapter 4 ("One thread, many waits: select() event
 * loops").
 *
 * The program says what it waits for (this descriptor readable, that one
 * writable, this timer in 30 ms), with a callback for each, and then
 * calls loop_run(). The loop does the rest, one iteration after the
 * other:
 *
 *     wait in select() for the watched descriptors, at most until the
 *         earliest timer is due;
 *     call the callback of each descriptor select() reported ready;
 *     call the callback of each timer now due, earliest first.
 *
 * It is the shape of redis's `ae` and of libuv, in a few hundred lines.
 * Callbacks change what is watched as they go: a server's accept
 * callback watches the new client, a client's callback unwatches and
 * closes it when it leaves. loop_run() returns when nothing is left to
 * wait for, or when a callback calls loop_stop().
 *
 * An iteration is one select() call and the callbacks that follow it,
 * first for descriptors, then for due timers. Each iteration reads the
 * clock once, right after select() returns: "now" for that iteration.
 * The timers due then are the ones that run in it.
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [watch] A watched descriptor's callback is called when select()
 *   reports it ready for an event it is watched for, with those events
 *   in `events`, once per iteration, with the context given to
 *   loop_watch().
 * - [rewatch] loop_watch() on a descriptor already watched replaces its
 *   events, callback and context; from then on only the new ones are
 *   used.
 * - [unwatch] After loop_unwatch() the descriptor's callback is never
 *   called again, even when the descriptor is ready.
 * - [same-iteration] A descriptor unwatched during an iteration gets no
 *   callback later in that iteration, even when select() reported it
 *   ready, and even when a callback closed it, made a new descriptor
 *   with the same number (dup2(), open()) and watched that one: the new
 *   watch is served from the next iteration on.
 * - [callback-closes] A callback may unwatch and close its own
 *   descriptor or any other, and may watch new ones.
 * - [fd-setsize] A descriptor at or above `FD_SETSIZE` is refused with
 *   `EINVAL`: select() cannot wait for it, and nothing is written past
 *   the end of an `fd_set`.
 * - [bad-args] Invalid arguments fail with `EINVAL`, unknown descriptors
 *   and timers with `ENOENT`, and loop_run() from a callback of its own
 *   loop with `EBUSY`, as each function says; a failed call changes
 *   nothing.
 * - [eintr] A signal that interrupts select() (`EINTR`) is not an error:
 *   the loop calls no callback for that select() (its sets say nothing)
 *   and waits again, for the time left until the next timer.
 * - [ebadf] A watched descriptor that was closed without loop_unwatch()
 *   makes loop_run() return -1 with `EBADF`.
 * - [timers] A timer's callback runs once, no earlier than its delay
 *   after loop_add_timer(), on `CLOCK_MONOTONIC`: setting the date
 *   (`CLOCK_REALTIME`) makes no timer run early or late. Timers run in
 *   the order of their deadlines.
 * - [cancel] A cancelled timer never runs.
 * - [timer-callbacks] A timer's callback may add and cancel timers and
 *   watch and unwatch descriptors. A timer added by any callback (of a
 *   descriptor or of a timer), even with a delay of 0, runs in a later
 *   iteration, never the current one: its deadline is after the
 *   iteration's "now", read right after select() returned.
 * - [timers-and-io] Timers run whether or not descriptors are ready:
 *   a descriptor that is always ready does not keep a due timer from
 *   running, and a timer does not keep ready descriptors waiting.
 * - [run-ends] loop_run() returns 0 once no descriptor is watched and no
 *   timer is pending, and not before.
 * - [stop] A callback that calls loop_stop() makes loop_run() return 0
 *   at the end of the current iteration: the callbacks of that iteration
 *   that remain (descriptors and due timers) still run. What is watched
 *   and pending stays, and a later loop_run() goes on with it.
 * - [no-spin] The loop does not spin: while it waits (for a timer 200 ms
 *   away, or for a descriptor that is writable but watched only for
 *   reading) it sleeps in select() and uses almost no CPU time.
 * - [clock-fails] When the clock cannot be read (clock_gettime()
 *   fails), loop_add_timer() returns -1 with the errno of
 *   clock_gettime() and adds no timer, and loop_run() returns -1 with it
 *   and runs no timer it cannot tell is due; what is watched and pending
 *   stays, and a later loop_run() goes on with it.
 * - [free] loop_free() drops what is watched and pending without calling
 *   any callback, and closes no descriptor.
 * - [no-memory] When an allocation fails, loop_new() returns NULL and
 *   loop_add_timer() -1, both with `ENOMEM`, and nothing is left
 *   allocated: the failed loop_add_timer() adds no timer and changes
 *   nothing else.
 * - [bounded] The memory a loop holds follows what is watched and
 *   pending: timers added and cancelled one after the other, however
 *   many, leave it as it was.
 *
 * Errors are reported the system-call way: -1 (or NULL) with `errno` set.
 *
 * Which thread may call what: a ::loop is not thread-safe. Every
 * function, loop_stop() included, is called from one thread: the one
 * that runs loop_run(), from its callbacks, or from that thread before
 * and after loop_run(). Another thread that wants the loop to do
 * something writes to a pipe the loop watches (the self-pipe trick).
 * Signal handlers must not call these functions either.
 */
#ifndef LOOP_H
#define LOOP_H

/**
 * @brief An event loop. Opaque: use the functions below.
 *
 * Made by loop_new(), freed by loop_free().
 */
typedef struct loop loop;

/** @brief The events a descriptor can be watched for; combine with `|`. */
enum {
    LOOP_READ = 1, /**< readable: read() or accept() would not block */
    LOOP_WRITE = 2 /**< writable: write() would take at least one byte */
};

/**
 * @brief Called by loop_run() when a watched descriptor is ready.
 *
 * Runs in the loop's thread, between two select() calls; everything else
 * waits until it returns, so it must not block (use non-blocking
 * descriptors, read what is there, write what fits). It may call any
 * function of this header on the same loop except loop_run() and
 * loop_free().
 *
 * @param l       the loop that called it.
 * @param fd      the ready descriptor.
 * @param events  the events it is ready for among those it is watched
 *                for: `LOOP_READ`, `LOOP_WRITE` or both; never 0.
 *                "Ready" means the next call would not block, not that
 *                it will succeed: a read() may still return 0 (end of
 *                file) or fail.
 * @param ctx     the context given to loop_watch(), unchanged.
 */
typedef void (*loop_io_cb)(loop *l, int fd, int events, void *ctx);

/**
 * @brief Called by loop_run() when a timer is due.
 *
 * Runs in the loop's thread, with the same rules as ::loop_io_cb. The
 * timer is no longer pending when its callback starts (cancelling it
 * then fails with `ENOENT`); to repeat, the callback adds a new timer.
 *
 * @param l    the loop that called it.
 * @param ctx  the context given to loop_add_timer(), unchanged.
 */
typedef void (*loop_timer_cb)(loop *l, void *ctx);

/**
 * @brief Make a loop that watches nothing and has no timer.
 * @return the loop, to be freed with loop_free(); NULL with errno
 *         `ENOMEM` when there is no memory.
 */
loop *loop_new(void);

/**
 * @brief Free a loop.
 *
 * Watched descriptors are not closed (they belong to whoever watched
 * them), and pending timers are dropped without running. Contexts are
 * never read or freed. Not from a callback of the loop, nor while
 * loop_run() runs.
 *
 * @param l  the loop; NULL does nothing.
 */
void loop_free(loop *l);

/**
 * @brief Watch @p fd for @p events, replacing any earlier watch of it.
 *
 * From the next select() on, @p on_io is called each time @p fd is ready
 * for one of @p events. Calling it again for the same descriptor
 * replaces the events, callback and context (to stop asking for
 * `LOOP_WRITE` once there is nothing left to write, say). A descriptor
 * that was not watched when the current iteration began (new, or
 * unwatched and watched again during it) is served from the next
 * iteration on.
 *
 * Watch for `LOOP_WRITE` only while there is something to write: a
 * socket is writable almost all the time, so a descriptor watched for it
 * with nothing to send makes select() return at once, again and again.
 *
 * The descriptor stays the caller's: the loop never reads, writes or
 * closes it. Close it only after loop_unwatch().
 *
 * @param l      the loop; must not be NULL.
 * @param fd     the descriptor; from 0 to `FD_SETSIZE` - 1.
 * @param events `LOOP_READ`, `LOOP_WRITE` or both.
 * @param on_io  the callback; must not be NULL.
 * @param ctx    passed to @p on_io as is; may be NULL.
 * @return 0 on success; -1 with errno `EINVAL` when @p l or @p on_io is
 *         NULL, @p fd is negative or at least `FD_SETSIZE`, or
 *         @p events is 0 or has a bit other than `LOOP_READ` and
 *         `LOOP_WRITE`; nothing changes then.
 */
int loop_watch(loop *l, int fd, int events, loop_io_cb on_io, void *ctx);

/**
 * @brief Stop watching @p fd.
 *
 * Its callback is not called again, not even later in the current
 * iteration. The descriptor is not closed: close it after this call.
 *
 * @param l   the loop; must not be NULL.
 * @param fd  the descriptor.
 * @return 0 on success; -1 with errno set:
 *         - `ENOENT`: @p fd is not watched (any number, negative and
 *           too large ones included);
 *         - `EINVAL`: @p l is NULL.
 */
int loop_unwatch(loop *l, int fd);

/**
 * @brief Run @p on_timer once, @p delay_ms milliseconds from now.
 *
 * The deadline is now plus @p delay_ms, on `CLOCK_MONOTONIC`, which
 * does not jump when someone sets the date. Each iteration reads the
 * clock once, right after select() returns, and runs the timers whose
 * deadline is at or before that reading: so the callback never runs
 * before its deadline, and a timer added by a callback (an I/O callback
 * or a timer's, even with a delay of 0) runs in a later iteration, not
 * the current one. Called outside loop_run(), a delay of 0 runs it in
 * the first iteration. Timers run in the order of their deadlines (equal
 * deadlines in the order they were added).
 *
 * @param l         the loop; must not be NULL.
 * @param delay_ms  how long from now, in milliseconds; 0 or more.
 * @param on_timer  the callback; must not be NULL.
 * @param ctx       passed to @p on_timer as is; may be NULL.
 * @return the timer's id, greater than 0 and never given to another
 *         timer of this loop (for loop_cancel_timer()); -1 with errno
 *         set:
 *         - `EINVAL`: @p l or @p on_timer is NULL, or @p delay_ms is
 *           negative;
 *         - `ENOMEM`: no memory (no timer was added);
 *         - any errno of clock_gettime(): the clock could not be read,
 *           so there is no "now" to count the delay from (no timer was
 *           added).
 */
long loop_add_timer(loop *l, long delay_ms, loop_timer_cb on_timer, void *ctx);

/**
 * @brief Cancel a pending timer: its callback will not run.
 * @param l   the loop; must not be NULL.
 * @param id  an id from loop_add_timer() on this loop.
 * @return 0 when the timer was pending and is cancelled; -1 with errno
 *         set:
 *         - `ENOENT`: no pending timer has this id (it ran, its callback
 *           is running, it was cancelled, or it never existed);
 *         - `EINVAL`: @p l is NULL.
 */
int loop_cancel_timer(loop *l, long id);

/**
 * @brief Run the loop: wait, call the callbacks, again and again.
 *
 * Each iteration waits in select() for the watched descriptors, for at
 * most the time until the earliest pending timer is due (forever when
 * no timer is pending). Then it calls the callback of each descriptor
 * that select() reported ready (see ::loop_io_cb), then the callback of
 * each timer now due, earliest first.
 *
 * Returns 0 before an iteration when no descriptor is watched and no
 * timer is pending, or when a callback called loop_stop() during the
 * iteration just finished. A signal that interrupts select() (`EINTR`)
 * is not an error: the loop waits again.
 *
 * @param l  the loop; must not be NULL.
 * @return 0 as above; -1 with errno set:
 *         - `EBADF`: a watched descriptor is not open (it was closed
 *           without loop_unwatch()); the loop is left as it was, and
 *           loop_run() can be called again once it is unwatched;
 *         - `EINVAL`: @p l is NULL;
 *         - `EBUSY`: called from a callback of this loop (it is already
 *           running);
 *         - another errno of select() or clock_gettime(); what is
 *           watched and pending stays, as for `EBADF`.
 */
int loop_run(loop *l);

/**
 * @brief Make loop_run() return at the end of the current iteration.
 *
 * Called from a callback: the callbacks of the current iteration that
 * remain still run, then loop_run() returns 0. Watches and timers are
 * kept; loop_run() can be called again. Called when loop_run() is not
 * running, it does nothing. From the loop's thread only (see the file's
 * description).
 *
 * @param l  the loop; NULL does nothing.
 */
void loop_stop(loop *l);

#endif
