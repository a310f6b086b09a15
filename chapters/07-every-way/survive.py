#!/usr/bin/env python3
"""survive.py: hostile clients against one of chapter 7's servers.

Starts the server (a command that prints "port N" first), then, one after
the other: garbage bytes, a bulk length that lies, a huge inline line (each
must get a "-ERR" reply and a close), a client that resets mid-request, a
client that pipelines 4 MiB of requests and never reads, and 1,100
connections at once (more than server_select may have). After each, a
fresh client must still get +PONG (within 60 s: a blocking server gives
up on a silent or non-reading client after 10 s without progress (a
non-reader held server_seq about 30 s here: a trickle of progress restarts
the 10 s), and
server_seq serves no one else meanwhile). Prints one line per
check; exits 1 if one failed.

Run: python3 survive.py [--ok] SERVER [ARGS...]
     --ok: the server answers +OK to every request (server_null), so
     +OK, not +PONG, is what a fresh client must get
     e.g. python3 survive.py ../../build/plain/demos/07-every-way/server_seq
"""
import socket
import struct
import subprocess
import sys
import time


def connect(port, timeout=60):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


PONG = b"+PONG\r\n"


def ping_ok(port):
    with connect(port) as s:
        s.sendall(b"PING\r\n")
        return s.recv(100) == PONG


def answers(port, seconds=3.0):
    """The server answers PING within a few seconds. Right after a burst
    of connections closed, it may not have seen them all go yet, and
    turn a new one away as one too many (a reset, or its error reply)."""
    end = time.monotonic() + seconds
    while True:
        try:
            if ping_ok(port):
                return True
        except OSError:
            pass
        if time.monotonic() > end:
            return False
        time.sleep(0.05)


def error_then_close(port, data):
    """An error reply, then the close; or a reset, when the server closed
    with some of data unread (then the kernel drops the reply)."""
    got = b""
    with connect(port) as s:
        try:
            s.sendall(data)
            while True:
                part = s.recv(4096)
                if not part:
                    break
                got += part
        except ConnectionResetError:
            return len(data) > 4096
        return got.startswith(b"-ERR")


def main():
    global PONG
    args = sys.argv[1:]
    if args[:1] == ["--ok"]:
        PONG, args = b"+OK\r\n", args[1:]
    print(f"== {args[0]}")
    server = subprocess.Popen(args + ["120"], stdout=subprocess.PIPE)
    port = int(server.stdout.readline().split()[1])
    failed = 0

    def check(name, ok):
        nonlocal failed
        alive = server.poll() is None and answers(port)
        print(f"{'ok  ' if ok and alive else 'FAIL'} {name}"
              f"{'' if alive else ' (the server stopped answering)'}")
        failed += not (ok and alive)

    try:
        check("garbage: an error, then the close",
              error_then_close(port, b"*x\r\n\x00\xff garbage\r\n"))
        check("a bulk length that lies: an error, then the close",
              error_then_close(port, b"*1\r\n$2\r\nPINGPONG\r\n"))
        check("a huge inline line: an error, then the close",
              error_then_close(port, b"A" * (200 << 10)))
        s = connect(port)
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nxx")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        s.close()  # a reset mid-request
        check("a reset mid-request", True)
        s = connect(port)
        s.setblocking(False)
        req = b"*3\r\n$3\r\nSET\r\n$1\r\nv\r\n$1000\r\n" + b"x" * 1000 + \
              b"\r\n" + b"*2\r\n$3\r\nGET\r\n$1\r\nv\r\n" * 50
        sent, t, rest = 0, time.monotonic(), req
        while sent < 4 << 20 and time.monotonic() - t < 3:
            try:
                n = s.send(rest)
            except BlockingIOError:
                time.sleep(0.01)
                continue
            sent += n
            rest = rest[n:] or req
        check(f"a client that sent {sent >> 10} KiB and never reads", True)
        s.close()
        many = []
        for _ in range(1100):
            try:
                many.append(connect(port, 2))
            except OSError:
                break
        for c in many:
            c.close()
        check(f"{len(many)} connections at once", len(many) > 0)
    finally:
        server.terminate()
        server.wait()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
