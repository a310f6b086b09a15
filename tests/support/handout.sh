#!/usr/bin/env bash
# `make handout DEST=DIR`: the learner's copy of the workbook, in DIR:
# everything but the reference solutions and what only maintainers use
# (the known-wrong variants, which are patches against the solutions; the
# grader's hostile implementations; CI). In it, `make check` grades every
# exercise: an exercise that builds on an earlier one (tpool on bqueue)
# links the learner's own, and the grader says when that one fails first.
set -u
cd "$(dirname "$0")/../.." || exit 2
dest=${1:-}
[ -n "$dest" ] || { echo "handout: say where: make handout DEST=DIR" >&2; exit 2; }
if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
    echo "handout: $dest exists and is not empty" >&2
    exit 2
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git ls-files)
else
    files=$(find . -path ./build -prune -o -path ./.git -prune -o -type f -print | sed 's#^\./##')
fi
mkdir -p "$dest"
grep -vE '^(solutions/|tests/grader/|\.ci/)|\.wrong_[^/]*\.patch$' <<<"$files" |
    tar -cf - -T - | tar -xf - -C "$dest" || exit 1
echo "handout: $dest ($(find "$dest" -type f | wc -l) files, no solutions/); learners start with: make check CHAPTER=1"
