/*
 * kv: a key-value server that speaks RESP2, in one thread, on the loop.
 *
 * The contract is in kv.h. Run the tests with
 *
 *     make check CHAPTER=7 EXERCISE=kv
 *
 * and ask for a hint with `make hint CHAPTER=7 EXERCISE=kv`.
 *
 * The loop and timerq of chapter 4 are linked in, to build the server
 * on: in the workbook the reference solutions, in a handout yours
 * (graded first). Parse requests with resp_parse() of resp.h.
 */
#include "kv.h"
#include "04-select/loop.h"
#include "07-every-way/resp.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

/* TODO: the fields you need. */
struct kv {
    int unused;
};

/* TODO: the fields you need. */
struct kv_pending {
    int unused;
};

kv *kv_start(loop *l, int listen_fd, const kv_config *cfg)
{
    /* TODO: see kv.h. Read: chapter 7, "The capstone: a key-value
     * server on your loop". */
    (void)l;
    (void)listen_fd;
    (void)cfg;
    errno = ENOSYS;
    return NULL;
}

void kv_stop(kv *k)
{
    /* TODO: see kv.h. Read: chapter 7, "Stopping without losing a
     * write". */
    (void)k;
}

int kv_each(const kv *k,
            int (*fn)(const char *key, size_t klen, const char *val,
                      size_t vlen, void *arg),
            void *arg)
{
    /* TODO: see kv.h. */
    (void)k;
    (void)fn;
    (void)arg;
    return 0;
}

size_t kv_clients(const kv *k)
{
    /* TODO: see kv.h. */
    (void)k;
    return 0;
}

void kv_save_done(kv *k, kv_pending *p, int err)
{
    /* TODO: see kv.h. Read: chapter 7, "Pipelining: one reply per
     * request, in order". */
    (void)k;
    (void)p;
    (void)err;
}
