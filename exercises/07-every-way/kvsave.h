/**
 * @file kvsave.h
 * @brief SAVE for the key-value server: a snapshot of one instant,
 *        written to disk on the pool while the loop keeps serving.
 *
 * Exercise 2 of chapter 7's capstone ("The same job, every way").
 *
 * The key-value server of exercise 1 (kv.h) calls a ::kv_save_fn when a
 * client sends `SAVE`, and answers that client nothing until
 * kv_save_done() is called. kvsave_start() is that function. It takes a
 * copy of every key and value as they are at that instant (with
 * kv_each(), on the loop's thread), hands the slow part to the chapter 5
 * offload (offload.h): write the copy to `PATH.tmp`, fsync() it, rename()
 * it to `PATH`, fsync() the directory that holds `PATH`; and when that is
 * done, back on the loop's thread, calls kv_save_done() once with the
 * outcome. Meanwhile the loop serves every client, the one that sent
 * `SAVE` included (its later requests are applied; their replies follow
 * the SAVE's, as kv.h says).
 *
 * The file (the tests compare it byte for byte): for every key, in
 * increasing order of its bytes (memcmp() order; of two keys where one
 * is the start of the other, the shorter first), the RESP command that
 * sets it:
 *
 * `*3\r\n$3\r\nSET\r\n$K\r\nKEY\r\n$V\r\nVALUE\r\n`
 *
 * where K and V are the lengths of KEY and VALUE in decimal without
 * leading zeros, and KEY and VALUE the raw bytes (any byte, `\0` and
 * `\r\n` included). No other byte: a store with no
 * key gives an empty file. The same data always gives the same bytes,
 * and `redis-cli --pipe < PATH` loads it back into a server.
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [format] After a successful SAVE, `PATH` holds exactly the bytes
 *   above for the data of the snapshot, whatever the keys and values
 *   hold and however many there are; a short write() is continued, not
 *   taken for the end.
 * - [one-instant] The snapshot is the data as it was when
 *   kvsave_start() was called: requests applied after it (pipelined
 *   behind the `SAVE`, or from other clients while the file is written)
 *   are not in the file, and none applied before it is missing.
 * - [off-loop] Only the copy runs on the loop's thread: opening,
 *   writing, fsync(), rename() and the directory's fsync() run on a
 *   worker of the offload. While they are slow, the loop answers other
 *   clients at once.
 * - [durable] The reply waits for the disk: kv_save_done() with 0
 *   (`+OK`) is called only after the data was written to `PATH.tmp`,
 *   `PATH.tmp` was fsync()ed, renamed to `PATH`, and the directory of
 *   `PATH` was fsync()ed, in that order. A reader of `PATH` sees the
 *   old file or the new one, never a part of one.
 * - [exactly-once] Every accepted SAVE gets exactly one kv_save_done(),
 *   on the loop's thread, from loop_run(), never inside kvsave_start().
 * - [errors] When a step fails, kv_save_done() gets the errno of the
 *   first call that failed (open(), write(), fsync(), close(), rename(),
 *   or the directory's open() or fsync()), and the client reads
 *   `-ERR <strerror of it>`; the next SAVE starts afresh. A write() that
 *   returns 0 (it wrote nothing, and set no errno) counts as failed
 *   with `EIO`. (No test can make close() fail: on a local disk it
 *   does not, but on NFS it can report a write's `ENOSPC` or `EDQUOT`,
 *   so check it all the same.)
 * - [no-tmp-left] After a failed SAVE, `PATH.tmp` does not exist, and
 *   `PATH` is as it was before (the old snapshot, or none), unless the
 *   rename happened and only the directory's fsync() failed.
 * - [busy] While a SAVE is in progress, another one (from any client)
 *   is refused at once: kvsave_start() fails with `EBUSY`, so that
 *   client reads `-ERR Device or resource busy`, and the running SAVE
 *   goes on undisturbed. Once it completed, SAVE works again.
 * - [bad-args] kvsave_new() with a NULL or empty argument fails with
 *   `EINVAL`; kvsave_start() with a NULL argument fails with `EINVAL`.
 * - [free] kvsave_free() frees everything the kvsave allocated; no
 *   descriptor, byte or file it made is left (only `PATH` itself).
 * - [no-memory] When an allocation fails, kvsave_new() fails with
 *   `ENOMEM`, and so does the SAVE, whether the copy or the worker found
 *   no memory (the client reads `-ERR Cannot allocate memory`): what it
 *   had allocated is freed, `PATH.tmp` does not exist, `PATH` is as it
 *   was, and the next SAVE starts afresh.
 * - [submit-fails] When offload_submit() fails, kvsave_start() fails
 *   with its errno (the client reads `-ERR` and its strerror at once),
 *   having freed the copy; the next SAVE is not refused as busy.
 *
 * Memory: the snapshot (the copy) belongs to the kvsave from
 * kvsave_start() until its completion, which frees it. `path` is
 * copied by kvsave_new().
 *
 * Which thread may call what: every function from the loop's thread
 * only. kvsave_free() when no SAVE is in progress: after loop_run()
 * returned (the offload keeps loop_run() running until the last
 * completion) or after offload_free(), which runs the last completions.
 */
#ifndef KVSAVE_H
#define KVSAVE_H

#include "04-select/loop.h"
#include "05-callbacks/offload.h"
#include "07-every-way/kv.h"

/**
 * @brief What SAVE needs: the loop, the pool and the file's name. Opaque.
 *
 * Made by kvsave_new(), freed by kvsave_free().
 */
typedef struct kvsave kvsave;

/**
 * @brief Prepare snapshots of a server into the file @p path.
 *
 * Opens and creates nothing: every file is made by a SAVE.
 *
 * @param l     the loop that runs the server; must outlive the kvsave.
 * @param o     the offload whose workers write the file; made on @p l;
 *              must outlive the kvsave.
 * @param path  the snapshot's file name, relative or absolute; copied.
 *              The temporary file is `path` followed by `.tmp`, in the
 *              same directory. That directory is the part of `path`
 *              before its last `/` (`/` for `/snap`), or `.` when
 *              `path` has no `/`.
 * @return the kvsave, to be freed with kvsave_free(); NULL with errno
 *         set: `EINVAL` (@p l, @p o or @p path NULL, or @p path empty),
 *         `ENOMEM`.
 */
kvsave *kvsave_new(loop *l, offload *o, const char *path);

/**
 * @brief Start a SAVE: a ::kv_save_fn for kv_config's `save`, with the
 *        kvsave as `save_ctx`.
 *
 * Copies every key and value with kv_each() (on the loop's thread, now),
 * submits the writing to the offload and returns. Later, on the loop's
 * thread, kv_save_done(@p k, @p p, err) is called exactly once: err 0
 * once the file is durable ([durable]), else the errno of the first call
 * that failed ([errors]).
 *
 * @param k    the server, as the server passes it.
 * @param p    the SAVE waiting for its reply, as the server passes it.
 * @param ctx  the kvsave (kv_config's `save_ctx`).
 * @return 0 when the SAVE started; -1 with errno set, and then
 *         kv_save_done() will not be called for @p p (the server answers
 *         the error at once):
 *         - `EBUSY`: a SAVE is in progress ([busy]);
 *         - `EINVAL`: @p k, @p p or @p ctx is NULL;
 *         - `ENOMEM`: no memory for the copy;
 *         - the errno of offload_submit().
 */
int kvsave_start(kv *k, kv_pending *p, void *ctx);

/**
 * @brief Free the kvsave.
 *
 * From the loop's thread, when no SAVE is in progress (see the file's
 * description).
 *
 * @param s  the kvsave; NULL does nothing.
 */
void kvsave_free(kvsave *s);

#endif
