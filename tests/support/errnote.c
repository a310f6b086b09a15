/*
 * errnote.c: what a failed call left in errno, for a message (errnote.h).
 * Shared by the chapter 1 suites, whose messages show a result "got -1
 * with errno EIO" the same way.
 */
#include "errnote.h"
#include "wb.h"

#include <stdio.h>

const char *errnote_with(long r, int err)
{
    static _Thread_local char note[64];
    if (r != -1)
        return "";
    snprintf(note, sizeof note, " with errno %s", wb_errname(err));
    return note;
}
