"""Step 7: results for programs (README.md, "For instructors"): each
exercise's TSV, TAP and JSON, a chapter's JSON, and Gradescope's
results.json. Every file is written whole, by this module only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wbtools.choose import Exercise
from wbtools.state import Graded


def tsv(g: Graded) -> str:
    return "".join(f"{t.status}\t{t.name}\t{t.where}\t{t.section}\t{t.message}\t{t.seconds:g}\n"
                   for t in g.tests)


def tap(g: Graded) -> str:
    lines = [f"1..{len(g.tests)}"]
    for i, t in enumerate(g.tests, 1):
        lines.append(f"ok {i} - {t.name}" if t.passed else f"not ok {i} - {t.name} # {t.message}")
    return "\n".join(lines) + "\n"


def exercise_json(ex: Exercise, g: Graded, block: bool = False) -> dict[str, Any]:
    d: dict[str, Any] = {"name": ex.name, "source": ex.source, "state": g.state}
    if g.note:
        d["note"] = g.note
    if block:
        d["building_block"] = True  # graded because another exercise uses it; not counted
    d["passed"] = g.passed
    d["failed"] = g.failed
    d["tests"] = [{"name": t.name, "status": t.status, "where": t.where, "section": t.section,
                   "message": t.message, "duration": None if t.seconds < 0 else t.seconds}
                  for t in g.tests]
    return d


def chapter_json(number: int, folder: str, impl: str, variant: str,
                 exercises: list[dict[str, Any]]) -> dict[str, Any]:
    """A chapter's JSON; its totals count its own exercises, not the
    building blocks graded for them."""
    counted = [e for e in exercises if not e.get("building_block")]
    return {"chapter": number, "folder": folder, "impl": impl, "variant": variant,
            "exercises": exercises, "passed": sum(e["passed"] for e in counted),
            "failed": sum(e["failed"] for e in counted)}


def gradescope(chapters: list[dict[str, Any]]) -> dict[str, Any]:
    """Gradescope's results.json: a test per test case."""
    tests = []
    for c in chapters:
        for e in c["exercises"]:
            if e.get("building_block"):
                continue
            for t in e["tests"]:
                ok = t["status"] == "pass"
                output = (t["message"] + "\n" if t["message"] else "") + (
                    "Read: " + t["section"] if t["section"] else "")
                tests.append({"name": f"{e['name']}: {t['name']}", "score": 1 if ok else 0,
                              "max_score": 1, "status": "passed" if ok else "failed",
                              "output": output})
    return {"score": sum(t["score"] for t in tests), "max_score": len(tests),
            "output": "Graded by the Async C Workbook", "tests": tests}


def write(path: Path, text: str) -> None:
    """Write a whole file, mode 0644, replacing what was there (a link left
    there is replaced, never followed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    tmp.write_text(text)
    tmp.chmod(0o644)
    tmp.replace(path)


def write_json(path: Path, value: Any) -> None:
    write(path, json.dumps(value, indent=2) + "\n")
