"""`make watch CHAPTER=N [EXERCISE=name]`: grades the chapter, then again
each time one of its files in exercises/ is saved. Uses inotifywait
(package inotify-tools) when it is there and polls once a second when not.
Ctrl-C stops it and leaves nothing running."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from wbtools.workbook import UsageError

FIRST_UNFINISHED = re.compile(
    r"^  ([a-z_0-9]+) +(failed|not started|does not compile|refused|stopped early) ", re.M)


def snapshot(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted([*folder.glob("*.c"), *folder.glob("*.h")]):
        try:
            st = f.stat()
        except OSError:
            continue
        h.update(f"{f} {int(st.st_mtime)} {st.st_size}\n".encode())
    return h.hexdigest()


def grader(chapter: str, exercise: str) -> list[str]:
    return [sys.executable, "-m", "wbtools", "check", chapter, exercise, "exercises"]


def main(argv: list[str]) -> int:
    chapter, exercise = (argv + ["", ""])[:2]
    if not re.fullmatch(r"[0-9]+", chapter):
        raise UsageError("watch", "say which chapter: make watch CHAPTER=1")
    env = dict(os.environ, PYTHONPATH="tests/support")
    found = sorted(Path("exercises").glob(f"{int(chapter, 10):02d}-*"))
    if not found:
        subprocess.run(grader(chapter, exercise), env=env)
        return 2
    folder = found[0]
    child: list[subprocess.Popen[bytes]] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        return loop(chapter, exercise, folder, env, child)
    except KeyboardInterrupt:
        # Once: a second signal must not interrupt the cleanup. The grader
        # cleans up after its tests when it is told to stop.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for p in child:
            if p.poll() is None:
                p.terminate()
        for p in child:
            p.wait()
        print("\nwatch: stopped", flush=True)
        return 0


def loop(chapter: str, exercise: str, folder: Path, env: dict[str, str],
         child: list[subprocess.Popen[bytes]]) -> int:
    while True:
        print("\033[H\033[2J", end="")
        print(f"watch: chapter {chapter}{', ' + exercise if exercise else ''}; "
              f"grading on every save of {folder}/ (Ctrl-C stops)\n", flush=True)
        p = subprocess.Popen(grader(chapter, exercise), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        child[:] = [p]
        out = p.communicate()[0].decode(errors="replace")
        print(out.rstrip("\n"), flush=True)
        if p.returncode == 2:
            return 2
        m = FIRST_UNFINISHED.search(out)
        if m:
            print(f"stuck on {m.group(1)}? make hint CHAPTER={chapter} EXERCISE={m.group(1)}", flush=True)
        if shutil.which("inotifywait"):
            w = subprocess.Popen(["inotifywait", "-qq", "-e", "close_write,moved_to,create", str(folder)])
            child[:] = [w]
            w.wait()
        else:
            before = snapshot(folder)
            while snapshot(folder) == before:
                time.sleep(1)
        time.sleep(0.2)  # let an editor finish writing
