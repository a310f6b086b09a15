/* Hostile: includes itself twice per level, so compiling it takes
 * longer than anyone would wait. */
#ifndef DEPTH
#define DEPTH
#endif
#include "runner.c"
#include "runner.c"
