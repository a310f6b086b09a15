"""Step 3: the learner's file compiled and linked into a test binary, in
the sandbox (buildbox.py is what runs there). The binary is kept under
B/grader/IMPL/ and reused while nothing it is made of changed."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from wbtools import trusted, workbook
from wbtools.choose import Exercise, learner_blocks
from wbtools.sandbox import Sandbox, copy_out
from wbtools.trusted import BuildEnv

COMPILE_LIMIT = int(os.environ.get("COMPILE_LIMIT", "30"))  # seconds to compile and link
COMPILE_OUTPUT_KB = int(os.environ.get("COMPILE_OUTPUT_KB", "32768"))  # largest object
COMPILE_MEMORY_KB = int(os.environ.get("COMPILE_MEMORY_KB", "2097152"))
BUILDBOX = "tests/support/wbtools/buildbox.py"
FIRST_ERROR = re.compile(
    r"error|undefined reference|refused:|ld returned|Killed|File size limit|internal compiler")


@dataclass
class Built:
    binary: str | None  # the test binary, relative to the workbook; None: no binary
    warnings: list[str]
    state: str = ""  # when there is no binary: does not compile, refused
    note: str = ""


def binary_of(env: BuildEnv, ex: Exercise) -> str:
    return f"{env.B}/grader/{ex.impl}/{ex.chapter}/{ex.name}"


def first_error(log: str) -> str:
    """The compiler's (or linker's) own first error and the lines after it."""
    lines = log.split("\n")
    for i, line in enumerate(lines):
        if FIRST_ERROR.search(line):
            return "\n".join(l[:200] for l in lines[i : i + 6]).rstrip("\n")
    return ""


def build(sandbox: Sandbox, slot: int, work: Path, env: BuildEnv, ex: Exercise) -> Built:
    learner = [ex.source, ex.header]
    for b in learner_blocks(ex):
        learner += [b.source, b.header]
    objs = trusted.objects(env, ex)
    ldflags = env.LDFLAGS.split() + (env.WRAP_LDFLAGS.split() if workbook.links_wrap(ex.chapter, ex.name) else [])
    if not env.SANITIZE:
        # A plain build is linked with LeakSanitizer, so a leak fails the grade.
        ldflags.append("-fsanitize=leak")
    binary = Path(binary_of(env, ex))
    kept = Path(f"{binary}.warnings")
    inputs = learner + objs + [BUILDBOX, "tests/support/wbtools/build.py", f"tests/{ex.chapter}/{ex.name}.libs"]
    if binary.is_file() and kept.is_file():
        made = binary.stat().st_mtime
        if all(not Path(d).exists() or Path(d).stat().st_mtime <= made for d in inputs):
            sandbox.stage(inputs + ["exercises", "chapters", "tests/support", str(binary)])
            return Built(str(binary), kept.read_text().splitlines())

    out = work / "build"
    sandbox.stage(inputs + ["exercises", "chapters", "tests/support"])
    sandbox.folder(slot, out)
    status = sandbox.run(
        slot, out, COMPILE_LIMIT, COMPILE_MEMORY_KB,
        {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "LC_ALL": "C",
         "CC": env.CC, "CFLAGS": f"{env.CFLAGS} -I exercises/{ex.chapter}",
         "PLAIN_CFLAGS": f"{env.PLAIN_CFLAGS} -I exercises/{ex.chapter}",
         "LDFLAGS": " ".join(ldflags), "LIBS": " ".join(workbook.libs(ex.chapter, ex.name) + [env.LIBS]),
         "REDIRECT": env.REDIRECT, "BLOCK_REDIRECT": env.BLOCK_REDIRECT},
        ["python3", "-I", "-S", BUILDBOX, str(out), *learner, "--", *objs],
        work / "build.out", output_kb=COMPILE_OUTPUT_KB,
        # No other submission's files while compiling (what the other
        # graders of a gradebook compile lies there).
        hide=("build/grader",))
    log_file = work / "compile.log"
    if not copy_out(out / "compile.log", log_file):
        log_file.write_text("")
    log = log_file.read_text(errors="replace")
    warning = re.compile(r"^" + re.escape(ex.source) + r":[0-9]+:([0-9]+:)? warning:")
    warnings = [l for l in log.split("\n") if warning.match(l)]
    binary.unlink(missing_ok=True)
    kept.unlink(missing_ok=True)
    built = Built(None, warnings, "does not compile")
    if status == 0:
        binary.parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(f"{binary}.new")
        if copy_out(out / "suite", fresh):
            fresh.chmod(0o755)
            fresh.replace(binary)
            kept.write_text("".join(w + "\n" for w in warnings))
            sandbox.stage([str(binary)])
            built = Built(str(binary), warnings)
        else:
            built.note = "the build left no test binary"
    elif status == 3:
        built.state = "refused"
        built.note = log.rstrip("\n").split("\n")[-1].removeprefix("refused: ")
    elif status in (124, 137):
        built.note = (f"compiling {ex.source} ran past the limit of {COMPILE_LIMIT} s "
                      "(a file that includes itself? a huge initializer?)")
    else:
        notes = []
        if "File size limit exceeded" in log:
            notes.append(f"the object file grew past the limit of {COMPILE_OUTPUT_KB // 1024} MB "
                         "(a huge initialised array?)")
        err = first_error(log)
        if err:
            notes.append(err)
        if not notes:
            other = (work / "build.out").read_text(errors="replace")
            notes.append("\n".join((log.split("\n") + other.split("\n"))[-6:]).strip())
        built.note = "\n".join(notes)
    shutil.rmtree(out, ignore_errors=True)
    return built
