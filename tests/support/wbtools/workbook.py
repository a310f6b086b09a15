"""What the workbook holds, read from its files: chapters, exercises, the
tests a suite declares, the links of a suite, titles and promises.
Everything here is pure reading; nothing runs."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

TOP = Path(__file__).resolve().parents[3]


class UsageError(Exception):
    """A mistake in the command line: printed as "COMMAND: message",
    exit status 2."""

    def __init__(self, command: str, message: str) -> None:
        super().__init__(message)
        self.command = command


def go_to_top() -> None:
    """Every path in the tools is relative to the workbook's top folder."""
    os.chdir(TOP)


def read(path: str | Path) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def chapter_number(folder: str) -> int:
    """01-sync -> 1"""
    return int(folder.split("-", 1)[0], 10)


def chapters_with_exercises() -> list[str]:
    """The chapter folders under tests/ (NN-topic), in order."""
    return sorted(
        p.name for p in Path("tests").glob("[0-9][0-9]-*") if p.is_dir()
    )


def exercises_of(chapter: str) -> list[str]:
    """A chapter's exercises, in the order its text introduces them (the
    first mention of "EXERCISE=name"); those it does not mention come last."""
    text = read(f"chapters/{chapter}/chapter.md").split("\n")
    names = sorted(
        p.name[len("test_") : -len(".c")]
        for p in Path(f"tests/{chapter}").glob("test_*.c")
    )

    def position(name: str) -> tuple[int, str]:
        pattern = re.compile(r"EXERCISE=" + re.escape(name) + r"\b")
        for number, line in enumerate(text, 1):
            if pattern.search(line):
                return (number, name)
        return (999999, name)

    return sorted(names, key=position)


def chapter_title(chapter: str, bare_allowed: bool = True) -> str:
    """The chapter's "# Title {#id}" (or "# Title" when bare_allowed)."""
    for line in read(f"chapters/{chapter}/chapter.md").split("\n"):
        m = re.match(r"^# (.*) \{#.*\}$", line)
        if m:
            return m.group(1)
        if bare_allowed:
            m = re.match(r"^# ([^{]*)$", line)
            if m:
                return m.group(1)
    return ""


def suite_source(chapter: str, name: str) -> str:
    return f"tests/{chapter}/test_{name}.c"


def declared_tests(chapter: str, name: str) -> list[str]:
    """The tests the suite registers with WB_ADD(), in order."""
    text = read(suite_source(chapter, name)).replace("\n", " ")
    return re.findall(r"WB_ADD(?:_TIMEOUT)?\( *[a-z_]+ *, *([A-Za-z_0-9]+)", text)


PROMISE = re.compile(r'WB_PROMISE\("([a-z0-9-]+)"\)')


def named_promises(chapter: str, name: str) -> set[str]:
    """The promises the suite's tests name: in its own file, and in the
    tests it registers from another chapter's suite that it #includes
    (chapter 6's eloop runs chapter 4's loop tests)."""
    text = read(suite_source(chapter, name))
    named = set(PROMISE.findall(text))
    registered = set(declared_tests(chapter, name))
    for inc in re.findall(r'^#include "\.\./([0-9][0-9]-[a-z-]+/test_[a-z_0-9]+\.c)"', text, re.M):
        for test, body in re.findall(r"^START_TEST\((\w+)\)(.*?)^END_TEST", read(f"tests/{inc}"), re.M | re.S):
            if test in registered:
                named |= set(PROMISE.findall(body))
    return named


def traced_test(chapter: str, name: str) -> str | None:
    """The test TRACE=1 runs (the suite's wb_trace_test), if it has one."""
    m = re.search(r'wb_trace_test = "([a-z_0-9]*)"', read(suite_source(chapter, name)))
    return m.group(1) if m else None


def trace_options(chapter: str, name: str) -> list[str]:
    """Options for the timeline renderer, from "wb_trace_options: ..."."""
    m = re.search(r"wb_trace_options: *([-a-z ]*)", read(suite_source(chapter, name)))
    return m.group(1).split() if m else []


def links(chapter: str, name: str) -> list[str]:
    """The extra sources a suite links (tests/NN-topic/NAME.links)."""
    return read(f"tests/{chapter}/{name}.links").split()


def libs(chapter: str, name: str) -> list[str]:
    """The libraries a suite links besides Check (tests/NN-topic/NAME.libs:
    one line of linker flags, such as -luring)."""
    return read(f"tests/{chapter}/{name}.libs").split()


def links_wrap(chapter: str, name: str) -> bool:
    return "tests/support/wrap.c" in links(chapter, name)


def default_sanitize(chapter: str) -> str:
    """The chapter's default build: "" (plain) or tests/NN-topic/SANITIZE."""
    return read(f"tests/{chapter}/SANITIZE").strip()


def promise_text(header: str, tag: str) -> str:
    """The sentence of promise [tag] in a contract header."""
    text = ""
    found = False
    for raw in read(header).split("\n"):
        line = re.sub(r"^ *\*+ ?", "", raw, count=1)
        if found and (
            line.startswith("- [")
            or re.match(r"^ *$", line)
            or line.startswith("@")
            or "*/" in raw
        ):
            break
        if found:
            text += " " + line.lstrip(" ")
            continue
        if line.startswith(f"- [{tag}] "):
            found = True
            text = line[len(tag) + 5 :]
    return text


def untouched(path: str) -> bool:
    """Whether a stub's checksum is still the one recorded."""
    manifest = read("exercises/stubs.sha256")
    if not manifest:
        return False
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return False
    return f"{digest}  {path}" in manifest.split("\n")


def files_digest(paths: list[str], extra: str = "") -> str:
    """A key for what a list of files holds (a missing file counts as
    empty), and any extra text: the cache keys of progress and of building
    blocks."""
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(p.encode() + b"\0")
        try:
            h.update(Path(p).read_bytes())
        except OSError:
            h.update(b"\1missing")
        h.update(b"\0")
    return h.hexdigest()[:16]


def tools_sources() -> list[str]:
    """The grader's own files: a change to them invalidates every cache."""
    here = Path(__file__).parent
    return sorted(str(p.relative_to(TOP)) for p in here.glob("*.py"))
