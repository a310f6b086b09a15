/*
 * kvsave: SAVE for the key-value server, a snapshot written on the pool.
 *
 * The contract is in kvsave.h. Run the tests with
 *
 *     make check CHAPTER=7 EXERCISE=kvsave
 *
 * and ask for a hint with `make hint CHAPTER=7 EXERCISE=kvsave`.
 *
 * The loop of chapter 4 (04-select/loop.h), the offload of chapter 5
 * (05-callbacks/offload.h) and the key-value server of exercise 1
 * (kv.h) are linked in: in the workbook the reference solutions, in a
 * handout yours (graded first).
 */
#include "kvsave.h"

#include <errno.h>
#include <stdlib.h>

struct kvsave {
    int todo; /* TODO: the fields you need. */
};

kvsave *kvsave_new(loop *l, offload *o, const char *path)
{
    /* TODO: see kvsave.h. Read: chapter 7, "Durable: write, fsync,
     * rename, fsync the folder" (the three names a SAVE uses: PATH,
     * PATH.tmp and the folder that holds PATH). */
    (void)l;
    (void)o;
    (void)path;
    errno = ENOSYS;
    return NULL;
}

int kvsave_start(kv *k, kv_pending *p, void *ctx)
{
    /* TODO: see kvsave.h. Read: chapter 7, "A snapshot of one instant",
     * "Off the loop: the pool writes" and "Durable: write, fsync,
     * rename, fsync the folder". */
    (void)k;
    (void)p;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

void kvsave_free(kvsave *s)
{
    /* TODO: see kvsave.h. */
    free(s);
}
