/*
 * detached.c: a detached thread, and what ends it. main starts a thread,
 * detaches it (nobody will join it; its resources are freed when it
 * ends), and after 250 ms finishes in one of two ways:
 *
 *   detached return         main returns: exit() ends the whole process,
 *                           and the detached thread with it, mid-count
 *   detached pthread_exit   main ends only its own thread; the process
 *                           lives until its last thread ends
 *
 * The thread counts to 6, one number every 100 ms.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "die.h"

static void sleep_ms(long ms)
{
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) != 0)
        if (errno != EINTR)
            die("nanosleep");
}

static void *on_count(void *arg)
{
    (void)arg;
    for (int i = 1; i <= 6; i++) {
        sleep_ms(100);
        printf("background thread: %d\n", i);
        if (fflush(stdout) == EOF)
            die("fflush");
    }
    printf("background thread: done\n");
    return NULL;
}

int main(int argc, char **argv)
{
    int use_pthread_exit = argc == 2 && strcmp(argv[1], "pthread_exit") == 0;
    if (argc != 2 || (!use_pthread_exit && strcmp(argv[1], "return") != 0)) {
        fprintf(stderr, "usage: %s return|pthread_exit\n", argv[0]);
        return 2;
    }
    // [detach]
    pthread_t t;
    int en = pthread_create(&t, NULL, on_count, NULL);
    if (en != 0)
        die_en(en, "pthread_create");
    if ((en = pthread_detach(t)) != 0) /* from now on, never join t */
        die_en(en, "pthread_detach");

    sleep_ms(250);
    printf("main: finishing with %s\n", argv[1]);
    if (fflush(stdout) == EOF)
        die("fflush");
    if (use_pthread_exit)
        pthread_exit(NULL); /* this thread ends; the process goes on */
    return 0;               /* exit(0): every thread ends, now */
    // [detach]
}
