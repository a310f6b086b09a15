/*
 * dirtyheap.h: garbage in the heap's free memory. A suite gets it by
 * listing tests/support/dirtyheap.c in its NAME.links.
 */
#ifndef WB_DIRTYHEAP_H
#define WB_DIRTYHEAP_H

/** Fills and frees blocks of many sizes, so that a buffer malloc() hands
 * out next is not full of zero bytes by luck: a missing '\0' then shows
 * (LeakSanitizer's allocator zeroes what it hands out, so there only
 * SANITIZE=address or a plain build can see it). */
void dirtyheap_leave_garbage(void);

#endif
