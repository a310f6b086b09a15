"""`make hint CHAPTER=N EXERCISE=name [RESET=1]`: the next hint of an
exercise, one level at a time; how many were shown is kept in build/hints/.
The hints are the `## Hint K` sections of exercises/NN-topic/NAME.hints.md."""

from __future__ import annotations

import re
from pathlib import Path

from wbtools.workbook import UsageError, chapter_number


def listing() -> str:
    return "\n".join(
        f"  make hint CHAPTER={chapter_number(f.parent.name)} EXERCISE={f.name[:-len('.hints.md')]}"
        for f in sorted(Path("exercises").glob("[0-9][0-9]-*/*.hints.md")))


def hints(text: str) -> list[str]:
    """The text of each "## Hint K" section, without leading empty lines."""
    sections: list[list[str]] = []
    for line in text.splitlines():
        if re.match(r"^## Hint [0-9]+", line):
            sections.append([])
        elif sections and (sections[-1] or line):
            sections[-1].append(line)
    return ["".join(line + "\n" for line in s) for s in sections]


def main(argv: list[str]) -> int:
    chapter, exercise, reset = (argv + ["", "", ""])[:3]
    if not chapter or not exercise:
        raise UsageError("hint", f"say which exercise, for example:\n{listing()}")
    if not re.fullmatch(r"[0-9]+", chapter):
        raise UsageError("hint", f"CHAPTER must be a number, not '{chapter}'")
    found = sorted(Path("exercises").glob(f"{int(chapter, 10):02d}-*/{exercise}.hints.md"))
    if not found:
        raise UsageError("hint", f"chapter {chapter} has no exercise '{exercise}'. "
                         f"Exercises with hints:\n{listing()}")
    file = found[0]
    state = Path("build/hints") / file.parent.name / f"{exercise}.shown"
    state.parent.mkdir(parents=True, exist_ok=True)
    if reset:
        state.unlink(missing_ok=True)
        print(f"hint: {exercise} starts again from hint 1")
        return 0
    text = hints(file.read_text())
    total = len(text)
    if total == 0:
        raise UsageError("hint", f"{file} has no '## Hint 1' section")
    try:
        shown = int(state.read_text().strip())
    except (OSError, ValueError):
        shown = 0
    n = shown + 1 if shown < total else total
    state.write_text(f"{n}\n")
    print(f"Hint {n} of {total} for {exercise} ({file}):\n")
    print(text[n - 1])
    if n < total:
        print(f"(The same command shows hint {n + 1} of {total}.)")
    else:
        print("(That is the last hint. RESET=1 starts again from hint 1.)")
    return 0
