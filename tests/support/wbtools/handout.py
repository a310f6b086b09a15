"""`make handout DEST=DIR`: the learners' copy of the workbook, in DIR:
everything but the reference solutions and what only maintainers use (the
known-wrong variants, which are patches against the solutions; the
grader's hostile implementations; CI). In it, `make check` grades every
exercise: an exercise that builds on an earlier one (tpool on bqueue) links
the learner's own, and the grader says when that one fails first."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

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


def main(argv: list[str]) -> int:
    dest = Path(argv[0]) if argv and argv[0] else None
    if dest is None:
        raise UsageError("handout", "say where: make handout DEST=DIR")
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
    print(f"handout: {argv[0]} ({n} files, no solutions/); learners start with: make check CHAPTER=1")
    return 0
