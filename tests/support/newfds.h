/*
 * newfds.h: the descriptors a call opened, and their flags. A suite gets
 * it by listing tests/support/newfds.c in its NAME.links.
 */
#ifndef WB_NEWFDS_H
#define WB_NEWFDS_H

enum { NEWFDS_SCAN = 256 }; /* descriptors 0 to 255 are looked at */

struct newfds {
    int was_open[NEWFDS_SCAN];
    int opened;     /* open now, not before */
    int no_cloexec; /* of those, without FD_CLOEXEC */
    int blocking;   /* of those, without O_NONBLOCK */
};

/** Notes which descriptors are open before the call. */
void newfds_before(struct newfds *s);

/** Counts the descriptors open now that were not before, and those of
 * them that are not close-on-exec or not non-blocking. */
void newfds_after(struct newfds *s);

#endif
