/**
 * @file offload.h
 * @brief Work on a pool of threads, completion on the event loop: the
 *        split of libuv's uv_queue_work().
 *
 * Exercise 2 of chapter 5 ("Told when it is done: callback completion").
 *
 * A loop callback must not block, yet some work does: a hash of a large
 * file, a DNS lookup, a compression. offload_submit() hands such work to
 * one of the offload's worker threads and returns at once. The worker
 * calls `work(req)`; once it has returned, the loop's thread calls
 * `on_done(o, req, status, ctx)`, woken through a descriptor of the
 * offload's own that the loop watches.
 * The work runs where blocking is harmless; the result comes back where
 * the program's state lives, so `on_done` needs no lock.
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [worker-thread] `work` runs on one of the offload's worker threads,
 *   never on the loop's thread; up to `nworkers` requests run at once.
 * - [fifo] Requests start in the order they were submitted: those
 *   beyond `nworkers` wait in a queue, and a worker that becomes free
 *   takes the one submitted first.
 * - [loop-thread] `on_done` runs on the thread that runs loop_run(),
 *   from loop_run(); never on a worker, and never inside
 *   offload_submit() or offload_cancel().
 * - [status] `on_done` gets what `work` returned (0 or an error number)
 *   as `status`, unchanged, with the `req` and `ctx` given to
 *   offload_submit().
 * - [exactly-once] Every accepted submission gets exactly one `on_done`,
 *   whatever races: thousands of submissions and cancellations at once,
 *   cancels that arrive while the work starts or just after it ended.
 * - [cancel] offload_cancel() of a request that has not started returns
 *   0; its `work` never runs and its `on_done` runs later with
 *   `ECANCELED`. Of a request that started or finished it fails with
 *   `EBUSY` and changes nothing; of an unknown id, or of a request
 *   whose `on_done` has been called (from inside that `on_done`
 *   too), with `ENOENT`.
 * - [keeps-running] loop_run() does not return while a submission's
 *   `on_done` has not run, and an offload with nothing pending does not
 *   keep loop_run() running.
 * - [no-spin] While work runs, the loop sleeps in select() between
 *   completions and uses almost no CPU time.
 * - [free] offload_free() ends every worker thread, closes every
 *   descriptor and frees every request record: no thread, descriptor or
 *   byte is left behind.
 * - [fails-cleanly] A failed offload_new() leaves no thread,
 *   descriptor or memory behind, whichever step failed (an allocation
 *   included, and a fcntl() that sets the descriptors' flags: a
 *   descriptor without its flags is a failure, not an offload); a
 *   failed offload_submit() accepts nothing: neither callback runs, and
 *   nothing is left pending on the loop.
 * - [fd-flags] The wake-up descriptors are non-blocking (a worker
 *   never waits for the loop to read) and close-on-exec (a program the
 *   process runs with exec does not inherit them).
 * - [eintr] A wake-up write() that a signal interrupts (`EINTR`) is
 *   made again, so the completion still reaches the loop; whatever
 *   `errno` the work leaves behind changes nothing.
 * - [bad-args] Invalid arguments fail with `EINVAL` as each function
 *   says, and change nothing.
 *
 * Memory: `req` and `ctx` are the caller's. The offload never reads or
 * frees what they point to; `req` must stay valid until `on_done` has
 * run (`on_done` is where the caller frees it, if it is to be freed).
 *
 * Errors are reported the system-call way: -1 (or NULL) with `errno`
 * set.
 *
 * Which thread may call what: every function, from the loop's thread
 * only (before, during or after loop_run(); `on_done` may submit and
 * cancel). `work` runs on a worker and must not call any function of
 * this header or of loop.h.
 */
#ifndef OFFLOAD_H
#define OFFLOAD_H

#include "04-select/loop.h"

#include <stddef.h>

/**
 * @brief A pool of worker threads that completes on a loop. Opaque.
 *
 * Made by offload_new(), freed by offload_free().
 */
typedef struct offload offload;

/**
 * @brief The work of one request, run on a worker thread.
 *
 * May block: it holds one worker, not the loop. It runs at the same
 * time as the loop's callbacks and other requests' work, so anything it
 * shares with them needs a lock or an atomic; whatever it writes into
 * @p req is visible to `on_done` without one (the completion queue's
 * lock orders the two).
 *
 * @param req  the request given to offload_submit(), unchanged.
 * @return 0 on success or an error number; passed to `on_done` as its
 *         status.
 */
typedef int (*offload_work_fn)(void *req);

/**
 * @brief Called on the loop's thread once the request is complete.
 *
 * Runs from loop_run() (or from offload_free(), see there), exactly once
 * per accepted submission; it must not block. It may call
 * offload_submit() and offload_cancel() and any function of loop.h that
 * a loop callback may call, and may free @p req; it must not call
 * offload_free().
 *
 * @param o       the offload the request was submitted to.
 * @param req     the request given to offload_submit(), unchanged.
 * @param status  what `work` returned, or `ECANCELED` when the request
 *                was cancelled before it started (then `work` never
 *                ran).
 * @param ctx     the context given to offload_submit(), unchanged.
 */
typedef void (*offload_done_fn)(offload *o, void *req, int status, void *ctx);

/**
 * @brief Start @p nworkers worker threads that complete on @p l.
 *
 * Opens a wake-up descriptor (a pipe; not watched until something is
 * submitted) and starts every worker; they sleep until work arrives. A
 * failed call leaves no thread, descriptor or memory behind.
 *
 * @param l         the loop that will run the `on_done` callbacks; must
 *                  not be NULL and must outlive the offload.
 * @param nworkers  how many worker threads, that is how many requests
 *                  can run at once; at least 1.
 * @return the offload, to be freed with offload_free(); NULL with errno
 *         set:
 *         - `EINVAL`: @p l is NULL or @p nworkers is 0;
 *         - `ENOMEM`: no memory;
 *         - `EMFILE`, `ENFILE`: no descriptor left for the pipe;
 *         - the errno of a fcntl() that makes the pipe non-blocking and
 *           close-on-exec;
 *         - the error number of pthread_create() (`EAGAIN`: the system
 *           would not start another thread) or of a pthread mutex or
 *           condition variable initialisation.
 */
offload *offload_new(loop *l, size_t nworkers);

/**
 * @brief Queue a request: a worker will run `work(req)`, then the loop
 *        `on_done(o, req, status, ctx)`.
 *
 * Returns at once, never waiting for a worker: requests beyond
 * `nworkers` wait in an unbounded queue, first submitted first started
 * ([fifo]).
 * From the loop's thread only, `on_done` included.
 *
 * @param o        the offload; must not be NULL.
 * @param work     the work; must not be NULL.
 * @param on_done  the completion; must not be NULL.
 * @param req      passed to @p work and @p on_done unchanged; may be
 *                 NULL. Stays the caller's (see the file's description).
 * @param ctx      passed to @p on_done unchanged; may be NULL.
 * @return the request's id, greater than 0 and never given to another
 *         request of this offload; -1 with errno set, and then neither
 *         callback will run:
 *         - `EINVAL`: @p o, @p work or @p on_done is NULL;
 *         - `ENOMEM`: no memory for the request;
 *         - `EPIPE`: offload_free() has begun (a submit from an
 *           `on_done` that offload_free() runs);
 *         - the errno of loop_watch().
 */
long offload_submit(offload *o, offload_work_fn work, offload_done_fn on_done,
                    void *req, void *ctx);

/**
 * @brief Cancel a request that has not started.
 *
 * A request still waiting for a worker is taken off the queue: its
 * `work` never runs, and its `on_done` runs later, on the loop's thread
 * from loop_run(), with `ECANCELED` (never inside this call). A request
 * whose work has started cannot be stopped; it completes with its own
 * status. From the loop's thread only.
 *
 * @param o   the offload; must not be NULL.
 * @param id  an id returned by offload_submit() on @p o.
 * @return 0 when the request had not started and is cancelled; -1 with
 *         errno set, and nothing changes:
 *         - `EBUSY`: its work started or finished, or it was cancelled
 *           already, and its `on_done` has not run yet;
 *         - `ENOENT`: no such request: its `on_done` has been called
 *           (a request's own `on_done` that cancels it gets `ENOENT`),
 *           or no request had this id;
 *         - `EINVAL`: @p o is NULL.
 */
int offload_cancel(offload *o, long id);

/**
 * @brief Finish every request, end every worker, free the offload.
 *
 * Requests that have not started are cancelled; the workers finish the
 * work that is running and are joined; the descriptor is unwatched.
 * Then every `on_done` not yet run is called, on the calling thread,
 * inside this call (with `ECANCELED` for the cancelled requests), so
 * that every submission still gets exactly one; a submit from those
 * callbacks fails with `EPIPE`. Last, the descriptor is closed and
 * everything is freed: no thread of the offload is left.
 *
 * From the loop's thread, when loop_run() is not running (usually once
 * it returned), never from a callback.
 *
 * @param o  the offload; NULL does nothing.
 */
void offload_free(offload *o);

#endif
