/*
 * fullstream.h: a stdio stream that makes fflush(NULL) fail. A suite
 * gets it by listing tests/support/fullstream.c in its NAME.links.
 */
#ifndef WB_FULLSTREAM_H
#define WB_FULLSTREAM_H

#include <stdio.h>

/** A stream on /dev/full with text in its buffer: every write to it fails
 * with ENOSPC, so fflush(NULL) fails until it is closed (fclose() fails
 * too, and closes it). Fails the test if it cannot be made. */
FILE *fullstream_open(void);

#endif
