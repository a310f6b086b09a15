/*
 * kvnet: the TCP helpers the suites of chapter 7's capstones share
 * (test_kv.c and test_kvsave.c, which name kvnet.c in kv.links and
 * kvsave.links): a listening socket on 127.0.0.1, a client's connection
 * to it, a wait with a deadline, a request in RESP, whole sends, and
 * bytes shown in messages. Test code, trusted: linked, never graded.
 */
#ifndef KVNET_H
#define KVNET_H

#include <stddef.h>

/**
 * @brief A TCP socket listening on 127.0.0.1, on a port the kernel chose.
 * @param sndbuf   SO_SNDBUF of the socket (its accepted sockets inherit
 *                 it); 0 leaves the default.
 * @param backlog  listen()'s backlog.
 * @param port     receives the port.
 * @return the descriptor (close-on-exec); fails the test on error.
 */
int kvnet_listen(int sndbuf, int backlog, int *port);

/**
 * @brief A connection to 127.0.0.1:@p port, TCP_NODELAY set.
 * @param port         the server's port.
 * @param rcvbuf       SO_RCVBUF before connecting; 0 leaves the default.
 * @param nonblocking  1: the descriptor is made non-blocking.
 * @return the descriptor (close-on-exec); fails the test on error.
 */
int kvnet_connect(int port, int rcvbuf, int nonblocking);

/** @brief Whether @p fd becomes readable within @p ms (poll()). */
int kvnet_readable_within(int fd, long ms);

/**
 * @brief Send all @p len bytes on a blocking socket; fails the test
 *        (naming client @p who) when send() fails.
 */
void kvnet_send_all(int fd, const char *data, size_t len, char who);

/**
 * @brief Append a request, an array of @p argc bulk strings, to @p b.
 * @param b     the buffer, of @p cap bytes.
 * @param at    where the request starts in @p b.
 * @param argv  the arguments, @p lens their lengths (any bytes).
 * @return where the request ends; fails the test if @p cap is too small.
 */
size_t kvnet_resp(char *b, size_t cap, size_t at, int argc,
                  const char *const *argv, const size_t *lens);

/**
 * @brief @p len bytes for a message: quoted, CR and LF as \r and \n,
 *        other bytes outside printable ASCII as \xHH, cut at 80 bytes.
 * @return the text, in one of four buffers of the calling thread used in
 *         turn (so a message may show four).
 */
const char *kvnet_show(const char *s, size_t len);

#endif
