#!/usr/bin/env bash
# `make watch CHAPTER=N [EXERCISE=name]`: grades the chapter, then again
# each time one of its files in exercises/ is saved. Uses inotifywait
# (package inotify-tools) when it is there and polls once a second when
# not. Ctrl-C stops it and leaves nothing running.
set -u
cd "$(dirname "$0")/../.." || exit 2
chapter=$1 exercise=${2:-}
[[ $chapter =~ ^[0-9]+$ ]] || { echo "watch: say which chapter: make watch CHAPTER=1" >&2; exit 2; }
dir=$(ls -d exercises/"$(printf '%02d' "$((10#$chapter))")"-* 2>/dev/null | head -n 1)
[ -n "$dir" ] || { tests/support/grade.sh "$chapter" "$exercise" exercises; exit 2; }

# Stop what this script started (the grader cleans up after its tests when
# it is told to stop), once: the trap is removed first, so that a second
# signal cannot re-enter it.
stop() {
    trap - INT TERM
    pkill -TERM -P $$ 2>/dev/null
    wait 2>/dev/null
    echo
    echo "watch: stopped"
    exit 0
}
trap stop INT TERM

snapshot() { stat -c '%n %Y %s' "$dir"/*.c "$dir"/*.h 2>/dev/null | sha256sum; }

while :; do
    printf '\033[H\033[2J'
    echo "watch: chapter $chapter${exercise:+, $exercise}; grading on every save of $dir/ (Ctrl-C stops)"
    echo
    out=$(tests/support/grade.sh "$chapter" "$exercise" exercises 2>&1)
    status=$?
    echo "$out"
    [ "$status" -eq 2 ] && exit 2
    first=$(grep -E '^  [a-z_0-9]+ +(failed|not started|does not compile|refused|stopped early) ' <<<"$out" | head -n 1 | awk '{print $1}')
    if [ -n "$first" ]; then
        echo "stuck on $first? make hint CHAPTER=$chapter EXERCISE=$first"
    fi
    if command -v inotifywait >/dev/null 2>&1; then
        inotifywait -qq -e close_write,moved_to,create "$dir" &
        wait $!
    else
        before=$(snapshot)
        while [ "$(snapshot)" = "$before" ]; do sleep 1; done
    fi
    sleep 0.2 # let an editor finish writing
done
