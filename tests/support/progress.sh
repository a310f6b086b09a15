#!/usr/bin/env bash
# `make progress`: every exercise of every chapter with its state (passed,
# failing with P/T checks, not started), a bar per chapter and overall, and
# the exercise to do next. Results are cached in build/progress/ by the
# content of every file that decides them, so a second run with nothing
# changed only reads the cache.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/support/lib.sh
cache=build/progress
mkdir -p "$cache"

bar() { # bar DONE TOTAL: a 20-character bar
    local done=$1 total=$2 width=20 filled
    filled=$((total > 0 ? done * width / total : 0))
    printf '['
    printf '%*s' "$filled" '' | tr ' ' '#'
    printf '%*s' "$((width - filled))" '' | tr ' ' '.'
    printf ']'
}

# The files whose content decides an exercise's result.
inputs() {
    local c=$1 name=$2
    printf '%s\n' "exercises/$c/$name.c" "exercises/$c/$name.h" "tests/$c/test_$name.c" \
        tests/support/wb.c tests/support/wb.h tests/support/grade.sh tests/support/grader/*.sh \
        exercises/stubs.sha256
    [ -f "tests/$c/$name.links" ] && printf '%s\n' "tests/$c/$name.links" && cat "tests/$c/$name.links"
    [ -f "tests/$c/$name.libs" ] && printf '%s\n' "tests/$c/$name.libs"
    return 0
}

all_done=0 all_total=0 all_pass=0 all_checks=0 next=
for dir in tests/[0-9][0-9]-*/; do
    c=$(basename "$dir")
    n=$((10#${c%%-*}))
    title=$(sed -n 's/^# \(.*\) {#.*}$/\1/p' "chapters/$c/chapter.md" 2>/dev/null | head -n 1)
    lines=() done=0 total=0
    for name in $(exercises_of "$c"); do
        key=$(inputs "$c" "$name" | xargs cat 2>/dev/null | sha256sum | cut -c1-16)
        entry=$cache/$c-$name.$key
        if [ ! -f "$entry" ]; then
            rm -f "$cache/$c-$name".*
            line=$(tests/support/grade.sh "$n" "$name" exercises 2>/dev/null | grep -E "^  $name +")
            state=$(sed -E "s/^  $name +(not started|does not compile|refused|stopped early|passed|failed) .*/\1/" <<<"$line")
            checks=$(grep -oE '[0-9]+/[0-9]+ checks' <<<"$line" | cut -d' ' -f1)
            printf '%s\t%s\n' "${state:-failed}" "${checks:-0/0}" >"$entry"
        fi
        IFS=$'\t' read -r state checks <"$entry"
        total=$((total + 1))
        all_pass=$((all_pass + ${checks%/*})) all_checks=$((all_checks + ${checks#*/}))
        if [ "$state" = passed ]; then
            done=$((done + 1))
        elif [ -z "$next" ]; then
            next="$name (chapter $n): make check CHAPTER=$n EXERCISE=$name    stuck? make hint CHAPTER=$n EXERCISE=$name"
        fi
        [ "$state" = failed ] && state="failing"
        lines+=("$(printf '    %-16s %-18s %s checks' "$name" "$state" "$checks")")
    done
    printf 'chapter %d  %-48s %s %d/%d\n' "$n" "$title" "$(bar "$done" "$total")" "$done" "$total"
    printf '%s\n' "${lines[@]}"
    all_done=$((all_done + done)) all_total=$((all_total + total))
done
echo
printf 'overall %s %d/%d exercises passed, %d/%d checks\n' "$(bar "$all_done" "$all_total")" \
    "$all_done" "$all_total" "$all_pass" "$all_checks"
if [ -n "$next" ]; then
    echo "next: $next"
else
    echo "next: every exercise passes. Well done."
fi
