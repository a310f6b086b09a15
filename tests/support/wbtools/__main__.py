"""`python3 -m wbtools COMMAND ARGS...`: the commands behind the Makefile.
Each command is the main() of the module of that name (`test` is
selftest.py); only that module is imported."""

import importlib
import sys

from wbtools.workbook import UsageError, go_to_top

COMMANDS = {
    "check": "check",
    "gradebook": "gradebook",
    "handout": "handout",
    "hint": "hint",
    "progress": "progress",
    "watch": "watch",
    "test": "selftest",
    "mutants": "mutants",
    "autograder": "autograder",
}
# The commands that compile and run the learner's code (hint and handout
# only read and copy files: they work before `make deps`).
NEEDS_TOOLS = ("check", "gradebook", "progress", "watch", "mutants")


def asked_chapters(argv: list[str]) -> list[str] | None:
    """The chapter folders `make check CHAPTER=N` asks for (its first
    argument), so that the libraries of other chapters are not required;
    None (every chapter) for the other commands, or when it says none."""
    if argv[0] != "check" or len(argv) < 2 or not argv[1]:
        return None
    from wbtools.choose import choose_chapters

    try:
        return choose_chapters(argv[1])
    except UsageError:
        return None  # the command itself says what is wrong


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print("wbtools: say a command: " + ", ".join(COMMANDS), file=sys.stderr)
        return 2
    go_to_top()
    if argv[0] in NEEDS_TOOLS:
        # On a fresh machine: name the missing packages before any build.
        from wbtools import needs

        if needs.require(argv[0], asked_chapters(argv)) != 0:
            return 2
    command = importlib.import_module(f"wbtools.{COMMANDS[argv[0]]}")
    try:
        status: int = command.main(argv[1:])
        return status
    except UsageError as e:
        print(f"{e.command}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
