"""`python3 -m wbtools COMMAND ARGS...`: the commands behind the Makefile."""

import sys

from wbtools import check, gradebook, handout, hint, progress, selftest, watch
from wbtools.workbook import UsageError, go_to_top

COMMANDS = {
    "check": check.main,
    "gradebook": gradebook.main,
    "handout": handout.main,
    "hint": hint.main,
    "progress": progress.main,
    "watch": watch.main,
    "test": selftest.main,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print("wbtools: say a command: " + ", ".join(COMMANDS), file=sys.stderr)
        return 2
    go_to_top()
    try:
        return COMMANDS[argv[0]](argv[1:])
    except UsageError as e:
        print(f"{e.command}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
