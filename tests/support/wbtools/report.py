"""Step 6: what the learner reads. One line per exercise, then the
compiler's warnings, then the first failures, each with file:line, the
message, the broken promise and the section to read, then the summary."""

from __future__ import annotations

import os
import re
from pathlib import Path

from wbtools import workbook
from wbtools.choose import Exercise
from wbtools.state import Graded

MAX_FAILURES_SHOWN = int(os.environ.get("MAX_FAILURES_SHOWN", "5"))
MACHINERY = re.compile(r"srunner|__libc|_start|wb\.c|check_run|__interceptor|_interceptors|sanitizer_common")
ACCESS = re.compile(r"^ *(Previous )?(read|write|atomic|Read|Write|Atomic)[^#]* of size")


# A building block's state that is not about single checks, and what to do.
BLOCK_STATES = {"not started": ("is not started", "write"), "does not compile": ("does not compile", "fix"),
                "refused": ("was refused", "fix"), "stopped early": ("stopped early", "fix")}


def exercise_line(ex: Exercise, g: Graded) -> str:
    edit = f"   (edit {ex.source})" if g.state == "not started" else ""
    return f"  {ex.name:<16} {g.state:<20} {g.passed}/{len(g.tests)} checks{edit}"


def block_failure(ex: Exercise, block: Exercise, b: Graded) -> str | None:
    """The line that says an exercise uses a building block that fails."""
    if b.failed == 0:
        return None
    if b.state in BLOCK_STATES:
        said, do = BLOCK_STATES[b.state]
        return f"{ex.name} uses your {block.name}, which {said}: {do} {block.name} first"
    return (f"{ex.name} uses your {block.name}, which fails {b.failed} of its "
            f"{len(b.tests)} checks: fix {block.name} first")


def exercise_section(ex: Exercise) -> str:
    """The section of its chapter that sets an exercise: the heading above
    the first mention of EXERCISE=name."""
    heading = ""
    mention = re.compile(r"EXERCISE=" + re.escape(ex.name) + r"\b")
    fenced = False
    for line in workbook.read(f"chapters/{ex.chapter}/chapter.md").split("\n"):
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        m = None if fenced else re.match(r"^#{1,6} (.*?)( \{[^}]*\})?$", line)
        if m:
            heading = m.group(1).replace("\\", "")
        elif mention.search(line):
            return heading
    return ""


def through_blocks(blocks: list[tuple[Exercise, Graded]], first: bool) -> list[str]:
    """Under a failing check of an exercise that links building blocks the
    learner wrote (in a handout), since the cause may lie there: a line per
    failing block that names it, says how it fails and points at its
    section, under every failing check; when every block passes, one line
    that names them all, under the first failing check only (first)."""
    failing = [(b, g) for b, g in blocks if g.failed or g.state in BLOCK_STATES]
    if not failing:
        if not first or not blocks:
            return []
        names = [f"{b.name}.c" for b, _ in blocks]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        which = "it passes its own checks, which cannot" if len(names) == 1 else \
            "each passes its own checks, which cannot"
        return [f"      these checks go through your {listed}: {which} try every use"]
    lines = []
    for b, g in failing:
        first_failed = next((t for t in g.tests if not t.passed), None)
        section = exercise_section(b)
        if g.state in BLOCK_STATES:
            said, do = BLOCK_STATES[g.state]
            how = f"it {said}: {do} it first"
        else:
            assert first_failed is not None
            how = f"it fails {g.failed} of its {len(g.tests)} checks ({first_failed.name}): fix it first"
            section = first_failed.section or section
        where = f'; read also: chapters/{b.chapter}/chapter.md, section "{section}"' if section else ""
        lines.append(f"      this check goes through your {b.name}.c: {how}{where}")
    return lines


def sanitizer_excerpt(report: str) -> list[str]:
    """The error, the first frames that are not the test machinery, and the
    summary of a sanitizer's report."""
    out: list[str] = []
    head = False
    blocks = frames = 0
    for line in report.split("\n"):
        if not head:
            if re.search(r"ERROR:|WARNING:|runtime error:", line):
                out.append(line)
                head = True
            continue
        if line.startswith("SUMMARY:"):
            out.append(line)
            break
        if ACCESS.match(line) and blocks < 2:
            out.append(line)
            blocks += 1
            frames = 0
            continue
        if re.match(r"^ *#[0-9]+ ", line) and frames < 3:
            if MACHINERY.search(line):
                continue
            out.append(line)
            frames += 1
    return ["        | " + l[:160] for l in out]


SANITIZER = re.compile(r"(Address|Leak|Thread|UndefinedBehavior)Sanitizer")


def planted_or_report(message: str, reports: Path | None, test: str) -> list[str]:
    """A sanitizer's report of the test, only when the grader's own verdict
    (written by main(), not by the test's process) says that sanitizer
    stopped the test, and only a report that names that sanitizer. The
    report's file lies where the code under test can write too, so it is
    shown as the test's process's, never as the grader's."""
    said = SANITIZER.search(message)
    if said is None or reports is None or not reports.is_dir():
        return []
    lines: list[str] = []
    for r in sorted(reports.glob(f"{test}.*")):
        if r.is_file() and not r.is_symlink():
            text = "".join(c for c in r.read_text(errors="replace") if c.isprintable() or c == "\n")
            excerpt = sanitizer_excerpt(text)
            # UndefinedBehaviorSanitizer's report names it in its summary,
            # which a report that ends the process at once does not print.
            names = [said.group(0)] + (["runtime error:"] if said.group(1) == "UndefinedBehavior" else [])
            if any(n in l for l in excerpt for n in names):
                lines.append("      the sanitizer's report (a file written in the test's own process):")
                lines += excerpt
    return lines


def failures(ex: Exercise, g: Graded, reports: Path | None, limit: int,
             blocks: list[tuple[Exercise, Graded]] | None = None) -> tuple[list[str], int]:
    """The failures of one exercise, at most limit of them: the lines, and
    how many it showed. blocks: the building blocks the learner wrote that
    the exercise links, with their results; each failure names them."""
    lines: list[str] = []
    shown = 0
    if g.state == "not started":
        return lines, 0
    if g.state in ("does not compile", "refused", "stopped early"):
        if limit <= 0:
            return lines, 0
        lines.append(f"  {ex.name} {g.state}:")
        lines += ["      " + l for l in g.note.split("\n")]
        shown = 1
        if g.state != "stopped early":
            return lines, shown
    for t in g.tests:
        if t.passed:
            continue
        if shown >= limit:
            break
        if t.message.startswith(("did not report:", "not run:")) and shown > 0:
            continue
        shown += 1
        lines.append(f"  {ex.name}: {t.name}")
        if t.where.startswith("tests/support/"):
            lines.append(f"      after the test ended: {t.message}")
        else:
            lines.append(f"      {t.where}: {t.message}")
        m = re.match(r"^\[([a-z0-9-]+)\] ", t.message)
        if m:
            text = workbook.promise_text(ex.header, m.group(1))
            if text:
                lines.append(f"      broken promise [{m.group(1)}]: {text}")
        lines += planted_or_report(t.message, reports, t.name)
        if t.section:
            lines.append(f'      read: chapters/{ex.chapter}/chapter.md, section "{t.section}"')
        lines += through_blocks(blocks or [], first=shown == 1)
    return lines, shown


def warnings_block(ex: Exercise, g: Graded) -> list[str]:
    if not g.warnings:
        return []
    n = len(g.warnings)
    return [f"  {ex.name}: {n} compiler warning{'' if n == 1 else 's'} in {ex.source}; "
            "they often point at the bug:"] + ["      " + w[:200] for w in g.warnings[:5]]


def summary(label: str, passed: int, failed: int) -> str:
    return f"{label}: {passed} passed, {failed} failed"
