"""Step 4: the suite run in the sandbox. Its results go to a file only the
grader can read (mode 0600, outside the sandbox's writable folder), through
the one descriptor the suite inherits besides 0 to 2 (WB_RESULTS_FD)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from wbtools.sandbox import MEMORY_LIMIT_KB, STOPPED, Sandbox

SUITE_LIMIT = int(os.environ.get("SUITE_LIMIT", "120"))  # seconds one suite may run
# Statuses no process exits with: the suite's main() was stopped (SIGSTOP)
# and ended by the grader, or killed by a signal well before its limit.
RUNNER_STOPPED = STOPPED
RUNNER_KILLED = 1000  # + the signal


@dataclass
class Run:
    status: int  # the suite's exit status; 124 or 137: stopped at its time limit
    raw: str  # what it wrote to the results descriptor
    log: str  # what it printed
    out: Path  # what the sandbox wrote: sanitizer reports, a trace


def sanitizer_env(sanitize: str) -> dict[str, str]:
    """The sanitizers' exit statuses, known to wb.c, and their options: stop
    at the first error, so the report is about this test. A plain build is
    linked with LeakSanitizer, which must not take over crashes."""
    env = os.environ
    out = {
        "ASAN_OPTIONS": "exitcode=86:abort_on_error=0:detect_leaks=1:" + env.get("ASAN_OPTIONS", ""),
        "UBSAN_OPTIONS": "exitcode=87:halt_on_error=1:print_stacktrace=1:" + env.get("UBSAN_OPTIONS", ""),
        "TSAN_OPTIONS": "exitcode=88:halt_on_error=1:second_deadlock_stack=1:" + env.get("TSAN_OPTIONS", ""),
    }
    if sanitize:
        out["LSAN_OPTIONS"] = "exitcode=86:" + env.get("LSAN_OPTIONS", "")
    else:
        out["LSAN_OPTIONS"] = ("exitcode=85:handle_segv=0:handle_sigbus=0:handle_abort=0:"
                               "handle_sigfpe=0:handle_sigill=0:" + env.get("LSAN_OPTIONS", ""))
    return out


def run(sandbox: Sandbox, slot: int, work: Path, binary: str, sanitize: str,
        deadline: float, trace: bool) -> Run:
    limit = max(1, min(int(deadline - time.time()), SUITE_LIMIT))
    out = work / "out"  # absolute, under the sandbox's root
    sandbox.folder(slot, out)
    raw_path = work / "raw.tsv"
    raw_path.unlink(missing_ok=True)
    fd = os.open(raw_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "LC_ALL": "C",
           "WB_RESULTS_FD": str(fd), "WB_REPORTS": str(out)}
    if trace:
        env["WB_TRACE"] = str(out / "trace")
    for k in ("WB_ALL_TESTS", "WB_HANG_LIMIT", "WB_STRESS"):
        env[k] = os.environ.get(k, "")
    env["CK_TIMEOUT_MULTIPLIER"] = os.environ.get("CK_TIMEOUT_MULTIPLIER", "1")
    env.update(sanitizer_env(sanitize))
    name = Path(binary).name
    start = time.monotonic()
    try:
        status = sandbox.run(
            slot, out, limit, 0 if sanitize else MEMORY_LIMIT_KB, env,
            [str(sandbox.root / binary)], work / "run.log", pass_fd=fd,
            on_slow=f"  {name}: still running after 5 s; a test that hangs waits out its "
                    "time limit (Ctrl-C stops the run)", watch=name)
    finally:
        os.close(fd)
    if status in (137, 128 + 15) and time.monotonic() - start < limit - 1:
        # Killed well before the time limit: not by timeout(1).
        status = RUNNER_KILLED + status - 128
    return Run(status, raw_path.read_text(errors="replace"),
               (work / "run.log").read_text(errors="replace"), out)
