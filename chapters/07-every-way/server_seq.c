/*
 * server_seq.c: chapter 7's key-value server (resp.h), sequential: one
 * client at a time, from accept() to its last byte. Every other client
 * waits in the kernel's accept queue, however little it asks for.
 *
 * Run: server_seq [SECONDS]   (prints "port N"; ends after SECONDS,
 *      default 60, or on SIGTERM). Try: redis-cli -p N ping
 */
#include "resp.h"

int main(int argc, char *argv[])
{
    int lfd = resp_listen(argc, argv);
    // [loop]
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd == -1) {
            perror("accept"); /* that client is gone, or out of fds */
            continue;
        }
        resp_client(fd, 1);
        resp_serve_blocking(fd);
    }
    // [loop]
}
