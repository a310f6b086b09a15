"""make mutants: measure the tests by mutation.

Each reference solution is parsed with libclang (Debian's python3-clang-14);
every place where a one-token change makes a plausible bug becomes a mutant:
a relational, equality, logical, arithmetic or bitwise operator swapped, an
integer constant plus or minus one, a `!` dropped, `++` and `--` swapped, a
call statement removed (a lost unlock, close, free or signal), a `while`
turned into an `if`, and the first two arguments of a call swapped. Each
mutant is compiled with the flags of the exercise's default grade (a plain
build linked with LeakSanitizer, or the chapter's tests/NN-topic/SANITIZE),
linked with the exercise's suite, and run:

    killed      the suite failed (exit status not 0)
    survived    every test passed: a bug the tests cannot see
    timed out   the suite did not finish in time (counted as killed)
    stillborn   the mutant does not compile (not counted)
    equivalent  listed in tests/NN-topic/NAME.equivalent with a reason

The survivors go to build/mutants/survivors.txt. Kill each with a test of a
contract promise, or add it to NAME.equivalent: one line,
`KEY  # why no test can tell it from the original`, where KEY is what the
survivors file prints (line, column, before -> after).

With --again FILE (make mutants AGAIN=FILE), only the mutants that FILE, a
survivors file of an earlier run, lists are graded: after adding tests, the
survivors are graded again in a minute instead of the whole exercise.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, Sequence

from wbtools import workbook
from wbtools.choose import choose_chapters
from wbtools.workbook import UsageError

ROOT = Path(__file__).resolve().parents[3]

# Operators and what each may become: the boundary or the opposite.
SWAPS: dict[str, tuple[str, ...]] = {
    "<": ("<=", ">="),
    "<=": ("<", ">"),
    ">": (">=", "<="),
    ">=": (">", "<"),
    "==": ("!=",),
    "!=": ("==",),
    "&&": ("||",),
    "||": ("&&",),
    "+": ("-",),
    "-": ("+",),
    "*": ("/",),
    "/": ("*",),
    "%": ("*",),
    "&": ("|",),
    "|": ("&",),
    "<<": (">>",),
    ">>": ("<<",),
    "+=": ("-=",),
    "-=": ("+=",),
    "|=": ("&=",),
    "&=": ("|=",),
}


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One change: bytes [start, end) of the source become `new`."""

    start: int
    end: int
    new: str
    line: int
    column: int
    old: str

    @property
    def key(self) -> str:
        # No trailing space when the change deletes (`!` dropped): the
        # .equivalent files are read with each key stripped.
        return f"L{self.line}:{self.column} {squash(self.old)} -> {squash(self.new)}".rstrip()

    def apply(self, source: bytes) -> bytes:
        return source[: self.start] + self.new.encode() + source[self.end :]


def squash(text: str) -> str:
    """One line, short, for keys and reports."""
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


@dataclasses.dataclass
class Outcome:
    mutant: Mutant
    verdict: str  # killed, survived, timeout, stillborn
    detail: str = ""


# --- Finding the mutants -----------------------------------------------------


def find_mutants(path: Path, clang_args: Sequence[str]) -> list[Mutant]:
    """Every mutant of the C file at `path`, in source order."""
    import clang.cindex as ci  # type: ignore[import]

    if not ci.Config.loaded:
        for lib in ("/usr/lib/llvm-14/lib/libclang.so.1", "/usr/lib/llvm-14/lib/libclang-14.so"):
            if os.path.exists(lib):
                ci.Config.set_library_file(lib)
                break
    index = ci.Index.create()
    tu = index.parse(str(path), args=list(clang_args))
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        raise SystemExit(f"mutants: libclang cannot parse {path}: {errors[0]}")
    source = path.read_bytes()
    K = ci.CursorKind
    found: dict[tuple[int, int, str], Mutant] = {}

    def add(start: int, end: int, new: str, line: int, column: int) -> None:
        old = source[start:end].decode(errors="replace")
        if old != new:
            found.setdefault((start, end, new), Mutant(start, end, new, line, column, old))

    def mine(cursor: object) -> bool:
        loc = cursor.extent.start  # type: ignore[attr-defined]
        return loc.file is not None and Path(loc.file.name).resolve() == path.resolve()

    def tokens(cursor: object) -> list[object]:
        return list(cursor.get_tokens())  # type: ignore[attr-defined]

    def walk(cursor: object, parent_kind: object) -> None:
        for child in cursor.get_children():  # type: ignore[attr-defined]
            if mine(child):
                visit(child, cursor.kind)  # type: ignore[attr-defined]
            walk(child, child.kind)

    def operator_after(cursor: object, first: object) -> object | None:
        end = first.extent.end.offset  # type: ignore[attr-defined]
        for tok in tokens(cursor):
            if tok.extent.start.offset >= end:  # type: ignore[attr-defined]
                return tok
        return None

    def visit(cursor: object, parent_kind: object) -> None:
        kind = cursor.kind  # type: ignore[attr-defined]
        if kind in (K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR):
            children = list(cursor.get_children())  # type: ignore[attr-defined]
            if len(children) == 2:
                tok = operator_after(cursor, children[0])
                if tok is not None and tok.spelling in SWAPS:  # type: ignore[attr-defined]
                    e = tok.extent  # type: ignore[attr-defined]
                    for new in SWAPS[tok.spelling]:  # type: ignore[attr-defined]
                        add(e.start.offset, e.end.offset, new, e.start.line, e.start.column)
        elif kind == K.UNARY_OPERATOR:
            toks = tokens(cursor)
            if toks:
                first, last = toks[0], toks[-1]
                for tok in (first, last):
                    e = tok.extent  # type: ignore[attr-defined]
                    sp = tok.spelling  # type: ignore[attr-defined]
                    if sp == "!" and tok is first:
                        add(e.start.offset, e.end.offset, "", e.start.line, e.start.column)
                    elif sp in ("++", "--"):
                        other = "--" if sp == "++" else "++"
                        add(e.start.offset, e.end.offset, other, e.start.line, e.start.column)
        elif kind == K.INTEGER_LITERAL:
            toks = tokens(cursor)
            if len(toks) == 1:
                e = toks[0].extent  # type: ignore[attr-defined]
                text = toks[0].spelling  # type: ignore[attr-defined]
                m = re.fullmatch(r"(\d+)([uUlL]*)", text)
                if m and (len(m.group(1)) == 1 or m.group(1)[0] != "0"):
                    value = int(m.group(1))
                    for changed in (value + 1, value - 1):
                        if changed >= 0:
                            add(e.start.offset, e.end.offset, f"{changed}{m.group(2)}", e.start.line, e.start.column)
        elif kind == K.CALL_EXPR:
            e = cursor.extent  # type: ignore[attr-defined]
            if parent_kind == K.COMPOUND_STMT:
                add(e.start.offset, e.end.offset, "(void)0", e.start.line, e.start.column)
            args = list(cursor.get_arguments())  # type: ignore[attr-defined]
            if len(args) >= 2 and all(mine(a) for a in args[:2]):
                a, b = args[0].extent, args[1].extent
                ta = source[a.start.offset : a.end.offset]
                tb = source[b.start.offset : b.end.offset]
                if ta != tb and a.end.offset <= b.start.offset:
                    middle = source[a.end.offset : b.start.offset]
                    new = (tb + middle + ta).decode(errors="replace")
                    add(a.start.offset, b.end.offset, new, a.start.line, a.start.column)
        elif kind == K.WHILE_STMT:
            toks = tokens(cursor)
            if toks and toks[0].spelling == "while":  # type: ignore[attr-defined]
                e = toks[0].extent  # type: ignore[attr-defined]
                add(e.start.offset, e.end.offset, "if", e.start.line, e.start.column)

    walk(tu.cursor, None)
    return sorted(found.values(), key=lambda m: (m.start, m.end, m.new))


# --- Building and running one mutant ----------------------------------------


@dataclasses.dataclass
class Build:
    """How to build the exercise's suite around a source file."""

    exercise: str  # NN-topic/name
    sanitize: str  # "" (plain, with LeakSanitizer) or thread/address/...
    cc: str
    cflags: list[str]
    ldflags: list[str]
    redirect: list[str]  # objcopy flags that route allocations to the counting wrappers
    objects: list[str]
    libs: list[str]

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.sanitize == "thread":
            # As make check does: ThreadSanitizer runs the code several
            # times slower, and a suite past its limits kills any mutant.
            env.setdefault("CK_TIMEOUT_MULTIPLIER", "3")
        env["LSAN_OPTIONS"] = "exitcode=85:" + env.get("LSAN_OPTIONS", "")
        env["TSAN_OPTIONS"] = "exitcode=66:" + env.get("TSAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = "exitcode=86:detect_leaks=1:" + env.get("ASAN_OPTIONS", "")
        return env


def make_build(exercise: str) -> Build:
    """Ask the Makefile for the flags and trusted objects (building them)."""
    sanitize = workbook.default_sanitize(exercise.split("/")[0])
    cmd = ["make", "--no-print-directory", "-s", "mutant-env", f"EX={exercise}"]
    cmd.append(f"SANITIZE={sanitize}" if sanitize else "SANITIZE=none")
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    values: dict[str, str] = {}
    for line in out.splitlines():
        name, _, value = line.partition("=")
        values[name] = value
    ldflags = shlex.split(values["LDFLAGS"]) + shlex.split(values["WRAP"])
    if not sanitize:
        ldflags.append("-fsanitize=leak")  # as the grader links a plain build
    return Build(
        exercise=exercise,
        sanitize=sanitize,
        cc=values["CC"],
        cflags=shlex.split(values["CFLAGS"]),
        ldflags=ldflags,
        redirect=shlex.split(values["REDIRECT"]),
        objects=shlex.split(values["OBJECTS"]),
        libs=shlex.split(values["LIBS"]),
    )


def isolation() -> list[str]:
    """The command prefix that gives each suite a PID namespace of its own
    (unshare(1); for a user who is not root, inside a user namespace),
    when one can be made. A mutant is arbitrary code: one that keeps
    fork()'s -1 as a pid and kills it would otherwise signal every process
    it may (kill(2): pid -1), and as root that is the whole machine. In
    its namespace it reaches only its own processes, which all end with
    it (--kill-child)."""
    base = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"]
    if os.geteuid() != 0:
        base[1:1] = ["--user", "--map-root-user"]
    try:
        ok = subprocess.run(base + ["true"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return base if ok else []


ISOLATION: list[str] | None = None


def run_suite(binary: Path, build: Build, timeout: float) -> tuple[str, str]:
    """Run one suite binary: ('passed'|'failed'|'timeout', detail)."""
    global ISOLATION
    if ISOLATION is None:
        ISOLATION = isolation()
        if not ISOLATION:
            print("mutants: note: no PID namespace (unshare) for the suites: a mutant "
                  "that signals pid -1 reaches every process of this user", file=sys.stderr)
    with subprocess.Popen(
        [*ISOLATION, str(binary)],
        cwd=ROOT,
        env=build.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        close_fds=True,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return "timeout", f"no end after {timeout:.0f} s"
        try:  # whatever the suite left behind in its group
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if proc.returncode == 0:
        return "passed", ""
    last = [l for l in out.decode(errors="replace").splitlines() if l.strip()][-1:]
    return "failed", f"exit {proc.returncode}: {last[0] if last else ''}"


def compile_and_link(src: Path, build: Build, out: Path) -> str:
    """Build out (a suite binary) from src; '' on success, else the error."""
    plain = out.with_suffix(".plain.o")
    obj = out.with_suffix(".o")  # its allocations counted, as the grader links it
    steps = [
        [build.cc, *build.cflags, "-w", "-c", str(src), "-o", str(plain)],
        ["objcopy", *build.redirect, str(plain), str(obj)],
        [build.cc, *build.ldflags, "-o", str(out), str(obj), *build.objects, *build.libs],
    ]
    for cmd in steps:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            return (r.stderr.strip().splitlines() or ["failed"])[0]
    return ""


def grade_mutant(m: Mutant, source: bytes, build: Build, folder: Path, timeout: float) -> Outcome:
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / (build.exercise.split("/")[1] + ".c")
    src.write_bytes(m.apply(source))
    error = compile_and_link(src, build, folder / "suite")
    if error:
        return Outcome(m, "stillborn", error)
    state, detail = run_suite(folder / "suite", build, timeout)
    verdict = {"passed": "survived", "failed": "killed", "timeout": "timeout"}[state]
    return Outcome(m, verdict, detail)


# --- Equivalents and the report ----------------------------------------------


def read_equivalents(exercise: str) -> dict[str, str]:
    """tests/NN-topic/NAME.equivalent: KEY  # reason, one per line."""
    chapter, name = exercise.split("/")
    f = ROOT / "tests" / chapter / f"{name}.equivalent"
    result: dict[str, str] = {}
    if f.exists():
        for raw in f.read_text().splitlines():
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            key, sep, reason = raw.partition("#")
            if not sep or not reason.strip():
                raise SystemExit(f"mutants: {f}: a line needs '# reason': {raw!r}")
            result[key.strip()] = reason.strip()
    return result


@dataclasses.dataclass
class Tally:
    exercise: str
    killed: int = 0
    survived: int = 0
    timeout: int = 0
    stillborn: int = 0
    equivalent: int = 0

    @property
    def score(self) -> float:
        counted = self.killed + self.timeout + self.survived
        return 100.0 if counted == 0 else 100.0 * (self.killed + self.timeout) / counted

    def line(self) -> str:
        return (
            f"mutants: {self.exercise:<24} {self.killed:4d} killed, {self.survived:3d} survived, "
            f"{self.timeout:3d} timed out, {self.equivalent:3d} equivalent, "
            f"{self.stillborn:3d} stillborn: {self.score:5.1f}% killed"
        )


def source_line(source: bytes, line: int) -> str:
    lines = source.decode(errors="replace").splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


# --- Choosing exercises, and the command --------------------------------------


def exercises(chapter: str, exercise: str) -> list[str]:
    """chapter/name of the exercises CHAPTER and EXERCISE name (every one
    when empty), with the grader's messages for a wrong name."""
    chosen = [f"{c}/{n}" for c in choose_chapters(chapter, "mutants") for n in workbook.exercises_of(c)]
    if exercise:
        names = sorted({e.split("/")[1] for e in chosen})
        chosen = [e for e in chosen if e.split("/")[1] == exercise]
        if not chosen:
            raise UsageError("mutants", f"no exercise '{exercise}'; exercises are: {', '.join(names)}")
    return chosen


def read_survivors(path: Path) -> set[tuple[str, str]]:
    """(exercise, key) of each mutant a survivors file lists: its lines
    "solutions/NN-topic/NAME.c:LINE: KEY", each followed by the source."""
    found = set()
    for line in path.read_text().splitlines():
        m = re.match(r"^solutions/(\S+)\.c:\d+: (.*)$", line)
        if m:
            found.add((m.group(1), m.group(2)))
    return found


def run(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="make mutants", description=__doc__.splitlines()[0])
    p.add_argument("--chapter", default="")
    p.add_argument("--exercise", default="")
    p.add_argument("--limit", type=int, default=0, help="grade at most this many mutants per exercise (a smoke test)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    p.add_argument("--out", default=str(ROOT / "build" / "mutants"))
    p.add_argument("--again", default="",
                   help="grade only the mutants this survivors file of an earlier run lists")
    args = p.parse_args(argv)
    again = read_survivors(Path(args.again)) if args.again else None

    out = Path(args.out).resolve()  # --out may be relative: the report names it from ROOT
    out.mkdir(parents=True, exist_ok=True)
    survivors_file = out / "survivors.txt"
    tallies: list[Tally] = []
    survivors: list[str] = []
    for ex in exercises(args.chapter, args.exercise):
        build = make_build(ex)
        solution = ROOT / "solutions" / f"{ex}.c"
        source = solution.read_bytes()
        clang_args = [a for a in build.cflags if a.startswith(("-I", "-D", "-std"))]
        mutants = find_mutants(solution, clang_args)
        equivalents = read_equivalents(ex)
        tally = Tally(ex)
        todo = [m for m in mutants if m.key not in equivalents]
        tally.equivalent = len(mutants) - len(todo)
        if again is not None:
            todo = [m for m in todo if (ex, m.key) in again]
            if not todo:
                continue
        if args.limit:
            step = max(1, len(todo) // args.limit)
            todo = todo[::step][: args.limit]
        scale = 3.0 if build.sanitize == "thread" else 1.0
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="mutants-", dir=out) as tmp:
            work = Path(tmp)
            # The reference must pass as built here, or nothing below means anything.
            base = work / "reference"
            base.mkdir()
            error = compile_and_link(solution, build, base / "suite")
            state, detail = ("failed", error) if error else run_suite(base / "suite", build, 120 * scale)
            if state != "passed":
                print(f"mutants: {ex}: the reference solution does not pass ({detail}); not graded")
                return 2
            print(f"mutants: {ex}: {len(todo)} mutants to grade ({len(mutants)} found)", flush=True)
            with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                results = list(
                    pool.map(
                        lambda im: grade_mutant(im[1], source, build, work / f"m{im[0]:04d}", 60 * scale),
                        enumerate(todo),
                    )
                )
        for r in results:
            if r.verdict == "killed":
                tally.killed += 1
            elif r.verdict == "timeout":
                tally.timeout += 1
            elif r.verdict == "stillborn":
                tally.stillborn += 1
            else:
                tally.survived += 1
                survivors.append(
                    f"solutions/{ex}.c:{r.mutant.line}: {r.mutant.key}\n    {source_line(source, r.mutant.line)}"
                )
        tallies.append(tally)
        print(f"{tally.line()}  ({time.monotonic() - started:.0f} s)", flush=True)
        survivors_file.write_text("".join(s + "\n" for s in survivors))
    survivors_file.write_text("".join(s + "\n" for s in survivors))
    killed = sum(t.killed + t.timeout for t in tallies)
    counted = killed + sum(t.survived for t in tallies)
    total = 100.0 if counted == 0 else 100.0 * killed / counted
    shown = survivors_file.relative_to(ROOT) if survivors_file.is_relative_to(ROOT) else survivors_file
    print(f"mutants: {len(survivors)} survived ({shown}); {total:.1f}% killed overall")
    return 0


def main(argv: Sequence[str]) -> int:
    """`make mutants`: python3 -m wbtools mutants [--chapter N] ..."""
    return run(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
