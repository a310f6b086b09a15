# The steps of grading one exercise (sourced by tests/support/grade.sh),
# each with one job. Data flows one way:
#
#   learner's file --build--> test binary --run--> raw results
#     --collect--> results.tsv + state --> report (report.sh), JSON (json.sh)
#
# Every step writes into the exercise's work folder DIR:
#   DIR/state      passed | failed | not started | does not compile |
#                  refused | stopped early
#   DIR/note       why, for the states that are not about single tests
#   DIR/results.tsv  one line per declared test:
#                  status TAB name TAB file:line TAB section TAB message TAB seconds
#   DIR/warnings   the compiler's warnings about the learner's file
#   DIR/run.log    what the suite printed
#   DIR/out/       what the sandbox wrote: sanitizer reports, a trace
#
# Globals from grade.sh: impl, B, CC, CFLAGS, PLAIN_CFLAGS, LDFLAGS, LIBS,
# WRAP_LDFLAGS, trace, deadline, and the limits below.

COMPILE_LIMIT=${COMPILE_LIMIT:-30}        # seconds to compile and link
COMPILE_OUTPUT_KB=${COMPILE_OUTPUT_KB:-32768} # largest object or binary
COMPILE_MEMORY_KB=${COMPILE_MEMORY_KB:-2097152}
SUITE_LIMIT=${SUITE_LIMIT:-120}           # seconds one suite may run

# declared_tests NN-topic NAME: the tests the suite registers, in order.
declared_tests() {
    local src=tests/$1/test_$2.c
    if [ -n "$trace" ]; then
        sed -n 's/.*wb_trace_test = "\([a-z_0-9]*\)".*/\1/p' "$src" | head -n 1
        return
    fi
    tr '\n' ' ' <"$src" | grep -oE 'WB_ADD(_TIMEOUT)?\( *[a-z_]+ *, *[A-Za-z_0-9]+' |
        sed -E 's/.*, *//'
}

# trusted_objects NN-topic NAME: the objects make builds for the suite,
# one per line; a building block whose reference solution is missing (a
# handout without solutions/) is listed as "learner SRC HEADER" instead.
trusted_objects() {
    local c=$1 name=$2 s
    printf '%s\n' "$B/obj/tests/$c/test_$name.o" "$B/obj/tests/support/wb.o"
    [ -f "tests/$c/$name.links" ] || return 0
    for s in $(cat "tests/$c/$name.links"); do
        if [ -f "$s" ]; then
            printf '%s\n' "$B/obj/${s%.c}.o"
        else
            # solutions/NN-topic/X.c -> the learner's NN-topic/X.c
            printf 'learner %s %s\n' "$impl/${s#solutions/}" "exercises/${s#solutions/}"
        fi
    done
}

# suite_libs NN-topic NAME: the libraries its suite links (NAME.libs).
suite_libs() { [ ! -f "tests/$1/$2.libs" ] || tr '\n' ' ' <"tests/$1/$2.libs"; }

links_wrap() { grep -qx 'tests/support/wrap.c' "tests/$1/$2.links" 2>/dev/null; }

# first_error LOG: the compiler's (or linker's) own first error, with the
# lines that follow it.
first_error() {
    awk '/error|undefined reference|refused:|ld returned|Killed|File size limit|internal compiler/ && n == 0 { n = 1 }
         n > 0 && n <= 6 { print; n++ }' "$1" | cut -c1-200
}

# build_step SLOT DIR NN-topic NAME: the test binary, from the learner's
# file, compiled in the sandbox. Reuses the binary when nothing it is made
# of changed. Returns 0 when there is a binary to run.
build_step() {
    local slot=$1 dir=$2 c=$3 name=$4
    local src=$impl/$c/$name.c header=exercises/$c/$name.h
    local bin=$B/grader/$impl/$c/$name status line
    local -a objs=() learner=("$src" "$header") deps=("$src" "$header" tests/support/grader/compile.sh "tests/$c/$name.libs")
    while read -r line; do
        case $line in
        learner\ *)
            read -r _ s h <<<"$line"
            learner+=("$s" "$h")
            deps+=("$s" "$h")
            ;;
        *) objs+=("$line") deps+=("$line") ;;
        esac
    done < <(trusted_objects "$c" "$name")
    local -a ldflags=()
    links_wrap "$c" "$name" && read -ra ldflags <<<"$WRAP_LDFLAGS"

    if [ -x "$bin" ] && [ -f "$bin.warnings" ]; then
        local newer=1 d
        for d in "${deps[@]}"; do [ "$d" -nt "$bin" ] && newer=0 && break; done
        if [ "$newer" = 1 ]; then
            cp "$bin.warnings" "$dir/warnings"
            return 0
        fi
    fi
    sandbox_dir "$slot" "$dir/build" || return 1
    OUTPUT_LIMIT_KB=$COMPILE_OUTPUT_KB sandboxed "$slot" "$dir/build" "$COMPILE_LIMIT" "$COMPILE_MEMORY_KB" \
        env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent LC_ALL=C \
        CC="$CC" CFLAGS="$CFLAGS -I exercises/$c" PLAIN_CFLAGS="$PLAIN_CFLAGS -I exercises/$c" \
        LDFLAGS="$LDFLAGS ${ldflags[*]}" LIBS="$(suite_libs "$c" "$name") $LIBS" \
        sh tests/support/grader/compile.sh "$dir/build" "${learner[@]}" -- "${objs[@]}" \
        >"$dir/build.out" 2>&1 </dev/null &
    local pid=$!
    # The sandbox cannot write outside $dir/build; the size cap holds
    # there through ulimit -f.
    wait "$pid"
    status=$?
    sandbox_kill_slot "$slot"
    copy_out "$dir/build/compile.log" "$dir/compile.log" || : >"$dir/compile.log"
    grep -E "^$src:[0-9]+:([0-9]+:)? warning:" "$dir/compile.log" >"$dir/warnings"
    case $status in
    0)
        mkdir -p "$(dirname "$bin")"
        if copy_out "$dir/build/suite" "$bin.new"; then
            chmod 755 "$bin.new" && mv -f "$bin.new" "$bin"
            cp "$dir/warnings" "$bin.warnings"
            rm -rf "$dir/build"
            return 0
        fi
        echo "does not compile" >"$dir/state"
        echo "the build left no test binary" >"$dir/note"
        ;;
    3)
        echo "refused" >"$dir/state"
        tail -n 1 "$dir/compile.log" | sed 's/^refused: //' >"$dir/note"
        ;;
    124 | 137)
        echo "does not compile" >"$dir/state"
        echo "compiling $src ran past the limit of $COMPILE_LIMIT s (a file that includes itself? a huge initializer?)" >"$dir/note"
        ;;
    *)
        echo "does not compile" >"$dir/state"
        if grep -q 'File size limit exceeded' "$dir/compile.log"; then
            echo "the object file grew past the limit of $((COMPILE_OUTPUT_KB / 1024)) MB (a huge initialised array?)" >"$dir/note"
        fi
        first_error "$dir/compile.log" >>"$dir/note"
        [ -s "$dir/note" ] || tail -n 5 "$dir/compile.log" "$dir/build.out" >"$dir/note"
        ;;
    esac
    rm -f "$bin" "$bin.warnings"
    rm -rf "$dir/build"
    return 1
}

# run_step SLOT DIR BIN: run the suite in the sandbox. Its results go to
# DIR/raw.tsv through descriptor 3, a file only this script can write.
run_step() {
    local slot=$1 dir=$2 bin=$3 limit mem=$MEMORY_LIMIT_KB status notifier=
    limit=$((deadline - $(date +%s)))
    [ "$limit" -gt "$SUITE_LIMIT" ] && limit=$SUITE_LIMIT
    [ "$limit" -lt 1 ] && limit=1
    [ -n "${SANITIZE:-}" ] && mem=0
    sandbox_dir "$slot" "$dir/out" || return 1
    : >"$dir/raw.tsv"
    chmod 644 "$dir/raw.tsv"
    sandboxed "$slot" "$dir/out" "$limit" "$mem" \
        env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent LC_ALL=C \
        WB_RESULTS_FD=3 WB_REPORTS="$dir/out" ${trace:+WB_TRACE="$dir/out/trace"} \
        WB_ALL_TESTS="${WB_ALL_TESTS:-}" WB_HANG_LIMIT="${WB_HANG_LIMIT:-}" \
        WB_STRESS="${WB_STRESS:-}" CK_TIMEOUT_MULTIPLIER="${CK_TIMEOUT_MULTIPLIER:-1}" \
        ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS" \
        TSAN_OPTIONS="$TSAN_OPTIONS" LSAN_OPTIONS="$LSAN_OPTIONS" \
        "$PWD/$bin" 3>"$dir/raw.tsv" >"$dir/run.log" 2>&1 </dev/null &
    local pid=$!
    if [ -t 2 ]; then
        # Each test that hangs waits out its limit before the next starts.
        (
            sleep 5
            printf '  %s: still running after 5 s; a test that hangs waits out its time limit (Ctrl-C stops the run)\n' "${bin##*/}" >&2
        ) &
        notifier=$!
    fi
    wait "$pid"
    status=$?
    if [ -n "$notifier" ]; then
        kill "$notifier" 2>/dev/null
        wait "$notifier" 2>/dev/null
    fi
    sandbox_kill_slot "$slot"
    echo "$status" >"$dir/status"
}

# collect_step DIR NN-topic NAME: check the raw results against the tests
# the suite declares, and decide the state. A result that is missing
# becomes an error; one that is extra, repeated or malformed means the
# results cannot be trusted, and the whole exercise is refused.
collect_step() {
    local dir=$1 c=$2 name=$3 status
    status=$(cat "$dir/status" 2>/dev/null || echo 2)
    declared_tests "$c" "$name" >"$dir/declared"
    if ! awk -F'\t' -v declared="$dir/declared" '
        BEGIN { while ((getline t < declared) > 0) want[t] = 1 }
        NF != 6 || !($1 == "pass" || $1 == "fail" || $1 == "error") || !($2 in want) || seen[$2]++ { bad = 1 }
        END { exit bad }' "$dir/raw.tsv"; then
        echo "refused" >"$dir/state"
        echo "the results of the suite are malformed (a test reported twice, an unknown test, or a broken line): something wrote to the grader's results" >"$dir/note"
        awk -v OFS='\t' '{ print "error", $0, "tests/support/wb.c:0", "", "not graded: the results were forged or damaged", "-1" }' "$dir/declared" >"$dir/results.tsv"
        return
    fi
    # In the declared order; a test with no result did not report.
    awk -F'\t' -v OFS='\t' -v raw="$dir/raw.tsv" -v st="$status" '
        BEGIN { while ((getline l < raw) > 0) { split(l, f, "\t"); line[f[2]] = l } }
        $0 in line { print line[$0]; next }
        { print "error", $0, "tests/support/wb.c:0", "",
                "did not report: the suite stopped before this test ended (exit status " st ", see the note above)", "-1" }
    ' "$dir/declared" >"$dir/results.tsv"
    if [ ! -s "$dir/declared" ]; then
        echo "stopped early" >"$dir/state"
        echo "the suite declares no test" >"$dir/note"
    elif [ "$(wc -l <"$dir/raw.tsv")" -lt "$(wc -l <"$dir/declared")" ] || [ "$status" -ge 2 ]; then
        echo "stopped early" >"$dir/state"
        if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
            echo "the suite ran past its time limit and was stopped" >"$dir/note"
        else
            printf 'the test suite stopped early (exit status %s); its last output:\n%s\n' "$status" \
                "$(tail -n 5 "$dir/run.log" | cut -c1-200)" >"$dir/note"
        fi
    elif ! grep -qv '^pass' "$dir/results.tsv"; then
        echo "passed" >"$dir/state"
    elif [ "$impl" = exercises ] && untouched "$impl/$c/$name.c"; then
        echo "not started" >"$dir/state"
    else
        echo "failed" >"$dir/state"
    fi
}

untouched() { # a stub whose checksum is still the one recorded
    local file=$1 sum
    [ -f exercises/stubs.sha256 ] || return 1
    sum=$(sha256sum "$file" | cut -d' ' -f1)
    grep -q "^$sum  $file\$" exercises/stubs.sha256
}

# grade_one SLOT DIR NN-topic NAME: every step for one exercise.
grade_one() {
    local slot=$1 dir=$2 c=$3 name=$4
    mkdir -p "$dir"
    : >"$dir/warnings"
    if build_step "$slot" "$dir" "$c" "$name"; then
        run_step "$slot" "$dir" "$B/grader/$impl/$c/$name"
        collect_step "$dir" "$c" "$name"
    else
        declared_tests "$c" "$name" >"$dir/declared"
        awk -v OFS='\t' -v st="$(cat "$dir/state")" '{ print "error", $0, "", "", "not run: the exercise " st, "-1" }' \
            "$dir/declared" >"$dir/results.tsv"
    fi
}
