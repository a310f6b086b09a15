/*
 * Known-wrong variant of pmap: after reading item i's pipe to its end, the
 * parent waits for any child (waitpid(-1, ...)) instead of item i's, and
 * gives that status to item i. End-of-file on a pipe does not mean its
 * child has ended (it may have closed its output and still be running),
 * and meanwhile other children have ended: item i gets a neighbour's exit
 * code. Caught by test_each_item_gets_its_own_childs_status.
 */
#include "pmap.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Read @p fd until end-of-file into a new buffer with a '\0' after the
 * data. Returns 0, or -1 with errno set (the buffer is then freed). */
static int pmap_read_all(int fd, char **out, size_t *out_len)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return -1;
    for (;;) {
        if (cap - len < 2) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                return -1;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got == -1) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            free(buf);
            errno = saved;
            return -1;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static int pmap_reap(pid_t pid, int *wstatus)
{
    while (waitpid(pid, wstatus, 0) == -1) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

/* Give up on items [from, n): kill their children, close their pipes,
 * reap them; then free the data of the items before @p from. Keeps errno. */
static void pmap_abandon(size_t from, size_t n, const pid_t *pids,
                         const int *fds, pmap_result *results)
{
    int saved = errno;
    for (size_t i = from; i < n; i++) {
        kill(pids[i], SIGKILL);
        close(fds[i]);
    }
    for (size_t i = from; i < n; i++) {
        int ws;
        pmap_reap(pids[i], &ws);
    }
    pmap_free(results, from);
    errno = saved;
}

int pmap_run(size_t n, pmap_fn fn, void *ctx, pmap_result *results)
{
    if (fn == NULL || (results == NULL && n > 0)) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        results[i] = (pmap_result){.ok = 0, .code = -1, .data = NULL};
    if (n == 0)
        return 0;

    pid_t *pids = malloc(n * sizeof *pids);
    int *fds = malloc(n * sizeof *fds);
    if (pids == NULL || fds == NULL) {
        free(pids);
        free(fds);
        return -1;
    }
    if (fflush(NULL) == EOF)
        goto fail_none;

    for (size_t i = 0; i < n; i++) {
        int p[2];
        if (pipe(p) == -1) {
            pmap_abandon(0, i, pids, fds, results);
            goto fail_none;
        }
        pid_t pid = fork();
        if (pid == -1) {
            int saved = errno;
            close(p[0]);
            close(p[1]);
            errno = saved;
            pmap_abandon(0, i, pids, fds, results);
            goto fail_none;
        }
        if (pid == 0) {
            /* The child needs its own write end only. */
            close(p[0]);
            for (size_t j = 0; j < i; j++)
                close(fds[j]);
            _exit(fn(i, p[1], ctx) & 0xff);
        }
        /* Closed now, before the next fork(): otherwise the later
         * children would inherit it, and this pipe would not reach
         * end-of-file until they all ended too. */
        close(p[1]);
        pids[i] = pid;
        fds[i] = p[0];
    }

    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        char *data;
        size_t len;
        /* Read first, wait second: a child blocked on a full pipe would
         * never end if we waited for it before reading. */
        if (pmap_read_all(fds[i], &data, &len) == -1) {
            pmap_abandon(i, n, pids, fds, results);
            goto fail_none;
        }
        close(fds[i]);
        int ws;
        /* BUG: whichever child has ended, not item i's. */
        if (pmap_reap(-1, &ws) == -1) {
            /* Only when someone else reaped our child (ECHILD). */
            free(data);
            pmap_abandon(i + 1, n, pids, fds, results);
            goto fail_none;
        }
        pmap_result *r = &results[i];
        if (WIFEXITED(ws)) {
            r->code = WEXITSTATUS(ws);
            r->signo = 0;
        } else {
            r->code = -1;
            r->signo = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
        }
        r->ok = WIFEXITED(ws) && r->code == 0;
        if (r->ok) {
            r->data = data;
            r->len = len;
        } else {
            free(data);
            failed++;
        }
    }
    free(pids);
    free(fds);
    return failed;

fail_none:;
    int saved = errno;
    free(pids);
    free(fds);
    errno = saved;
    return -1;
}

void pmap_free(pmap_result *results, size_t n)
{
    if (results == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(results[i].data);
        results[i].data = NULL;
        results[i].len = 0;
    }
}
