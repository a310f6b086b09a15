"""The grader as a Gradescope autograder (README.md, "For instructors").

  python3 -m wbtools autograder zip CHAPTER EXERCISE POINTS   (make autograder)
  python3 -m wbtools autograder setup                         (setup.sh, in the zip)
  python3 -m wbtools autograder run ROOT                      (run_autograder)
  python3 -m wbtools autograder try SUBMISSION                (make autograder-try)

`zip` writes build/autograder/autograder.zip: setup.sh, run_autograder,
autograder.json (what to grade, the points) and workbook/, a handout
(handout.py: no solutions). Gradescope unpacks it into ROOT/source (ROOT is
$AUTOGRADER_ROOT, /autograder by default), runs setup.sh once (the packages
with apt, then the trusted parts built once), and for each submission
run_autograder: the learner's files from ROOT/submission, in any layout
(the exercises/NN-topic/ tree, one chapter folder, loose files named after
the exercises), are put into the handout's exercises/ and graded as
`make check` grades them; ROOT/results/results.json gets one entry per
test. Whatever happens (a file that does not compile, hangs or attacks, a
grader that breaks), a results.json is written.

POINTS is "NAME=P,NAME=P..." (an exercise's P points shared equally by its
tests; an exercise not named keeps one point per test) or empty (one point
per test).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import traceback
import zipfile
from pathlib import Path
from typing import Any

from wbtools import handout, outputs, trusted, workbook
from wbtools.choose import choose
from wbtools.workbook import UsageError

OUT = Path("build/autograder")
CONFIG = "autograder.json"
MAX_FILE = 1 << 20  # a learner's source larger than this is left out
# What grading needs on Ubuntu 22.04 and Debian 12 (setpriv, setsid and
# prlimit are util-linux's, which both have).
APT_PACKAGES = ("gcc make pkg-config check bubblewrap python3 libuv1-dev liburing-dev procps "
                "binutils util-linux coreutils")
FALLBACK_NOTE = ("Note: user namespaces are off in this container, so Bubblewrap cannot start: "
                 "the tests ran without the sandbox, each in a session of its own as an "
                 "unprivileged user. The end token, the refused constructors, the localised "
                 "symbols and the limits still hold.")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder is built: the
# packages the grader needs (apt, on Ubuntu 22.04 or Debian 12; skipped
# when they are all there), then the trusted parts (test suites, test
# support) built once, so that a submission only compiles its own files.
# --build-only: the second part only (make autograder-try).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkgs="@PKGS@"
if [ "${1:-}" != --build-only ]; then
    missing=
    for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    if [ -n "$missing" ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        # shellcheck disable=SC2086
        apt-get install -y --no-install-recommends $missing
    fi
fi
cd "$here/workbook"
py=$(command -v /usr/bin/python3 || command -v python3)
PYTHONPATH=tests/support PYTHONDONTWRITEBYTECODE=1 "$py" -m wbtools autograder setup
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission (as ROOT/run_autograder; ROOT is
# $AUTOGRADER_ROOT, /autograder by default): grades ROOT/submission and
# writes ROOT/results/results.json. Whatever happens, a results.json is
# written and the script exits 0.
root=${AUTOGRADER_ROOT:-/autograder}
py=$(command -v /usr/bin/python3 || command -v python3)
mkdir -p "$root/results"
rm -f "$root/results/results.json"
(cd "$root/source/workbook" &&
    PYTHONPATH=tests/support PYTHONDONTWRITEBYTECODE=1 "$py" -m wbtools autograder run "$root")
status=$?
if [ ! -s "$root/results/results.json" ]; then
    printf '{"score": 0, "output": "%s (status %s). This is not about your code: tell your instructor.", "tests": []}\\n' \\
        "The autograder could not start" "$status" >"$root/results/results.json"
fi
exit 0
"""


# --- make autograder ---------------------------------------------------------
def parse_points(text: str, names: list[str]) -> dict[str, float]:
    points: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in text.replace(" ", ",").split(","))):
        name, eq, value = item.partition("=")
        if not eq or name not in names:
            raise UsageError("autograder", f"POINTS takes NAME=P,NAME=P with NAME one of: "
                             f"{' '.join(names)} (not '{item}')")
        try:
            p = float(value)
        except ValueError:
            p = -1
        if p < 0:
            raise UsageError("autograder", f"POINTS: '{value}' is not a number of points")
        points[name] = p
    return points


def config_for(chapter_arg: str, exercise_arg: str, points_arg: str) -> dict[str, Any]:
    sel = choose(chapter_arg, exercise_arg, "exercises")
    asked = [e for e in sel.exercises if e.key not in sel.blocks]
    chapters = sorted({e.number for e in asked})
    names = [e.name for e in asked]
    return {"chapters": chapters, "exercise": exercise_arg, "exercises": names,
            "points": parse_points(points_arg, names),
            "limit": int(os.environ.get("AUTOGRADER_LIMIT", "1200"))}


def make_zip(config: dict[str, Any], dest: Path) -> int:
    """The zip Gradescope takes; returns how many workbook files it holds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    n = 0
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        def add(name: str, data: bytes, mode: int) -> None:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)

        add("setup.sh", SETUP_SH.replace("@PKGS@", APT_PACKAGES).encode(), 0o755)
        add("run_autograder", RUN_AUTOGRADER.encode(), 0o755)
        add(CONFIG, (json.dumps(config, indent=2) + "\n").encode(), 0o644)
        for f in handout.files():
            p = Path(f)
            if handout.LEFT_OUT.search(f) or p.is_symlink() or not p.is_file():
                continue
            mode = 0o755 if os.access(p, os.X_OK) else 0o644
            add(f"workbook/{f}", p.read_bytes(), mode)
            n += 1
    tmp.replace(dest)
    return n


# --- setup.sh: the trusted parts, once ---------------------------------------
def setup() -> int:
    config = json.loads((Path("..") / CONFIG).read_text())
    jobs = os.cpu_count() or 2
    for n in config["chapters"]:
        sel = choose(str(n), config["exercise"], "exercises")
        asked = {e.chapter for e in sel.exercises if e.key not in sel.blocks}
        sanitize = next((workbook.default_sanitize(c) for c in asked), "")
        sanitize = "" if sanitize == "none" else sanitize
        guess = trusted.BuildEnv(trusted.build_folder(sanitize, "gcc"), "", "", "", "", "", "")
        parts = [o for ex in sel.exercises for o in trusted.objects(guess, ex)]
        trusted.build_env(sanitize, "gcc", parts, jobs)
        print(f"autograder setup: chapter {n}: the trusted parts are built", flush=True)
    stubs = Path("../stubs")
    shutil.rmtree(stubs, ignore_errors=True)
    for f in Path("exercises").glob("*/*.c"):
        (stubs / f.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, stubs / f.parent.name / f.name)
    return 0


# --- run_autograder ------------------------------------------------------------
def place(sub: Path, known: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The learner's file for each exercise name in known (name -> NN-topic),
    found anywhere in sub: a file in a folder named after its chapter wins,
    then the shallowest. Returns {name: path in sub}, and the notes about
    files left out."""
    found: dict[str, tuple[int, int, str]] = {}
    notes: list[str] = []
    for dirpath, dirnames, filenames in os.walk(sub):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
        rel_dir = Path(dirpath).relative_to(sub)
        for f in sorted(filenames):
            if not f.endswith(".c"):
                continue
            rel = str(rel_dir / f)
            p = Path(dirpath) / f
            name = f[:-2]
            if name not in known:
                notes.append(f"{rel}: left out (no exercise of that name is graded here)")
                continue
            if p.is_symlink() or not p.is_file():
                notes.append(f"{rel}: left out (not a plain file)")
                continue
            if p.stat().st_size > MAX_FILE:
                notes.append(f"{rel}: left out (larger than {MAX_FILE} bytes)")
                continue
            rank = (0 if rel_dir.name == known[name] else 1, len(rel_dir.parts), rel)
            if name in found:
                loser = max(rank, found[name])
                notes.append(f"{loser[2]}: left out (another {f} was taken)")
                rank = min(rank, found[name])
            found[name] = rank
    return {name: r[2] for name, r in found.items()}, notes


def test_points(config: dict[str, Any], name: str, count: int) -> float:
    p = config["points"].get(name)
    if p is None or count == 0:
        return 1.0
    return float(p) / count


def entries(config: dict[str, Any], chapter: dict[str, Any], handed: dict[str, str]) -> list[dict[str, Any]]:
    tests = []
    for e in chapter["exercises"]:
        if e.get("building_block") or e["name"] not in config["exercises"]:
            continue
        each = test_points(config, e["name"], len(e["tests"]))
        why = ""
        if e["name"] not in handed:
            why = f"Your submission has no {e['name']}.c: graded as the untouched stub."
        elif e["state"] == "not started":
            why = f"not started: {handed[e['name']]} is still the stub."
        elif e["state"] in outputs.NOT_RUN_STATES:
            why = f"{e['name']} {e['state']}: " + (e.get("note") or "")
        for t in e["tests"]:
            ok = t["status"] == "pass"
            lines = [why] if why and not ok else []
            if not ok:
                lines.append(t["message"] + (f" ({t['where']})" if t["where"] else ""))
            if t.get("promise"):
                lines.append("broken promise " + t["promise"])
            if t["section"] and not ok:
                lines.append(f"read: chapters/{chapter['folder']}/chapter.md, section \"{t['section']}\"")
            tests.append({"name": f"{e['name']}: {t['name']}", "score": round(each if ok else 0.0, 6),
                          "max_score": round(each, 6), "status": "passed" if ok else "failed",
                          "output": "\n".join(l for l in lines if l), "visibility": "visible"})
    return tests


def declared_entries(config: dict[str, Any], n: int, reason: str) -> list[dict[str, Any]]:
    """Every test of a chapter at 0 points, when its grading gave nothing."""
    c = workbook.chapters_with_exercises()[[workbook.chapter_number(x)
                                            for x in workbook.chapters_with_exercises()].index(n)]
    tests = []
    for name in workbook.exercises_of(c):
        if name not in config["exercises"]:
            continue
        declared = workbook.declared_tests(c, name)
        each = test_points(config, name, len(declared))
        tests += [{"name": f"{name}: {t}", "score": 0.0, "max_score": round(each, 6),
                   "status": "failed", "output": reason, "visibility": "visible"} for t in declared]
    return tests


def grade(root: Path) -> dict[str, Any]:
    config = json.loads((root / "source" / CONFIG).read_text())
    known = {name: c for c in workbook.chapters_with_exercises()
             if workbook.chapter_number(c) in config["chapters"] for name in workbook.exercises_of(c)}
    # Back to the stubs, then the learner's files.
    stubs = root / "source" / "stubs"
    for f in stubs.glob("*/*.c"):
        shutil.copyfile(f, Path("exercises") / f.parent.name / f.name)
    sub = root / "submission"
    handed, notes = place(sub, known) if sub.is_dir() else ({}, ["no submission folder"])
    for name, rel in handed.items():
        shutil.copyfile(sub / rel, Path("exercises") / known[name] / f"{name}.c")
    report = [f"Graded by the Async C Workbook's grader: chapter(s) "
              f"{', '.join(map(str, config['chapters']))}"
              + (f", exercise {config['exercise']}" if config["exercise"] else "") + "."]
    report += [f"  {name}.c: from {rel}" for name, rel in sorted(handed.items())]
    report += ["  " + n for n in notes]
    res = (root / "work" / "results").resolve()
    tests: list[dict[str, Any]] = []
    fallback = False
    env = dict(os.environ, WB_RESULTS_DIR=str(res), PYTHONPATH="tests/support")
    env.pop("SANITIZE", None)
    deadline = time.time() + config["limit"]  # the whole grading, every chapter
    for n in config["chapters"]:
        shutil.rmtree(res, ignore_errors=True)
        res.mkdir(parents=True)
        left = max(60, int(deadline - time.time()))
        env["CHECK_LIMIT"] = str(left)
        try:
            r = subprocess.run([sys.executable, "-m", "wbtools", "check", str(n), config["exercise"],
                                "exercises"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env, timeout=left + 60)
            out = r.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace") + "\n(the grading of this chapter was stopped: too long)\n"
        fallback = fallback or "Bubblewrap" in out and "without a sandbox" in out
        report += ["", out.rstrip("\n")]
        try:
            chapter = json.loads((res / f"chapter-{n}.json").read_text())
            tests += entries(config, chapter, handed)
        except (OSError, ValueError, KeyError) as e:
            tail = "\n".join(out.rstrip("\n").split("\n")[-8:])
            tests += declared_entries(config, n, f"chapter {n} could not be graded ({e}):\n{tail}")
    if fallback:
        report.insert(1, FALLBACK_NOTE)
    # What an instructor should look at (README.md, "What a pass means"),
    # kept where Gradescope does not show it to the learner.
    from wbtools import gradebook

    integrity = gradebook.integrity(sub)["suspicious"] if sub.is_dir() else []
    integrity += gradebook.refusals("\n".join(report))
    return {"score": round(sum(t["score"] for t in tests), 2),
            "max_score": round(sum(t["max_score"] for t in tests), 2),
            "output": "\n".join(report) + "\n", "visibility": "visible", "tests": tests,
            "extra_data": {"integrity": integrity}}


def run(root: Path) -> int:
    start = time.time()
    try:
        data = grade(root)
    except BaseException:  # never a crashed autograder: Gradescope shows that as an error
        data = {"score": 0, "output": "The autograder broke while grading (not because of your code; "
                "tell your instructor):\n" + traceback.format_exc(), "tests": []}
    data["execution_time"] = int(time.time() - start)
    outputs.write_json(root / "results" / "results.json", data)
    return 0


# --- make autograder-try -------------------------------------------------------
def unpack(zip_path: Path, root: Path) -> None:
    """A scratch root laid out like Gradescope's /autograder."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            z.extract(info, root / "source")
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                (root / "source" / info.filename).chmod(mode)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "results").mkdir()


def set_submission(root: Path, src: Path) -> None:
    shutil.rmtree(root / "submission", ignore_errors=True)
    if src.is_dir():
        shutil.copytree(src, root / "submission", symlinks=True)
    else:
        (root / "submission").mkdir()
        shutil.copyfile(src, root / "submission" / src.name)


def run_script(root: Path, script: str, *args: str, timeout: int = 3600) -> tuple[int, str]:
    env = dict(os.environ, AUTOGRADER_ROOT=str(root.resolve()))
    for k in ("PYTHONPATH", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"):
        env.pop(k, None)
    r = subprocess.run(["bash", str(root / script), *args], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace")


def summary(data: dict[str, Any]) -> str:
    lines = [str(data.get("output", "")).rstrip("\n"), ""]
    for t in data.get("tests", []):
        lines.append(f"{t['score']:>7g}/{t['max_score']:<7g} {t['status']:<7} {t['name']}")
    lines.append(f"score: {data.get('score')} of {data.get('max_score')}")
    return "\n".join(lines)


def try_main(submission: str, zip_arg: str) -> int:
    if not submission:
        raise UsageError("autograder-try", "say which submission: make autograder-try SUBMISSION=DIR")
    src = Path(submission)
    if not src.exists():
        raise UsageError("autograder-try", f"no file or folder '{submission}'")
    zip_path = Path(zip_arg) if zip_arg else OUT / "autograder.zip"
    if not zip_path.is_file():
        raise UsageError("autograder-try", f"no {zip_path}: run make autograder first")
    root = OUT / "try"
    unpack(zip_path, root)
    set_submission(root, src.resolve())
    status, out = run_script(root, "source/setup.sh", "--build-only")
    if status != 0:
        print(out)
        print("autograder-try: setup.sh failed")
        return 1
    run_script(root, "run_autograder")
    data = json.loads((root / "results" / "results.json").read_text())
    print(summary(data))
    problems = validate(data, json.loads(SCHEMA.read_text()))
    print(f"autograder-try: {root}/results/results.json "
          + ("follows Gradescope's format" if not problems else "is NOT valid: " + "; ".join(problems)))
    return 0 if not problems else 1


# --- Gradescope's format, checked ------------------------------------------
SCHEMA = Path("tests/support/schemas/gradescope-results.schema.json")


def validate(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """The part of JSON Schema the schema file uses: type, enum, required,
    properties, additionalProperties (false), items, minimum."""
    bad: list[str] = []
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        ok = False
        for k in types:
            if k in ("number", "integer"):
                ok = ok or (isinstance(value, (int, float)) and not isinstance(value, bool)
                            and (k == "number" or float(value).is_integer()))
            else:
                ok = ok or isinstance(value, kinds[k])
        if not ok:
            return [f"{where}: not of type {t}"]
    if "enum" in schema and value not in schema["enum"]:
        bad.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and isinstance(value, (int, float)) and value < schema["minimum"]:
        bad.append(f"{where}: {value} is below {schema['minimum']}")
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                bad.append(f"{where}: no '{k}'")
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                bad += validate(v, props[k], f"{where}.{k}")
            elif schema.get("additionalProperties") is False:
                bad.append(f"{where}: '{k}' is not a field Gradescope reads")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            bad += validate(v, schema["items"], f"{where}[{i}]")
    return bad


def main(argv: list[str]) -> int:
    what, rest = (argv + [""])[0], argv[1:]
    if what == "zip":
        chapter_arg, exercise_arg, points_arg = (rest + ["", "", ""])[:3]
        config = config_for(chapter_arg, exercise_arg, points_arg)
        dest = OUT / "autograder.zip"
        n = make_zip(config, dest)
        print(f"autograder: {dest} ({n} workbook files, no solutions/): chapter(s) "
              f"{' '.join(map(str, config['chapters']))}, {len(config['exercises'])} exercise(s); "
              "upload it as the assignment's autograder (Ubuntu 22.04 base image); "
              "try it first with make autograder-try SUBMISSION=DIR")
        return 0
    if what == "setup":
        return setup()
    if what == "run":
        return run(Path(rest[0]) if rest and rest[0] else Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")))
    if what == "try":
        return try_main(*(rest + ["", ""])[:2])
    raise UsageError("autograder", "say zip, setup, run or try")


# --- make test -----------------------------------------------------------------
def selftest(log: Any) -> bool:
    """make test's step: a zip for chapter 1's runner (10 points), run as
    Gradescope runs it on submissions in each layout, solved, untouched,
    known-wrong, not compiling, hostile, with no sandbox, and a broken
    autograder; each results.json follows Gradescope's format and gives the
    score the submission deserves."""
    work = OUT / "selftest"
    shutil.rmtree(work, ignore_errors=True)
    subs = work / "submissions"
    wrong = "build/wrong/tests/01-sync/runner.wrong_stops_at_failure.c"
    if subprocess.run(["make", "--no-print-directory", "-s", wrong], stdout=log, stderr=log).returncode:
        return False
    solved = Path("solutions/01-sync/runner.c").read_bytes()

    def sub(name: str, rel: str, data: bytes) -> Path:
        (subs / name / rel).parent.mkdir(parents=True, exist_ok=True)
        (subs / name / rel).write_bytes(data)
        return subs / name

    fake = work / "nobwrap"
    fake.mkdir(parents=True)
    (fake / "bwrap").write_text("#!/bin/sh\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    expect = {line.split()[0]: line.split(None, 2)[2].strip()
              for line in workbook.read("tests/grader/expect").split("\n") if line and line[0] != "#"}
    # (name, submission, want: "full", "zero", "partial", what the output must say, env)
    cases: list[tuple[str, Path, str, str, dict[str, str]]] = [
        ("solved, the exercises/ tree", sub("solved", "exercises/01-sync/runner.c", solved), "full", "", {}),
        ("the stubs", sub("stubs", "exercises/01-sync/runner.c",
                          Path("exercises/01-sync/runner.c").read_bytes()), "zero", "not started", {}),
        ("a known-wrong variant, one chapter folder", sub("wrong", "01-sync/runner.c",
                                                          Path(wrong).read_bytes()), "partial", "", {}),
        ("a file that does not compile", sub("broken", "runner.c", b"int runner_run( {\n"),
         "zero", "does not compile", {}),
        ("loose files", sub("loose", "runner.c", solved), "full", "", {}),
        ("nothing handed in", sub("empty", "notes.txt", b"hello\n"), "zero", "has no runner.c", {}),
        ("no user namespaces (bwrap cannot start)", subs / "solved", "full", "user namespaces are off",
         {"PATH": f"{fake.resolve()}:{os.environ.get('PATH', '')}"}),
    ]
    for kind in ("exit0", "constructor", "orphan"):
        cases.append((f"hostile: tests/grader/{kind}", Path(f"tests/grader/{kind}"), "zero",
                      expect[kind], {"CK_TIMEOUT_MULTIPLIER": "0.25"}))
    schema = json.loads(SCHEMA.read_text())
    config = config_for("1", "runner", "runner=10")
    zip_path = work / "autograder.zip"
    make_zip(config, zip_path)
    root = work / "root"
    unpack(zip_path, root)
    status, out = run_script(root, "source/setup.sh", "--build-only")
    log.write(out)
    if status != 0:
        log.write("setup.sh --build-only failed\n")
        return False
    ok = True
    saved = dict(os.environ)
    for desc, src, want, says, env in cases + [("a broken autograder", subs / "solved", "crash", "broke", {})]:
        start = time.time()
        set_submission(root, src.resolve())
        if want == "crash":
            (root / "source" / CONFIG).write_text("{")
        os.environ.update(env)
        try:
            run_script(root, "run_autograder", timeout=300)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        took = time.time() - start
        try:
            data = json.loads((root / "results" / "results.json").read_text())
        except (OSError, ValueError) as e:
            log.write(f"FAIL {desc}: no results.json ({e})\n")
            ok = False
            continue
        problems = validate(data, schema)
        text = data["output"] + "".join(t["output"] for t in data.get("tests", []))
        score, top = data.get("score", 0), data.get("max_score", 0)
        if want != "crash" and (len(data["tests"]) != 11 or top != 10):
            problems.append(f"{len(data['tests'])} tests worth {top}, want 11 worth 10")
        if want == "full" and score != top:
            problems.append(f"score {score}, want {top}")
        if want in ("zero", "crash") and score != 0:
            problems.append(f"score {score}, want 0")
        if want == "partial" and not 0 < score < top:
            problems.append(f"score {score}, want between 0 and {top}")
        if want == "notfull" and score >= top:
            problems.append(f"score {score}, want less than {top}")
        if says and not re.search(says, text):
            problems.append(f"output does not say /{says}/")
        # The instructor's notes: none for the reference, the refusal of a
        # constructor (README.md, "What a pass means").
        integrity = data.get("extra_data", {}).get("integrity")
        if want == "full" and integrity != []:
            problems.append(f"extra_data.integrity is {integrity!r}, want []")
        if desc.endswith("/constructor") and not any("refused" in n for n in integrity or []):
            problems.append(f"extra_data.integrity is {integrity!r}, want the refusal")
        log.write(f"{'FAIL' if problems else 'ok  '} {desc}: {score} of {top} in {took:.1f} s\n")
        for p in problems:
            log.write(f"     {p}\n")
        if problems:
            log.write(summary(data) + "\n")
            ok = False
    return ok


# --- make test: the GitHub Classroom workflow ------------------------------------
def run_workflow(steps: list[dict[str, Any]], cwd: Path, summary_file: Path,
                 log: Any) -> tuple[bool, dict[str, bool]]:
    """Each step's command run as a runner runs it (bash -eo pipefail, the
    next step only after a success unless `if: always()`); `uses:` steps
    of actions/ and apt-get lines are left out (the runner's business).
    Returns whether the job passed, and each step's result by name."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTHONPATH")}
    env.update(CI="true", GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(cwd.resolve()),
               GITHUB_STEP_SUMMARY=str(summary_file.resolve()))
    ok = True
    done: dict[str, bool] = {}
    for i, step in enumerate(steps):
        name = str(step.get("name") or step.get("uses") or f"step {i + 1}")
        if "uses" in step:
            if not str(step["uses"]).startswith("actions/"):
                log.write(f"workflow: step {name} uses {step['uses']}, not an actions/ action\n")
                return False, done
            log.write(f"workflow: {name}: left out (an action of the runner's)\n")
            continue
        command = str(step["run"])
        if "apt-get" in command:
            log.write(f"workflow: {name}: left out (apt-get)\n")
            continue
        if not ok and step.get("if") != "always()":
            log.write(f"workflow: {name}: not run (an earlier step failed)\n")
            continue
        log.write(f"workflow: {name}: {command!r}\n")
        log.flush()
        r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
                           cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=900)
        log.write(r.stdout.decode(errors="replace")[-3000:])
        done[name] = r.returncode == 0
        ok = ok and done[name]
    return ok, done


def junit_problems(xml: Path, log: Any) -> list[str]:
    """A real grading's JUnit XML against tests/support/schemas/junit.xsd."""
    if not shutil.which("xmllint"):
        return ["xmllint is not installed (libxml2-utils, make deps)"]
    r = subprocess.run(["xmllint", "--noout", "--schema", "tests/support/schemas/junit.xsd", str(xml)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    log.write(r.stdout.decode(errors="replace"))
    return [] if r.returncode == 0 else [f"{xml} does not follow junit.xsd"]


def classroom_selftest(log: Any) -> bool:
    """make handout CHAPTER=1: grade.yml parses, its steps run in the handout
    as a runner runs them (untouched: the job fails, the summary and the
    results are there; solved: the job passes), and autograding.json names
    the same command, per exercise, worth its checks."""
    import yaml  # python3-yaml (make deps)

    work = OUT / "classroom"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    dest = work / "handout"
    r = subprocess.run(["make", "--no-print-directory", "handout", f"DEST={dest}", "CHAPTER=1"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    log.write(r.stdout.decode(errors="replace"))
    if r.returncode != 0:
        return False
    data = yaml.safe_load((dest / ".github/workflows/grade.yml").read_text())
    on = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true
    steps = data["jobs"]["grade"]["steps"]
    problems = []
    if not isinstance(on, dict) or "push" not in on:
        problems.append("grade.yml does not run on push")
    if not any(str(s.get("uses", "")).startswith("actions/upload-artifact") and
               s.get("with", {}).get("path") == "build/results/" and s.get("if") == "always()"
               for s in steps):
        problems.append("grade.yml does not upload build/results/ always")
    if not any("GITHUB_STEP_SUMMARY" in str(s.get("run", "")) and s.get("if") == "always()" for s in steps):
        problems.append("grade.yml does not write the job summary always")
    if not any("make deps" in str(s.get("run", "")) or "deps PKGS_NOREC=" in str(s.get("run", ""))
               for s in steps):
        problems.append("grade.yml does not run make deps")
    classroom = json.loads((dest / ".github/classroom/autograding.json").read_text())
    names = workbook.exercises_of("01-sync")
    if [t["run"] for t in classroom["tests"]] != [
            f"make --no-print-directory check CHAPTER=1 EXERCISE={n}" for n in names]:
        problems.append("autograding.json does not run make check for each exercise of chapter 1")
    if [t["points"] for t in classroom["tests"]] != [len(workbook.declared_tests("01-sync", n)) for n in names]:
        problems.append("autograding.json's points are not each exercise's checks")
    # Untouched: the job fails, the summary and the results are written.
    summary_file = work / "summary.md"
    passed, done = run_workflow(steps, dest, summary_file, log)
    text = summary_file.read_text() if summary_file.is_file() else ""
    if passed or done.get("Grade (make check)") is not False:
        problems.append("untouched: the job did not fail at the grading step")
    if "chapter-1: 0 passed" not in text:
        problems.append("untouched: the job summary has no report")
    for out in ("chapter-1.json", "chapter-1.xml"):
        if not (dest / "build/results" / out).is_file():
            problems.append(f"untouched: no build/results/{out} for the artifact")
    problems += junit_problems(dest / "build/results/chapter-1.xml", log)
    # Solved: the job passes; the Classroom's command passes too.
    for f in Path("solutions/01-sync").glob("*.c"):
        shutil.copyfile(f, dest / "exercises/01-sync" / f.name)
    summary_file.unlink(missing_ok=True)
    passed, done = run_workflow(steps, dest, summary_file, log)
    own = sum(len(workbook.declared_tests("01-sync", n)) for n in names)
    text = summary_file.read_text() if summary_file.is_file() else ""
    if not passed or f"chapter-1: {own} passed, 0 failed" not in text:
        problems.append(f"solved: the job did not pass with chapter-1: {own} passed in its summary")
    problems += junit_problems(dest / "build/results/chapter-1.xml", log)
    first = classroom["tests"][0]
    for what in ("setup", "run"):
        r = subprocess.run(["bash", "-c", first[what]], cwd=dest, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT,
                           env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL")})
        log.write(r.stdout.decode(errors="replace")[-2000:])
        if r.returncode != 0:
            problems.append(f"solved: autograding.json's {what} of {first['name']} failed")
    for p in problems:
        log.write(f"FAIL {p}\n")
    if not problems:
        shutil.rmtree(work, ignore_errors=True)
    return not problems
