"""`make progress`: every exercise of every chapter with its state (passed,
failing with P/T checks, not started), a bar per chapter and overall, and
the exercise to do next. It reads the result `make check` kept for each
exercise (build/grader-cache/, keyed by the content of every file and
flag that decides it), and grades only the exercises changed since."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from wbtools import check, trusted, workbook
from wbtools.choose import Exercise

STATES = "not started|does not compile|refused|stopped early|passed|failed"


def bar(done: int, total: int, width: int = 20) -> str:
    filled = done * width // total if total > 0 else 0
    return "[" + "#" * filled + "." * (width - filled) + "]"


def parse_line(name: str, output: str) -> tuple[str, int, int]:
    """(state, passed, total) from the grader's line for an exercise;
    ("failed", 0, 0) when it printed none."""
    for line in output.split("\n"):
        m = re.match(r"^  " + re.escape(name) + r" +(" + STATES + r") +([0-9]+)/([0-9]+) checks", line)
        if m:
            return m.group(1), int(m.group(2)), int(m.group(3))
    return "failed", 0, 0


def grade(n: int, name: str) -> tuple[str, int, int]:
    env = dict(os.environ, PYTHONPATH="tests/support")
    out = subprocess.run([sys.executable, "-m", "wbtools", "check", str(n), name, "exercises"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env).stdout
    return parse_line(name, out)


class Results:
    """Each exercise's result in its chapter's default build: the one its
    last grading kept when nothing changed since, else a new grading
    (which keeps it in turn)."""

    def __init__(self) -> None:
        self.cc = os.environ.get("CC") or "gcc"
        self.envs: dict[str, trusted.BuildEnv | None] = {}

    def env(self, sanitize: str) -> trusted.BuildEnv | None:
        if sanitize not in self.envs:
            try:
                self.envs[sanitize] = trusted.build_env(sanitize, self.cc)
            except trusted.TrustedBuildError:
                self.envs[sanitize] = None  # the grading below says why
        return self.envs[sanitize]

    def of(self, chapter: str, name: str) -> tuple[str, int, int]:
        env = self.env(workbook.default_sanitize(chapter))
        g = check.kept(Exercise(chapter, name, "exercises"), env) if env else None
        if g is not None:
            return g.state, g.passed, len(g.tests)
        return grade(workbook.chapter_number(chapter), name)


def main(argv: list[str]) -> int:
    results = Results()
    all_done = all_total = all_pass = all_checks = 0
    next_up = ""
    for c in workbook.chapters_with_exercises():
        n = workbook.chapter_number(c)
        lines, done, total = [], 0, 0
        for name in workbook.exercises_of(c):
            state, p, t = results.of(c, name)
            total += 1
            all_pass, all_checks = all_pass + p, all_checks + t
            if state == "passed":
                done += 1
            elif not next_up:
                next_up = (f"{name} (chapter {n}): make check CHAPTER={n} EXERCISE={name}    "
                           f"stuck? make hint CHAPTER={n} EXERCISE={name}")
            shown = "failing" if state == "failed" else state
            lines.append(f"    {name:<16} {shown:<18} {p}/{t} checks")
        title = workbook.chapter_title(c, bare_allowed=False)
        print(f"chapter {n}  {title:<48} {bar(done, total)} {done}/{total}")
        print("\n".join(lines), flush=True)
        all_done, all_total = all_done + done, all_total + total
    print()
    print(f"overall {bar(all_done, all_total)} {all_done}/{all_total} exercises passed, "
          f"{all_pass}/{all_checks} checks")
    print(f"next: {next_up}" if next_up else "next: every exercise passes. Well done.")
    return 0
