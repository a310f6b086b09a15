/*
 * uring_accept.c: a server on completions only, with a multishot accept
 * (Linux 5.19 and later; Linux only, hence _GNU_SOURCE; needs liburing).
 * ONE accept request stays armed and posts a completion for every new
 * connection, with IORING_CQE_F_MORE set while it stays armed. Each
 * connection gets a receive; when it completes, a send of "ok\n" (or a
 * close, on a reset or an end of stream). An accept that fails is reported,
 * not fatal: a completion without IORING_CQE_F_MORE means the request has
 * ended, and a new one is armed (50 ms later when the error says the process
 * or the system is out of descriptors, so as not to spin). Listens on
 * 127.0.0.1, port from the kernel, close-on-exec; at most 3 connections at once
 * (more are closed at once); stops after 6 connections or 2 s. A child plays
 * six clients that all connect first: they say hello, one never reads the
 * answer, one resets, and three are over the limit. "emfile" lowers the
 * server's limit on open files so that only two connections fit, and shows
 * the failed accept that ends the request, and the new one.
 *
 * Run: uring_accept [emfile]
 */
// link: -luring
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

enum { LIMIT = 3, CLIENTS = 6, ACCEPT = -1, REARM = -2 }; /* user data */
static struct io_uring ring;
static int lfd, arms;     /* arms: accept requests made */
static char bufs[64][32]; /* a buffer per connection, indexed by descriptor */

static void queue(int fd, int is_send) /* a receive, or the answer */
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (sqe == NULL)
        die_en(EAGAIN, "io_uring_get_sqe: the submission queue is full");
    if (is_send)
        io_uring_prep_send(sqe, fd, "ok\n", 3, MSG_NOSIGNAL);
    else
        io_uring_prep_recv(sqe, fd, bufs[fd], sizeof bufs[fd] - 1, 0);
    io_uring_sqe_set_data64(sqe, (__u64)fd << 1 | (unsigned)is_send);
}

// [accept]
static void arm_accept(int after_ms) /* one request, many connections */
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (sqe == NULL)
        die_en(EAGAIN, "io_uring_get_sqe: the submission queue is full");
    if (after_ms > 0) { /* wait first, then come back here */
        static struct __kernel_timespec later;
        later = (struct __kernel_timespec){0, after_ms * 1000000LL};
        io_uring_prep_timeout(sqe, &later, 0, 0);
        io_uring_sqe_set_data64(sqe, (__u64)REARM);
        return;
    }
    io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, (__u64)ACCEPT);
    arms++;
}
// [accept]

static void clients(struct sockaddr_in *a) /* all connect first, then talk */
{
    int c[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c[i] == -1 || connect(c[i], (struct sockaddr *)a, sizeof *a) == -1)
            _exit(1);
    }
    for (int i = 0; i < CLIENTS; i++) {
        if (i == 2) { /* a reset: linger 0, then close */
            struct linger lg = {1, 0};
            setsockopt(c[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        } else {
            (void)send(c[i], "hello\n", 6, MSG_NOSIGNAL); /* fails if refused */
        }
        char back[8];
        if (i != 2 && i != 1) /* client 1 never reads its answer */
            (void)read(c[i], back, sizeof back);
        close(c[i]);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&a, sizeof a) == -1 ||
        listen(lfd, 16) == -1 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) == -1)
        die("listen");
    int en = io_uring_queue_init(32, &ring, 0);
    if (en < 0)
        die_en(-en, "io_uring_queue_init");
    fflush(stdout);
    pid_t child = fork();
    if (child == -1)
        die("fork");
    if (child == 0)
        clients(&a);
    if (argc > 1 && strcmp(argv[1], "emfile") == 0) { /* room for two more */
        struct rlimit rl;
        int next = dup(0); /* the lowest free descriptor */
        if (next == -1 || close(next) == -1 ||
            getrlimit(RLIMIT_NOFILE, &rl) == -1)
            die("emfile");
        rl.rlim_cur = (rlim_t)next + 2;
        if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
            die("setrlimit");
    }
    arm_accept(0); /* once, and again only if the request ends */
    int accepted = 0, open_now = 0, done = 0;
    while (done < CLIENTS) {
        struct io_uring_cqe *cqe;
        struct __kernel_timespec two = {2, 0};
        if ((en = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &two,
                                                   NULL)) < 0) {
            printf("no completion for 2 s: stopping\n");
            break;
        }
        long long ud = (long long)io_uring_cqe_get_data64(cqe);
        int res = cqe->res, more = (cqe->flags & IORING_CQE_F_MORE) != 0;
        io_uring_cqe_seen(&ring, cqe);
        // [complete]
        if (ud == REARM) { /* the pause after an accept error is over */
            arm_accept(0);
            continue;
        }
        if (ud == ACCEPT) {
            if (!more) /* the request has ended: arm a new one */
                arm_accept(res == -EMFILE || res == -ENFILE ? 50 : 0);
            if (res < 0) { /* not fatal: that client's problem, or ours */
                printf("accept failed: %s, still armed: %s\n", strerror(-res),
                       more ? "yes" : "no");
                continue;
            }
            printf("accept completion %d: descriptor %d, still armed: %s\n",
                   ++accepted, res, more ? "yes" : "no");
            if (res >= 64 || open_now == LIMIT) { /* over the limit: refuse */
                printf("descriptor %d: over the limit of %d, closed at once\n",
                       res, LIMIT);
                close(res), done++;
                continue;
            }
            open_now++;
            queue(res, 0);
            continue;
        }
        int fd = (int)(ud >> 1);
        if ((ud & 1) == 0 && res > 0) { /* a request arrived: answer it */
            queue(fd, 1);
            continue;
        }
        if ((ud & 1) == 0) /* 0: end of stream; negative: an error number */
            printf("descriptor %d: receive gave %d%s\n", fd, res,
                   res < 0 ? " (reset)" : "");
        close(fd), open_now--, done++; /* answered, or gone */
        // [complete]
    }
    printf("%d connections, %d accept request(s) armed, %d accepted\n", done,
           arms, accepted);
    io_uring_queue_exit(&ring); /* cancels the armed accept */
    if (close(lfd) == -1 || waitpid(child, NULL, 0) == -1)
        die("cleanup");
    return 0;
}
