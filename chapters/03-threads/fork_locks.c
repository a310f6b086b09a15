/*
 * fork_locks: which locks held by another thread are still held in the
 * child of fork().
 *
 * A second thread takes three locks and keeps them: the lock of stdout
 * (flockfile()), a mutex of our own, and, for a moment at a time in a
 * loop, malloc()'s. Then the main thread forks. Only the forking thread
 * exists in the child, so nobody there will ever release a lock that the
 * other thread held. glibc knows that about its own locks: its fork()
 * takes malloc's locks around the fork and re-initialises the lock of
 * every stdio stream in the child, so printf() and malloc() work there.
 * Our mutex it cannot know about: the child finds it locked, forever.
 * (This is glibc; POSIX promises only the async-signal-safe functions in
 * such a child, and other C libraries and other libraries' locks vary.)
 *
 *     fork_locks            (the output is always the same; Linux, glibc)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

static pthread_mutex_t ours = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t ready_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static int ready;

/* The other thread: take stdout's lock and ours, then keep malloc busy. */
static void *on_hold(void *arg)
{
    (void)arg;
    flockfile(stdout);
    int en = pthread_mutex_lock(&ours);
    if (en != 0)
        die_en(en, "pthread_mutex_lock");
    if ((en = pthread_mutex_lock(&ready_mu)) != 0)
        die_en(en, "pthread_mutex_lock");
    ready = 1;
    if ((en = pthread_cond_signal(&ready_cv)) != 0 ||
        (en = pthread_mutex_unlock(&ready_mu)) != 0)
        die_en(en, "pthread_cond_signal");
    for (;;) { /* never lets go of stdout or ours; ends with the process */
        void *volatile p = malloc(100);
        free(p);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    int en = pthread_create(&t, NULL, on_hold, NULL);
    if (en != 0)
        die_en(en, "pthread_create");
    if ((en = pthread_mutex_lock(&ready_mu)) != 0)
        die_en(en, "pthread_mutex_lock");
    while (!ready)
        if ((en = pthread_cond_wait(&ready_cv, &ready_mu)) != 0)
            die_en(en, "pthread_cond_wait");
    if ((en = pthread_mutex_unlock(&ready_mu)) != 0)
        die_en(en, "pthread_mutex_unlock");
    /* stdout is locked by the other thread: nothing buffered to flush. */

    // [child]
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) { /* one thread here; stdout's lock was reset by fork() */
        char *p = malloc(100);
        printf("child: malloc() %s\n", p != NULL ? "works" : "failed");
        free(p);
        printf("child: printf() to stdout works\n");
        en = pthread_mutex_trylock(&ours);
        printf("child: our own mutex is %s\n",
               en == EBUSY ? "still locked, and always will be" : "free");
        if (fflush(stdout) == EOF)
            _exit(1);
        _exit(0);
    }
    // [child]
    alarm(5); /* a safety net: the child must not hang */
    int status;
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            die("waitpid");
    /* The parent's stdout is still locked by the other thread. */
    char line[80];
    int len = snprintf(line, sizeof line, "parent: the child exited with %d\n",
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    if (write(STDOUT_FILENO, line, (size_t)len) != len)
        die("write");
    _exit(0); /* exit() would wait for stdout's lock, forever */
}
