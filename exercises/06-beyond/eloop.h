/**
 * @file eloop.h
 * @brief The event loop of chapter 4 (loop.h) on a second back end:
 *        epoll instead of select(). Linux only.
 *
 * Exercise 1 of chapter 6 ("Beyond select(): epoll, signals, children
 * and io_uring").
 *
 * The contract is loop.h's, unchanged: the same type, the same
 * functions, the same callbacks (this file includes 04-select/loop.h,
 * where each function is documented). A program written for loop.h
 * runs on eloop as it is, linked with eloop.c instead of loop.c, the
 * way redis builds its `ae` loop on ae_select.c or on ae_epoll.c. What
 * changes is how the loop waits:
 *
 *     loop_new() makes an epoll instance (epoll_create1());
 *     loop_watch() registers the descriptor with it once (epoll_ctl()),
 *         and changes the registration when called again;
 *     loop_unwatch() takes it out (EPOLL_CTL_DEL);
 *     each iteration makes one epoll_wait(), which hands back the ready
 *         descriptors only, then runs the callbacks and the due timers
 *         exactly as loop.h says.
 *
 * So nothing is rebuilt or scanned per iteration: an iteration costs
 * what its ready descriptors cost, however many idle ones are watched;
 * and there is no `FD_SETSIZE`: any descriptor number the process may
 * open (`RLIMIT_NOFILE`) can be watched. The loop registers descriptors
 * level-triggered (the default), so a descriptor that stays ready gets a
 * callback in every iteration, as with select(): loop.h's callbacks read
 * what they want and leave the rest for the next iteration.
 * (Edge-triggered reading is exercise 2, etfair.h.)
 *
 * Two promises of loop.h change, because epoll sees descriptors
 * differently: [fd-setsize] becomes [any-fd], and [ebadf] becomes
 * [closed]. epoll registers the open file behind a descriptor, not its
 * number: close() takes it out of the epoll set only when no other copy
 * of it is open, silently, and leaves it in when a copy made by dup()
 * or fork() is still open. The loop cannot see either, so the rule of
 * loop.h is now a must: loop_unwatch() first, close() after.
 *
 * The timers are loop.h's: keep them on the ::timerq of chapter 4
 * (04-select/timerq.h). The tests link the reference solution of it in
 * the workbook, and your own exercises/04-select/timerq.c in a handout
 * (`make handout`): there it is graded first.
 *
 * Promises (each checked by the tests that name its tag). The tests are
 * chapter 4's loop suite, run on this back end, and the tests of what
 * only epoll does:
 *
 * - [watch] A watched descriptor's callback is called when epoll_wait()
 *   reports it ready for an event it is watched for, with those events
 *   in `events`, once per iteration, with the context given to
 *   loop_watch(). A hang-up or an error (epoll's `EPOLLHUP` and
 *   `EPOLLERR`, which it reports whatever the descriptor is watched for:
 *   a pipe whose writer or reader is closed) counts as ready for both
 *   `LOOP_READ` and `LOOP_WRITE`, as select() would say it: the
 *   callback gets whichever of the two it is watched for, and the
 *   read() or write() it then makes does not block (it returns 0 or
 *   fails).
 * - [level] A descriptor that stays ready (its callback read part of
 *   what was there) gets a callback in the next iteration too: the loop
 *   is level-triggered, like select().
 * - [rewatch] loop_watch() on a descriptor already watched replaces its
 *   events, callback and context; from then on only the new ones are
 *   used.
 * - [unwatch] After loop_unwatch() the descriptor's callback is never
 *   called again, even when the descriptor is ready, and even when a
 *   copy of it (dup(), fork()) stays open after it is closed and a new
 *   descriptor gets its number: loop_unwatch() takes it out of the
 *   epoll set.
 * - [same-iteration] A descriptor unwatched during an iteration gets no
 *   callback later in that iteration, even when epoll_wait() reported
 *   it ready, and even when a callback closed it, made a new descriptor
 *   with the same number (dup2(), open()) and watched that one: the new
 *   watch is served from the next iteration on.
 * - [callback-closes] A callback may unwatch and close its own
 *   descriptor or any other, and may watch new ones.
 * - [any-fd] Any open descriptor epoll can wait for is accepted,
 *   whatever its number: 2,000 and above once `RLIMIT_NOFILE` allows
 *   them, also when a callback watches it; there is no `FD_SETSIZE`.
 * - [flat-wait] The cost of an iteration does not grow with the
 *   descriptors that are watched but idle: with 5,000 of them, an
 *   iteration makes one epoll_wait(), no epoll_ctl(), and costs about
 *   the CPU time it costs with none.
 * - [closed] A watched descriptor closed without loop_unwatch() (the
 *   caller's mistake) gets no callback; its watch stays until
 *   loop_unwatch(), which returns 0 (loop_run() does not return for
 *   want of watches before it). A new descriptor that got its number
 *   can be watched, with loop_watch(), and is served.
 * - [bad-args] Invalid arguments fail with `EINVAL`, unknown descriptors
 *   and timers with `ENOENT`, a descriptor that is not open with
 *   `EBADF`, one epoll cannot wait for (a regular file, a directory)
 *   with `EPERM`, and loop_run() from a callback of its own loop with
 *   `EBUSY`; a failed call changes nothing.
 * - [eintr] A signal that interrupts epoll_wait() (`EINTR`) is not an
 *   error: the loop calls no callback for that wait and waits again,
 *   for the time left until the next timer.
 * - [timers] A timer's callback runs once, no earlier than its delay
 *   after loop_add_timer(), on `CLOCK_MONOTONIC`: setting the date
 *   (`CLOCK_REALTIME`) makes no timer run early or late. Timers run in
 *   the order of their deadlines.
 * - [cancel] A cancelled timer never runs.
 * - [timer-callbacks] A timer's callback may add and cancel timers and
 *   watch and unwatch descriptors. A timer added by any callback, even
 *   with a delay of 0, runs in a later iteration, never the current
 *   one: its deadline is after the iteration's "now", read right after
 *   epoll_wait() returned.
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
 *   away, for a descriptor with no timer pending, or for a descriptor
 *   that is writable but watched only for reading, or readable but
 *   watched only for writing) it sleeps in epoll_wait() and uses almost
 *   no CPU time.
 * - [clock-fails] When the clock cannot be read (clock_gettime()
 *   fails), loop_add_timer() returns -1 with the errno of
 *   clock_gettime() and adds no timer, and loop_run() returns -1 with it
 *   and runs no timer it cannot tell is due; what is watched and pending
 *   stays, and a later loop_run() goes on with it.
 * - [free] loop_free() drops what is watched and pending without calling
 *   any callback, closes the epoll instance, and closes no watched
 *   descriptor.
 * - [no-memory] When an allocation fails, loop_new() returns NULL and
 *   loop_add_timer() and loop_watch() -1, all with `ENOMEM`, and nothing
 *   is left allocated (the epoll instance closed too): the failed
 *   loop_add_timer() adds no timer, the failed loop_watch() watches
 *   nothing, and neither changes anything else. When no descriptor is
 *   left for the epoll instance, loop_new() returns NULL with `EMFILE`
 *   and keeps no memory.
 * - [wait-fails] When epoll_wait() fails with an error other than
 *   `EINTR`, loop_run() returns -1 with its errno and calls no callback
 *   for that wait; what is watched and pending stays, and a later
 *   loop_run() goes on with it.
 * - [bounded] The memory a loop holds follows what is watched and
 *   pending: timers added and cancelled one after the other, however
 *   many, leave it as it was.
 *
 * How the functions of loop.h read on this back end:
 *
 * - loop_new(): NULL with the errno of epoll_create1() (`EMFILE`,
 *   `ENOMEM`) when it fails. The epoll descriptor is close-on-exec.
 * - loop_watch(): @p fd from 0 up, no upper bound but the process's; a
 *   descriptor that is not open fails with `EBADF`, one epoll refuses
 *   with `EPERM`, a table that cannot grow with `ENOMEM`.
 * - loop_unwatch(): 0 for every watched descriptor, open or not.
 * - loop_run(): never fails with `EBADF` (see [closed]); may fail with
 *   another errno of epoll_wait() or clock_gettime().
 * - Which thread may call what, and who owns what: as in loop.h.
 */
#ifndef ELOOP_H
#define ELOOP_H

#include "04-select/loop.h"

/// @cond ELOOP_RESTATED
/* The functions of loop.h, declared again: these are the functions
 * eloop.c defines (the grader reads a contract's functions from its own
 * header). Each is documented in loop.h. */
loop *loop_new(void);
void loop_free(loop *l);
int loop_watch(loop *l, int fd, int events, loop_io_cb on_io, void *ctx);
int loop_unwatch(loop *l, int fd);
long loop_add_timer(loop *l, long delay_ms, loop_timer_cb on_timer, void *ctx);
int loop_cancel_timer(loop *l, long id);
int loop_run(loop *l);
void loop_stop(loop *l);
/// @endcond

#endif
