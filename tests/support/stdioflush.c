/*
 * stdioflush.c: streams for the flush-before-fork() checks
 * (stdioflush.h). Shared by the chapter 2 suites, whose calls all
 * promise to flush stdio before they fork and to give up when that
 * flush fails.
 */
#include "stdioflush.h"
#include "wb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

FILE *stdioflush_full(void)
{
    FILE *f = fopen("/dev/full", "w");
    WB_EXPECT(f != NULL, "fopen(\"/dev/full\") failed: %s", strerror(errno));
    WB_EXPECT(setvbuf(f, NULL, _IOFBF, 4096) == 0, "setvbuf() failed");
    WB_EXPECT(fputs("never written\n", f) != EOF, "fputs() failed");
    return f;
}

FILE *stdioflush_pending(int *fd)
{
    FILE *f = tmpfile();
    WB_EXPECT(f != NULL, "tmpfile() failed: %s", strerror(errno));
    WB_EXPECT(setvbuf(f, NULL, _IOFBF, 4096) == 0, "setvbuf() failed");
    fputs("before\n", f); /* stays in the buffer */
    *fd = fileno(f);
    return f;
}

int stdioflush_order(FILE *f)
{
    rewind(f);
    char *text = wb_slurp(f);
    fclose(f);
    int order = strcmp(text, "before\nchild\n") == 0   ? 1
                : strcmp(text, "child\nbefore\n") == 0 ? -1
                                                       : 0;
    free(text);
    return order;
}
