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

/* TODO: the fields: a mutex and the statistics it guards. */
struct counter {
    int unused;
};

int counter_create(counter **out)
{
    /* TODO: EINVAL for a NULL out; allocate the counter, initialise its
     * mutex with pthread_mutex_init() (it returns an error number: free
     * what you allocated and return it), start with every statistic 0.
     * Read: chapter 3, "Mutexes". */
    (void)out;
    return ENOSYS;
}

void counter_destroy(counter *c)
{
    /* TODO: nothing for NULL; otherwise destroy the mutex and free.
     * Read: chapter 3, "Mutexes". */
    (void)c;
}

int counter_add(counter *c, long value)
{
    /* TODO: lock, refuse a value that would take the sum out of the range
     * of long long (ERANGE, changing nothing), update count, sum, min and
     * max (the first value sets both), unlock. Every field is read and
     * written with the mutex held: `count++` by two threads at once can
     * lose one of the two increments.
     * Read: chapter 3, "Data races" and "Mutexes". */
    (void)c;
    (void)value;
    return ENOSYS;
}

int counter_snapshot(counter *c, counter_stats *out)
{
    /* TODO: EINVAL for NULL arguments; copy all four statistics inside
     * ONE critical section, so that they describe the same moment.
     * Read: chapter 3, "Mutexes". */
    (void)c;
    (void)out;
    return ENOSYS;
}
