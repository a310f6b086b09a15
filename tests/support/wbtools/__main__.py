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


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print("wbtools: say a command: " + ", ".join(COMMANDS), file=sys.stderr)
        return 2
    go_to_top()
    command = importlib.import_module(f"wbtools.{COMMANDS[argv[0]]}")
    try:
        status: int = command.main(argv[1:])
        return status
    except UsageError as e:
        print(f"{e.command}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
