#!/usr/bin/env bash
# `make hint CHAPTER=N EXERCISE=name [RESET=1]`: shows the next hint of an
# exercise, one level at a time, and remembers how many were shown in
# build/hints/. The hints are the `## Hint K` sections of
# exercises/NN-topic/NAME.hints.md.
set -u
cd "$(dirname "$0")/../.." || exit 2
chapter=$1 exercise=$2 reset=${3:-}

die() { printf 'hint: %s\n' "$1" >&2; exit 2; }
list() {
    local f n
    for f in exercises/[0-9][0-9]-*/*.hints.md; do
        [ -e "$f" ] || continue
        n=${f#exercises/}
        printf '  make hint CHAPTER=%d EXERCISE=%s\n' "$((10#${n%%-*}))" "$(basename "$f" .hints.md)"
    done
}
[ -n "$chapter" ] && [ -n "$exercise" ] || die "say which exercise, for example:
$(list)"
[[ $chapter =~ ^[0-9]+$ ]] || die "CHAPTER must be a number, not '$chapter'"
file=$(ls exercises/"$(printf '%02d' "$((10#$chapter))")"-*/"$exercise".hints.md 2>/dev/null | head -n 1)
[ -n "$file" ] || die "chapter $chapter has no exercise '$exercise'. Exercises with hints:
$(list)"

state=build/hints/${file#exercises/}
state=${state%.hints.md}.shown
mkdir -p "$(dirname "$state")"
if [ -n "$reset" ]; then
    rm -f "$state"
    echo "hint: $exercise starts again from hint 1"
    exit 0
fi
total=$(grep -c '^## Hint [0-9]' "$file")
[ "$total" -gt 0 ] || die "$file has no '## Hint 1' section"
shown=$(cat "$state" 2>/dev/null || echo 0)
next=$((shown < total ? shown + 1 : total))
echo "$next" >"$state"
echo "Hint $next of $total for $exercise ($file):"
echo
awk -v want="$next" '/^## Hint [0-9]+/ { n++; show = (n == want); next } show' "$file" | sed '/./,$!d'
echo
if [ "$next" -lt "$total" ]; then
    echo "(The same command shows hint $((next + 1)) of $total.)"
else
    echo "(That is the last hint. RESET=1 starts again from hint 1.)"
fi
