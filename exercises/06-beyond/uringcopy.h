/**
 * @file uringcopy.h
 * @brief Copy a file with io_uring, keeping several reads and writes in
 *        flight: "do it, and tell me when it is done".
 *
 * Exercise 5 of chapter 6 ("Beyond select(): epoll, signals, children
 * and io_uring").
 *
 * A readiness loop cannot make a disk read asynchronous: a regular file
 * is always "ready", and read() still waits for the disk. io_uring asks
 * the kernel to do the read and to say when it is done. The program
 * puts requests (read this many bytes at this offset into this buffer)
 * on the submission queue, submits them, and later takes one completion
 * per request from the completion queue: the request's user data, and
 * in `cqe->res` the byte count or a negative error number.
 *
 * uringcopy() copies a file that way with liburing: up to `depth`
 * requests in flight at once, each moving at most `block` bytes. A
 * block's write can start only once its read is complete, but reads of
 * later blocks need not wait for earlier writes.
 *
 * Linux-only (io_uring, kernel 5.6 or later for reads and writes at an
 * offset). The suite links liburing (`-luring`, listed in
 * tests/06-beyond/uringcopy.libs); an implementation includes
 * `<liburing.h>` after defining `_GNU_SOURCE`.
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [same-bytes] On success the destination holds exactly the bytes of
 *   the source, from its start to its end, whatever the size (0 bytes,
 *   less than a block, a multiple of the block, 64 MiB), whatever
 *   `depth` (1 to 64) and `block`, and whatever the descriptors' numbers
 *   (0 included).
 * - [in-flight] At most `depth` requests are in flight at once (a
 *   request is in flight from its submission until its completion has
 *   been consumed), and with a regular source and `depth` above 1 more
 *   than one is: the copy keeps the queue full instead of waiting for
 *   each request. The tests count what is in flight each time
 *   io_uring_submit() or io_uring_submit_and_wait() is called: submit
 *   with those.
 * - [short-read] A read that returns fewer bytes than asked, but more
 *   than 0, is not the end of the file: the rest is read. Only a read
 *   that returns 0 marks the end.
 * - [short-write] A write that writes fewer bytes than asked is
 *   followed by a write of the rest.
 * - [streams] A source or destination that is not a regular file (a
 *   pipe, a FIFO, a device) has no offsets: it gets one request at a
 *   time, in order, so the bytes stay in order.
 * - [errors] A request that fails (`cqe->res` below 0) makes uringcopy()
 *   return -1 with `errno` set to its error number (`-cqe->res`): a
 *   write past `RLIMIT_FSIZE` gives `EFBIG`, a full device `ENOSPC`, a
 *   destination opened read-only `EBADF`, a directory as the source
 *   `EISDIR`. The first error is the one reported; no new request is
 *   submitted after it. So does a failure of the ring itself: an
 *   io_uring_submit_and_wait() that fails with an error other than
 *   `EINTR` gives its error, io_uring_queue_init() its own (`EMFILE`
 *   with no descriptor left for the ring), and buffers that cannot be
 *   allocated `ENOMEM`; nothing is written then.
 * - [drain] uringcopy() returns, after success or failure, only once
 *   every request it submitted has completed and its completion has
 *   been consumed (io_uring_cqe_seen()), and then frees the ring
 *   (io_uring_queue_exit()) and its buffers: the kernel never writes
 *   into memory that was freed, and no descriptor is left open.
 * - [sleeps] While no request can complete (a pipe with nothing in it
 *   yet), uringcopy() sleeps in io_uring_submit_and_wait(), waiting for
 *   a completion: it does not submit again and again.
 * - [signals] A signal caught by a handler while the copy waits (the
 *   wait for completions then fails with `EINTR`) does not end the copy:
 *   it waits again, and the result is as without the signal.
 * - [bad-args] A negative descriptor, or one that is not open, gives -1
 *   with `EBADF`; `depth` of 0 or above 64, or `block` of 0 or above
 *   16 MiB, give -1 with `EINVAL`; nothing is read or written then.
 *
 * Memory: uringcopy() allocates `depth` buffers of `block` bytes before
 * it reads anything, whatever the size of the source, and frees them
 * before it returns: `depth` × `block` bytes, up to 1 GiB at the limits
 * (64 × 16 MiB), which may exceed what the process may allocate (the
 * grader caps the memory of a test). When they cannot be allocated,
 * uringcopy() returns -1 with `ENOMEM`, and nothing is read or written.
 *
 * Errors are reported the system-call way: -1 with `errno` set. When
 * io_uring cannot be set up (a kernel without it, or a sandbox that
 * forbids it: `ENOSYS`, `EPERM`), uringcopy() returns -1 with the error
 * of io_uring_queue_init().
 *
 * Which thread may call it: any; it uses a ring of its own and blocks
 * until the copy is done. A write to a pipe with no reader raises
 * `SIGPIPE`, and one past `RLIMIT_FSIZE` raises `SIGXFSZ`: a caller that
 * wants the error number instead ignores those signals.
 */
#ifndef URINGCOPY_H
#define URINGCOPY_H

#include <stddef.h>

/**
 * @brief Copy everything @p src holds to @p dst with io_uring.
 *
 * A regular source is read at offsets 0, @p block, 2 × @p block, ...
 * (its file position is neither used nor moved), and a regular
 * destination written at the same offsets (the caller gives it empty,
 * or the bytes past the copy stay as they were). A pipe, FIFO or device
 * is read or written at its current position, one request at a time.
 *
 * @param src    the descriptor to read, open for reading.
 * @param dst    the descriptor to write, open for writing.
 * @param depth  the most requests in flight at once, 1 to 64.
 * @param block  the most bytes one request moves, 1 to 16 MiB
 *               (16777216).
 * @return 0 when every byte up to the end of @p src was written; -1 with
 *         errno set:
 *         - `EBADF`: @p src or @p dst is negative (or a request says
 *           so: not open, not open for reading or writing);
 *         - `EINVAL`: @p depth or @p block out of range;
 *         - `ENOMEM`: no memory for the buffers;
 *         - the error number of a failed request (`-cqe->res`), or of
 *           io_uring_queue_init().
 *         Whatever the result, no request is in flight when it returns.
 */
int uringcopy(int src, int dst, unsigned depth, size_t block);

#endif
