"""`make handout DEST=DIR [CHAPTER="N ..."]`: the learners' copy of the
workbook, in DIR: everything but the reference solutions and what only
maintainers use (the known-wrong variants, which are patches against the
solutions; the grader's hostile implementations; CI). In it, `make check`
grades every exercise: an exercise that builds on an earlier one (tpool on
bqueue) links the learner's own, and the grader says when that one fails
first.

For GitHub Classroom (the handout pushed as the template repository) it
also holds .github/workflows/grade.yml, which grades the chapters CHAPTER
names (all of them when empty) on every push, and
.github/classroom/autograding.json, the Classroom's points table, with the
same commands."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from wbtools import workbook
from wbtools.choose import choose_chapters
from wbtools.workbook import UsageError

LEFT_OUT = re.compile(r"^(solutions/|tests/grader/|\.ci/)|\.wrong_[^/]*\.patch$")


def files() -> list[str]:
    """The workbook's files: git's list, or every file but build/ and .git/."""
    r = subprocess.run(["git", "ls-files", "-z"], capture_output=True)
    if r.returncode == 0:
        return [f for f in r.stdout.decode().split("\0") if f]
    found = []
    for dirpath, dirnames, filenames in os.walk("."):
        dirnames[:] = [d for d in dirnames if not (dirpath == "." and d in ("build", ".git"))]
        found += [os.path.relpath(os.path.join(dirpath, f)) for f in filenames]
    return found


WORKFLOW = Path(".github/workflows/grade.yml")
AUTOGRADING = Path(".github/classroom/autograding.json")
REPORT = "build/grade-report.txt"


def chosen(chapter_arg: str) -> list[int]:
    """The chapter numbers CHAPTER names ("1 3", "1,3" or empty: all)."""
    numbers: list[int] = []
    for item in chapter_arg.replace(",", " ").split() or [""]:
        for c in choose_chapters(item, "handout"):
            if workbook.chapter_number(c) not in numbers:
                numbers.append(workbook.chapter_number(c))
    return sorted(numbers)


def grade_script(chapters: list[int]) -> str:
    """The workflow's grading step: every chosen chapter graded, the report
    kept whole, the status of the worst."""
    return (f"mkdir -p build; : > {REPORT}; status=0\n"
            f"for n in {' '.join(map(str, chapters))}; do\n"
            f"  make --no-print-directory check CHAPTER=$n 2>&1 | tee -a {REPORT} || status=1\n"
            "done\n"
            "exit $status\n")


def block(text: str, indent: int) -> str:
    """A YAML literal block (|) of text, indented."""
    pad = " " * indent
    return "|\n" + "".join(pad + line + "\n" for line in text.rstrip("\n").split("\n"))


def workflow(chapters: list[int]) -> str:
    """.github/workflows/grade.yml: on every push, in Debian 12 (the
    workbook's platform): the packages (make deps, without the book's),
    make check for each chapter, the report in the job's summary, the
    results (JSON, TAP, JUnit XML) as an artifact; the job fails when a
    test fails."""
    which = " ".join(map(str, chapters))
    summary = ("{\n  echo '## Async C Workbook: chapters " + which + "'\n  echo\n  echo '```'\n"
               f"  tail -c 60000 {REPORT} 2>/dev/null || echo 'no report: the grading did not start'\n"
               "  echo '```'\n} >> \"$GITHUB_STEP_SUMMARY\"\n")
    return f"""# Grades the learner's exercises on every push (made by make handout).
# Chapters graded: {which}. The packages are installed in a Debian 12
# container; the sandbox falls back to a session of its own when the
# container does not allow user namespaces (the report says so).
name: Grade
on:
  push:
  workflow_dispatch:
permissions:
  contents: read
jobs:
  grade:
    runs-on: ubuntu-latest
    container: debian:12
    timeout-minutes: 60
    steps:
      - uses: actions/checkout@v4
      - name: Install make
        run: apt-get update -qq && apt-get install -y -qq make
      - name: Install the packages (make deps, without the book's)
        shell: bash
        run: make --no-print-directory deps PKGS_NOREC=
      - name: Grade (make check)
        shell: bash
        run: {block(grade_script(chapters), 10).rstrip()}
      - name: Report in the job summary
        if: always()
        shell: bash
        run: {block(summary, 10).rstrip()}
      - name: Results as an artifact
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: results
          path: build/results/
          if-no-files-found: warn
"""


def autograding(chapters: list[int]) -> dict[str, Any]:
    """GitHub Classroom's autograding.json: one test per exercise, worth its
    number of checks, passed when make check passes for it."""
    tests = []
    for c in workbook.chapters_with_exercises():
        n = workbook.chapter_number(c)
        if n not in chapters:
            continue
        for name in workbook.exercises_of(c):
            tests.append({"name": f"chapter {n}: {name}", "setup": "make --no-print-directory deps PKGS_NOREC=",
                          "run": f"make --no-print-directory check CHAPTER={n} EXERCISE={name}",
                          "input": "", "output": "", "comparison": "included", "timeout": 20,
                          "points": len(workbook.declared_tests(c, name))})
    return {"tests": tests}


def main(argv: list[str]) -> int:
    dest = Path(argv[0]) if argv and argv[0] else None
    if dest is None:
        raise UsageError("handout", "say where: make handout DEST=DIR")
    chapters = chosen(argv[1] if len(argv) > 1 else "")
    if dest.exists() and any(dest.iterdir()):
        raise UsageError("handout", f"{dest} exists and is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    n = 0
    for f in files():
        if LEFT_OUT.search(f) or not os.path.lexists(f):
            continue
        target = dest / f
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, target, follow_symlinks=False)
        n += 1
    (dest / WORKFLOW).parent.mkdir(parents=True, exist_ok=True)
    (dest / WORKFLOW).write_text(workflow(chapters))
    (dest / AUTOGRADING).parent.mkdir(parents=True, exist_ok=True)
    (dest / AUTOGRADING).write_text(json.dumps(autograding(chapters), indent=2) + "\n")
    print(f"handout: {argv[0]} ({n} files, no solutions/); learners start with: make check CHAPTER={min(chapters)}")
    return 0
