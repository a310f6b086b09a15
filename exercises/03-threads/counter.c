/*
 * counter: a counter with statistics, shared by many threads.
 *
 * The contract is in counter.h. Run the tests with
 *
 *     make check CHAPTER=3 EXERCISE=counter
 *
 * and ask for a hint with `make hint CHAPTER=3 EXERCISE=counter`.
 */
#include "counter.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

/* TODO: the fields you need. */
struct counter {
    int unused;
};

int counter_create(counter **out)
{
    /* TODO: see counter.h. Read: chapter 3, "Mutexes". */
    (void)out;
    return ENOSYS;
}

void counter_destroy(counter *c)
{
    /* TODO: see counter.h. Read: chapter 3, "Mutexes". */
    (void)c;
}

int counter_add(counter *c, long value)
{
    /* TODO: see counter.h. Read: chapter 3, "Data races" and "Mutexes". */
    (void)c;
    (void)value;
    return ENOSYS;
}

int counter_snapshot(counter *c, counter_stats *out)
{
    /* TODO: see counter.h. Read: chapter 3, "Mutexes". */
    (void)c;
    (void)out;
    return ENOSYS;
}
