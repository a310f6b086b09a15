/**
 * @file cchan.h
 * @brief A completion channel: any thread posts items, the event loop's
 *        thread receives them, in order, through a callback.
 *
 * Exercise 1 of chapter 5 ("Told when it is done: callback completion").
 *
 * The loop of chapter 4 (loop.h) sleeps in select(), so a thread that
 * wants to hand it something cannot just put it in a list: nobody would
 * look at the list until some descriptor happened to be ready. A channel
 * is the way in: cchan_post() queues an item, from any thread, and wakes
 * the loop through a descriptor of the channel's own that the loop
 * watches; the loop's thread then calls `on_item` with the item.
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [order] Every posted item is delivered exactly once, in the order
 *   the cchan_post() calls took effect: the items of one thread arrive
 *   in the order that thread posted them, whatever other threads post
 *   meanwhile.
 * - [loop-thread] `on_item` runs on the thread that runs loop_run(),
 *   from loop_run(); never inside cchan_post(), not even when the loop's
 *   own thread posts.
 * - [from-callback] `on_item` may post to its own channel; such an item
 *   is delivered after the items already queued, in a later call of the
 *   loop's callback, so a callback that always posts again does not keep
 *   the loop from serving its other descriptors and timers.
 * - [coalesce] Posting stays cheap while the loop is busy: 100,000
 *   quick posts cost far fewer than 100,000 write() calls on the
 *   wake-up descriptor.
 * - [no-lost-wakeup] No item waits for the next post: one posted while
 *   the loop is between taking the queue and going back to sleep is
 *   still delivered without another post.
 * - [no-spin] While nothing is posted the loop sleeps in select() and
 *   uses almost no CPU time.
 * - [close] After cchan_close() a post fails with `EPIPE`; the items
 *   posted before it are still delivered, in order, and then the channel
 *   stops watching its descriptor, so loop_run() can return. Until then
 *   an open channel keeps loop_run() running.
 * - [free] cchan_free() closes the channel's descriptors and frees its
 *   memory; the items themselves belong to the caller and are never
 *   freed.
 * - [fd-flags] The wake-up descriptors are non-blocking (a post never
 *   waits for the loop to read) and close-on-exec (a program the process
 *   runs with exec does not inherit them).
 * - [fails-cleanly] A failed cchan_new() leaves nothing open or
 *   allocated, whichever step failed (loop_watch() included, and a
 *   fcntl() that sets the descriptors' flags: a descriptor without its
 *   flags is a failure, not a channel); a failed cchan_post() queues
 *   nothing, and its item is never delivered.
 * - [eintr] A wake-up write() that a signal interrupts (`EINTR`) is
 *   made again, so the post still succeeds; whatever `errno` held
 *   before a call changes nothing.
 * - [bad-args] Invalid arguments fail with `EINVAL` as each function
 *   says, and change nothing.
 *
 * Errors: cchan_new() returns NULL with `errno` set; the other functions
 * return 0 or an error number, the pthread way.
 *
 * Which thread may call what: cchan_post() from any thread, any number
 * at once, the loop's thread and `on_item` included. cchan_new(),
 * cchan_close() and cchan_free() from the loop's thread only (before,
 * after or during loop_run(), from its callbacks or not), like every
 * function of loop.h.
 */
#ifndef CCHAN_H
#define CCHAN_H

#include "04-select/loop.h"

/**
 * @brief A completion channel. Opaque: use the functions below.
 *
 * Made by cchan_new(), freed by cchan_free().
 */
typedef struct cchan cchan;

/**
 * @brief Called on the loop's thread for each posted item, in order.
 *
 * Runs from loop_run(), like a ::loop_io_cb: it must not block. It may
 * call cchan_post() and cchan_close() on its channel and any function of
 * loop.h that a loop callback may call; it must not call cchan_free() on
 * its own channel.
 *
 * @param c     the channel the item was posted to.
 * @param item  the pointer given to cchan_post(), unchanged (it may be
 *              NULL). The channel never reads or frees what it points to.
 * @param ctx   the context given to cchan_new(), unchanged.
 */
typedef void (*cchan_cb)(cchan *c, void *item, void *ctx);

/**
 * @brief Make a channel whose items are delivered to @p on_item on @p l.
 *
 * Opens the wake-up descriptor (a pipe, or on Linux an eventfd;
 * non-blocking and close-on-exec, see [fd-flags]) and watches it on @p l
 * for reading, from now until the channel is closed and drained. Loop
 * thread only.
 *
 * @param l        the loop that will deliver the items; must not be NULL
 *                 and must outlive the channel.
 * @param on_item  called for each item; must not be NULL.
 * @param ctx      passed to @p on_item as is; may be NULL.
 * @return the channel, to be freed with cchan_free(); NULL with errno
 *         set, and nothing left open or allocated:
 *         - `EINVAL`: @p l or @p on_item is NULL;
 *         - `ENOMEM`: no memory;
 *         - `EMFILE`, `ENFILE`: no descriptor left for the pipe;
 *         - the error number of a pthread mutex initialisation, the
 *           errno of a fcntl() that sets the descriptors' flags, or the
 *           errno of loop_watch() (`EINVAL`: the descriptor is at or
 *           above `FD_SETSIZE`).
 */
cchan *cchan_new(loop *l, cchan_cb on_item, void *ctx);

/**
 * @brief Queue @p item for delivery on the loop's thread.
 *
 * Returns at once: it never waits for the loop, and `on_item` is never
 * called inside it. Any thread may call it, several at once.
 *
 * @param c     the channel; must not be NULL, and must not be freed
 *              while a call is in progress: stop (join) the posting
 *              threads before cchan_free().
 * @param item  any pointer, NULL included; it stays the caller's and
 *              must stay valid until `on_item` has received it.
 * @return 0 when the item is queued; otherwise an error number, and the
 *         item will not be delivered:
 *         - `EINVAL`: @p c is NULL;
 *         - `EPIPE`: the channel is closed;
 *         - `ENOMEM`: no memory to queue the item;
 *         - the errno of a failed write() to the wake-up descriptor
 *           (`EINTR` excepted: an interrupted write() is made again).
 */
int cchan_post(cchan *c, void *item);

/**
 * @brief Refuse further posts; deliver what is queued, then let go.
 *
 * From now on cchan_post() fails with `EPIPE`. The items posted before
 * are still delivered, in order, in later iterations of the loop; once
 * the last is delivered (at once when none is queued) the channel stops
 * watching its descriptor, and loop_run() can return when nothing else
 * is watched or pending. Loop thread only; `on_item` may call it.
 *
 * @param c  the channel.
 * @return 0; closing a closed channel again also returns 0 and does
 *         nothing; `EINVAL` when @p c is NULL.
 */
int cchan_close(cchan *c);

/**
 * @brief Free the channel and close its descriptors.
 *
 * Closes the channel first if it is open. Items still queued are
 * dropped without calling `on_item`; the items themselves are not freed
 * (they are the caller's). Loop thread only, not from `on_item` of this
 * channel, and only when no other thread will post to it again.
 *
 * @param c  the channel; NULL does nothing.
 */
void cchan_free(cchan *c);

#endif
