"""`make gradebook SUBMISSIONS=DIR [CHAPTER=N]`: grades a whole class.

DIR holds one entry per learner, named after the learner: a folder laid
out like exercises/ (DIR/alice/01-sync/runner.c ...), or an archive of one
(alice.tar.gz, alice.tgz, alice.tar or alice.zip; its files may sit under
one top folder). Each learner is graded by `check`, in sandboxes of their
own, PARALLEL learners at a time, with one progress line per learner.
Writes under build/gradebook/:

  gradebook.csv            one row per learner, a column per exercise
                           (passed/total), then the totals
  LEARNER/chapter-N.json   the grader's JSON (README.md, "For instructors")
  LEARNER/results.json     the same as a Gradescope autograder result
  LEARNER/report.txt       what `make check` printed for that learner
  LEARNER/integrity.json   what an instructor should look at: refusals,
                           suspicious constructs in the learner's files,
                           files identical to another learner's or to the
                           reference solution (README.md, "What a pass
                           means")
  integrity.csv            the same, one row per learner with a finding

A submission that does not compile, hangs or attacks the grader affects its
own row only. Exits 0 when every learner was graded (whatever their
grades), 2 on a usage error.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from wbtools import outputs, workbook
from wbtools.choose import choose_chapters
from wbtools.sandbox import Sandbox, SandboxError
from wbtools.workbook import UsageError

OUT = Path("build/gradebook")
ARCHIVES = (".tar.gz", ".tgz", ".tar", ".zip")


def learners(subs: Path) -> list[tuple[str, Path]]:
    """(name, folder or archive) of each learner, in name order."""
    found = []
    for entry in sorted(subs.iterdir()):
        base = entry.name
        if entry.is_symlink():
            # Refused when graded (never followed, never changed).
            found.append((base.split(".")[0] if base.endswith(ARCHIVES) else base, entry))
        elif base.endswith(ARCHIVES) and entry.is_file():
            found.append((base.split(".")[0], entry))
        elif entry.is_dir():
            found.append((base, entry))
    return found


def links_in(src: Path) -> list[str]:
    """The symbolic links in a learner's folder (never followed)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(src):
        for f in dirnames + filenames:
            if (Path(dirpath) / f).is_symlink():
                found.append(str((Path(dirpath) / f).relative_to(src)))
    return sorted(found)


def copy_tree(src: Path, dest: Path) -> None:
    """Copy a learner's folder without following links (a link in a
    submission is left out), every file readable to all."""
    for dirpath, dirnames, filenames in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        (dest / rel).chmod(0o755)
        for f in filenames:
            s = Path(dirpath) / f
            if s.is_file() and not s.is_symlink():
                shutil.copyfile(s, dest / rel / f)
                (dest / rel / f).chmod(0o644)


def unpack(sandbox: Sandbox, slot: int, archive: Path, dest: Path) -> Path | None:
    """Extract an archive inside the sandbox, as the slot's user, so nothing
    in it can write outside dest; its one top folder when it has one. When
    the sandbox sees a readable copy of the workbook (sandbox.py), the
    archive is extracted there, then copied into dest without links."""
    if sandbox.root != sandbox.top:
        inside = sandbox.root / "build/gradebook/unpack" / dest.name
        shutil.rmtree(inside.parent / f"{dest.name}.archive", ignore_errors=True)
        copied = inside.parent / f"{dest.name}.archive" / archive.name
        copied.parent.mkdir(parents=True)
        for d in (inside.parent.parent.parent, inside.parent.parent, inside.parent, copied.parent):
            d.chmod(0o755)
        shutil.copyfile(archive, copied)
        copied.chmod(0o644)
        top = unpack_here(sandbox, slot, copied, inside)
        if top is None:
            return None
        copy_tree(top, dest)
        return dest
    return unpack_here(sandbox, slot, archive, dest)


def unpack_here(sandbox: Sandbox, slot: int, archive: Path, dest: Path) -> Path | None:
    sandbox.folder(slot, dest)
    if archive.name.endswith(".zip"):
        cmd = ["unzip", "-q", "-o", str(archive.resolve()), "-d", str(dest)]
    else:
        cmd = ["tar", "-xf", str(archive.resolve()), "-C", str(dest), "--no-same-owner",
               "--no-same-permissions"]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "LC_ALL": "C"}
    if sandbox.run(slot, dest, 60, 1048576, env, cmd, dest.parent / f"{dest.name}.unpack.log") != 0:
        return None
    if not any(dest.glob("[0-9][0-9]-*")):
        tops = [d for d in dest.iterdir() if d.is_dir()]
        if len(tops) == 1:
            return tops[0]
    return dest


# Text in a learner's file that legitimate code for the workbook never
# needs, and that the attacks on the grader used (README.md).
SUSPICIOUS = [
    ("/proc/self", "reads the program's own files (/proc/self): a search for the grader's data?"),
    ("/proc/", "reads /proc"),
    ("etext", "names etext (a bound of the program's memory)"),
    ("edata", "names edata (a bound of the program's memory)"),
    ("__data_start", "names __data_start (a bound of the program's memory)"),
    ("__bss_start", "names __bss_start (a bound of the program's memory)"),
    ("getppid", "calls getppid() (the suite's main() is the test's parent)"),
    ("WB_", "names the fixture's environment or macros (WB_...)"),
    ("wb_", "names the fixture's functions (wb_...)"),
    ("asm", "holds inline assembly"),
    ("dlsym", "looks up symbols at run time (dlsym)"),
    ("Sanitizer", "names a sanitizer"),
    ("__lsan", "names LeakSanitizer's interface"),
    ("__tsan", "names ThreadSanitizer's interface"),
    ("Annotate", "names ThreadSanitizer's annotations"),
    ("_exit(0)", "calls _exit(0) (a forged end of a test?)"),
]


def digest(text: bytes) -> str:
    """The file's hash with all white space removed (reformatting a copy
    does not hide it)."""
    return hashlib.sha256(b"".join(text.split())).hexdigest()


def integrity(impl: Path) -> dict[str, Any]:
    """Suspicious constructs in a learner's .c files, and their hashes."""
    found: list[str] = []
    hashes: dict[str, str] = {}
    for f in sorted(impl.rglob("*.c")):
        if f.is_symlink() or not f.is_file():
            continue
        rel = str(f.relative_to(impl))
        data = f.read_bytes()
        hashes[rel] = digest(data)
        text = data.decode(errors="replace")
        for needle, why in SUSPICIOUS:
            if needle in text:
                line = text[: text.index(needle)].count("\n") + 1
                found.append(f"{rel}:{line}: {why}")
    return {"suspicious": found, "hashes": hashes}


def refusals(report: str) -> list[str]:
    """The refusals a grading report holds, a line each."""
    notes = []
    lines = report.split("\n")
    for i, l in enumerate(lines):
        if l.startswith("refused: "):  # the gradebook's own refusal
            notes.append(l.strip()[:300])
        elif l.strip().endswith(" refused:") and i + 1 < len(lines):  # the grader's
            notes.append(f"{l.strip()} {lines[i + 1].strip()}"[:300])
    return notes


def cross_check(names: list[str]) -> dict[str, list[str]]:
    """Add to each learner's integrity.json: refusals from their report,
    and files identical to another learner's or to the reference. Returns
    each learner's notes."""
    reports: dict[str, dict[str, Any]] = {}
    for n in names:
        try:
            reports[n] = json.loads((OUT / n / "integrity.json").read_text())
        except (OSError, ValueError):
            reports[n] = {"suspicious": [], "hashes": {}}
    reference: dict[str, str] = {}
    for f in sorted(Path("solutions").glob("*/*.c")):
        reference[digest(f.read_bytes())] = str(f)
    owners: dict[str, list[str]] = {}
    for n, r in reports.items():
        for rel, h in r.get("hashes", {}).items():
            owners.setdefault(h, []).append(f"{n}/{rel}")
    rows = []
    found: dict[str, list[str]] = {}
    for n in names:
        r = reports[n]
        notes: list[str] = list(r.get("suspicious", []))
        try:
            report = (OUT / n / "report.txt").read_text(errors="replace")
        except OSError:
            report = ""
        notes += refusals(report)
        for rel, h in r.get("hashes", {}).items():
            if h in reference:
                notes.append(f"{rel}: identical to the reference solution {reference[h]}")
            others = [o for o in owners.get(h, []) if not o.startswith(f"{n}/")]
            if others:
                more = f" and {len(others) - 30} more" if len(others) > 30 else ""
                notes.append(f"{rel}: identical to {', '.join(others[:30])}{more}")
        r["notes"] = found[n] = notes
        outputs.write_json(OUT / n / "integrity.json", r)
        if notes:
            rows.append([n, str(len(notes)), " | ".join(notes)])
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["learner", "findings", "what to look at"])
    w.writerows(rows)
    outputs.write(OUT / "integrity.csv", out.getvalue())
    return found


def grade_learner(sandbox: Sandbox, slot: int, name: str, src: Path, chapters: list[str],
                  subs: Path) -> None:
    folder = OUT / name
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / "report.txt"
    if src.is_symlink():
        report.write_text(f"refused: {src.name} is a symbolic link; hand in a folder or an "
                          "archive (the gradebook never follows a link)\n")
        return
    if src.is_dir() and links_in(src):
        report.write_text(f"refused: the submission holds a symbolic link ({links_in(src)[0]}); "
                          "hand in the files themselves\n")
        return
    if src.is_dir():
        impl: Path | None = OUT / "work" / name
        assert impl is not None
        try:
            copy_tree(src, impl)
        except OSError:
            report.write_text("the folder could not be copied\n")
            return
    else:
        impl = unpack(sandbox, slot, src, Path.cwd() / OUT / "work" / name)
        if impl is None:
            report.write_text("the archive could not be unpacked\n")
            return
        impl = Path(os.path.relpath(impl))
        if links_in(impl):
            report.write_text(f"refused: the archive holds a symbolic link ({links_in(impl)[0]}); "
                              "hand in the files themselves\n")
            return
    outputs.write_json(folder / "integrity.json", integrity(impl))
    # The learner's grader sees only this learner's files: not the
    # submissions, not the other learners' copies, not solutions/.
    env = dict(os.environ, JOBS="1", WB_RESULTS_DIR=str(folder), PYTHONPATH="tests/support",
               WB_HIDE=":".join([str(subs.resolve()), "build/gradebook", "solutions"]),
               WB_SHOW=str(impl))
    env.pop("SANITIZE", None)
    with open(report, "wb") as log:
        for c in chapters:
            # Each learner's grader claims users of its own (sandbox.py).
            subprocess.run([sys.executable, "-m", "wbtools", "check", str(workbook.chapter_number(c)),
                            "", str(impl)], stdin=subprocess.DEVNULL, stdout=log,
                           stderr=subprocess.STDOUT, env=env)


def csv_text(names: list[str], chapters: list[str], results: dict[str, dict[int, Any]]) -> str:
    """One row per learner: passed/total per exercise, then the totals. An
    exercise the learner did not hand in counts as 0 of its tests."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    exercises = [(c, e) for c in chapters for e in workbook.exercises_of(c)]
    w.writerow(["learner"] + [e for _, e in exercises] + ["passed", "total"])
    for name in names:
        row: list[str] = [name]
        all_p = all_t = 0
        for c, e in exercises:
            p, t = 0, len(workbook.declared_tests(c, e))
            chapter = results.get(name, {}).get(workbook.chapter_number(c))
            if chapter:
                for x in chapter["exercises"]:
                    if x["name"] == e and not x.get("building_block"):
                        p, t = x["passed"], x["passed"] + x["failed"]
                        break
            row.append(f"{p}/{t}")
            all_p, all_t = all_p + p, all_t + t
        w.writerow(row + [str(all_p), str(all_t)])
    return out.getvalue()


def read_results(name: str) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for f in sorted((OUT / name).glob("chapter-*.json")):
        try:
            d = json.loads(f.read_text())
            found[int(d["chapter"])] = d
        except (OSError, ValueError, KeyError):
            pass
    return found


def main(argv: list[str]) -> int:
    subs_arg, chapter_arg = (argv + ["", ""])[:2]
    subs_arg = subs_arg.rstrip("/") or subs_arg
    if not subs_arg:
        raise UsageError("gradebook", "say where the submissions are: make gradebook SUBMISSIONS=DIR")
    subs = Path(subs_arg)
    if not subs.is_dir():
        raise UsageError("gradebook", f"no folder '{subs_arg}'")
    if chapter_arg:
        try:
            chapters = choose_chapters(chapter_arg, "gradebook")
        except UsageError:
            raise UsageError("gradebook", f"there is no chapter {chapter_arg} with exercises")
    else:
        chapters = choose_chapters("", "gradebook")
    parallel = int(os.environ.get("PARALLEL", "2"))
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "work").mkdir(parents=True)
    OUT.chmod(0o755)
    (OUT / "work").chmod(0o755)
    class_ = learners(subs)
    if not class_:
        raise UsageError("gradebook", f"no submission in {subs_arg} (want one folder or archive per learner)")
    try:
        sandbox = Sandbox(Path.cwd(), quiet=True)
    except SandboxError as e:
        print(e, file=sys.stderr)
        return 2
    start = time.time()
    which = (f"chapter {workbook.chapter_number(chapters[0])}" if chapter_arg
             else "chapters " + " ".join(chapters))
    print(f"gradebook: {len(class_)} submissions in {subs_arg}, {which}, {parallel} at a time",
          flush=True)
    slots = list(range(parallel))
    guard = threading.Lock()
    done = [0]

    def one(name: str, src: Path) -> None:
        with guard:
            slot = slots.pop()
        try:
            grade_learner(sandbox, slot, name, src, chapters, subs)
        finally:
            with guard:
                slots.append(slot)
                done[0] += 1
                print(f"gradebook: {done[0]}/{len(class_)} graded ({name})", flush=True)

    try:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            for f in [pool.submit(one, n, s) for n, s in class_]:
                f.result()
    finally:
        sandbox.stop(parallel)
    names = [n for n, _ in class_]
    results = {n: read_results(n) for n in names}
    outputs.write(OUT / "gradebook.csv", csv_text(names, chapters, results))
    found = cross_check(names)
    for n in names:
        outputs.write_json(OUT / n / "results.json",
                           outputs.gradescope(list(results[n].values()), found[n]))
    shutil.rmtree(OUT / "work", ignore_errors=True)
    print(f"gradebook: {OUT}/gradebook.csv, and per learner {OUT}/LEARNER/ (chapter-N.json, "
          f"results.json for Gradescope, report.txt, integrity.json; integrity.csv: what to "
          f"look at), in {int(time.time() - start)} s")
    return 0
