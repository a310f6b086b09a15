/*
 * chat: a chat server for many clients, in one thread.
 *
 * The contract is in chat.h. Run the tests with
 *
 *     make check CHAPTER=4 EXERCISE=chat
 *
 * and ask for a hint with `make hint CHAPTER=4 EXERCISE=chat`.
 *
 * The loop, timerq and linebuf of exercises 1 to 3 are linked in, from
 * their reference solutions: build the server on them.
 */
#include "chat.h"
#include "linebuf.h"
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

/* TODO: the server's fields: the loop, the listening socket, a copy of
 * the configuration, an array of max_clients client pointers, the last
 * id given, and the timer that resumes accepting after EMFILE. Each
 * client (a struct of its own) needs its socket, id, linebuf, output
 * queue (at most max_queue bytes), whether it is watched for LOOP_WRITE,
 * its idle timer and the time of its last line. */
struct chat {
    int unused;
};

chat *chat_start(loop *l, int listen_fd, const chat_config *cfg)
{
    /* TODO: EINVAL for NULL arguments and a configuration that breaks
     * the rules of chat_config. Make listen_fd non-blocking, allocate the
     * server, and watch listen_fd for LOOP_READ with a callback that
     * accepts connections until accept() says EAGAIN: each new client
     * is made non-blocking, watched for LOOP_READ, given an idle timer
     * and sent "welcome N\n" (or CHAT_FULL and closed).
     * Read: chapter 4, "Serving many clients in one thread" and "accept
     * can fail". */
    (void)l;
    (void)listen_fd;
    (void)cfg;
    errno = ENOSYS;
    return NULL;
}

size_t chat_clients(const chat *c)
{
    /* TODO: the number of connected clients.
     * Read: chapter 4, "Serving many clients in one thread". */
    (void)c;
    return 0;
}

void chat_stop(chat *c)
{
    /* TODO: close every client (unwatch, close, cancel its timer, free
     * it), unwatch the listening socket (do not close it), cancel the
     * accept timer, free the server.
     * Read: chapter 4, "Serving many clients in one thread". */
    (void)c;
}
