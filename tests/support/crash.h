/*
 * crash.h: a child that dies of a signal the way a real crash does. A
 * suite gets it by listing tests/support/crash.c in its NAME.links.
 */
#ifndef WB_CRASH_H
#define WB_CRASH_H

/** Raises @p sig with its default action restored (sanitizers install
 * handlers of their own) and no core file allowed, so that the calling
 * process dies of it. Returns only if @p sig does not kill by default. */
void crash_with(int sig);

#endif
