#!/usr/bin/env python3
"""hostile.py: the workbook's own hostile client, against every server
the chapters run (chapter 4's demo servers and the chat server).

The demo servers start their own client program from PATH (`clients
PORT N`, `echo_load PORT CONNS ROUNDS`); this script, run by that name
from a folder put first on PATH, gets the server's port and is the
server's child (so the server's pid is its parent's). It attacks, checks,
prints one line per check ("hostile: ok ..." or "hostile: FAIL ..."),
then runs the real client program in its place, so the demo ends as
usual. Against chat_server, which prints its port, it is called directly.

The attacks, each bounded in count and time, loopback only: 20 resets; a
client that sends 8 MiB and never reads; a 1 MiB line; 256 KiB of random
bytes; the server's limit of connections at once, plus 3. Then: the
server is alive, a normal client is answered, and the server's count of
open descriptors (/proc/PID/fd) is back where it was. The client program
must not have inherited the listening socket (close-on-exec).

Run: tests/support/hostile.py DEMO_FOLDER [SERVER...]   (make test's step)
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
failures = 0


def say(ok, what):
    global failures
    failures += not ok
    print("hostile: %s %s" % ("ok  " if ok else "FAIL", what), flush=True)


def fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def connect(port, timeout=3.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def send_for(s, data, seconds):
    """Send data without reading, for at most `seconds`."""
    s.settimeout(seconds)
    try:
        s.sendall(data)
    except OSError:
        pass  # it stopped taking (timeout) or dropped us (reset): both fine


def answered(s, seconds):
    """True when the server sends something or closes within `seconds`."""
    s.settimeout(seconds)
    try:
        s.recv(4096)
        return True
    except socket.timeout:
        return False
    except OSError:
        return True  # a reset: refused clearly


def normal_client(port, proto):
    """A client that behaves: is it answered within 3 s?"""
    try:
        if proto == "chat":
            a, b = connect(port), connect(port)
            fa, fb = a.makefile("rb"), b.makefile("rb")
            ok = fa.readline().startswith(b"welcome") and \
                fb.readline().startswith(b"welcome")
            a.sendall(b"ping\n")
            ok = ok and fb.readline().endswith(b": ping\n")
            for x in (fa, fb, a, b):
                x.close()
            return ok
        s = connect(port)
        s.sendall(b"ping\n")
        got = b""
        while b"\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        return b"ping" in got
    except OSError:
        return False


def listener_inherited(port):
    """Does this process hold the server's listening socket?"""
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            col = line.split()
            if int(col[1].split(":")[1], 16) == port and col[3] == "0A":
                inodes.add("socket:[%s]" % col[9])
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + fd) in inodes:
                return True
        except OSError:
            pass
    return False


def attack(name, port, pid, limit, proto):
    base = fds(pid)
    for _ in range(20):
        s = connect(port)
        s.sendall(b"hello\n")
        reset(s)
    say(alive(pid), "%s survives 20 resets" % name)
    s = connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    send_for(s, b"x" * (8 << 20), 1.5)
    say(alive(pid) and normal_client(port, proto),
        "%s answers others while a client sends 8 MiB and never reads" % name)
    s.close()
    s = connect(port)
    send_for(s, b"y" * (1 << 20) + b"\n", 1.5)
    s.close()
    say(alive(pid), "%s survives a 1 MiB line" % name)
    s = connect(port)
    send_for(s, os.urandom(256 << 10), 1.5)
    s.close()
    say(alive(pid), "%s survives 256 KiB of random bytes" % name)
    conns = []
    for _ in range(limit + 3):
        conns.append(connect(port))
        conns[-1].sendall(b"hello\n")
    quiet = sum(not answered(s, 3.0) for s in conns)
    for s in conns:
        s.close()
    say(quiet == 0, "%s answers or refuses %d connections at once (limit %d);"
        " %d heard nothing in 3 s" % (name, limit + 3, limit, quiet))
    # The server learns of the closes above only as it reads them: until
    # then it may still be full, and refuse a client that arrives at once.
    end = time.monotonic() + 5.0
    ok = alive(pid) and normal_client(port, proto)
    while not ok and alive(pid) and time.monotonic() < end:
        time.sleep(0.1)
        ok = normal_client(port, proto)
    say(ok, "%s still answers a normal client (within 5 s of the attacks)" % name)
    now, end = fds(pid), time.monotonic() + 3.0
    while now != base and time.monotonic() < end:
        time.sleep(0.02)
        now = fds(pid)
    say(now == base, "%s has %d descriptors open, as before the attacks "
        "(now %d)" % (name, base, now))


def as_client_program(prog):
    """Called by a demo server as `clients` or `echo_load`."""
    port, limit = int(sys.argv[1]), int(sys.argv[2])
    server = os.getppid()
    with open("/proc/%d/comm" % server) as f:
        name = f.read().strip()
    say(not listener_inherited(port),
        "%s: the client program did not inherit the listening socket" % name)
    proto = "said" if prog == "clients" else "echo"
    try:
        attack(name, port, server, limit, proto)
    except OSError as e:
        say(False, "%s: %s" % (name, e))
    here = os.path.dirname(os.path.abspath(sys.argv[0]))
    path = [d for d in os.environ["PATH"].split(":")
            if os.path.abspath(d) != here]
    os.environ["PATH"] = ":".join(path)
    sys.stdout.flush()
    os.execvp(prog, [prog] + sys.argv[1:])


SERVERS = {  # demo: command (the limit of connections at once is in it)
    "blocking_server": ["blocking_server"],
    "select_server": ["select_server"],
    "echo_select": ["echo_select", "4"],
    "echo_threads": ["echo_threads", "4"],
    "echo_fork": ["echo_fork", "4"],
    "chat_server": ["chat_server", "0", "20"],
}


def run_demo(demos, name, here):
    env = dict(os.environ, PATH="%s:%s:%s" % (here, demos, os.environ["PATH"]))
    p = subprocess.Popen(SERVERS[name], env=env, cwd=demos,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)  # the server and its clients
        out, _ = p.communicate()
    out = out.decode(errors="replace")
    lines = re.findall(r"hostile: (?:ok  |FAIL) [^\n]*", out)
    print("\n".join(lines), flush=True)
    global failures
    failures += sum("FAIL" in l for l in lines)
    say(p.returncode == 0 and len(lines) > 5,
        "%s ran to its end within 30 s after the attacks (exit %d)"
        % (name, p.returncode))
    if p.returncode != 0 or not lines:
        print(out[-2000:])


def run_chat(demos):
    p = subprocess.Popen([os.path.join(demos, "chat_server")] +
                         SERVERS["chat_server"][1:], stdout=subprocess.PIPE,
                         text=True)
    try:
        port = int(p.stdout.readline().split()[-1])
        attack("chat_server", port, p.pid, 100, "chat")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)


def main():
    prog = os.path.basename(sys.argv[0])
    if prog in ("clients", "echo_load"):
        as_client_program(prog)
    if len(sys.argv) < 2:
        sys.exit("usage: hostile.py DEMO_FOLDER [SERVER...]")
    demos = os.path.abspath(sys.argv[1])
    names = sys.argv[2:] or list(SERVERS)
    here = tempfile.mkdtemp(prefix="hostile.")
    try:
        for prog in ("clients", "echo_load"):
            os.symlink(os.path.abspath(__file__), os.path.join(here, prog))
        for name in names:
            if name == "chat_server":
                run_chat(demos)
            else:
                run_demo(demos, name, here)
    finally:
        shutil.rmtree(here)
    print("hostile: %d servers, %d failed checks" % (len(names), failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
