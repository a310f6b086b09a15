#!/usr/bin/env python3
"""server_asyncio.py: chapter 7's key-value server in Python's asyncio.

The same protocol as resp.h (a RESP2 subset: PING, ECHO, GET, SET, DEL,
QUIT, BURN ms, SLEEP ms; arrays of bulk strings or inline lines), the same
rules (an unknown command or wrong arguments: an error, the connection
stays; a malformed request: an error, then close), on one thread and
asyncio's event loop: a coroutine per client, `await` wherever it would
wait. SLEEP is `await asyncio.sleep()`, so other clients go on; BURN spins
and freezes every client, as in the C loops. At most MAX_CLIENTS clients;
one more is closed at once. Replies pile up to 256 KiB before the
coroutine waits for the client to read (`drain()`).

Run: python3 server_asyncio.py [SECONDS]   (prints "port N"; ends after
     SECONDS, default 60, or on SIGTERM). Try: redis-cli -p N ping
"""
import asyncio
import signal
import socket
import sys
import time

MAX_ARGS, MAX_BULK, MAX_INLINE = 64, 1 << 20, 64 << 10
MAX_CLIENTS = 10000
store = {}
clients = 0


class Bad(Exception):
    """A malformed request: the reply is an error, then the close."""


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


def run(args):
    """One request: (reply, close after it?, ms of a SLEEP to wait)."""
    name, n = args[0].upper(), len(args)
    if name == b"PING" and n <= 2:
        return (b"+PONG\r\n" if n == 1 else bulk(args[1])), False, 0
    if name == b"ECHO" and n == 2:
        return bulk(args[1]), False, 0
    if name == b"GET" and n == 2:
        v = store.get(args[1])
        return (b"$-1\r\n" if v is None else bulk(v)), False, 0
    if name == b"SET" and n == 3:
        store[args[1]] = args[2]
        return b"+OK\r\n", False, 0
    if name == b"DEL" and n >= 2:
        gone = sum(store.pop(k, None) is not None for k in args[1:])
        return b":%d\r\n" % gone, False, 0
    if name in (b"BURN", b"SLEEP") and n == 2:
        ms = int(args[1]) if args[1].isdigit() and len(args[1]) <= 5 else -1
        if not 0 <= ms <= 10000:
            return b"-ERR milliseconds must be 0 to 10000\r\n", False, 0
        if name == b"SLEEP":
            return b"+OK\r\n", False, ms
        until = time.monotonic() + ms / 1000
        while time.monotonic() < until:
            pass
        return b"+OK\r\n", False, 0
    if name == b"QUIT":
        return b"+OK\r\n", True, 0
    known = name in (b"PING", b"ECHO", b"GET", b"SET", b"DEL", b"BURN",
                     b"SLEEP")
    what = args[0][:40].replace(b"\r", b" ").replace(b"\n", b" ")
    if known:
        return (b"-ERR wrong number of arguments for '%s' command\r\n"
                % what), False, 0
    return b"-ERR unknown command '%s'\r\n" % what, False, 0


def number(line, kind, low, high):
    """The number of a "*N\r\n" or "$N\r\n" line, low to high."""
    if line[:1] != kind or line[-2:] != b"\r\n" or len(line) > 24:
        raise Bad(b"expected '%s'" % kind)
    try:
        v = int(line[1:-2])
    except ValueError:
        raise Bad(b"invalid length") from None
    if not low <= v <= high:
        raise Bad(b"invalid length")
    return v


async def request(reader):
    """The next request's words ([] for an empty inline line)."""
    line = await reader.readuntil(b"\n")
    if line[:1] != b"*":
        return line.split()
    args = []
    for _ in range(number(line, b"*", 1, MAX_ARGS)):
        size = number(await reader.readuntil(b"\n"), b"$", 0, MAX_BULK)
        data = await reader.readexactly(size + 2)
        if data[-2:] != b"\r\n":
            raise Bad(b"bulk length lies")
        args.append(data[:-2])
    return args


async def serve(reader, writer):
    global clients
    clients += 1
    sock = writer.get_extra_info("socket")
    try:
        if clients > MAX_CLIENTS:
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                args = await request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            except (Bad, asyncio.LimitOverrunError) as e:
                why = e.args[0] if isinstance(e, Bad) else b"too big line"
                writer.write(b"-ERR Protocol error: " + why + b"\r\n")
                await writer.drain()
                return
            if not args:
                continue
            reply, close, ms = run(args)
            if ms:
                await asyncio.sleep(ms / 1000)
            writer.write(reply)
            if writer.transport.get_write_buffer_size() > 256 << 10:
                await writer.drain()  # a client that does not read waits
            if close:
                await writer.drain()
                return
    except (ConnectionError, OSError):
        return
    finally:
        clients -= 1
        writer.close()


async def main(seconds):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # close-on-exec
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    # limit: the longest line (readexactly() reads bulk strings, unbound)
    server = await asyncio.start_server(serve, sock=ls, backlog=4096,
                                        limit=MAX_INLINE)
    print("port", ls.getsockname()[1], flush=True)
    stop = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    loop.call_later(seconds, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop


if __name__ == "__main__":
    secs = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    if len(sys.argv) > 2 or not 1 <= secs <= 3600:
        sys.exit("usage: server_asyncio.py [SECONDS]")
    asyncio.run(main(secs))
