/*
 * chat_server.c: the chat server of exercise 4 as a program you can
 * talk to. It listens on 127.0.0.1, port PORT (0: the kernel picks one),
 * prints the port, and runs the chat (chat.h) on the loop of exercise 3
 * until SECONDS have passed (or forever without SECONDS). The Makefile
 * links it with the reference solutions of chat, loop, linebuf and
 * timerq (with yours in the learners' copy, which has no solutions);
 * build it with yours by naming your files instead. Then, from two
 * terminals:
 *
 *     nc 127.0.0.1 PORT
 *
 * and every line one types reaches the other. Up to 100 clients, lines
 * up to 1000 bytes, idle clients dropped after 5 minutes.
 *
 * Run: chat_server PORT [SECONDS]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat.h"
#include "die.h"
#include "loop.h"

static chat *server;

/* The time is up: stop the chat; with nothing left, loop_run() returns. */
static void on_time_up(loop *l, void *ctx)
{
    (void)l;
    (void)ctx;
    chat_stop(server);
    server = NULL;
}

static int listen_on(int port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(fd, 64) == -1 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) == -1)
        die("socket, bind, listen");
    printf("chat_server: listening on 127.0.0.1 port %d\n",
           ntohs(addr.sin_port));
    if (fflush(stdout) == EOF)
        die("fflush");
    return fd;
}

// [main]
int main(int argc, char *argv[])
{
    int port = argc > 1 ? atoi(argv[1]) : -1;
    long seconds = argc > 2 ? atol(argv[2]) : 0;
    if (argc < 2 || argc > 3 || port < 0 || port > 65535 || seconds < 0) {
        fprintf(stderr, "usage: %s PORT [SECONDS] (PORT 0: any free port)\n",
                argv[0]);
        return 2;
    }
    chat_config cfg = {.max_clients = 100,
                       .max_line = 1000,
                       .max_queue = 64 * 1024,
                       .idle_ms = 5 * 60 * 1000};
    int lfd = listen_on(port);
    loop *l = loop_new();
    if (l == NULL || (server = chat_start(l, lfd, &cfg)) == NULL)
        die("loop_new, chat_start");
    if (seconds > 0 && loop_add_timer(l, seconds * 1000, on_time_up, NULL) < 0)
        die("loop_add_timer");
    if (loop_run(l) == -1)
        die("loop_run");
    loop_free(l);
    if (close(lfd) == -1)
        die("close");
    printf("chat_server: stopped after %ld s\n", seconds);
    return 0;
}
// [main]
