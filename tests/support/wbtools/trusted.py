"""Step 2: the trusted parts (test suites, test support, reference building
blocks), built by make outside the sandbox, in one go, and the flags the
sandbox's compile uses (make grader-env)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from wbtools import workbook
from wbtools.choose import Exercise


@dataclass
class BuildEnv:
    """What `make grader-env` says: the build folder and the flags."""

    B: str
    CC: str
    CFLAGS: str
    PLAIN_CFLAGS: str
    LDFLAGS: str
    LIBS: str
    WRAP_LDFLAGS: str
    REDIRECT: str = ""  # objcopy's renames of the learner's calls (LEARNER_REDIRECT)
    BLOCK_REDIRECT: str = ""  # the same for a building block the learner wrote: not its allocations
    SANITIZE: str = ""  # what the build was asked for: "", address, ...

    @property
    def variant(self) -> str:
        return self.B.removeprefix("build/")


class TrustedBuildError(Exception):
    """make could not build a trusted part: the workbook's problem."""


def make_command(*args: str) -> list[str]:
    return ["make", "--no-print-directory", "-s", *args]


VARIANTS = {"": "plain", "address": "asan", "undefined": "ubsan", "thread": "tsan"}


def build_folder(sanitize: str, cc: str) -> str:
    """The build folder make uses for a variant (the Makefile's B)."""
    variant = VARIANTS.get(sanitize, "plain")
    if os.environ.get("WERROR"):
        variant += "-strict-" + os.path.basename(cc)
    return f"build/{variant}"


def build_env(sanitize: str, cc: str, parts: list[str] | None = None,
              jobs: int = 1) -> BuildEnv:
    """What make grader-env says; with parts (paths under the build folder
    build_folder() names), make builds them in the same run, which saves
    reading the Makefile twice."""
    goals = ["grader-env"]
    if parts:
        goals = [f"-j{jobs}", "grader-env", *sorted(set(parts))]
    r = subprocess.run(make_command(*goals, f"SANITIZE={sanitize}", f"CC={cc}"),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=3600)
    values = dict(re.findall(r"^([A-Z_]+)='(.*)'$", r.stdout, re.M))
    if "B" not in values:
        raise TrustedBuildError(f"    make grader-env failed: {r.stdout[-500:]}")
    values["SANITIZE"] = sanitize
    env = BuildEnv(**{k: values.get(k, "") for k in BuildEnv.__dataclass_fields__})
    if r.returncode != 0:
        raise TrustedBuildError(make_errors(r.stdout))
    return env


def make_errors(output: str) -> str:
    lines = [l for l in output.split("\n") if re.search(r"error|No rule|\*\*\*", l)]
    return "\n".join("    " + l for l in lines[:5])


def objects(env: BuildEnv, ex: Exercise) -> list[str]:
    """The objects make builds for an exercise's suite: the suite, the test
    support, and each file its .links lists whose source is here (a
    reference building block missing from a handout is the learner's, see
    choose.learner_blocks)."""
    objs = [f"{env.B}/obj/tests/{ex.chapter}/test_{ex.name}.o", f"{env.B}/obj/tests/support/wb.o"]
    for s in workbook.links(ex.chapter, ex.name):
        if Path(s).is_file():
            # A reference building block: its allocations can be made to
            # fail (the Makefile's NAME.block.o).
            kind = ".block.o" if s.startswith("solutions/") else ".o"
            objs.append(f"{env.B}/obj/{s[:-len('.c')]}{kind}")
    return objs


def build(env: BuildEnv, parts: list[str], jobs: int) -> None:
    """Build the trusted parts with one make; on failure, what make said."""
    r = subprocess.run(
        make_command(f"-j{jobs}", *sorted(set(parts)), f"SANITIZE={env.SANITIZE}",
                     f"CC={env.CC}"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise TrustedBuildError(make_errors(r.stdout))

