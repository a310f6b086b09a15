/*
 * die.h: the one error helper of the demo programs.
 *
 * System calls report failure by returning -1 and setting errno; pthread
 * functions return the error number instead. die() and die_en() print
 * what failed and why, then end the program, so a demo can check every
 * return value in one line.
 */
#ifndef DIE_H
#define DIE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print "what: reason" for the current errno and exit with status 1. */
static inline void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    exit(1);
}

/* The same for a function that returns its error number (pthreads). */
static inline void die_en(int en, const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(en));
    exit(1);
}

#endif
