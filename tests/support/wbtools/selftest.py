"""`make test`: everything a maintainer must prove (DESIGN.md, "What make
test proves"). One line per step, "ok   DESCRIPTION  TIME" or "FAIL ...";
the logs of failed steps are shown and kept in build/test-logs/. The last
lines are the time of each step, slowest first, and "test: N passed, N
failed".

The steps are the list in steps(): a description and either a command or
a check written here. To add one, add one line there. They run side by
side, STEPS (default 3) at a time, after the steps they wait for (Step's
group and after: the builds come first); a step whose checks cannot share
the machine's files with another says so (alone, weight).
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue
from typing import Callable, TextIO, Union

from wbtools import workbook

LOGS = Path("build/test-logs")
JOBS = os.environ.get("JOBS") or str(os.cpu_count() or 2)
# Steps run side by side, STEPS slots at a time: most of them wait (on
# timers, time limits, sandboxes starting) far more than they compute.
STEPS = int(os.environ.get("STEPS") or 3)
MAKE = ["make", "--no-print-directory", "-s"]
Check = Callable[[TextIO], bool]


@dataclass
class Step:
    desc: str
    what: Union[list[str], Check]  # a command, or a check that writes to its log
    group: str = ""  # a name later steps can wait for
    after: tuple[str, ...] = ("build",)  # the groups that must be done first
    weight: int = 1  # how many of the STEPS slots it takes while it runs
    alone: str = ""  # steps with the same name here never run at the same time


def sh(log: TextIO, cmd: list[str], env: dict[str, str] | None = None,
       cwd: str | None = None) -> tuple[int, str]:
    """Run a command; its output goes to the log and is returned."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       stdin=subprocess.DEVNULL, env=None if env is None else dict(os.environ, **env),
                       cwd=cwd)
    log.write(r.stdout)
    return r.returncode, r.stdout


def exercises() -> list[str]:
    """chapter/name of every exercise."""
    return [f"{c}/{n}" for c in workbook.chapters_with_exercises() for n in workbook.exercises_of(c)]


def must_fail(binary: str, first_failure: bool = False) -> Check:
    """A test binary must fail (exit 1: some checks failed), not pass (0)
    and not break (2 or a signal: the suite did not run to its end). With
    `first_failure`, the suite stops at its first failing test
    (WB_FIRST_FAILURE): a known-wrong variant needs one to be caught."""
    def check(log: TextIO) -> bool:
        status, _ = sh(log, [binary], env={"WB_FIRST_FAILURE": "1"} if first_failure else None)
        log.write(f"exit status {status}\n")
        return status == 1
    return check


def declared_matches_registered(ex: str, binary: str) -> Check:
    """The grader counts a suite that does not compile by its WB_ADD lines;
    that count must be what the suite really registers."""
    def check(log: TextIO) -> bool:
        c, name = ex.split("/")
        text = workbook.read(workbook.suite_source(c, name))
        declared = len(re.findall(r"^[ \t]*WB_ADD(?:_TIMEOUT)?\(", text, re.M))
        _, out = sh(log, [binary, "--list"])
        registered = len(out.splitlines())
        log.write(f"declared {declared}, registered {registered}\n")
        return declared == registered >= 5
    return check


def traced_run(ex: str, want: int) -> Check:
    """make check TRACE=1 with the reference solution: the test passes, the
    picture is an SVG, and the trace holds at least `want` spans."""
    def check(log: TextIO) -> bool:
        c, name = ex.split("/")
        status, out = sh(log, MAKE + ["check", f"CHAPTER={workbook.chapter_number(c)}",
                                      f"EXERCISE={name}", "IMPL=solutions", "TRACE=1"])
        if status != 0:
            return False
        svg = re.search(r"picture: (\S+) ", out)
        trace = re.search(r"trace: (\S+)$", out, re.M)
        if not svg or not trace:
            return False
        if not re.search(r"^<svg", workbook.read(svg.group(1)), re.M):
            log.write(f"{svg.group(1)} is not an SVG picture\n")
            return False
        spans = sum(1 for l in workbook.read(trace.group(1)).splitlines() if not l.startswith("#"))
        log.write(f"{spans} spans in {trace.group(1)}\n")
        return spans >= want
    return check


def helgrind_clean(chapter: str) -> Check:
    """Every solution test binary of a chapter under helgrind, all at once. A
    helgrind report makes the test's process exit with 89, which the suite
    reports as that test's failure."""
    def check(log: TextIO) -> bool:
        names = [e for e in exercises() if e.startswith(chapter + "/")]
        env = dict(os.environ, CK_TIMEOUT_MULTIPLIER="20", WB_STRESS="0.05")
        with tempfile.TemporaryDirectory() as d:
            runs = []
            for ex in names:
                f = open(Path(d) / ex.replace("/", "_"), "w+")
                runs.append((ex, f, subprocess.Popen(
                    ["valgrind", "--tool=helgrind", "-q", "--fair-sched=yes", "--error-exitcode=89",
                     f"build/plain/bin/solutions/{ex}"], stdout=f, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=env)))
            ok = True
            for ex, f, p in runs:
                ok = p.wait() == 0 and ok
                f.seek(0)
                log.write(f"== solutions/{ex} under helgrind\n{f.read()}")
                f.close()
        return ok
    return check


def hints_ok(log: TextIO) -> bool:
    """Every exercise has a hints file with at least two hints."""
    bad = False
    for ex in exercises():
        n = len(re.findall(r"^## Hint [0-9]", workbook.read(f"exercises/{ex}.hints.md"), re.M))
        if n < 2:
            log.write(f"exercises/{ex}.hints.md: {n} hints, need at least 2\n")
            bad = True
    return not bad


def sections_ok(log: TextIO) -> bool:
    """Every section a test names is a heading of its chapter."""
    bad = False
    for ex in exercises():
        c, name = ex.split("/")
        headings = {re.sub(r" \{[^}]*\}$", "", m).replace("\\", "")
                    for m in re.findall(r"^#{1,6} (.*)$", workbook.read(f"chapters/{c}/chapter.md"), re.M)}
        text = workbook.read(workbook.suite_source(c, name)).replace("\n", " ")
        for section in sorted(set(re.findall(r'WB_ADD(?:_TIMEOUT)?\([^"]*"([^"]*)"', text))):
            if section not in headings:
                log.write(f'tests/{c}/test_{name}.c names section "{section}", '
                          f"which chapters/{c}/chapter.md does not have\n")
                bad = True
    return not bad


def promises_tested(log: TextIO) -> bool:
    """Every promise of every contract is named by a test, and only those."""
    bad = False
    for ex in exercises():
        c, name = ex.split("/")
        tags = re.findall(r"^ *\* *- \[([a-z0-9-]+)\]", workbook.read(f"exercises/{ex}.h"), re.M)
        named = workbook.named_promises(c, name)
        if not tags:
            log.write(f"exercises/{ex}.h lists no promise (bullets starting with [tag])\n")
            bad = True
        twice = sorted({t for t in tags if tags.count(t) > 1})
        if twice:
            log.write(f"exercises/{ex}.h: tags used twice: {' '.join(twice)}\n")
            bad = True
        for t in sorted(set(tags) - named):
            log.write(f"exercises/{ex}.h: promise [{t}] is named by no test in tests/{c}/test_{name}.c\n")
            bad = True
        for t in sorted(named - set(tags)):
            log.write(f'tests/{c}/test_{name}.c names promise "{t}", which exercises/{ex}.h does not list\n')
            bad = True
    return not bad


def quoted_counts(log: TextIO) -> bool:
    """Every grading summary the text quotes ("chapter-N: P passed, F
    failed") adds up to the chapter's checks, with P none, all, or one
    exercise's."""
    bad = False
    texts = ["README.md"] + sorted(str(p) for p in Path("chapters").glob("*/chapter.md"))
    totals = {workbook.chapter_number(c): [len(workbook.declared_tests(c, e)) for e in workbook.exercises_of(c)]
              for c in workbook.chapters_with_exercises()}
    for t in texts:
        for n, p, f in re.findall(r"chapter-([0-9]+): ([0-9]+) passed, ([0-9]+) failed", workbook.read(t)):
            each = totals.get(int(n), [])
            if int(p) + int(f) != sum(each) or (int(p) not in [0, sum(each)] + each):
                log.write(f"{t}: \"chapter-{n}: {p} passed, {f} failed\": chapter {n} has {sum(each)} "
                          f"checks ({' + '.join(map(str, each))})\n")
                bad = True
    return not bad


def stubs_recorded(log: TextIO) -> bool:
    """The manifest lists every stub, unchanged."""
    if sh(log, ["sha256sum", "--quiet", "-c", "exercises/stubs.sha256"])[0] != 0:
        return False
    manifest = workbook.read("exercises/stubs.sha256")
    for ex in exercises():
        if f"  exercises/{ex}.c\n" not in manifest:
            log.write(f"exercises/{ex}.c is not in exercises/stubs.sha256: run make stubs-manifest\n")
            return False
    return True


def hint_works(log: TextIO) -> bool:
    hint = MAKE + ["hint", "CHAPTER=1", "EXERCISE=runner"]
    subprocess.run(["rm", "-rf", "build/hints"])
    for want in ("Hint 1 of", "Hint 2 of"):
        status, out = sh(log, hint)
        if status != 0 or not out.startswith(want):
            return False
    if sh(log, hint + ["RESET=1"])[0] != 0:
        return False
    status, out = sh(log, hint)
    subprocess.run(["rm", "-rf", "build/hints"])
    return status == 0 and out.startswith("Hint 1 of")


def grader_rejects_bad_names(log: TextIO) -> bool:
    status, out = sh(log, MAKE + ["check", "CHAPTER=99"])
    if status == 0 or "CHAPTER=1" not in out:
        return False
    status, out = sh(log, MAKE + ["check", "CHAPTER=1", "EXERCISE=no_such_exercise"])
    return status != 0 and "EXERCISE=" in out


def fresh_machine(log: TextIO) -> bool:
    """A learner's first command on a machine without the Check library
    (hidden by a pkg-config earlier on PATH that does not know it, as on a
    fresh machine): one or two lines name the package and `make deps`, a
    non-zero exit, and no compiler run."""
    with tempfile.TemporaryDirectory(prefix="wb-fresh-") as d:
        fake = Path(d) / "pkg-config"
        fake.write_text("#!/bin/sh\n# a pkg-config that does not know the Check library\n"
                        "for a; do [ \"$a\" = check ] && exit 1; done\n"
                        "exec /usr/bin/pkg-config \"$@\"\n")
        fake.chmod(0o755)
        env = {"PATH": f"{d}:{os.environ.get('PATH', '')}"}
        for cmd in (["check", "CHAPTER=1"], ["progress"], ["watch", "CHAPTER=1"],
                    ["gradebook", f"SUBMISSIONS={d}"]):
            status, out = sh(log, MAKE + cmd, env=env)
            # make's own "make: *** ... Error 2" (make[1] when make test
            # itself runs under make) is not the command's.
            said = [l for l in out.splitlines() if not re.match(r"make(\[[0-9]+\])?: \*\*\*", l)]
            if (status == 0 or len(said) > 2 or "make deps" not in out
                    or not re.search(r"packages: .*\bcheck\b", out) or re.search(r"error:|\.o\b", out)):
                log.write(f"make {' '.join(cmd)}: want two lines naming the package check and make deps, "
                          "a non-zero exit, nothing compiled\n")
                return False
    return True


SHELL_ERROR = re.compile(r"syntax error|command not found|Traceback \(most recent|: line [0-9]+: ")
LINE = re.compile(r"^  ([a-z_0-9]+) +(passed|failed|not started|does not compile|refused|stopped early) "
                  r"+([0-9]+)/([0-9]+) checks", re.M)
def traced() -> list[str]:
    """Every exercise whose suite names a test for TRACE=1."""
    return [ex for ex in exercises() if workbook.traced_test(*ex.split("/"))]


# The fewest spans a traced run of the reference must record (3 if not here).
SPANS = {"02-processes/procpool": 6, "03-threads/tpool": 12, "04-select/loop": 8, "04-select/chat": 4,
         "05-callbacks/offload": 6}


def in_handout(log: TextIO, dest: str, args: list[str]) -> tuple[int, str]:
    """A command in the handout; its output must hold no "refused" and no
    shell error (a broken script of the learner's tools)."""
    log.write(f"\n$ make {' '.join(args)}   (in {dest})\n")
    start = time.monotonic()
    status, out = sh(log, MAKE + args, cwd=dest)
    log.write(f"(exit status {status}, {time.monotonic() - start:.1f} s)\n")
    bad = SHELL_ERROR.search(out) or re.search(r"\brefused\b", out)
    if bad:
        log.write(f"^ the output says {bad.group(0)!r}\n")
        return 99, out
    return status, out


def watch_cycle(log: TextIO, dest: str) -> bool:
    """make watch: a grade, a save, a second grade, Ctrl-C, nothing left."""
    p = subprocess.Popen(MAKE + ["watch", "CHAPTER=1", "EXERCISE=runner"], cwd=dest, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    lines: Queue[str] = Queue()

    def pump() -> None:
        for line in p.stdout or []:
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    seen: list[str] = []

    def grades(count: int, seconds: float) -> bool:
        """Wait until the summary line was printed count times."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                seen.append(lines.get(timeout=0.5))
            except Empty:
                continue
            if "".join(seen).count("chapter-1:") >= count:
                return True
        return False

    ok = grades(1, 300)
    if ok:
        time.sleep(1)
        runner = Path(dest, "exercises/01-sync/runner.c")
        runner.write_bytes(runner.read_bytes())  # the learner saves
        ok = grades(2, 300)
    os.killpg(p.pid, signal.SIGINT)  # Ctrl-C
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        ok = False
    reader.join(timeout=10)
    while not lines.empty():
        seen.append(lines.get_nowait())
    out = "".join(seen)
    log.write(f"\n$ make watch CHAPTER=1 EXERCISE=runner, a save, Ctrl-C\n{out}\n")
    for _ in range(20):  # make may end before the watcher has cleaned up
        left = subprocess.run(["pgrep", "-s", str(p.pid)], capture_output=True, text=True).stdout.split()
        if not left:
            break
        time.sleep(0.5)
    if left:
        log.write(f"make watch left processes running: {left}\n")
    return ok and "watch: stopped" in out and not left and not SHELL_ERROR.search(out)


def handout_walk(private: bool) -> Check:
    """The learners' copy walked as a learner would (issue 18): a handout
    (in a folder of mode 0700, as `mktemp -d` makes, or an ordinary one);
    the stubs all "not started"; the reference solutions copied in one
    chapter at a time as the learner's files and graded, the totals
    counting the chapter's own exercises only; make progress; TRACE=1 of
    every traced exercise; make hint; one cycle of make watch; and a
    chapter 5 exercise on a broken learner-written chapter 4 loop, whose
    failure names loop.c. No output may say "refused" or show a shell
    error. The ordinary handout starts with the workbook's trusted objects
    copied in (not built twice); the private one builds its own."""
    def check(log: TextIO) -> bool:
        with tempfile.TemporaryDirectory(prefix="wb-handout-") as top:
            os.chmod(top, 0o700 if private else 0o755)
            dest = os.path.join(top, "handout")
            if sh(log, MAKE + ["handout", f"DEST={dest}"])[0] != 0:
                return False
            if os.path.exists(os.path.join(dest, "solutions")):
                log.write("the handout has solutions/\n")
                return False
            if not private:
                for variant in ("plain", "tsan"):
                    if Path(f"build/{variant}/obj/tests").is_dir():
                        Path(dest, f"build/{variant}/obj").mkdir(parents=True)
                        subprocess.run(["cp", "-a", f"build/{variant}/obj/tests",
                                        f"{dest}/build/{variant}/obj/"], check=True)
            chapters = workbook.chapters_with_exercises()
            every = sum(len(workbook.declared_tests(c, e)) for c in chapters for e in workbook.exercises_of(c))
            status, out = in_handout(log, dest, ["check"])
            states = {m[0]: m[1] for m in LINE.findall(out)}  # a block is shown again where used
            started = sorted(name for name, state in states.items() if state != "not started")
            names = {n for c in chapters for n in workbook.exercises_of(c)}
            if status == 99 or started or set(states) != names or f"all: 0 passed, {every} failed" not in out:
                log.write(f"the stubs: want {len(names)} exercises all not started, all: 0 passed, {every} "
                          f"failed; started: {started}, missing: {sorted(names - set(states))}\n")
                return False
            status, out = in_handout(log, dest, ["check", "CHAPTER=3", "EXERCISE=tpool"])
            if "tpool uses your bqueue, which is not started" not in out or "does not compile" in out:
                return False
            for c in chapters:
                n = workbook.chapter_number(c)
                for f in Path(f"solutions/{c}").glob("*.c"):
                    Path(dest, "exercises", c, f.name).write_bytes(f.read_bytes())
                own = sum(len(workbook.declared_tests(c, e)) for e in workbook.exercises_of(c))
                status, out = in_handout(log, dest, ["check", f"CHAPTER={n}"])
                variant = {"": "", "thread": "tsan/", "address": "asan/", "undefined": "ubsan/"}[
                    workbook.default_sanitize(c)]
                js = json.loads(workbook.read(Path(dest, f"build/results/{variant}chapter-{n}.json")) or "{}")
                if (status != 0 or f"chapter-{n}: {own} passed, 0 failed" not in out
                        or js.get("passed") != own or js.get("failed") != 0):
                    log.write(f"chapter {n}: want {own} passed, the chapter's own checks (also in "
                              f"build/results/chapter-{n}.json: {js.get('passed')}), nothing refused\n")
                    return False
            status, out = in_handout(log, dest, ["progress"])
            if (status != 0 or len(re.findall(r"^chapter [0-9]+ ", out, re.M)) != len(chapters)
                    or "next: every exercise passes" not in out):
                log.write(f"make progress does not show the {len(chapters)} chapters, all passed\n")
                return False
            for ex in traced():
                c, name = ex.split("/")
                status, out = in_handout(log, dest, ["check", f"CHAPTER={workbook.chapter_number(c)}",
                                                     f"EXERCISE={name}", "TRACE=1"])
                svg = re.search(r"picture: (\S+) ", out)
                if (status != 0 or f"{name}: the timeline of your run" not in out or not svg
                        or not workbook.read(Path(dest, svg.group(1))).lstrip().startswith("<")):
                    log.write(f"TRACE=1 of {ex} in the handout: no timeline, or no picture\n")
                    return False
            status, out = in_handout(log, dest, ["hint", "CHAPTER=4", "EXERCISE=loop"])
            if status != 0 or not out.startswith("Hint 1 of"):
                return False
            if not watch_cycle(log, dest):
                return False
            # The learner's loop ignores a failing clock; chapter 5's future
            # (the reference) fails through it, and the message says so.
            broken = subprocess.run(["patch", "--quiet", "--fuzz=0", "-o", "-", "solutions/04-select/loop.c"],
                                    stdin=open("tests/04-select/loop.wrong_clock_ignored.patch"),
                                    capture_output=True, check=True).stdout
            Path(dest, "exercises/04-select/loop.c").write_bytes(broken)
            status, out = in_handout(log, dest, ["check", "CHAPTER=5", "EXERCISE=future"])
            own = len(workbook.declared_tests("05-callbacks", "future"))
            if (status == 0 or "this check goes through your loop.c: it fails" not in out
                    or not re.search(r"^chapter-5: [0-9]+ passed, [1-9][0-9]* failed", out, re.M)
                    or f"/{own} checks" not in out):
                log.write("a broken learner's loop.c under future: want a failure that names loop.c\n")
                return False
            return True
    return check


def handout_walks(log: TextIO) -> bool:
    """The two walks of handout_walk(), side by side: most of their time
    is spent starting small commands and sandboxes, not computing, so two
    at once take little more than one."""
    logs = [io.StringIO(), io.StringIO()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [pool.submit(handout_walk(private), logs[i]) for i, private in enumerate((True, False))]
        results = [f.result() for f in done]
    names = ("a private (0700)", "an ordinary")
    for name, text, ok in zip(names, logs, results):
        log.write(f"===== the handout in {name} folder: {'ok' if ok else 'FAILED'}\n{text.getvalue()}")
    for name, ok in zip(names, results):
        log.write(f"the walk in {name} folder: {'ok' if ok else 'FAILED'}\n")
    return all(results)


def autograder_try(log: TextIO) -> bool:
    from wbtools import autograder

    return autograder.selftest(log)


def classroom_workflow(log: TextIO) -> bool:
    from wbtools import autograder

    return autograder.classroom_selftest(log)


def steps() -> list[Step]:
    make_j = MAKE + [f"-j{JOBS}"]
    first = ("deps",)
    s = [
        Step("packages installed (make deps)", ["make", "--no-print-directory", "deps"], "deps", ()),
        Step("format: every C file follows .clang-format", MAKE + ["format-check"], after=first),
        Step("tools: unit tests of tests/support/wbtools",
             [sys.executable, "-m", "unittest", "discover", "-s", "tests/support", "-t", "tests/support",
              "-p", "test_*.py"], after=first),
        Step("tools: mypy --strict on tests/support/wbtools",
             ["mypy", "--strict", "--cache-dir", "build/mypy", "tests/support/wbtools"], after=first),
        # Everything later steps run is built here, each variant by one
        # make, so that no two steps ever build the same file at once.
        # gcc's -Werror build is the plain build the later steps use (B
        # kept at build/plain): the same objects, built once.
        Step("build: every file, gcc -Wall -Wextra -Wpedantic -Werror (the plain build)",
             make_j + ["all-binaries", "build/tools/timeline", "CC=gcc", "WERROR=1", "B=build/plain"],
             "build", first),
        Step("build: every file but the known-wrong variants, clang -Wall -Wextra -Wpedantic -Werror",
             make_j + ["all-but-variants", "CC=clang", "WERROR=1"], "build", first),
    ]
    for sanitize in ("address", "undefined", "thread"):
        s.append(Step(f"build: every suite's trusted objects, SANITIZE={sanitize}",
                      make_j + ["trusted", f"SANITIZE={sanitize}"], "build", first))
    # The longest chains first, as soon as the builds are done: the demos'
    # runs, then the book and its two Chromium checks (one at a time: each
    # loads a 2 MB page within its time limits) beside the handouts' walk.
    # Left to the end of the list, they ran one after the other, on one
    # slot of three, for the last 460 s of a run.
    s += [
        # Weight 2: it runs four chapters' demos at once (run-demos.sh).
        Step("demos run; deterministic ones print what the book says", MAKE + ["examples"], "demos-run",
             weight=2),
        Step("docs: Doxygen reference, no warning", MAKE + ["docs"], "docs"),
        Step("handouts, a private and an ordinary folder: the learner's walk", handout_walks, weight=2),
        # The demos' runs are the examples step's (make examples marks them done).
        # The two Chromium checks one at a time: each loads a 2 MB page
        # within its time limits.
        Step("book: HTML, PDF, EPUB, no warning", MAKE + ["book"], "book", ("build", "demos-run", "docs")),
        Step("book: the HTML in headless Chromium (pictures, links, console, phone, dark)",
             ["book/browser-check.sh", "build/book/workbook.html", "build/book"], after=("book",),
             alone="chromium"),
        Step("book: the filters on a tiny book (pages, links, man pages)", ["book/filters-test.sh"]),
        Step("book: the site in Chromium (links, sidebar, copy, search)",
             ["book/site-check.sh", "build/book/html", "build/docs/html", "build/book"], after=("book",),
             alone="chromium"),
    ]
    last: list[Step] = []
    for c in workbook.chapters_with_exercises():
        n = workbook.chapter_number(c)
        default = workbook.default_sanitize(c)
        check = MAKE + ["check", f"CHAPTER={n}", "IMPL=solutions"]
        s.append(Step(f"solutions pass: chapter {n}" + (f" (its default build: {default})" if default else ""), check))
        if default:
            s.append(Step(f"solutions pass: chapter {n}, plain build", check + ["SANITIZE=none"]))
        s.append(Step(f"solutions pass: chapter {n}, AddressSanitizer",
                      ["env", "CK_TIMEOUT_MULTIPLIER=2"] + check + ["SANITIZE=address"]))
        s.append(Step(f"solutions pass: chapter {n}, UndefinedBehaviorSanitizer",
                      ["env", "CK_TIMEOUT_MULTIPLIER=2"] + check + ["SANITIZE=undefined"]))
        if n >= 3 and default != "thread":
            s.append(Step(f"solutions pass: chapter {n}, ThreadSanitizer",
                          ["env", "CK_TIMEOUT_MULTIPLIER=4"] + check + ["SANITIZE=thread"]))
        if n >= 3 and default == "thread":
            # helgrind for the chapters whose exercises run threads.
            # Alone: helgrind runs every suite of the chapter at once, each
            # some 50 times slower, and its timers still need their turn.
            # Last in the list: a step waiting for every slot holds back
            # the steps after it, which would idle two slots meanwhile.
            last.append(Step(f"solutions pass: chapter {n}, helgrind", helgrind_clean(c), weight=STEPS))
    for ex in exercises():
        binary = f"build/plain/bin/exercises/{ex}"
        s.append(Step(f"stub fails: exercises/{ex}.c", must_fail(binary)))
        s.append(Step(f"suite registers every test it declares: {ex}", declared_matches_registered(ex, binary)))
    for w in sorted(Path("tests").glob("[0-9][0-9]-*/*.wrong_*.patch")):
        s.append(Step(f"known-wrong variant fails: {w.relative_to('tests')}",
                      must_fail(f"build/plain/bin/{str(w)[:-len('.patch')]}", first_failure=True)))
    s += [
        Step("every exercise has at least 2 hints", hints_ok),
        Step("every section a test names exists in its chapter", sections_ok),
        Step("every stub is recorded in exercises/stubs.sha256", stubs_recorded),
        Step("every promise of every contract is named by a test", promises_tested),
        Step("every grading summary the text quotes has the suites' counts", quoted_counts),
        Step("grader: a wrong CHAPTER or EXERCISE is a clear error", grader_rejects_bad_names),
        Step("fresh machine: without Check, learner commands say make deps",
             fresh_machine),
        # Weight 2: its time limits are short (CK_TIMEOUT_MULTIPLIER=0.25).
        Step("grader: hostile code fails with the right message, nothing left running",
             ["tests/support/grader-selftest.sh"], weight=2),
        Step("make hint shows hints one at a time", hint_works),
        Step("make gradebook: a class of 24 (solved, stubs, wrong, hostile, archives)",
             ["tests/support/gradebook-selftest.sh"]),
        Step("make autograder-try: Gradescope's zip on 11 submissions",
             autograder_try),
        Step("make handout: the GitHub Classroom workflow's steps run as a runner would",
             classroom_workflow),
        Step("trace.h and the timeline renderer (whole lines, speed, errors)",
             ["bash", "-c", "make --no-print-directory -s build/tools/timeline && "
              "tests/support/timeline-selftest.sh build/tools/timeline build/timeline-selftest"]),
    ]
    for ex in traced():
        # Two traced runs of one chapter write the same results file.
        s.append(Step(f"make check TRACE=1 draws a timeline: {ex}", traced_run(ex, SPANS.get(ex, 3)),
                      alone="trace"))
    s += [
        Step("demo servers and chat_server survive hostile clients",
             ["tests/support/hostile.py", "build/plain/demos/04-select"]),
        Step("chapter 7's servers survive hostile clients (select, epoll, threads, io_uring, libuv, null)",
             ["bash", "-c", "for s in select epoll threads uring uv; do "
              "python3 chapters/07-every-way/survive.py build/plain/demos/07-every-way/server_$s "
              "|| exit 1; done && python3 chapters/07-every-way/survive.py --ok "
              "build/plain/demos/07-every-way/server_null"]),
        # (make bench QUICK=1 below runs bench_kv.sh --quick.)
        Step("kv_server (chapter 7's capstone) survives hostile clients",
             ["python3", "chapters/07-every-way/survive.py", "build/plain/demos/07-every-way/kv_server", "0"]),
        Step("make mutants runs (a few mutants of one exercise)",
             MAKE + ["mutants", "CHAPTER=1", "EXERCISE=runner", "LIMIT=6"]),
        Step("make bench runs (the small version)", MAKE + ["bench", "QUICK=1"]),
    ]
    return s + last


def run_step(number: int, step: Step) -> tuple[bool, float, Path]:
    log_path = LOGS / f"{number:03d}.log"
    start = time.monotonic()
    with open(log_path, "w") as log:
        if callable(step.what):
            try:
                ok = step.what(log)
            except Exception as e:  # a check that breaks is a failed step
                log.write(f"{type(e).__name__}: {e}\n")
                ok = False
        else:
            log.flush()
            ok = subprocess.run(step.what, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL).returncode == 0
    return ok, time.monotonic() - start, log_path


def report(step: Step, ok: bool, seconds: float, log: Path) -> None:
    if ok:
        print(f"ok   {step.desc:<62} {int(seconds):4d}.{int(seconds * 10) % 10}s", flush=True)
    else:
        print(f"FAIL {step.desc:<62} (log: {log})")
        tail = log.read_text(errors="replace").splitlines()[-25:]
        print("\n".join("     | " + l for l in tail), flush=True)


def main(argv: list[str]) -> int:
    only = argv  # parts of the descriptions: run the steps that contain one
    subprocess.run(["rm", "-rf", str(LOGS)])
    LOGS.mkdir(parents=True)
    todo = [(n, st) for n, st in enumerate(steps(), 1) if not only or any(part in st.desc for part in only)]
    print(f"make test: proving the workbook, {STEPS} steps at a time (logs in {LOGS})", flush=True)
    # A step starts when every step of the groups it waits for is done, a
    # slot is free and no step of its `alone` name runs; ready steps start
    # in list order. Lines are printed as steps end.
    left = {g: sum(1 for _, st in todo if st.group == g) for _, st in todo for g in st.after + (st.group,)}
    waiting = list(todo)
    running: dict[Future[tuple[bool, float, Path]], Step] = {}
    times: list[tuple[float, str]] = []
    passed = failed = 0
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=STEPS) as pool:
        while waiting or running:
            used = sum(min(st.weight, STEPS) for st in running.values())
            busy = {st.alone for st in running.values() if st.alone}
            for item in list(waiting):
                n, st = item
                if not all(left[g] == 0 for g in st.after) or st.alone in busy:
                    continue
                if used + min(st.weight, STEPS) > STEPS:
                    break  # a heavy step waits for slots: nothing after it overtakes it
                waiting.remove(item)
                running[pool.submit(run_step, n, st)] = st
                used += min(st.weight, STEPS)
                if st.alone:
                    busy.add(st.alone)
            if not running:  # a step waits for a group no step of which was asked for
                raise SystemExit(f"make test: {waiting[0][1].desc!r} waits for a group that never ends")
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in done:
                st = running.pop(f)
                ok, seconds, log = f.result()
                if st.group:
                    left[st.group] -= 1
                times.append((seconds, st.desc))
                passed, failed = passed + ok, failed + (not ok)
                report(st, ok, seconds, log)
    wall = time.monotonic() - start
    print("\nslowest steps:")
    for seconds, desc in sorted(times, reverse=True)[:10]:
        print(f"  {seconds:7.1f}s  {desc}")
    print(f"total {wall:.0f} s (the steps' own times add up to {sum(t for t, _ in times):.0f} s)")
    print(f"test: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1
