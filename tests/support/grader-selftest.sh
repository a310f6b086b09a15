#!/usr/bin/env bash
# Tests the grader itself: grades each hostile implementation under
# tests/grader/KIND/ and checks that the run fails with the message listed
# in tests/grader/expect, ends within its bound, and leaves no process
# behind. Used by `make test`.
set -u
cd "$(dirname "$0")/../.." || exit 2
BOUND=${BOUND:-40}
bad=0
while read -r kind sanitize pattern; do
    [ -z "${ONLY:-}" ] || [ "$kind" = "$ONLY" ] || continue
    [ "$sanitize" = - ] && sanitize=
    case $kind in '' | '#'*) continue ;; esac
    start=$(date +%s)
    rm -f /tmp/wb-hostile-leftover /dev/shm/wb-hostile-leftover
    out=$(SANITIZE=$sanitize CK_TIMEOUT_MULTIPLIER=0.25 COMPILE_LIMIT=5 timeout -k 5 "$((BOUND + 20))" \
        tests/support/grade.sh 1 runner "tests/grader/$kind" 2>&1)
    status=$?
    took=$(($(date +%s) - start))
    left=$(pgrep -f "build/.*/tests/grader/$kind/" | tr '\n' ' ')
    problem=
    if [ "$status" -ne 1 ]; then
        problem="exit status $status, expected 1"
    elif ! grep -qE "$pattern" <<<"$out"; then
        problem="output does not match /$pattern/"
    elif ! grep -qE '^chapter-1: [0-9]+ passed, [1-9][0-9]* failed$' <<<"$out"; then
        problem="summary line missing or wrong"
    elif [ "$took" -gt "$BOUND" ]; then
        problem="took $took s, bound $BOUND s"
    elif [ -n "$left" ]; then
        problem="processes left behind: $left"
        pkill -KILL -f "build/.*/tests/grader/$kind/"
    elif [ -e /tmp/wb-hostile-leftover ] || [ -e /dev/shm/wb-hostile-leftover ]; then
        problem="files left in /tmp or /dev/shm"
    elif find build/results/ -path "*tests_grader_$kind*" \( -type l -o -type f -exec grep -l '^root:' {} + \) | grep -q .; then
        problem="a link, or a file with root-only content, in build/results"
    fi
    if [ -n "$problem" ]; then
        echo "FAIL $kind: $problem"
        tail -n 12 <<<"$out" | sed 's/^/    /'
        bad=1
    else
        echo "ok   $kind${sanitize:+ (SANITIZE=$sanitize)}: failed as it should, in $took s, nothing left running"
    fi
done <tests/grader/expect

# Results the suite's own process could not have written are refused;
# missing ones count as failed: collect_step on made-up results.
(
    . tests/support/grader/steps.sh
    trace= impl=exercises
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    : >"$dir/run.log"
    mapfile -t names < <(declared_tests 01-sync runner)
    line() { printf 'pass\t%s\tx.c:1\tsection\t\t0.001\n' "$1"; }
    check() { # what raw.tsv holds, the state it must get
        echo 1 >"$dir/status"
        collect_step "$dir" 01-sync runner
        if [ "$(cat "$dir/state")" != "$2" ]; then
            echo "FAIL results $1: state '$(cat "$dir/state")', expected '$2'"
            exit 1
        fi
        echo "ok   results $1: $2"
    }
    for n in "${names[@]}"; do line "$n"; done >"$dir/raw.tsv"
    line "${names[0]}" >>"$dir/raw.tsv"
    check "with a test reported twice" refused
    { for n in "${names[@]}"; do line "$n"; done; line test_not_in_the_suite; } >"$dir/raw.tsv"
    check "with a test the suite does not have" refused
    { for n in "${names[@]}"; do line "$n"; done; echo "pass broken"; } >"$dir/raw.tsv"
    check "with a malformed line" refused
    for n in "${names[@]:1}"; do line "$n"; done >"$dir/raw.tsv"
    check "with a test missing" "stopped early"
    grep -q "^error	${names[0]}	" "$dir/results.tsv" || { echo "FAIL the missing test is not an error"; exit 1; }
    : >"$dir/raw.tsv"
    check "empty (0 of 0)" "stopped early"
) || bad=1
exit $bad
