/*
 * meeting.c: a meeting point for racing threads (meeting.h). Shared by
 * the chapter 3 suites that show a shared count or total losing updates
 * without a lock.
 */
#include "meeting.h"
#include "wb.h"

#include <sched.h>

void meeting_attend(atomic_int *arrived, int n, atomic_llong *release_ns,
                    int64_t give_up_ns)
{
    if (atomic_fetch_add(arrived, 1) + 1 == n)
        atomic_store(release_ns, wb_now_ns() + 50 * 1000);
    long long at;
    int64_t yield_after = wb_now_ns() + 1000000;
    while ((at = atomic_load(release_ns)) == 0) {
        int64_t now = wb_now_ns();
        if (now >= give_up_ns)
            break;
        if (now >= yield_after)
            sched_yield(); /* let the others run on a busy machine */
    }
    while (at != 0 && wb_now_ns() < at)
        continue;
}
