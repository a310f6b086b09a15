/*
 * uv_async.c: waking a libuv loop from threads of your own with
 * uv_async_send(), and shutting it down safely. Two threads each finish
 * 100,000 "jobs": each adds its result to a queue (here a counter under a
 * mutex) and calls uv_async_send(), and sleeps 1 ms after every 1,000, so
 * that the results come in over about 100 ms. libuv coalesces the sends:
 * the async callback runs on the loop thread far fewer times than that,
 * and each time takes everything that is there.
 *
 * The handle is on the heap and freed in its close callback, as in most
 * programs. uv_async_send() reads and writes the handle, so no send may
 * start once uv_close() has been called: when all 200,000 are in, the
 * callback only stops the loop; main() joins the senders, and only then
 * closes the handle and runs the loop once more for the close callback.
 *
 * Build: needs libuv (Debian: libuv1-dev).   Run: uv_async
 */
// link: -luv
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "die.h"

#define PER_THREAD 100000

static uv_mutex_t lock;
static long queued;           /* protected by lock: results not taken yet */
static long taken, callbacks; /* loop thread only */
static pthread_t loop_thread;
static int wrong_thread;

static void check_uv(int rc, const char *what) /* libuv: 0 or -errno */
{
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", what, uv_strerror(rc));
        exit(1);
    }
}

// [async]
static void on_worker(void *arg) /* a thread of our own, not libuv's */
{
    uv_async_t *async = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        uv_mutex_lock(&lock);
        queued++; /* "post a completion" */
        uv_mutex_unlock(&lock);
        check_uv(uv_async_send(async), "uv_async_send"); /* any thread */
        if (i % 1000 == 999)
            uv_sleep(1); /* let the jobs come in over about 100 ms */
    }
}

static void on_async(uv_async_t *handle) /* the loop thread */
{
    callbacks++;
    wrong_thread += !pthread_equal(pthread_self(), loop_thread);
    uv_mutex_lock(&lock);
    long n = queued; /* take everything posted so far */
    queued = 0;
    uv_mutex_unlock(&lock);
    taken += n;
    if (taken == 2L * PER_THREAD) /* all in, but a send may be under way */
        uv_stop(handle->loop);    /* so don't close here: see main() */
}
// [async]

static void on_close(uv_handle_t *handle)
{
    free(handle); /* no send can touch it any more: the senders are gone */
}

int main(void)
{
    uv_loop_t *loop = uv_default_loop();
    uv_thread_t t[2];
    loop_thread = pthread_self();
    uv_async_t *async = malloc(sizeof *async);
    if (async == NULL)
        die("malloc");
    check_uv(uv_mutex_init(&lock), "uv_mutex_init");
    check_uv(uv_async_init(loop, async, on_async), "uv_async_init");
    for (int i = 0; i < 2; i++)
        check_uv(uv_thread_create(&t[i], on_worker, async), "uv_thread_create");
    uint64_t start = uv_hrtime();
    check_uv(uv_run(loop, UV_RUN_DEFAULT), "uv_run"); /* until uv_stop() */
    double ms = (double)(uv_hrtime() - start) / 1e6;
    // [shutdown]
    for (int i = 0; i < 2; i++) /* 1. no sender left */
        check_uv(uv_thread_join(&t[i]), "uv_thread_join");
    uv_close((uv_handle_t *)async, on_close);         /* 2. then close */
    check_uv(uv_run(loop, UV_RUN_DEFAULT), "uv_run"); /* 3. on_close runs */
    check_uv(uv_loop_close(loop), "uv_loop_close");
    // [shutdown]
    printf("%d uv_async_send() calls, %ld async callbacks (%.0f completions "
           "each on average), %ld completions taken, in %.0f ms\n",
           2 * PER_THREAD, callbacks, (double)taken / (double)callbacks, taken,
           ms);
    printf("callbacks on another thread than the loop's: %d\n", wrong_thread);
    uv_mutex_destroy(&lock);
    return 0;
}
