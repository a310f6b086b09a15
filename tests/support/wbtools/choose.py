"""Step 1: what to grade. From CHAPTER, EXERCISE and IMPL, the exercises
asked for, and before them the building blocks they link that the learner
wrote (in a handout, where the reference solutions are not there)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from wbtools import workbook
from wbtools.workbook import UsageError


@dataclass(frozen=True)
class Exercise:
    chapter: str  # NN-topic
    name: str
    impl: str  # the folder of implementations: exercises, solutions, ...

    @property
    def key(self) -> str:
        return f"{self.chapter}/{self.name}"

    @property
    def number(self) -> int:
        return workbook.chapter_number(self.chapter)

    @property
    def source(self) -> str:
        return f"{self.impl}/{self.chapter}/{self.name}.c"

    @property
    def header(self) -> str:
        return f"exercises/{self.chapter}/{self.name}.h"


@dataclass
class Selection:
    chapters: list[str]
    exercises: list[Exercise]  # building blocks first, then those asked for
    blocks: set[str] = field(default_factory=set)  # keys graded only as blocks


def check_impl(impl: str) -> str:
    impl = impl.rstrip("/") or impl
    if impl not in ("exercises", "solutions") and not Path(impl).is_dir():
        raise UsageError(
            "check",
            "IMPL must be 'exercises' (your code) or 'solutions' (the reference), "
            f"not '{impl}'",
        )
    return impl


def valid_chapters(chapters: list[str]) -> str:
    return "\n".join(
        f"  CHAPTER={workbook.chapter_number(c)}  ({c})" for c in chapters
    )


def choose_chapters(chapter_arg: str, command: str = "check") -> list[str]:
    """The chapter folders CHAPTER names (all of them when empty)."""
    every = workbook.chapters_with_exercises()
    if not every:
        raise UsageError(command, "no chapter has exercises yet")
    if not chapter_arg:
        return every
    if not re.fullmatch(r"[0-9]+", chapter_arg):
        raise UsageError(
            command,
            f"CHAPTER must be a chapter number, not '{chapter_arg}'. "
            f"Chapters with exercises:\n{valid_chapters(every)}",
        )
    want = int(chapter_arg, 10)
    chosen = [c for c in every if workbook.chapter_number(c) == want]
    if not chosen:
        raise UsageError(
            command,
            f"there is no chapter {chapter_arg} with exercises. "
            f"Chapters with exercises:\n{valid_chapters(every)}",
        )
    return chosen


def learner_blocks(ex: Exercise) -> list[Exercise]:
    """The building blocks an exercise links that the learner wrote: a
    line solutions/NN-topic/X.c of its .links whose file is not there."""
    found = []
    for s in workbook.links(ex.chapter, ex.name):
        if s.startswith("solutions/") and not Path(s).is_file():
            chapter, _, file = s[len("solutions/") :].partition("/")
            found.append(Exercise(chapter, file[: -len(".c")], ex.impl))
    return found


def choose(chapter_arg: str, exercise_arg: str, impl: str) -> Selection:
    impl = check_impl(impl)
    chapters = choose_chapters(chapter_arg)
    asked = [
        Exercise(c, name, impl)
        for c in chapters
        for name in workbook.exercises_of(c)
        if (not exercise_arg or exercise_arg == name)
        and Path(f"{impl}/{c}/{name}.c").is_file()
    ]
    if not asked:
        listing = "\n".join(
            f"  EXERCISE={n}  (chapter {workbook.chapter_number(c)})"
            for c in chapters
            for n in workbook.exercises_of(c)
        )
        where = f" in chapter {chapter_arg}" if chapter_arg else ""
        raise UsageError(
            "check",
            f"there is no exercise '{exercise_arg}'{where}. Exercises:\n{listing}",
        )
    blocks: list[Exercise] = []
    for ex in asked:
        for b in learner_blocks(ex):
            if b not in blocks and b not in asked:
                blocks.append(b)
    return Selection(chapters, blocks + asked, {b.key for b in blocks})
