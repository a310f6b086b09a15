"""`make check [CHAPTER=N] [EXERCISE=name] [IMPL=...]`: the grader. Ties the
steps together, in the order a learner's file goes through them:

  choose -> trusted -> (sandbox) build -> run -> results -> report, outputs

  python3 -m wbtools check CHAPTER EXERCISE IMPL

CHAPTER is a number or empty (every chapter), EXERCISE a name or empty,
IMPL "exercises" (the learner's code), "solutions" (the reference), or any
folder laid out like them (the grader's own tests use tests/grader/NAME).
From the environment: CC, SANITIZE (empty or unset: the chapter's default
build; "none": a plain build), TRACE, JOBS, CHECK_LIMIT, WB_RESULTS_DIR.

Prints one line per exercise, then the first failures, and last the summary
line "chapter-N: P passed, F failed" ("all: ..." without CHAPTER), counting
the test cases of the exercises asked for (building blocks graded for them
are shown, marked, and not counted). Exits 0 only when nothing failed, 2 on
a usage error.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue
from types import FrameType
from typing import Any

from wbtools import build, outputs, report, results, run, trusted, workbook
from wbtools.choose import Exercise, Selection, choose, learner_blocks
from wbtools.sandbox import Sandbox, SandboxError, copy_out
from wbtools.state import Graded, TestResult, not_run
from wbtools.trusted import BuildEnv, TrustedBuildError
from wbtools.workbook import UsageError

CACHE = Path("build/grader-cache")
TIMELINE = "build/tools/timeline"


class Options:
    """What the environment adds to the command line."""

    def __init__(self) -> None:
        e = os.environ
        self.cc = e.get("CC") or "gcc"
        self.sanitize = e.get("SANITIZE", "")
        self.trace = bool(e.get("TRACE"))
        self.limit = int(e.get("CHECK_LIMIT", "900"))  # seconds the whole run may take
        self.jobs = int(e.get("JOBS") or os.cpu_count() or 2)
        self.results_dir = e.get("WB_RESULTS_DIR", "")


def main(argv: list[str]) -> int:
    chapter_arg, exercise_arg, impl = (argv + ["", "", ""])[:3]
    opts = Options()
    sel = choose(chapter_arg, exercise_arg, impl)
    if not opts.sanitize:
        defaults = {workbook.default_sanitize(c) for c in {e.chapter for e in sel.exercises
                                                           if e.key not in sel.blocks}}
        if len(defaults) > 1:
            return by_chapter(sel, exercise_arg, impl)
        opts.sanitize = defaults.pop()
        if timeout_multiplier(opts.sanitize):
            os.environ["CK_TIMEOUT_MULTIPLIER"] = timeout_multiplier(opts.sanitize)
    if opts.sanitize == "none":
        opts.sanitize = ""
    if opts.trace:
        check_trace(sel, exercise_arg)
    status, _, _ = grade(sel, chapter_arg, opts)
    return status


def by_chapter(sel: Selection, exercise_arg: str, impl: str) -> int:
    """Chapters with different default builds: one chapter at a time."""
    status = total_p = total_f = 0
    asked = [e.chapter for e in sel.exercises if e.key not in sel.blocks]
    for c in sel.chapters:
        if c not in asked:
            continue
        n = str(workbook.chapter_number(c))
        one = choose(n, exercise_arg, impl)
        opts = Options()
        opts.sanitize = workbook.default_sanitize(c)
        saved = os.environ.get("CK_TIMEOUT_MULTIPLIER")
        if timeout_multiplier(opts.sanitize):
            os.environ["CK_TIMEOUT_MULTIPLIER"] = timeout_multiplier(opts.sanitize)
        s, p, f = grade(one, n, opts)
        if saved is None:
            os.environ.pop("CK_TIMEOUT_MULTIPLIER", None)
        status = status or s
        total_p, total_f = total_p + p, total_f + f
        print(flush=True)
    print(report.summary("all", total_p, total_f))
    return 1 if status else 0


def check_trace(sel: Selection, exercise_arg: str) -> None:
    traced = " ".join(p.name[5:-2] for p in sorted(Path("tests").glob("*/test_*.c"))
                      if "wb_trace_test = " in workbook.read(p))
    asked = [e for e in sel.exercises if e.key not in sel.blocks]
    if not exercise_arg or len(asked) != 1:
        raise UsageError("check", f"TRACE=1 draws one exercise's run: add EXERCISE=name (one of: {traced} )")
    if workbook.traced_test(asked[0].chapter, asked[0].name) is None:
        raise UsageError("check", f"exercise {exercise_arg} runs no tasks to draw; TRACE=1 works for: {traced} ")


def results_folder(impl: str, env: BuildEnv, trace: bool, override: str) -> Path:
    """The learner's plain results sit at the top of build/results/; the
    others (IMPL=solutions, a sanitizer build) in folders of their own."""
    if override:
        return Path(override)
    folder = Path("build/results")
    if impl != "exercises":
        folder /= impl.replace("/", "_")
    if env.variant != "plain":
        folder /= env.variant
    return folder / "trace" if trace else folder


def timeout_multiplier(sanitize: str) -> str:
    """CK_TIMEOUT_MULTIPLIER for a build: what the environment says, else 3
    under ThreadSanitizer (it runs the code several times slower)."""
    return os.environ.get("CK_TIMEOUT_MULTIPLIER") or ("3" if sanitize == "thread" else "")


def cache_key(ex: Exercise, env: BuildEnv) -> str:
    """What an exercise's result depends on: its files, the suite and the
    test support, the learner's building blocks, the grader, and the
    build."""
    suite = workbook.suite_source(ex.chapter, ex.name)
    files = [ex.source, ex.header, suite, f"tests/{ex.chapter}/{ex.name}.links", "exercises/stubs.sha256"]
    files += workbook.links(ex.chapter, ex.name)
    blocks = learner_blocks(ex)
    files += [b.source for b in blocks]
    # The suite of another chapter it includes (eloop's, chapter 4's loop).
    files += [str(Path(suite).parent / m) for m in re.findall(r'^#include "([^"]+\.c)"', workbook.read(suite), re.M)]
    # Every other file of the folders (headers, helpers), but not the other
    # exercises' sources and suites: an edit of kvsave.c does not make kv's
    # grade stale.
    others = {o for o in workbook.exercises_of(ex.chapter) if o != ex.name} - {b.name for b in blocks}
    skip = {f"exercises/{ex.chapter}/{o}.c" for o in others} | {f"tests/{ex.chapter}/test_{o}.c" for o in others}
    for folder in ("tests/support", f"tests/{ex.chapter}", f"exercises/{ex.chapter}"):
        files += sorted(str(p) for p in Path(folder).glob("*.[ch]") if str(p) not in skip)
    files += workbook.tools_sources()
    extra = "\0".join([env.B, env.CC, env.CFLAGS, env.LDFLAGS, env.REDIRECT, env.BLOCK_REDIRECT, env.SANITIZE,
                       timeout_multiplier(env.SANITIZE), os.environ.get("WB_ALL_TESTS", "")])
    return workbook.files_digest(files, extra)


def cache_file(ex: Exercise, env: BuildEnv) -> Path:
    return CACHE / ex.impl.replace("/", "_") / env.variant / f"{ex.chapter}-{ex.name}.json"


def kept(ex: Exercise, env: BuildEnv, key: str = "") -> Graded | None:
    """The last grade of an exercise in this build, if nothing it depends
    on has changed since (every grading keeps its result; a building
    block and `make progress` reuse it)."""
    try:
        head, _, body = cache_file(ex, env).read_text().partition("\n")
        if head == (key or cache_key(ex, env)):
            g = Graded.from_json(body)
            g.cached = True
            return g
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


class Grader:
    """Grades the exercises of one selection, JOBS at a time."""

    def __init__(self, sel: Selection, opts: Options, env: BuildEnv, sandbox: Sandbox,
                 work: Path) -> None:
        self.sel, self.opts, self.env, self.sandbox, self.work = sel, opts, env, sandbox, work
        self.deadline = time.time() + opts.limit
        self.slots: Queue[int] = Queue()
        for s in range(opts.jobs):
            self.slots.put(s)

    def one(self, i: int, ex: Exercise) -> Graded:
        block = ex.key in self.sel.blocks
        trace = self.opts.trace and not block
        key = cache_key(ex, self.env) if not trace else ""
        cached = cache_file(ex, self.env)
        if block and key:
            g = kept(ex, self.env, key)
            if g is not None:
                return g
        slot = self.slots.get()
        try:
            g = self.grade(slot, self.work / str(i), ex, trace)
        finally:
            self.slots.put(slot)
        if key:
            outputs.write(cached, key + "\n" + g.to_json())
        return g

    def grade(self, slot: int, work: Path, ex: Exercise, trace: bool) -> Graded:
        work.mkdir(parents=True)
        traced = workbook.traced_test(ex.chapter, ex.name) if trace else None
        declared = [traced] if traced else workbook.declared_tests(ex.chapter, ex.name)
        if ex.impl == "exercises" and not trace and workbook.untouched(ex.source):
            # The stub as handed out (make test proves each one fails):
            # nothing of the learner's to build or run.
            return Graded("not started", tests=[
                TestResult("fail", t, "", "", f"not started: {ex.source} is still the stub", -1)
                for t in declared])
        built = build.build(self.sandbox, slot, work, self.env, ex)
        if built.binary is None:
            return not_run(declared, built.state, built.note, built.warnings)
        r = run.run(self.sandbox, slot, work, built.binary, self.env.SANITIZE, self.deadline, trace)
        g = results.collect(r.raw, declared, r.status, r.log,
                            ex.impl == "exercises" and workbook.untouched(ex.source))
        g.warnings = built.warnings
        return g

    def all(self) -> list[Graded]:
        pool = ThreadPoolExecutor(max_workers=self.opts.jobs)
        try:
            futures = [pool.submit(self.one, i, ex) for i, ex in enumerate(self.sel.exercises)]
            return [f.result() for f in futures]
        finally:
            # On a stop, what has not started never starts.
            pool.shutdown(wait=False, cancel_futures=True)


def stop_on_signals() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def grade(sel: Selection, chapter_arg: str, opts: Options) -> tuple[int, int, int]:
    """Grade a selection and print the report: (status, passed, failed)."""
    # The trusted parts and the flags, from one run of make.
    guess = trusted.BuildEnv(trusted.build_folder(opts.sanitize, opts.cc), "", "", "", "", "", "")
    parts = [o for ex in sel.exercises for o in trusted.objects(guess, ex)]
    if opts.trace:
        parts.append(TIMELINE)
    try:
        env = trusted.build_env(opts.sanitize, opts.cc, parts, opts.jobs)
        if env.B != guess.B:  # the Makefile named another folder: build there
            trusted.build(env, [o for ex in sel.exercises for o in trusted.objects(env, ex)]
                          + ([TIMELINE] if opts.trace else []), opts.jobs)
    except TrustedBuildError as e:
        print("check: the test suites do not build (a problem of the workbook, not of your code):",
              file=sys.stderr)
        print(e, file=sys.stderr)
        raise SystemExit(2)
    folder = results_folder(sel.exercises[0].impl, env, opts.trace, opts.results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        sandbox = Sandbox(Path.cwd())
    except SandboxError as e:
        print(e, file=sys.stderr)
        raise SystemExit(2)
    impl_tag = sel.exercises[0].impl.replace("/", "_")
    work = sandbox.root / f"build/grader/{env.variant}-{impl_tag}.{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for d in [work, *work.parents]:
        if d == sandbox.root:
            break
        d.chmod(0o755)
    sandbox.stage([f"{e.impl}/{e.chapter}" for e in sel.exercises])
    stop_on_signals()
    try:
        graded = Grader(sel, opts, env, sandbox, work).all()
        return show(sel, chapter_arg, opts, env, folder, work, graded)
    except KeyboardInterrupt:
        sandbox.stop(opts.jobs)
        shutil.rmtree(work, ignore_errors=True)
        raise SystemExit(130)
    finally:
        sandbox.stop(opts.jobs)
        shutil.rmtree(work, ignore_errors=True)


def show(sel: Selection, chapter_arg: str, opts: Options, env: BuildEnv, folder: Path,
         work: Path, graded: list[Graded]) -> tuple[int, int, int]:
    """Print the report in the chapters' order, and write the results for
    programs."""
    by_key = {ex.key: g for ex, g in zip(sel.exercises, graded)}
    total_p = total_f = shown = 0
    current = ""
    warnings: list[str] = []
    lines: list[str] = []
    chapters: dict[str, list[dict[str, Any]]] = {}
    for i, (ex, g) in enumerate(zip(sel.exercises, graded)):
        block = ex.key in sel.blocks
        if ex.chapter != current:
            current = ex.chapter
            print(f"chapter {ex.number}: {workbook.chapter_title(ex.chapter) or ex.chapter}")
        print(report.exercise_line(ex, g))
        for b in learner_blocks(ex):
            if b.key in by_key:
                msg = report.block_failure(ex, b, by_key[b.key])
                if msg:
                    print("      " + msg)
                    lines.append("  " + msg)
        if block:
            if g.cached:
                print("      (another exercise uses it; unchanged since its last grade, which is "
                      "kept; not counted below)")
            else:
                print("      (graded because another exercise uses it; not counted below)")
        else:
            total_p, total_f = total_p + g.passed, total_f + g.failed
        warnings += report.warnings_block(ex, g)

        out = folder / f"chapter-{ex.number}"
        out.mkdir(parents=True, exist_ok=True)
        for suffix in ("tsv", "tap", "xml", "reports", "trace", "svg"):
            p = out / f"{ex.name}.{suffix}"
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink(missing_ok=True)
        outputs.write(out / f"{ex.name}.tsv", outputs.tsv(g))
        outputs.write(out / f"{ex.name}.tap", outputs.tap(g))
        reports = out / f"{ex.name}.reports"
        made = sorted((work / str(i) / "out").glob("test_*"))
        if made:
            reports.mkdir()
            for r in made:
                copy_out(r, reports / r.name)
        if ex.chapter in sel.chapters:
            chapters.setdefault(ex.chapter, []).append(outputs.exercise_json(ex, g, block))

        mine = [(b, by_key[b.key]) for b in learner_blocks(ex) if b.key in by_key]
        failed_lines, n = report.failures(ex, g, reports, report.MAX_FAILURES_SHOWN - shown, mine)
        lines += failed_lines
        shown += n
        if opts.trace and not block:
            lines += timeline(ex, work / str(i) / "out" / "trace", out)

    for c, exercises in chapters.items():
        n = workbook.chapter_number(c)
        cj = outputs.chapter_json(n, c, sel.exercises[0].impl, env.variant, exercises)
        outputs.write_json(folder / f"chapter-{n}.json", cj)
        outputs.write(folder / f"chapter-{n}.xml", outputs.junit(cj))
    if warnings:
        print("\nCompiler warnings:")
        print("\n".join(warnings))
    if lines:
        print()
        print("Timeline (and the traced test's failures):" if opts.trace else "First failures:")
        print("\n".join(lines))
    elif total_f > 0:
        print("\nNot started yet: read the chapter, open the stub named above, and run this again.")
    print()
    if opts.trace:
        print("TRACE=1 ran only the test it draws; run without TRACE=1 for the exercise's grade.")
    label = f"chapter-{int(chapter_arg, 10)}" if chapter_arg else "all"
    print(report.summary(label, total_p, total_f), flush=True)
    return (0 if total_f == 0 else 1), total_p, total_f


def timeline(ex: Exercise, trace: Path, out: Path) -> list[str]:
    """The timeline of a TRACE=1 run, for the terminal and as a picture."""
    saved, svg = out / f"{ex.name}.trace", out / f"{ex.name}.svg"
    opts = workbook.trace_options(ex.chapter, ex.name)
    title = f"{ex.name}: {workbook.traced_test(ex.chapter, ex.name)}"
    if (copy_out(trace, saved) and saved.stat().st_size > 0
            and subprocess.run([TIMELINE, *opts, "--svg", str(svg), "--title", title, str(saved)]).returncode == 0):
        text = subprocess.run([TIMELINE, *opts, "--text", str(saved)], capture_output=True,
                              text=True).stdout
        return ([f"  {ex.name}: the timeline of your run (TRACE=1 runs only the test it draws)"]
                + ["      " + l for l in text.rstrip("\n").split("\n")]
                + [f"      picture: {svg}   trace: {saved}"])
    return [f"  {ex.name}: no timeline: the run recorded no task"]
