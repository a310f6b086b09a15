/*
 * statemachine.c: the job of nested.c (read a list of file names, then
 * read each file and count its words, then report the total), written as
 * an explicit state machine: the job records which step it is in, and one
 * callback, on_step(), is called after every step, handles every error in
 * one place and decides what comes next.
 *
 * Run: statemachine LIST   (in chapters/05-callbacks: data/list.txt)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "die.h"

typedef int (*work_fn)(void *ctx);              /* worker: 0 or errno */
typedef void (*done_fn)(void *ctx, int status); /* loop thread */
struct req {
    work_fn work;
    done_fn on_done;
    void *ctx;
    int status;
    pthread_t thread;
};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct req *done; /* protected by lock; one step at a time here */
static int wake[2], pending;

static void check(int en, const char *what)
{
    if (en != 0)
        die_en(en, what);
}

static void *on_thread(void *arg) /* a thread per step, for brevity */
{
    struct req *r = arg;
    r->status = r->work(r->ctx);
    check(pthread_mutex_lock(&lock), "lock");
    done = r;
    check(pthread_mutex_unlock(&lock), "unlock");
    if (write(wake[1], "!", 1) != 1)
        die("write");
    return NULL;
}

static void submit(work_fn work, done_fn on_done, void *ctx) /* loop */
{
    struct req *r = malloc(sizeof *r);
    if (r == NULL)
        die("malloc");
    *r = (struct req){.work = work, .on_done = on_done, .ctx = ctx};
    check(pthread_create(&r->thread, NULL, on_thread, r), "pthread_create");
    pending++;
}

// [job]
enum step { READ_LIST, READ_FILE, COUNT };

struct job {
    enum step step;   /* the step that just ran */
    const char *list; /* the list of files */
    char *names, *first, *next_name, *path, buf[4096];
    long words, files;
};
// [job]

static int read_file(void *ctx) /* worker: job->path into job->buf */
{
    struct job *j = ctx;
    int fd = open(j->path, O_RDONLY);
    if (fd == -1)
        return errno;
    ssize_t n = read(fd, j->buf, sizeof j->buf - 1);
    int status = n == -1 ? errno : 0;
    j->buf[n > 0 ? n : 0] = '\0';
    if (close(fd) == -1 && status == 0)
        status = errno;
    return status;
}

static int count_words(void *ctx) /* worker: the words of job->buf */
{
    struct job *j = ctx;
    long words = 0;
    for (char *p = j->buf; *p != '\0'; p++)
        words += (p == j->buf || p[-1] == ' ' || p[-1] == '\n') && *p != ' ' &&
                 *p != '\n';
    j->words += words;
    return 0;
}

static void finish(struct job *j, int status)
{
    if (status != 0)
        printf("job %s: failed at %s: %s\n", j->list, j->path,
               strerror(status));
    else
        printf("job %s: %ld words in %ld files\n", j->list, j->words, j->files);
    free(j->names);
}

// [machine]
static void on_step(void *ctx, int status) /* after every step */
{
    struct job *j = ctx;
    if (status != 0) { /* one place for every error */
        finish(j, status);
        return;
    }
    switch (j->step) {
    case READ_LIST:
        if ((j->names = strdup(j->buf)) == NULL)
            die("strdup");
        j->first = j->names; /* strtok_r() starts here */
        break;               /* go and read the first file */
    case READ_FILE:
        j->step = COUNT;
        submit(count_words, on_step, j);
        return;
    case COUNT:
        printf("  %s: %ld words so far\n", j->path, j->words);
        break; /* go and read the next file */
    }
    j->path = strtok_r(j->first, "\n", &j->next_name);
    j->first = NULL;
    if (j->path == NULL) {
        finish(j, 0); /* no file left: the job is done */
        return;
    }
    j->files++;
    j->step = READ_FILE;
    submit(read_file, on_step, j);
}

static void start_job(struct job *j)
{
    j->step = READ_LIST;
    j->path = (char *)j->list;
    submit(read_file, on_step, j);
}
// [machine]

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: statemachine LIST\n");
        return 2;
    }
    if (pipe(wake) == -1)
        die("pipe");
    struct job job = {.list = argv[1]};
    start_job(&job);
    while (pending > 0) { /* the loop, cut down to its one descriptor */
        char byte;
        if (read(wake[0], &byte, 1) != 1)
            die("read");
        check(pthread_mutex_lock(&lock), "lock");
        struct req *r = done;
        check(pthread_mutex_unlock(&lock), "unlock");
        check(pthread_join(r->thread, NULL), "pthread_join");
        pending--;
        r->on_done(r->ctx, r->status);
        free(r);
    }
    if (close(wake[0]) == -1 || close(wake[1]) == -1)
        die("close");
    return 0;
}
