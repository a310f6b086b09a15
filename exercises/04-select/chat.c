/*
 * chat: a chat server for many clients, in one thread.
 *
 * The contract is in chat.h. Run the tests with
 *
 *     make check CHAPTER=4 EXERCISE=chat
 *
 * and ask for a hint with `make hint CHAPTER=4 EXERCISE=chat`.
 *
 * The linebuf, timerq and loop of exercises 1 to 3 are linked in, to
 * build the server on: in the workbook the reference solutions, in a
 * handout yours (graded first).
 */
#include "chat.h"
#include "linebuf.h"
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

/* TODO: the fields you need. */
struct chat {
    int unused;
};

chat *chat_start(loop *l, int listen_fd, const chat_config *cfg)
{
    /* TODO: see chat.h. Read: chapter 4, "Serving many clients in one
     * thread" and "accept can fail". */
    (void)l;
    (void)listen_fd;
    (void)cfg;
    errno = ENOSYS;
    return NULL;
}

size_t chat_clients(const chat *c)
{
    /* TODO: see chat.h. Read: chapter 4, "Serving many clients in one
     * thread". */
    (void)c;
    return 0;
}

void chat_stop(chat *c)
{
    /* TODO: see chat.h. Read: chapter 4, "Serving many clients in one
     * thread". */
    (void)c;
}
