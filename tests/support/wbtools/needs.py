"""What the commands that build and run the learner's code need on the
machine: a C compiler, pkg-config, the Check library, Bubblewrap and the
libraries a suite links. On a fresh machine (before `make deps`) a
learner's first `make check` says which Debian packages are missing and
the command that installs them, before anything is built, instead of
stopping in a compiler error about a test object.

Each need is looked for the way the build uses it: the compiler and the
tools on PATH, a library through pkg-config (as the Makefile's
CHECK_CFLAGS does), so hiding one (a PATH whose pkg-config does not know
`check`) is seen exactly as a missing package is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# A library a suite's .libs names: its pkg-config name and its package.
LIBRARIES = {"-luring": ("liburing", "liburing-dev"), "-luv": ("libuv", "libuv1-dev")}


def compiler_package(cc: str) -> str:
    return "clang" if os.path.basename(cc).startswith("clang") else "gcc"


def pkg_config_knows(*names: str) -> bool:
    try:
        return subprocess.run(["pkg-config", "--exists", *names], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def missing(cc: str, chapters: list[str] | None = None) -> list[str]:
    """The Debian packages missing for grading, in the order `make deps`
    names them; empty when everything is there. chapters (folder names):
    only the libraries their suites link count (chapter 1 needs no
    liburing); None: every chapter's."""
    packages: list[str] = []
    if shutil.which(cc.split()[0] if cc.split() else "gcc") is None:
        packages.append(compiler_package(cc))
    has_pkg_config = shutil.which("pkg-config") is not None
    if not has_pkg_config:
        packages.append("pkg-config")
    folders = ["[0-9][0-9]-*"] if chapters is None else chapters
    libs = {w for folder in folders for f in Path("tests").glob(f"{folder}/*.libs")
            for w in f.read_text(errors="replace").split()}
    wanted = [("check", "check")] + [LIBRARIES[f] for f in sorted(LIBRARIES) if f in libs]
    # One question to pkg-config when all is there (the usual case).
    if not has_pkg_config or not pkg_config_knows(*(pc for pc, _ in wanted)):
        packages += [package for pc, package in wanted if not has_pkg_config or not pkg_config_knows(pc)]
    if shutil.which("bwrap") is None:
        packages.append("bubblewrap")
    return packages


def message(command: str, packages: list[str]) -> str:
    """Two lines: what is missing, and the command that installs it."""
    return (f"{command}: this machine lacks what grading needs, the Debian packages: "
            f"{' '.join(packages)}\n"
            f"{command}: install them with: make deps   (or: sudo apt-get install {' '.join(packages)})")


def require(command: str, chapters: list[str] | None = None) -> int:
    """0 when grading can start; otherwise prints message() and returns 2."""
    packages = missing(os.environ.get("CC") or "gcc", chapters)
    if not packages:
        return 0
    print(message(command, packages), file=sys.stderr)
    return 2
