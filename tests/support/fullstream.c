/*
 * fullstream.c: a stream whose flush fails (fullstream.h). Shared by the
 * chapter 2 suites that check a call flushes stdio before fork() and
 * gives up when that flush fails.
 */
#include "fullstream.h"
#include "wb.h"

#include <errno.h>
#include <string.h>

FILE *fullstream_open(void)
{
    FILE *f = fopen("/dev/full", "w");
    WB_EXPECT(f != NULL, "fopen(\"/dev/full\") failed: %s", strerror(errno));
    WB_EXPECT(setvbuf(f, NULL, _IOFBF, 4096) == 0, "setvbuf() failed");
    WB_EXPECT(fputs("never written\n", f) != EOF, "fputs() failed");
    return f;
}
