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
# Containment: each suite runs in a session of its own, as an unprivileged
# user when the grader runs as root, with caps on processes, output and
# time; whatever it leaves running is killed. Results for other programs
# go to build/results/ (README.md, "For instructors").
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/support/lib.sh

chapter_arg=$1 exercise_arg=$2 impl=${3%/}
trace=${TRACE:-}
MAX_FAILURES_SHOWN=${MAX_FAILURES_SHOWN:-5}
SUITE_LIMIT=${SUITE_LIMIT:-120}   # seconds one suite may run
CHECK_LIMIT=${CHECK_LIMIT:-900}   # seconds the whole run may take
NPROC_LIMIT=${NPROC_LIMIT:-256}   # processes the tests' user may have
OUTPUT_LIMIT_KB=${OUTPUT_LIMIT_KB:-65536} # largest file (and log) a test may write

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

if [ -n "$trace" ]; then
    traced=$(grep -l 'wb_trace_test = ' tests/*/test_*.c | sed 's#.*/test_\(.*\)\.c#\1#' | tr '\n' ' ')
    [ -n "$exercise_arg" ] && [ ${#selected[@]} -eq 1 ] ||
        die "TRACE=1 draws one exercise's run: add EXERCISE=name (one of: $traced)"
    grep -q 'wb_trace_test = ' "tests/${selected[0]%%/*}/test_${selected[0]#*/}.c" ||
        die "exercise $exercise_arg runs no tasks to draw; TRACE=1 works for: $traced"
    make --no-print-directory -s build/tools/timeline || exit 2
fi

build=$(make --no-print-directory -s print-build-dir SANITIZE="${SANITIZE:-}") || exit 2
variant=${build#build/}
# The learner's plain results sit at the top of build/results/; the others
# (IMPL=solutions, a sanitizer build) in folders of their own.
results=build/results
[ "$impl" = exercises ] || results=$results/$(printf '%s' "$impl" | tr / _)
[ "$variant" = plain ] || results=$results/$variant
# A TRACE=1 run grades one test only: keep it away from the real results.
[ -z "$trace" ] || results=$results/trace
mkdir -p "$results" build/logs

# The sanitizers' exit statuses, known to wb.c, and their options: stop at
# the first error, so the report is about this test.
export ASAN_OPTIONS="exitcode=86:abort_on_error=0:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="exitcode=87:halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export TSAN_OPTIONS="exitcode=88:halt_on_error=1:second_deadlock_stack=1:${TSAN_OPTIONS:-}"
export LSAN_OPTIONS="exitcode=86:${LSAN_OPTIONS:-}"

# As root, a process cap binds nothing: run the tests as 'nobody', which
# also keeps a learner's program from ever running as root.
as_user=()
if [ "$(id -u)" -eq 0 ]; then
    if command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1 &&
        setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
            test -x . -a -r tests/support/wb.h 2>/dev/null; then
        # root's PATH may name folders that nobody cannot search, which
        # would turn "no such program" into "permission denied".
        as_user=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups
            env PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent)
    else
        echo "check: note: running the tests as root (user 'nobody' cannot read this folder); the process cap does not bind" >&2
    fi
fi

untouched() { # a stub whose checksum is still the one recorded
    local file=$1 sum
    [ -f exercises/stubs.sha256 ] || return 1
    sum=$(sha256sum "$file" | cut -d' ' -f1)
    grep -q "^$sum  $file\$" exercises/stubs.sha256
}

json_str() { # $1 as a JSON string literal (the values are single lines)
    printf '"%s"' "$(printf '%s' "$1" | tr '\t\r\n' '   ' | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

session=
cleanup() { [ -n "$session" ] && pkill -KILL -s "$session" 2>/dev/null; }
trap 'cleanup; rm -f "$report" "$warnings"; exit 130' INT TERM
report=$(mktemp)
warnings=$(mktemp)
trap 'cleanup; rm -f "$report" "$warnings"' EXIT

deadline=$(($(date +%s) + CHECK_LIMIT))
total_pass=0 total_fail=0 failures_shown=0
current_chapter= json_chapter= json_first=1
json_file=

close_json() {
    [ -n "$json_file" ] || return 0
    printf '\n  ],\n  "passed": %d,\n  "failed": %d\n}\n' "$chapter_pass" "$chapter_fail" >>"$json_file"
}

for ex in "${selected[@]}"; do
    c=${ex%%/*} name=${ex#*/}
    if [ "$c" != "$current_chapter" ]; then
        close_json
        n=$((10#${c%%-*}))
        title=$(sed -n 's/^# \(.*\) {#.*}$/\1/p;s/^# \([^{]*\)$/\1/p' "chapters/$c/chapter.md" 2>/dev/null | head -n 1)
        printf 'chapter %d: %s\n' "$n" "${title:-$c}"
        current_chapter=$c chapter_pass=0 chapter_fail=0 json_first=1
        json_file=$results/chapter-$n.json
        mkdir -p "$results/chapter-$n"
        {
            printf '{\n  "chapter": %d,\n  "folder": %s,\n  "impl": %s,\n  "variant": %s,\n' \
                "$n" "$(json_str "$c")" "$(json_str "$impl")" "$(json_str "$variant")"
            printf '  "exercises": ['
        } >"$json_file"
    fi
    src=$impl/$c/$name.c
    bin=$build/bin/$impl/$c/$name
    out=$results/chapter-$((10#${c%%-*}))
    log=build/logs/$variant-$(printf '%s' "$impl" | tr / _)-$c-$name.log
    declared=$(grep -cE '^[[:space:]]*WB_ADD(_TIMEOUT)?\(' "tests/$c/test_$name.c")
    state= pass=0 fail=0
    rm -f "$out/$name".{tsv,xml,tap}
    rm -rf "$out/$name.reports"

    # The compiler's warnings about the graded file. make only compiles
    # what changed, so they are kept from the last compile of the file.
    obj=$build/obj/${src%.c}.o
    obj_before=$(stat -c %y "$obj" 2>/dev/null)
    built=0
    make --no-print-directory -s "$bin" SANITIZE="${SANITIZE:-}" CC="${CC:-gcc}" >"$log" 2>&1 && built=1
    if [ "$(stat -c %y "$obj" 2>/dev/null)" != "$obj_before" ]; then
        grep -E "^$src:[0-9]+:([0-9]+:)? warning:" "$log" >"$log.warnings"
    fi
    if [ "$built" = 1 ] && [ -s "$log.warnings" ]; then
        nwarn=$(wc -l <"$log.warnings")
        {
            printf '  %s: %d compiler warning%s in %s; they often point at the bug:\n' \
                "$name" "$nwarn" "$([ "$nwarn" -eq 1 ] || echo s)" "$src"
            head -n 5 "$log.warnings" | cut -c1-200 | sed 's/^/      /'
        } >>"$warnings"
    fi
    if [ "$built" = 0 ]; then
        state="does not compile" fail=$declared
        printf '  %-16s %-20s 0/%d checks\n' "$name" "$state" "$declared"
        if [ "$failures_shown" -lt "$MAX_FAILURES_SHOWN" ]; then
            failures_shown=$((failures_shown + 1))
            {
                printf '  %s does not compile (%s):\n' "$name" "$src"
                grep -E 'error|undefined reference' "$log" | head -n 5 | sed 's/^/      /'
            } >>"$report"
        fi
    else
        now=$(date +%s)
        limit=$((deadline - now))
        [ "$limit" -gt "$SUITE_LIMIT" ] && limit=$SUITE_LIMIT
        [ "$limit" -lt 1 ] && limit=1
        # Files the test user writes: a folder it owns.
        tmp=$(mktemp -d)
        mkdir -p "$tmp/reports"
        chmod -R a+rwx "$tmp"
        (
            ulimit -u "$NPROC_LIMIT" 2>/dev/null
            ulimit -f "$OUTPUT_LIMIT_KB" 2>/dev/null
            exec setsid "${as_user[@]}" env ${trace:+WB_TRACE="$tmp/trace"} WB_RESULTS="$tmp/results.tsv" \
                WB_XML="$tmp/results.xml" WB_TAP="$tmp/results.tap" WB_REPORTS="$tmp/reports" \
                timeout --kill-after=2 "$limit" "$bin"
        ) >"$log.run" 2>&1 </dev/null &
        session=$!
        # On a terminal, say so when a suite runs long: each test that
        # hangs waits out its whole time limit before the next one starts.
        notifier=
        if [ -t 2 ]; then
            (
                sleep 5
                printf '  %s: still running after 5 s; a test that hangs waits out its time limit (Ctrl-C stops the run)\n' "$name" >&2
            ) &
            notifier=$!
        fi
        wait "$session"
        status=$?
        if [ -n "$notifier" ]; then
            pkill -P "$notifier" 2>/dev/null
            kill "$notifier" 2>/dev/null
            wait "$notifier" 2>/dev/null
        fi
        pkill -KILL -s "$session" 2>/dev/null
        session=
        [ -f "$tmp/results.tsv" ] && cp "$tmp/results.tsv" "$out/$name.tsv"
        [ -f "$tmp/results.xml" ] && cp "$tmp/results.xml" "$out/$name.xml"
        [ -f "$tmp/results.tap" ] && cp "$tmp/results.tap" "$out/$name.tap"
        if compgen -G "$tmp/reports/*" >/dev/null; then
            mkdir -p "$out/$name.reports" && cp "$tmp"/reports/* "$out/$name.reports/"
        fi
        if [ -n "$trace" ]; then
            # Options for the renderer, from a "wb_trace_options: ..." line
            # in the suite (for example --slots for a process pool).
            read -ra topts <<<"$(sed -n 's/.*wb_trace_options: *\([-a-z ]*\).*/\1/p' "tests/$c/test_$name.c" | head -n 1)"
            if [ -s "$tmp/trace" ] && cp "$tmp/trace" "$out/$name.trace" &&
                build/tools/timeline "${topts[@]}" --svg "$out/$name.svg" --title "$name: $(grep 'wb_trace_test = ' "tests/$c/test_$name.c" | cut -d'"' -f2)" "$out/$name.trace"; then
                {
                    printf '  %s: the timeline of your run (TRACE=1 runs only the test it draws)\n' "$name"
                    build/tools/timeline "${topts[@]}" --text "$out/$name.trace" | sed 's/^/      /'
                    printf '      picture: %s   trace: %s\n' "$out/$name.svg" "$out/$name.trace"
                } >>"$report"
            else
                printf '  %s: no timeline: the run recorded no task\n' "$name" >>"$report"
            fi
        fi
        rm -rf "$tmp"

        tsv=$out/$name.tsv
        if [ -f "$tsv" ]; then
            pass=$(grep -c '^pass' "$tsv")
            fail=$(grep -vc '^pass' "$tsv")
        fi
        if [ ! -f "$tsv" ] || [ "$status" -ge 2 ]; then
            fail=$((declared - pass))
            state="stopped early"
            {
                if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
                    printf '  %s: the suite ran past the time limit of %d s and was stopped\n' "$name" "$limit"
                else
                    printf '  %s: the test suite stopped early (exit status %d); its last output:\n' "$name" "$status"
                fi
                tail -n 5 "$log.run" | cut -c1-200 | sed 's/^/      /'
            } >>"$report"
        elif [ "$fail" -eq 0 ]; then
            state=passed
        elif [ "$impl" = exercises ] && untouched "$src"; then
            state="not started"
        else
            state=failed
        fi
        printf '  %-16s %-20s %d/%d checks%s\n' "$name" "$state" "$pass" "$((pass + fail))" \
            "$([ "$state" = "not started" ] && printf '   (edit %s)' "$src")"

        if [ "$fail" -gt 0 ] && [ "$state" != "not started" ] && [ -f "$tsv" ]; then
            while IFS=$'\t' read -r st test where section msg; do
                [ "$st" = pass ] && continue
                [ "$failures_shown" -lt "$MAX_FAILURES_SHOWN" ] || break
                failures_shown=$((failures_shown + 1))
                {
                    printf '  %s: %s\n' "$name" "$test"
                    # The fixture's checks (leaked descriptors, children,
                    # threads) run after the test's last line.
                    case $where in
                    tests/support/*) printf '      after the test ended: %s\n' "$msg" ;;
                    *) printf '      %s: %s\n' "$where" "$msg" ;;
                    esac
                    for r in "$out/$name.reports/$test".*; do
                        [ -f "$r" ] || continue
                        # The error, the first frames of its stack that
                        # are not the test machinery, and the summary.
                        awk '/ERROR:|WARNING:|runtime error:/ && !head { print; head = 1; next }
                             !head { next }
                             /^SUMMARY:/ { print; exit }
                             /^ *(Previous )?(read|write|atomic|Read|Write|Atomic)[^#]* of size/ && blocks < 2 {
                                 print; blocks++; frames = 0; next }
                             /^ *#[0-9]+ / && frames < 3 {
                                 if ($0 ~ /srunner|__libc|_start|wb\.c|check_run|__interceptor|_interceptors|sanitizer_common/) next
                                 print; frames++ }' "$r" |
                            cut -c1-160 | sed 's/^/        | /'
                    done
                    [ -n "$section" ] &&
                        printf '      read: chapters/%s/chapter.md, section "%s"\n' "$c" "$section"
                } >>"$report"
            done <"$tsv"
        fi
    fi
    total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail))
    chapter_pass=$((chapter_pass + pass)) chapter_fail=$((chapter_fail + fail))

    # This exercise's entry in the chapter's JSON file.
    {
        [ "$json_first" -eq 1 ] || printf ','
        json_first=0
        printf '\n    {\n      "name": %s,\n      "source": %s,\n      "state": %s,\n      "passed": %d,\n      "failed": %d,\n      "tests": [' \
            "$(json_str "$name")" "$(json_str "$src")" "$(json_str "$state")" "$pass" "$fail"
        if [ -f "$out/$name.tsv" ]; then
            # One awk for all the tests: durations from the XML first.
            awk -F'\t' '
                function js(v) { gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v); return "\"" v "\"" }
                FNR == NR { if (/<id>/) { id = $0; gsub(/.*<id>|<\/id>.*/, "", id) }
                            if (/<duration>/) { d = $0; gsub(/.*<duration>|<\/duration>.*/, "", d)
                                                if (d + 0 >= 0) dur[id] = d + 0 }
                            next }
                { printf "%s\n        {\"name\": %s, \"status\": %s, \"where\": %s, \"section\": %s, \"message\": %s, \"duration\": %s}",
                         (n++ ? "," : ""), js($2), js($1), js($3), js($4), js($5), ($2 in dur ? dur[$2] : "null") }
            ' "$out/$name.xml" "$out/$name.tsv" 2>/dev/null
        fi
        printf '\n      ]\n    }'
    } >>"$json_file"
done
close_json

if [ -s "$warnings" ]; then
    echo
    echo "Compiler warnings:"
    cat "$warnings"
fi
if [ -s "$report" ]; then
    echo
    if [ -n "$trace" ]; then echo "Timeline:"; else echo "First failures:"; fi
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
