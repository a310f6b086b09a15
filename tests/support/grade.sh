#!/usr/bin/env bash
# The grader behind `make check`.
#
#   grade.sh CHAPTER EXERCISE IMPL
#
# CHAPTER is a number or empty (every chapter), EXERCISE a name or empty
# (every exercise of the chapter), IMPL "exercises" (the learner's code) or
# "solutions" (the reference). CC and SANITIZE come from the environment.
#
# Prints one line per exercise, then the first failures with file:line, the
# message and the chapter section that explains it, and last the summary
# line "chapter-N: P passed, F failed" ("all: ..." without CHAPTER), counting
# test cases. Exits 0 only when nothing failed. Per-test results are kept in
# build/results/.
set -u
cd "$(dirname "$0")/../.." || exit 2

chapter_arg=$1 exercise_arg=$2 impl=$3
MAX_FAILURES_SHOWN=${MAX_FAILURES_SHOWN:-5}
# A suite that runs longer than this, in seconds, is stopped whatever its
# per-test timeouts say.
SUITE_LIMIT=${SUITE_LIMIT:-120}

die() { printf 'check: %s\n' "$1" >&2; exit 2; }

case $impl in
exercises | solutions) ;;
*) die "IMPL must be 'exercises' (your code) or 'solutions' (the reference), not '$impl'" ;;
esac

all_chapters=()
for d in tests/[0-9][0-9]-*/; do
    d=${d%/}
    all_chapters+=("${d#tests/}")
done
[ ${#all_chapters[@]} -gt 0 ] || die "no chapter has exercises yet"

valid_chapters() {
    local c
    for c in "${all_chapters[@]}"; do printf '  CHAPTER=%d  (%s)\n' "$((10#${c%%-*}))" "$c"; done
}

chapters=()
if [ -n "$chapter_arg" ]; then
    if ! [[ $chapter_arg =~ ^[0-9]+$ ]]; then
        die "CHAPTER must be a chapter number, not '$chapter_arg'. Chapters with exercises:
$(valid_chapters)"
    fi
    want=$(printf '%02d' "$((10#$chapter_arg))")
    for c in "${all_chapters[@]}"; do
        [ "${c%%-*}" = "$want" ] && chapters+=("$c")
    done
    [ ${#chapters[@]} -gt 0 ] || die "there is no chapter $chapter_arg with exercises. Chapters with exercises:
$(valid_chapters)"
else
    chapters=("${all_chapters[@]}")
fi

# chapter/name pairs to grade
selected=()
for c in "${chapters[@]}"; do
    for t in tests/"$c"/test_*.c; do
        name=${t##*/test_}
        name=${name%.c}
        if [ -z "$exercise_arg" ] || [ "$exercise_arg" = "$name" ]; then
            selected+=("$c/$name")
        fi
    done
done
if [ ${#selected[@]} -eq 0 ]; then
    list=$(for c in "${chapters[@]}"; do for t in tests/"$c"/test_*.c; do
        n=${t##*/test_}; printf '  EXERCISE=%s  (chapter %d)\n' "${n%.c}" "$((10#${c%%-*}))"; done; done)
    die "there is no exercise '$exercise_arg'${chapter_arg:+ in chapter $chapter_arg}. Exercises:
$list"
fi

build=$(make --no-print-directory -s print-build-dir SANITIZE="${SANITIZE:-}") || exit 2
results=build/results/${build#build/}/$impl
mkdir -p "$results" build/logs

# A stub the learner has not touched still has the checksum recorded in
# exercises/stubs.sha256.
untouched() {
    local file=$1 sum
    [ -f exercises/stubs.sha256 ] || return 1
    sum=$(sha256sum "$file" | cut -d' ' -f1)
    grep -q "^$sum  $file\$" exercises/stubs.sha256
}

total_pass=0 total_fail=0 failures_shown=0
report=$(mktemp)
trap 'rm -f "$report"' EXIT

section_of_failure() {
    # $1 = exercise chapter folder, $2 = section heading
    printf '      read: chapters/%s/chapter.md, section "%s"\n' "$1" "$2"
}

current_chapter=
for ex in "${selected[@]}"; do
    c=${ex%%/*} name=${ex#*/}
    if [ "$c" != "$current_chapter" ]; then
        title=$(sed -n 's/^# \(.*\) {#.*}$/\1/p;s/^# \([^{]*\)$/\1/p' "chapters/$c/chapter.md" 2>/dev/null | head -n 1)
        printf 'chapter %d: %s\n' "$((10#${c%%-*}))" "${title:-$c}"
        current_chapter=$c
    fi
    src=$impl/$c/$name.c
    bin=$build/bin/$impl/$c/$name
    log=build/logs/${build#build/}-$impl-$c-$name.log
    declared=$(grep -cE '^[[:space:]]*WB_ADD(_TIMEOUT)?\(' "tests/$c/test_$name.c")

    if ! make --no-print-directory -s "$bin" SANITIZE="${SANITIZE:-}" CC="${CC:-gcc}" >"$log" 2>&1; then
        printf '  %-16s does not compile      0/%d checks\n' "$name" "$declared"
        total_fail=$((total_fail + declared))
        if [ "$failures_shown" -lt "$MAX_FAILURES_SHOWN" ]; then
            failures_shown=$((failures_shown + 1))
            {
                printf '  %s does not compile (%s):\n' "$name" "$src"
                grep -E 'error|undefined reference' "$log" | head -n 5 | sed 's/^/      /'
            } >>"$report"
        fi
        continue
    fi

    tsv=$results/$c-$name.tsv
    rm -f "$tsv"
    WB_RESULTS=$tsv WB_XML=$results/$c-$name.xml WB_TAP=$results/$c-$name.tap \
        timeout --kill-after=2 "$SUITE_LIMIT" "$bin" >"$log.run" 2>&1
    status=$?
    pass=0 fail=0
    if [ -f "$tsv" ]; then
        pass=$(grep -c '^pass' "$tsv")
        fail=$(grep -vc '^pass' "$tsv")
    fi
    if [ ! -f "$tsv" ] || [ "$status" -ge 2 ]; then
        # The suite itself did not finish: count every declared test failed.
        fail=$((declared - pass))
        printf '  %-16s suite did not finish %d/%d checks\n' "$name" "$pass" "$declared"
        {
            printf '  %s: the test suite stopped early (exit status %d); its output:\n' "$name" "$status"
            tail -n 5 "$log.run" | sed 's/^/      /'
        } >>"$report"
    elif [ "$fail" -eq 0 ]; then
        printf '  %-16s passed               %d/%d checks\n' "$name" "$pass" "$((pass + fail))"
    elif [ "$impl" = exercises ] && untouched "$src"; then
        printf '  %-16s not started          %d/%d checks   (edit %s)\n' "$name" "$pass" "$((pass + fail))" "$src"
    else
        printf '  %-16s failed               %d/%d checks\n' "$name" "$pass" "$((pass + fail))"
    fi
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))

    if [ "$fail" -gt 0 ] && ! { [ "$impl" = exercises ] && untouched "$src"; }; then
        while IFS=$'\t' read -r st test where section msg; do
            [ "$st" = pass ] && continue
            [ "$failures_shown" -lt "$MAX_FAILURES_SHOWN" ] || break
            failures_shown=$((failures_shown + 1))
            {
                printf '  %s: %s\n' "$name" "$test"
                printf '      %s: %s\n' "$where" "$msg"
                [ -n "$section" ] && section_of_failure "$c" "$section"
            } >>"$report"
        done <"$tsv"
    fi
done

if [ -s "$report" ]; then
    echo
    echo "First failures:"
    cat "$report"
fi
if [ "$failures_shown" -eq 0 ] && [ "$total_fail" -gt 0 ]; then
    echo
    echo "Not started yet: open the chapter, then the stub it names, and run this again."
fi

echo
if [ -n "$chapter_arg" ]; then
    label="chapter-$((10#$chapter_arg))"
else
    label=all
fi
printf '%s: %d passed, %d failed\n' "$label" "$total_pass" "$total_fail"
[ "$total_fail" -eq 0 ]
