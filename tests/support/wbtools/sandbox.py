"""The sandbox every step that touches the learner's code runs in.

With Bubblewrap (bwrap) working, a command runs:
- in new PID, network, IPC, UTS and mount namespaces: everything it starts
  dies with it, its loopback is its own (servers of two runs never share a
  port), and it cannot see or signal other processes;
- with the whole file system read-only, a private /tmp and /dev/shm
  (tmpfs of 192 MiB and 64 MiB: TMP_LIMIT_KB, SHM_LIMIT_KB), and
  one folder of its own writable (its outputs);
- as a user of its own when the grader runs as root (from uid 64000 up,
  see claim_uids), so runs side by side cannot signal or trace each other,
  and the process cap of one does not count the other's;
- with caps on processes, file size, memory and time;
- with descriptors 0 to 2 only, and the results descriptor when asked.
Without bwrap (or without user namespaces) it says so once and runs the
command in a session of its own: what escapes the session can survive; the
other caps still hold.

The sandbox sees the workbook at its `root`: the workbook itself, or, when
the sandbox's user cannot read the folder the workbook lies in (a handout
inside a private folder, such as `mktemp -d` makes), a readable copy of
what the steps need (see stage()).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

NPROC_LIMIT = int(os.environ.get("NPROC_LIMIT", "256"))  # processes a run may have
OUTPUT_LIMIT_KB = int(os.environ.get("OUTPUT_LIMIT_KB", "65536"))  # largest file
MEMORY_LIMIT_KB = int(os.environ.get("MEMORY_LIMIT_KB", "1048576"))  # RLIMIT_DATA
# The sandbox's /dev/shm and /tmp are tmpfs (memory): capped, so memory
# cannot be parked there past the data cap. /tmp holds chapter 6's 64 MiB
# file and its copy (test_uringcopy.c's test_64_mib).
SHM_LIMIT_KB = int(os.environ.get("SHM_LIMIT_KB", "65536"))
TMP_LIMIT_KB = int(os.environ.get("TMP_LIMIT_KB", "196608"))
UID_LOCKS = Path("/tmp/wb-grader-uids")
PATH = "/usr/local/bin:/usr/bin:/bin"


STOPPED = 147  # the status run() gives when the watched main() was stopped (128 + SIGSTOP)


class SandboxError(Exception):
    """The sandbox cannot start: one line that says why and what fixes it."""


def is_root() -> bool:
    return os.geteuid() == 0


class Sandbox:
    """A claimed range of user ids, the sandbox's mode, and the processes
    it runs (so that a stop can kill them)."""

    def __init__(self, top: Path, quiet: bool = False) -> None:
        self.top = top.resolve()  # the workbook, as an absolute path
        self.root = self.top  # the folder the sandbox sees as the workbook
        self.uid_base = 0
        self._lock: IO[bytes] | None = None
        self._stage: Path | None = None
        self._running: set[subprocess.Popen[bytes]] = set()
        self._guard = threading.Lock()
        self._stopped = False
        # Paths the sandbox must not see (WB_HIDE, colon-separated: other
        # learners, solutions/ in a gradebook), and those inside them it
        # sees again (WB_SHOW: this learner's own files). Relative paths are
        # relative to the workbook the sandbox sees.
        self.hide = [p for p in os.environ.get("WB_HIDE", "").split(":") if p]
        self.show = [p for p in os.environ.get("WB_SHOW", "").split(":") if p]
        self.claim_uids()
        if is_root() and not self._readable(self.top):
            self.root = self.stage_folder()
        self.mode = "bwrap" if self._bwrap_works() else "session"
        if self.mode == "session" and not quiet:
            if shutil.which("bwrap"):
                why = "Bubblewrap cannot start here (user namespaces disabled?)"
            else:
                why = "Bubblewrap (bwrap) is not installed (make deps installs it)"
            print(f"check: note: {why}; the tests run without a sandbox, "
                  "in a session of their own", file=sys.stderr)

    # --- User ids ---------------------------------------------------------
    def claim_uids(self) -> None:
        """A range of 16 user ids no other grader on the machine uses while
        this one runs, held by a lock on a file. The lock's descriptor is
        not inheritable (PEP 446), so no test can hold or release it."""
        if not is_root():
            return
        UID_LOCKS.mkdir(mode=0o755, exist_ok=True)
        for k in range(1000):
            try:
                f = open(UID_LOCKS / f"{k}.lock", "wb")
            except OSError:
                continue
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                continue
            self._lock = f
            self.uid_base = 64000 + k * 16
            return
        raise SandboxError("check: no free range of user ids for the sandbox")

    def user(self, slot: int) -> list[str]:
        """The command prefix that drops root to the slot's user."""
        if not is_root():
            return []
        uid = str(self.uid_base + slot)
        return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]

    def _readable(self, top: Path) -> bool:
        probe = self.user(0) + ["test", "-r", str(top / "tests/support/wb.h"),
                                "-a", "-x", str(top / "tests/support")]
        return subprocess.run(probe, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0

    def _bwrap_works(self) -> bool:
        if not shutil.which("bwrap"):
            return False
        try:
            return subprocess.run(
                self.user(0) + ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev",
                                "--proc", "/proc", "--tmpfs", "/tmp", "--unshare-all",
                                "--die-with-parent", "--new-session", "true"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, timeout=30).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    # --- A readable copy --------------------------------------------------
    def stage_folder(self) -> Path:
        """A folder under /tmp every user can read, where stage() copies
        what the sandbox needs, because a folder above the workbook keeps
        the sandbox's user out."""
        try:
            self._stage = Path(tempfile.mkdtemp(prefix="wb-grader-stage.", dir="/tmp"))
            self._stage.chmod(0o755)
        except OSError as e:
            raise SandboxError(blocked_message(self.top, self.uid_base, str(e))) from e
        return self._stage

    def stage(self, paths: list[str]) -> None:
        """Copy files and folders (relative to the workbook) into the
        readable copy, when there is one; each readable to all."""
        if self._stage is None:
            return
        for p in paths:
            src, dest = Path(p), self._stage / p
            if src.is_dir():
                for f in src.rglob("*"):
                    if f.is_file() and not f.is_symlink():
                        self._copy(f, self._stage / f, self._stage)
            elif src.is_file() and not src.is_symlink():
                self._copy(src, dest, self._stage)

    @staticmethod
    def _copy(src: Path, dest: Path, stage: Path) -> None:
        if dest.exists() and dest.stat().st_mtime >= src.stat().st_mtime:
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        d = dest.parent
        while d != stage and stage in d.parents:
            d.chmod(0o755)
            d = d.parent
        shutil.copy2(src, dest)
        dest.chmod(0o755 if os.access(src, os.X_OK) else 0o644)

    # --- Running ----------------------------------------------------------
    def folder(self, slot: int, path: Path) -> None:
        """A fresh folder the slot's user owns."""
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        if is_root():
            os.chown(path, self.uid_base + slot, self.uid_base + slot)

    def run(self, slot: int, rw: Path, seconds: int, memory_kb: int,
            env: dict[str, str], cmd: list[str], log: Path,
            output_kb: int = OUTPUT_LIMIT_KB, pass_fd: int | None = None,
            on_slow: str | None = None, hide: tuple[str, ...] = (),
            watch: str | None = None) -> int:
        """Run cmd (absolute paths, or found on PATH) from the sandbox's
        root, with rw (absolute, owned by the slot's user) as the only
        writable folder besides a private /tmp; the environment is env only;
        output to log. memory_kb 0 sets no memory cap (the sanitizers map
        terabytes of shadow memory). Returns cmd's status; 124 or 137 when
        it ran past seconds. on_slow is printed after 5 s when stderr is a
        terminal. hide: more paths the command must not see (besides
        self.hide), under an empty folder."""
        limits = [f"--fsize={output_kb * 1024}"]
        if memory_kb > 0:
            limits.append(f"--data={memory_kb * 1024}")
        if is_root():
            limits.append(f"--nproc={NPROC_LIMIT}")
        else:
            # Everything of this user counts: leave room above what runs.
            limits.append(f"--nproc={count_processes(os.getuid()) + NPROC_LIMIT}")
        envcmd = ["env", "-i"] + [f"{k}={v}" for k, v in env.items()]
        root = str(self.root)
        if self.mode == "bwrap":
            inner = self.user(slot) + [
                "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                "--size", str(TMP_LIMIT_KB * 1024), "--tmpfs", "/tmp",
                "--size", str(SHM_LIMIT_KB * 1024), "--tmpfs", "/dev/shm", "--ro-bind", root, root,
                *self._hidden(list(hide), rw),
                "--bind", str(rw), str(rw), "--unshare-all", "--die-with-parent",
                "--new-session", "--chdir", root] + envcmd + cmd
        else:
            inner = ["setsid"] + self.user(slot) + envcmd + cmd
        full = ["prlimit", *limits, "--", "timeout", "--kill-after=2", str(seconds)] + inner
        with self._guard, open(log, "wb") as out:
            if self._stopped:  # the grader is stopping: start nothing more
                return 137
            p = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, close_fds=True,
                                 pass_fds=() if pass_fd is None else (pass_fd,),
                                 cwd=root)
            self._running.add(p)
        timer = None
        if on_slow is not None and sys.stderr.isatty():
            timer = threading.Timer(5.0, lambda: print(on_slow, file=sys.stderr))
            timer.daemon = True
            timer.start()
        stopped = False
        try:
            while True:
                try:
                    status = p.wait(timeout=0.5 if watch else None)
                    break
                except subprocess.TimeoutExpired:
                    if watch and stopped_main(p.pid, watch, 2.0):
                        stopped = True
        finally:
            if timer is not None:
                timer.cancel()
            with self._guard:
                self._running.discard(p)
        self.kill_slot(slot)
        if stopped:
            return STOPPED
        return status if status >= 0 else 128 - status

    def _hidden(self, more: list[str], rw: Path) -> list[str]:
        """bwrap arguments that put an empty folder over each hidden path
        (an empty file over a hidden file), then bring back the shown ones."""
        args: list[str] = []
        for p in self.hide + more:
            path = Path(p) if os.path.isabs(p) else self.root / p
            if path.is_symlink() or not path.exists():
                continue
            if path.is_dir():
                args += ["--size", "4096", "--tmpfs", str(path)]
            else:
                args += ["--ro-bind", "/dev/null", str(path)]
        for p in self.show:
            path = Path(p) if os.path.isabs(p) else self.root / p
            if path.is_dir() and not path.is_symlink():
                args += ["--ro-bind", str(path), str(path)]
        return args

    def kill_slot(self, slot: int) -> None:
        """Kill what the slot's user still runs (only the session mode can
        leave anything; bwrap's namespaces die with it)."""
        if self.mode == "session" and is_root():
            subprocess.run(["pkill", "-KILL", "-U", str(self.uid_base + slot)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self, slots: int) -> None:
        """Kill everything still running, and remove the readable copy."""
        with self._guard:
            self._stopped = True
            running = list(self._running)
        for p in running:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.kill()
        for s in range(slots):
            self.kill_slot(s)
        if self._stage is not None:
            shutil.rmtree(self._stage, ignore_errors=True)


_stopped_since: dict[int, float] = {}


def stopped_main(top: int, name: str, grace: float) -> bool:
    """Whether the first process named name among top's descendants has
    been stopped for grace seconds; if so, it is killed (its parent, the
    sandbox, then ends)."""
    parent, state, comm = {}, {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                text = f.read()
        except OSError:
            continue
        pid = int(d)
        comm[pid] = text[text.index("(") + 1 : text.rindex(")")]
        rest = text[text.rindex(")") + 2 :].split()
        state[pid], parent[pid] = rest[0], int(rest[1])
    for pid in parent:
        if comm[pid] != name[:15] or comm.get(parent[pid]) == name[:15]:
            continue
        p = parent[pid]
        while p in parent and p != top:
            p = parent[p]
        if p != top:
            continue
        if state[pid] not in ("T", "t"):
            _stopped_since.pop(pid, None)
            return False
        since = _stopped_since.setdefault(pid, time.monotonic())
        if time.monotonic() - since < grace:
            return False
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        return True
    return False


def count_processes(uid: int) -> int:
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                n += os.stat(f"/proc/{d}").st_uid == uid
            except OSError:
                pass
    return n


def blocked_message(top: Path, uid: int, why: str) -> str:
    """One line: the folder that keeps the sandbox's user out, and the
    command that lets it in."""
    blocker = top
    for d in [*reversed(top.parents), top]:
        mode = d.stat().st_mode
        if not mode & stat.S_IXOTH or not mode & stat.S_IROTH:
            blocker = d
            break
    return (f"check: the sandbox's user (uid {uid}) cannot read {blocker}, and no "
            f"readable copy could be made ({why}): run chmod a+rx {blocker}, "
            "or run make check as an ordinary user")


def copy_out(src: Path, dest: Path) -> bool:
    """Copy a file the sandbox wrote, only when it is a regular file (never
    a link the code under test could have made)."""
    try:
        st = os.lstat(src)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    shutil.copyfile(src, dest, follow_symlinks=False)
    return True
