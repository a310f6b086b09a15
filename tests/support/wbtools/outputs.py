"""Step 7: results for programs (README.md, "For instructors"): each
exercise's TSV, TAP and JSON, a chapter's JSON and JUnit XML, and
Gradescope's results.json. Every file is written whole, by this module
only."""

from __future__ import annotations

import json
import os
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from wbtools import workbook
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
                   "message": t.message, "promise": promise(ex, t.message),
                   "duration": None if t.seconds < 0 else t.seconds}
                  for t in g.tests]
    return d


def promise(ex: Exercise, message: str) -> str:
    """The contract's sentence a failure message names ("[tag] ..."), or ""."""
    m = re.match(r"^\[([a-z0-9-]+)\] ", message)
    if not m:
        return ""
    try:
        text = workbook.promise_text(ex.header, m.group(1))
    except OSError:
        return ""
    return f"[{m.group(1)}] {text}" if text else ""


def chapter_json(number: int, folder: str, impl: str, variant: str,
                 exercises: list[dict[str, Any]]) -> dict[str, Any]:
    """A chapter's JSON; its totals count its own exercises, not the
    building blocks graded for them."""
    counted = [e for e in exercises if not e.get("building_block")]
    return {"chapter": number, "folder": folder, "impl": impl, "variant": variant,
            "exercises": exercises, "passed": sum(e["passed"] for e in counted),
            "failed": sum(e["failed"] for e in counted)}


# An exercise in these states did not get to run its tests: JUnit shows it
# as an error of the exercise, so that a CI job fails on it.
NOT_RUN_STATES = ("does not compile", "refused", "stopped early")


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: str) -> str:
    """Text XML 1.0 can carry: a learner's message may hold any byte."""
    return _NOT_XML.sub("?", text)


def _detail(t: dict[str, Any]) -> str:
    parts = [t["message"]]
    if t.get("where"):
        parts.append("at: " + t["where"])
    if t.get("promise"):
        parts.append("broken promise " + t["promise"])
    if t.get("section"):
        parts.append("read: section \"" + t["section"] + "\"")
    return _x("\n".join(p for p in parts if p) + "\n")


def junit(chapter: dict[str, Any]) -> str:
    """A chapter's JUnit XML (the layout Jenkins, GitLab and the GitHub
    test-report actions read): a testsuite per exercise, a testcase per test
    (classname the exercise); a failed test has a failure with the message,
    the promise and the section; a test that did not run is skipped; an
    exercise that did not compile, was refused or was stopped has an extra
    testcase "(build and run)" with an error giving the reason."""
    root = ET.Element("testsuites", name=f"chapter-{chapter['chapter']}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    seconds = 0.0
    for e in chapter["exercises"]:
        if e.get("building_block"):
            continue
        suite = ET.SubElement(root, "testsuite", name=e["name"])
        n = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite_time = 0.0
        if e["state"] in NOT_RUN_STATES:
            case = ET.SubElement(suite, "testcase", classname=e["name"], name="(build and run)",
                                 time="0")
            err = ET.SubElement(case, "error", message=f"{e['name']} {e['state']}",
                                type=e["state"])
            err.text = _x((e.get("note") or e["state"]) + "\n")
            n["tests"] += 1
            n["errors"] += 1
        for t in e["tests"]:
            d = t["duration"] if t["duration"] is not None else 0.0
            suite_time += d
            case = ET.SubElement(suite, "testcase", classname=e["name"], name=_x(t["name"]),
                                 time=f"{d:.3f}")
            n["tests"] += 1
            if t["status"] == "pass":
                continue
            if t["message"].startswith("not run:"):
                ET.SubElement(case, "skipped", message=_x(t["message"]))
                n["skipped"] += 1
            elif t["status"] == "fail":
                f = ET.SubElement(case, "failure", message=_x(t["message"]), type="fail")
                f.text = _detail(t)
                n["failures"] += 1
            else:
                f = ET.SubElement(case, "error", message=_x(t["message"]), type="error")
                f.text = _detail(t)
                n["errors"] += 1
        for k, v in n.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("time", f"{suite_time:.3f}")
        seconds += suite_time
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def gradescope(chapters: list[dict[str, Any]], integrity: list[str]) -> dict[str, Any]:
    """Gradescope's results.json: a test per test case; what an instructor
    should look at (gradebook.py's integrity notes) in extra_data, which
    Gradescope keeps and does not show the learner."""
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
            "output": "Graded by the Async C Workbook", "tests": tests,
            "extra_data": {"integrity": integrity}}


def write(path: Path, text: str) -> None:
    """Write a whole file, mode 0644, replacing what was there (a link left
    there is replaced, never followed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # writers never share one
    tmp.unlink(missing_ok=True)
    tmp.write_text(text)
    tmp.chmod(0o644)
    tmp.replace(path)


def write_json(path: Path, value: Any) -> None:
    write(path, json.dumps(value, indent=2) + "\n")
