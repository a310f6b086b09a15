#!/usr/bin/env bash
# The grader behind `make check`.
#
#   grade.sh CHAPTER EXERCISE IMPL
#
# CHAPTER is a number or empty (every chapter), EXERCISE a name or empty
# (every exercise of the chapter), IMPL "exercises" (the learner's code),
# "solutions" (the reference), or any folder laid out like them (the
# grader's own tests use tests/grader/NAME). CC and SANITIZE come from the
# environment.
#
# Prints one line per exercise, then the first failures with file:line, the
# message and the chapter section that explains it, and last the summary
# line "chapter-N: P passed, F failed" ("all: ..." without CHAPTER), counting
# test cases. Exits 0 only when nothing failed, 2 on a usage error.
#
# The steps live in tests/support/grader/: sandbox.sh (Bubblewrap, or a
# session when it cannot run), steps.sh (build the learner's file in the
# sandbox, run the suite there, collect and check its results), report.sh
# (what the learner reads) and json.sh (results for programs, under
# build/results/; README.md, "For instructors"). This file chooses what to
# grade, builds the trusted parts with one make, grades JOBS exercises at
# a time, and prints the report in order.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/support/lib.sh
. tests/support/grader/sandbox.sh
. tests/support/grader/steps.sh
. tests/support/grader/report.sh
. tests/support/grader/json.sh

chapter_arg=$1 exercise_arg=$2 impl=${3%/}
trace=${TRACE:-}
CHECK_LIMIT=${CHECK_LIMIT:-900} # seconds the whole run may take
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

die() { printf 'check: %s\n' "$1" >&2; exit 2; }

case $impl in
exercises | solutions) ;;
*) [ -d "$impl" ] || die "IMPL must be 'exercises' (your code) or 'solutions' (the reference), not '$impl'" ;;
esac

all_chapters=()
for d in tests/[0-9][0-9]-*/; do
    d=${d%/}
    [ -e "$d" ] && all_chapters+=("${d#tests/}")
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

selected=() # chapter/name pairs to grade
for c in "${chapters[@]}"; do
    for name in $(exercises_of "$c"); do
        if [ -z "$exercise_arg" ] || [ "$exercise_arg" = "$name" ]; then
            [ -f "$impl/$c/$name.c" ] && selected+=("$c/$name")
        fi
    done
done
if [ ${#selected[@]} -eq 0 ]; then
    list=$(for c in "${chapters[@]}"; do for n in $(exercises_of "$c"); do
        printf '  EXERCISE=%s  (chapter %d)\n' "$n" "$((10#${c%%-*}))"; done; done)
    die "there is no exercise '$exercise_arg'${chapter_arg:+ in chapter $chapter_arg}. Exercises:
$list"
fi

# The default build of a chapter: plain (linked with LeakSanitizer), or
# what tests/NN-topic/SANITIZE names ("thread" for the chapters that teach
# threads, so a data race fails the grade). SANITIZE=... on the command
# line wins; SANITIZE=none asks for the plain build.
default_sanitize() { cat "tests/$1/SANITIZE" 2>/dev/null || true; }
if [ -z "${SANITIZE+set}" ] || [ -z "$SANITIZE" ]; then
    defaults=$(for c in "${chapters[@]}"; do echo "x$(default_sanitize "$c")"; done | sort -u)
    if [ "$(wc -l <<<"$defaults")" -gt 1 ]; then
        # Chapters with different builds: grade one chapter at a time.
        sum_p=0 sum_f=0 status=0
        for c in "${chapters[@]}"; do
            n=$((10#${c%%-*}))
            [ -n "$(exercises_of "$c")" ] || continue
            out=$("$0" "$n" "$exercise_arg" "$impl" 2>&1 | tee /dev/stderr)
            [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
            read -r p f < <(sed -n 's/^chapter-[0-9]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' <<<"$out" | tail -n 1)
            sum_p=$((sum_p + ${p:-0})) sum_f=$((sum_f + ${f:-0}))
            echo >&2
        done 2>&1
        printf 'all: %d passed, %d failed\n' "$sum_p" "$sum_f"
        exit $status
    fi
    SANITIZE=$(default_sanitize "${chapters[0]}")
    if [ "$SANITIZE" = thread ]; then
        # ThreadSanitizer runs the code several times slower.
        export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-3}
    fi
fi
[ "$SANITIZE" = none ] && SANITIZE=
export SANITIZE

if [ -n "$trace" ]; then
    traced=$(grep -l 'wb_trace_test = ' tests/*/test_*.c | sed 's#.*/test_\(.*\)\.c#\1#' | tr '\n' ' ')
    [ -n "$exercise_arg" ] && [ ${#selected[@]} -eq 1 ] ||
        die "TRACE=1 draws one exercise's run: add EXERCISE=name (one of: $traced)"
    grep -q 'wb_trace_test = ' "tests/${selected[0]%%/*}/test_${selected[0]#*/}.c" ||
        die "exercise $exercise_arg runs no tasks to draw; TRACE=1 works for: $traced"
fi

eval "$(make --no-print-directory -s grader-env SANITIZE="${SANITIZE:-}" CC="${CC:-gcc}")" || exit 2
# An exercise that links an earlier one the learner wrote (no reference
# solution here: a handout) needs that one graded too, first.
deps_of() { # NN-topic/NAME: the learner's building blocks it links
    local line
    while read -r line; do
        case $line in learner\ *)
            read -r _ s _ <<<"$line"
            s=${s#"$impl"/}
            printf '%s\n' "${s%.c}"
            ;;
        esac
    done < <(trusted_objects "${1%%/*}" "${1#*/}")
}
with_deps=()
for ex in "${selected[@]}"; do
    for d in $(deps_of "$ex"); do
        [[ " ${with_deps[*]} ${selected[*]} " == *" $d "* ]] || with_deps+=("$d")
    done
done
selected=("${with_deps[@]}" "${selected[@]}")
# Graded because another exercise uses them, not because they were asked
# for: shown, not counted in the summary (unless the chapter was asked for).
implicit=" "
[ -n "$exercise_arg" ] && implicit=" ${with_deps[*]} "

variant=${B#build/}
impl_tag=$(printf '%s' "$impl" | tr / _)
# The learner's plain results sit at the top of build/results/; the others
# (IMPL=solutions, a sanitizer build) in folders of their own.
results=build/results
[ "$impl" = exercises ] || results=$results/$impl_tag
[ "$variant" = plain ] || results=$results/$variant
# A TRACE=1 run grades one test only: keep it away from the real results.
[ -z "$trace" ] || results=$results/trace
# make gradebook puts each learner's results in a folder of their own.
results=${WB_RESULTS_DIR:-$results}
mkdir -p "$results"

# The trusted parts (test suites, test support, reference building
# blocks), built by make in one go. A failure here is the workbook's, not
# the learner's: say what make said.
parts=()
for ex in "${selected[@]}"; do
    while read -r line; do
        case $line in learner\ *) ;; *) parts+=("$line") ;; esac
    done < <(trusted_objects "${ex%%/*}" "${ex#*/}")
done
[ -z "$trace" ] || parts+=(build/tools/timeline)
mapfile -t parts < <(printf '%s\n' "${parts[@]}" | sort -u)
if ! make_out=$(make --no-print-directory -s -j"$JOBS" "${parts[@]}" SANITIZE="${SANITIZE:-}" CC="$CC" 2>&1); then
    printf 'check: the test suites do not build (a problem of the workbook, not of your code):\n' >&2
    grep -m 5 -E 'error|No rule|\*\*\*' <<<"$make_out" | sed 's/^/    /' >&2
    exit 2
fi

# The sanitizers' exit statuses, known to wb.c, and their options: stop at
# the first error, so the report is about this test.
export ASAN_OPTIONS="exitcode=86:abort_on_error=0:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="exitcode=87:halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export TSAN_OPTIONS="exitcode=88:halt_on_error=1:second_deadlock_stack=1:${TSAN_OPTIONS:-}"
# A plain build is linked with LeakSanitizer, so a leak fails the grade;
# it must not take over crashes (they are the signal's to report).
if [ -z "${SANITIZE:-}" ]; then
    LDFLAGS="$LDFLAGS -fsanitize=leak"
    export LSAN_OPTIONS="exitcode=85:handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0:handle_sigill=0:${LSAN_OPTIONS:-}"
else
    export LSAN_OPTIONS="exitcode=86:${LSAN_OPTIONS:-}"
fi

sandbox_init || exit 2
work=$PWD/build/grader/$variant-$impl_tag.$$
rm -rf "$work"
mkdir -p "$work"
chmod 755 "$work"
pids=()
cleanup() {
    local p s
    for p in "${pids[@]}"; do pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
    for ((s = 0; s < JOBS; s++)); do sandbox_kill_slot "$s"; done
    rm -rf "$work"
}
trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT
deadline=$(($(date +%s) + CHECK_LIMIT))

# Grade JOBS exercises at a time; exercise i uses slot i % JOBS once
# exercise i - JOBS, the slot's last user, has ended.
for i in "${!selected[@]}"; do
    if [ "$i" -ge "$JOBS" ]; then wait "${pids[$((i - JOBS))]}"; fi
    ex=${selected[$i]}
    grade_one "$((i % JOBS))" "$work/$i" "${ex%%/*}" "${ex#*/}" &
    pids[i]=$!
done
wait

# The report, in the chapters' order.
total_pass=0 total_fail=0 shown=0 current= ex_json=()
warnings=$work/warnings.txt report=$work/report.txt
: >"$warnings"
: >"$report"
finish_chapter() {
    [ -n "$current" ] || return 0
    chapter_json "$((10#${current%%-*}))" "$current" "$impl" "$variant" "${ex_json[@]}" \
        >"$results/chapter-$((10#${current%%-*})).json"
    ex_json=()
}
for i in "${!selected[@]}"; do
    ex=${selected[$i]} dir=$work/$i
    c=${ex%%/*} name=${ex#*/} src=$impl/${ex}.c
    if [ "$c" != "$current" ]; then
        finish_chapter
        current=$c
        title=$(sed -n 's/^# \(.*\) {#.*}$/\1/p;s/^# \([^{]*\)$/\1/p' "chapters/$c/chapter.md" 2>/dev/null | head -n 1)
        printf 'chapter %d: %s\n' "$((10#${c%%-*}))" "${title:-$c}"
    fi
    exercise_line "$dir" "$name" "$src"
    for d in $(deps_of "$ex"); do
        for j in "${!selected[@]}"; do
            [ "${selected[$j]}" = "$d" ] || continue
            read -r dp df < <(counts "$work/$j")
            if [ "$df" -gt 0 ]; then
                msg="$name uses your ${d#*/}, which fails $df of its $((dp + df)) checks: fix ${d#*/} first"
                printf '      %s\n' "$msg"
                printf '  %s\n' "$msg" >>"$report"
            fi
        done
    done
    read -r p f < <(counts "$dir")
    if [[ $implicit == *" $ex "* ]]; then
        printf '      (graded because another exercise uses it; not counted below)\n'
    else
        total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
    fi

    if [ -s "$dir/warnings" ]; then
        nwarn=$(wc -l <"$dir/warnings")
        {
            printf '  %s: %d compiler warning%s in %s; they often point at the bug:\n' \
                "$name" "$nwarn" "$([ "$nwarn" -eq 1 ] || echo s)" "$src"
            head -n 5 "$dir/warnings" | cut -c1-200 | sed 's/^/      /'
        } >>"$warnings"
    fi

    # Results for programs: TSV, TAP, sanitizer reports, JSON.
    out=$results/chapter-$((10#${c%%-*}))
    mkdir -p "$out"
    rm -rf "$out/$name".{tsv,tap,xml,reports,trace,svg}
    cp "$dir/results.tsv" "$out/$name.tsv"
    exercise_tap "$dir" >"$out/$name.tap"
    if compgen -G "$dir/out/test_*" >/dev/null; then
        mkdir -p "$out/$name.reports"
        for r in "$dir"/out/test_*; do copy_out "$r" "$out/$name.reports/${r##*/}"; done
    fi
    exercise_json "$dir" "$name" "$src"
    ex_json+=("$dir/exercise.json")

    failures "$dir" "$c" "$name" "$out/$name.reports" "$((MAX_FAILURES_SHOWN - shown))" >>"$report"
    shown=$((shown + $(cat "$dir/shown" 2>/dev/null || echo 0)))

    if [ -n "$trace" ]; then
        # Options for the renderer, from a "wb_trace_options: ..." line
        # in the suite (for example --slots for a process pool).
        read -ra topts <<<"$(sed -n 's/.*wb_trace_options: *\([-a-z ]*\).*/\1/p' "tests/$c/test_$name.c" | head -n 1)"
        if copy_out "$dir/out/trace" "$out/$name.trace" && [ -s "$out/$name.trace" ] &&
            build/tools/timeline "${topts[@]}" --svg "$out/$name.svg" --title "$name: $(declared_tests "$c" "$name")" "$out/$name.trace"; then
            {
                printf '  %s: the timeline of your run (TRACE=1 runs only the test it draws)\n' "$name"
                build/tools/timeline "${topts[@]}" --text "$out/$name.trace" | sed 's/^/      /'
                printf '      picture: %s   trace: %s\n' "$out/$name.svg" "$out/$name.trace"
            } >>"$report"
        else
            printf '  %s: no timeline: the run recorded no task\n' "$name" >>"$report"
        fi
    fi
done
finish_chapter

if [ -s "$warnings" ]; then
    echo
    echo "Compiler warnings:"
    cat "$warnings"
fi
if [ -s "$report" ]; then
    echo
    if [ -n "$trace" ]; then echo "Timeline (and the traced test's failures):"; else echo "First failures:"; fi
    cat "$report"
elif [ "$total_fail" -gt 0 ]; then
    echo
    echo "Not started yet: read the chapter, open the stub named above, and run this again."
fi

echo
[ -z "$trace" ] || echo "TRACE=1 ran only the test it draws; run without TRACE=1 for the exercise's grade."
if [ -n "$chapter_arg" ]; then
    label="chapter-$((10#$chapter_arg))"
else
    label=all
fi
printf '%s: %d passed, %d failed\n' "$label" "$total_pass" "$total_fail"
[ "$total_fail" -eq 0 ]
