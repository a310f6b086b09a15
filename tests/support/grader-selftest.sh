#!/usr/bin/env bash
# Tests the grader itself: grades each hostile implementation under
# tests/grader/KIND/ and checks that the run fails with the message listed
# in tests/grader/expect, ends within its bound, and leaves no process
# behind. Used by `make test`. The grader is tests/support/wbtools/.
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
    # Short limits: most cases hang or spin on purpose. ThreadSanitizer's
    # runs get the usual ones: at load 28 its data-race report came after
    # a 0.5 s limit had ended each test.
    mult=0.25
    [ "$sanitize" = thread ] && mult=1
    out=$(SANITIZE=$sanitize CK_TIMEOUT_MULTIPLIER=$mult COMPILE_LIMIT=5 PYTHONPATH=tests/support \
        timeout -k 5 "$((BOUND + 20))" "${PYTHON:-$(command -v /usr/bin/python3 || echo python3)}" -m wbtools check 1 runner "tests/grader/$kind" 2>&1)
    status=$?
    took=$(($(date +%s) - start))
    left=$(pgrep -f "build/.*/tests/grader/$kind/" | tr '\n' ' ')
    problem=
    if [ "$status" -ne 1 ]; then
        problem="exit status $status, expected 1"
    elif [[ $pattern == NOT:* ]] && grep -qE "${pattern#NOT:}" <<<"$out"; then
        problem="output matches /${pattern#NOT:}/, which it must not"
    elif [[ $pattern != NOT:* ]] && ! grep -qE "$pattern" <<<"$out"; then
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

# Results the suite's own process could not have written (a test reported
# twice, an unknown test, a malformed line) are refused, and missing ones
# count as failed: the unit tests of wbtools/results.py
# (tests/support/wbtools/tests/test_results.py) check each case.
exit $bad
