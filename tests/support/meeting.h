/*
 * meeting.h: threads that leave a meeting point at the same instant, so
 * that what they do next (store a result, count a task finished) races
 * as closely as the machine allows. A suite gets it by listing
 * tests/support/meeting.c in its NAME.links.
 */
#ifndef WB_MEETING_H
#define WB_MEETING_H

#include <stdatomic.h>
#include <stdint.h>

/** Counts the caller in *@p arrived; the @p n-th to arrive names an
 * instant 50 microseconds ahead in *@p release_ns (0 until then). Each
 * caller spins until that instant, yielding after 1 ms so that the others
 * run on a busy machine, and gives up waiting for the others at
 * @p give_up_ns (wb_now_ns() time). */
void meeting_attend(atomic_int *arrived, int n, atomic_llong *release_ns,
                    int64_t give_up_ns);

#endif
