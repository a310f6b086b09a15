"""Step 2: the trusted parts (test suites, test support, reference building
blocks), built by make outside the sandbox, in one go, and the flags the
sandbox's compile uses (make grader-env)."""

from __future__ import annotations

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
    SANITIZE: str = ""  # what the build was asked for: "", address, ...

    @property
    def variant(self) -> str:
        return self.B.removeprefix("build/")


class TrustedBuildError(Exception):
    """make could not build a trusted part: the workbook's problem."""


def make_command(*args: str) -> list[str]:
    return ["make", "--no-print-directory", "-s", *args]


def build_env(sanitize: str, cc: str) -> BuildEnv:
    out = subprocess.run(make_command("grader-env", f"SANITIZE={sanitize}", f"CC={cc}"),
                         capture_output=True, text=True, timeout=120, check=True).stdout
    values = dict(re.findall(r"^([A-Z_]+)='(.*)'$", out, re.M))
    values["SANITIZE"] = sanitize
    return BuildEnv(**{k: values.get(k, "") for k in BuildEnv.__dataclass_fields__})


def objects(env: BuildEnv, ex: Exercise) -> list[str]:
    """The objects make builds for an exercise's suite: the suite, the test
    support, and each file its .links lists whose source is here (a
    reference building block missing from a handout is the learner's, see
    choose.learner_blocks)."""
    objs = [f"{env.B}/obj/tests/{ex.chapter}/test_{ex.name}.o", f"{env.B}/obj/tests/support/wb.o"]
    for s in workbook.links(ex.chapter, ex.name):
        if Path(s).is_file():
            objs.append(f"{env.B}/obj/{s[:-len('.c')]}.o")
    return objs


def build(env: BuildEnv, parts: list[str], jobs: int) -> None:
    """Build the trusted parts with one make; on failure, what make said."""
    r = subprocess.run(
        make_command(f"-j{jobs}", *sorted(set(parts)), f"SANITIZE={env.SANITIZE}",
                     f"CC={env.CC}"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        lines = [l for l in r.stdout.split("\n") if re.search(r"error|No rule|\*\*\*", l)]
        raise TrustedBuildError("\n".join("    " + l for l in lines[:5]))

