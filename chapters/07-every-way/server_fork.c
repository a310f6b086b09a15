/*
 * server_fork.c: chapter 7's key-value server (resp.h), a process per
 * client. Each child has its own copy of the store, so a SET made on one
 * connection is not seen by another: sharing would need shared memory.
 * A crash in one child ends that client only. At most MAX_CHILDREN
 * clients at once; one more is closed at once.
 *
 * Run: server_fork [SECONDS]   (prints "port N"; ends after SECONDS,
 *      default 60, or on SIGTERM). Try: redis-cli -p N ping
 */
#include <sys/wait.h>

#include "resp.h"

#define MAX_CHILDREN 2000

static volatile sig_atomic_t children;

/* Reap every child that has ended, so its CPU time joins ours (the load
   generator reads it from /proc) and no zombie stays. */
static void on_sigchld(int sig)
{
    int saved = errno;
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        children--;
    errno = saved;
}

int main(int argc, char *argv[])
{
    int lfd = resp_listen(argc, argv);
    struct sigaction sa = {.sa_handler = on_sigchld, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGCHLD, &sa, NULL) == -1)
        die("sigaction");
    // [loop]
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd == -1) {
            perror("accept");
            continue;
        }
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGCHLD); /* children-- waits for children++ */
        if (sigprocmask(SIG_BLOCK, &block, &old) == -1)
            die("sigprocmask");
        pid_t pid = children < MAX_CHILDREN ? fork() : -2;
        if (pid == 0) {
            if (close(lfd) == -1 || sigprocmask(SIG_SETMASK, &old, NULL))
                die("child: close, sigprocmask");
            resp_client(fd, 1);
            resp_serve_blocking(fd);
            _exit(0);
        }
        if (pid > 0)
            children++;
        else if (pid == -1)
            perror("fork"); /* that client is refused, as one too many */
        if (sigprocmask(SIG_SETMASK, &old, NULL) == -1)
            die("sigprocmask");
        if (close(fd) == -1)
            perror("close");
    }
    // [loop]
}
