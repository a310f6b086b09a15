"""`make progress`: every exercise of every chapter with its state (passed,
failing with P/T checks, not started), a bar per chapter and overall, and
the exercise to do next. Results are cached in build/progress/ by the
content of every file that decides them, so a second run with nothing
changed only reads the cache."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from wbtools import workbook

CACHE = Path("build/progress")
STATES = "not started|does not compile|refused|stopped early|passed|failed"


def bar(done: int, total: int, width: int = 20) -> str:
    filled = done * width // total if total > 0 else 0
    return "[" + "#" * filled + "." * (width - filled) + "]"


def inputs(chapter: str, name: str) -> list[str]:
    """The files whose content decides an exercise's result: the learner's
    own building blocks too, where the reference is not there."""
    files = [f"exercises/{chapter}/{name}.c", f"exercises/{chapter}/{name}.h",
             workbook.suite_source(chapter, name), "tests/support/wb.c", "tests/support/wb.h",
             "exercises/stubs.sha256", f"tests/{chapter}/{name}.links", f"tests/{chapter}/{name}.libs"]
    for s in workbook.links(chapter, name):
        files.append(s if Path(s).is_file() or not s.startswith("solutions/")
                     else "exercises/" + s[len("solutions/"):])
    return files + workbook.tools_sources()


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


def result(chapter: str, name: str) -> tuple[str, int, int]:
    key = workbook.files_digest(inputs(chapter, name), os.environ.get("CC", ""))
    entry = CACHE / f"{chapter}-{name}.{key}"
    try:
        state, passed, total = entry.read_text().rstrip("\n").split("\t")
        return state, int(passed), int(total)
    except (OSError, ValueError):
        pass
    for old in CACHE.glob(f"{chapter}-{name}.*"):
        old.unlink()
    found = grade(workbook.chapter_number(chapter), name)
    entry.write_text("\t".join(map(str, found)) + "\n")
    return found


def main(argv: list[str]) -> int:
    CACHE.mkdir(parents=True, exist_ok=True)
    all_done = all_total = all_pass = all_checks = 0
    next_up = ""
    for c in workbook.chapters_with_exercises():
        n = workbook.chapter_number(c)
        lines, done, total = [], 0, 0
        for name in workbook.exercises_of(c):
            state, p, t = result(c, name)
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
