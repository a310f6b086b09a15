#!/usr/bin/env bash
# `make test`: everything a maintainer must prove (DESIGN.md, "What make
# test proves"). One line per step; the logs of failed steps are shown and
# kept in build/test-logs/. The last line is "test: N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
logs=build/test-logs
rm -rf "$logs"
mkdir -p "$logs"
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
MAKE_S="make --no-print-directory -s"
passed=0 failed=0 step=0

# step DESCRIPTION COMMAND...: run COMMAND, log its output, print one line.
step() {
    local desc=$1 log start status ms
    shift
    step=$((step + 1))
    log=$(printf '%s/%03d.log' "$logs" "$step")
    start=$(date +%s%N)
    "$@" >"$log" 2>&1
    status=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
        printf 'ok   %-62s %4d.%ds\n' "$desc" $((ms / 1000)) $((ms % 1000 / 100))
    else
        failed=$((failed + 1))
        printf 'FAIL %-62s (log: %s)\n' "$desc" "$log"
        tail -n 25 "$log" | sed 's/^/     | /'
    fi
    return "$status"
}

exercises() { # chapter/name of every exercise
    local t
    for t in tests/[0-9][0-9]-*/test_*.c; do
        [ -e "$t" ] || continue
        t=${t#tests/}
        printf '%s\n' "${t%%/*}/$(basename "${t#*/test_}" .c)"
    done
}
chapters_with_exercises() { exercises | cut -d/ -f1 | sort -u; }
chapter_number() { echo "$((10#${1%%-*}))"; }

# A test binary must fail (exit 1: some checks failed), not pass (0) and
# not break (2 or a signal: the suite did not run to its end).
must_fail() {
    local bin=$1 status
    "$bin"
    status=$?
    echo "exit status $status"
    [ "$status" -eq 1 ]
}

# make check TRACE=1 on exercise $1 (NN-topic/name) with the reference
# solution: the test passes, the picture is an SVG, and the trace it drew
# holds at least $2 spans.
traced_run() {
    local ex=$1 want=$2 out svg trace spans
    out=$($MAKE_S check CHAPTER=$((10#${ex%%-*})) EXERCISE="${ex#*/}" IMPL=solutions TRACE=1) || {
        echo "$out"
        return 1
    }
    echo "$out"
    svg=$(sed -n 's/.*picture: \([^ ]*\) .*/\1/p' <<<"$out")
    trace=$(sed -n 's/.*trace: \([^ ]*\)$/\1/p' <<<"$out")
    [ -n "$svg" ] && [ -n "$trace" ] || return 1
    grep -q '^<svg' "$svg" || { echo "$svg is not an SVG picture"; return 1; }
    spans=$(grep -cv '^#' "$trace")
    echo "$spans spans in $trace"
    [ "$spans" -ge "$want" ]
}

# The grader counts a suite that does not compile by its WB_ADD lines;
# that count must be what the suite really registers.
declared_matches_registered() {
    local ex=$1 bin=$2 declared registered
    declared=$(grep -cE '^[[:space:]]*WB_ADD(_TIMEOUT)?\(' "tests/${ex%%/*}/test_${ex#*/}.c")
    registered=$("$bin" --list | wc -l)
    echo "declared $declared, registered $registered"
    [ "$declared" -eq "$registered" ] && [ "$registered" -ge 5 ]
}

# Every solution test binary of chapter $1 under helgrind, all at once
# (each suite runs alone in about 5 s). A helgrind report makes the test's
# process exit with 89, which the suite reports as that test's failure.
helgrind_clean() {
    local c=$1 ex dir status=0 names=() pids=() i
    command -v valgrind >/dev/null || {
        echo "valgrind is not installed: add it to PKGS and run make deps"
        return 1
    }
    dir=$(mktemp -d)
    for ex in $(exercises | grep "^$c/"); do
        names+=("$ex")
        env CK_TIMEOUT_MULTIPLIER=20 WB_STRESS=0.05 valgrind --tool=helgrind -q \
            --fair-sched=yes --error-exitcode=89 \
            "build/plain/bin/solutions/$ex" >"$dir/${ex#*/}.log" 2>&1 </dev/null &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || status=1
        echo "== solutions/${names[$i]} under helgrind"
        cat "$dir/${names[$i]#*/}.log"
    done
    rm -rf "$dir"
    return $status
}

hints_ok() { # every exercise has a hints file with at least two hints
    local ex n bad=0
    for ex in $(exercises); do
        f=exercises/$ex.hints.md
        n=$(grep -c '^## Hint [0-9]' "$f" 2>/dev/null || echo 0)
        if [ "$n" -lt 2 ]; then
            echo "$f: $n hints, need at least 2"
            bad=1
        fi
    done
    return $bad
}

sections_ok() { # every section a test names is a heading of its chapter
    local ex bad=0 c section
    for ex in $(exercises); do
        c=${ex%%/*}
        while IFS= read -r section; do
            # The headings' text, without their {#id} and Markdown escapes.
            if ! sed -n 's/^#\{1,6\} \(.*\)$/\1/p' "chapters/$c/chapter.md" 2>/dev/null |
                sed 's/ {[^}]*}$//; s/\\//g' | grep -qxF "$section"; then
                echo "tests/$c/test_${ex#*/}.c names section \"$section\", which chapters/$c/chapter.md does not have"
                bad=1
            fi
        done < <(tr '\n' ' ' <"tests/$c/test_${ex#*/}.c" | grep -oE 'WB_ADD(_TIMEOUT)?\([^"]*"[^"]*"' |
            sed 's/.*"\(.*\)"/\1/' | sort -u)
    done
    return $bad
}

promises_tested() { # every promise of a contract is named by a test, and only those
    local ex c name tags named t bad=0
    for ex in $(exercises); do
        c=${ex%%/*} name=${ex#*/}
        tags=$(grep -oE '^ *\* *- \[[a-z0-9-]+\]' "exercises/$ex.h" | sed 's/.*\[\(.*\)\]/\1/' | sort)
        named=$(grep -oE 'WB_PROMISE\("[a-z0-9-]+"\)' "tests/$c/test_$name.c" | sed 's/.*("\(.*\)")/\1/' | sort -u)
        if [ -z "$tags" ]; then
            echo "exercises/$ex.h lists no promise (bullets starting with [tag])"
            bad=1
        fi
        if [ -n "$(sort <<<"$tags" | uniq -d)" ]; then
            echo "exercises/$ex.h: tags used twice: $(uniq -d <<<"$tags" | tr '\n' ' ')"
            bad=1
        fi
        for t in $tags; do
            grep -qx "$t" <<<"$named" || { echo "exercises/$ex.h: promise [$t] is named by no test in tests/$c/test_$name.c"; bad=1; }
        done
        for t in $named; do
            grep -qx "$t" <<<"$tags" || { echo "tests/$c/test_$name.c names promise \"$t\", which exercises/$ex.h does not list"; bad=1; }
        done
    done
    return $bad
}

# The learners' copy (make handout) grades every exercise without
# solutions/: with the reference solutions copied in as the learner's
# files, everything passes; untouched, tpool waits for the learner's
# bqueue.
handout_grades() {
    local dest=build/handout-test out
    rm -rf "$dest"
    $MAKE_S handout DEST="$dest" || return 1
    [ ! -e "$dest/solutions" ] || { echo "the handout has solutions/"; return 1; }
    out=$(cd "$dest" && $MAKE_S check CHAPTER=3 EXERCISE=tpool 2>&1)
    echo "$out"
    grep -q 'tpool uses your bqueue, which fails' <<<"$out" || return 1
    (cd solutions && find . -name '*.c' -exec cp --parents {} "../$dest/exercises/" \;) || return 1
    (cd "$dest" && $MAKE_S check) || return 1
    rm -rf "$dest"
}

stubs_recorded() { # the manifest lists every stub, unchanged
    local ex
    sha256sum --quiet -c exercises/stubs.sha256 || return 1
    for ex in $(exercises); do
        grep -q "  exercises/$ex.c\$" exercises/stubs.sha256 || {
            echo "exercises/$ex.c is not in exercises/stubs.sha256: run make stubs-manifest"
            return 1
        }
    done
}

hint_works() {
    local out
    rm -rf build/hints
    out=$($MAKE_S hint CHAPTER=1 EXERCISE=runner) && echo "$out" | grep -q '^Hint 1 of' || return 1
    out=$($MAKE_S hint CHAPTER=1 EXERCISE=runner) && echo "$out" | grep -q '^Hint 2 of' || return 1
    $MAKE_S hint CHAPTER=1 EXERCISE=runner RESET=1 >/dev/null || return 1
    out=$($MAKE_S hint CHAPTER=1 EXERCISE=runner) && echo "$out" | grep -q '^Hint 1 of' || return 1
    rm -rf build/hints
}

grader_rejects_bad_names() {
    local out
    out=$($MAKE_S check CHAPTER=99 2>&1) && return 1
    echo "$out" | grep -q 'CHAPTER=1' || return 1
    out=$($MAKE_S check CHAPTER=1 EXERCISE=no_such_exercise 2>&1) && return 1
    echo "$out" | grep -q 'EXERCISE=' || return 1
    echo "$out"
}

echo "make test: proving the workbook (logs in $logs)"
step "packages installed (make deps)" make --no-print-directory deps
step "format: every C file follows .clang-format" $MAKE_S format-check
step "build: every file, gcc -Wall -Wextra -Wpedantic -Werror" \
    $MAKE_S -j"$JOBS" all-binaries CC=gcc WERROR=1
step "build: every file, clang -Wall -Wextra -Wpedantic -Werror" \
    $MAKE_S -j"$JOBS" all-binaries CC=clang WERROR=1
step "build: the plain test binaries" $MAKE_S -j"$JOBS" all-binaries

for c in $(chapters_with_exercises); do
    n=$(chapter_number "$c")
    default=$(cat "tests/$c/SANITIZE" 2>/dev/null)
    step "solutions pass: chapter $n${default:+ (its default build: $default)}" \
        $MAKE_S check CHAPTER="$n" IMPL=solutions
    [ -z "$default" ] ||
        step "solutions pass: chapter $n, plain build" $MAKE_S check CHAPTER="$n" IMPL=solutions SANITIZE=none
    step "solutions pass: chapter $n, AddressSanitizer" \
        env CK_TIMEOUT_MULTIPLIER=2 $MAKE_S check CHAPTER="$n" IMPL=solutions SANITIZE=address
    step "solutions pass: chapter $n, UndefinedBehaviorSanitizer" \
        env CK_TIMEOUT_MULTIPLIER=2 $MAKE_S check CHAPTER="$n" IMPL=solutions SANITIZE=undefined
    if [ "$n" -ge 3 ]; then
        [ "$default" = thread ] ||
            step "solutions pass: chapter $n, ThreadSanitizer" \
                env CK_TIMEOUT_MULTIPLIER=4 $MAKE_S check CHAPTER="$n" IMPL=solutions SANITIZE=thread
        # helgrind for the chapters whose exercises run threads.
        [ "$default" != thread ] || step "solutions pass: chapter $n, helgrind" helgrind_clean "$c"
    fi
done

for ex in $(exercises); do
    bin=build/plain/bin/exercises/$ex
    step "stub fails: exercises/$ex.c" must_fail "$bin"
    step "suite registers every test it declares: $ex" declared_matches_registered "$ex" "$bin"
done
for w in tests/[0-9][0-9]-*/*.wrong_*.patch; do
    [ -e "$w" ] || continue
    step "known-wrong variant fails: ${w#tests/}" must_fail "build/plain/bin/${w%.patch}"
done

step "every exercise has at least 2 hints" hints_ok
step "every section a test names exists in its chapter" sections_ok
step "every stub is recorded in exercises/stubs.sha256" stubs_recorded
step "every promise of every contract is named by a test" promises_tested
step "grader: a wrong CHAPTER or EXERCISE is a clear error" grader_rejects_bad_names
step "grader: hostile code fails with the right message, nothing left running" \
    tests/support/grader-selftest.sh
step "make hint shows hints one at a time" hint_works
step "make gradebook: a class of 24 (solved, stubs, wrong, hostile, archives)" \
    tests/support/gradebook-selftest.sh
step "make handout: graded without solutions/, a building block's failure named" handout_grades
step "trace.h and the timeline renderer (whole lines, speed, errors)" \
    bash -c "$MAKE_S build/tools/timeline && tests/support/timeline-selftest.sh build/tools/timeline build/timeline-selftest"
for t in "01-sync/runner 3" "02-processes/procpool 6" "03-threads/tpool 12" "04-select/loop 8" "04-select/chat 4" \
    "05-callbacks/offload 6"; do
    step "make check TRACE=1 draws a timeline: ${t% *}" traced_run ${t}
done
step "demos run; deterministic ones print what the book says" $MAKE_S examples
step "demo servers and chat_server survive hostile clients" tests/support/hostile.py build/plain/demos/04-select
step "make bench runs (the small version)" $MAKE_S bench QUICK=1
step "docs: Doxygen reference, no warning" $MAKE_S docs
step "book: HTML, PDF, EPUB, no warning" $MAKE_S book
step "book: the HTML in headless Chromium (pictures, links, console, phone, dark)" \
    book/browser-check.sh build/book/workbook.html build/book
step "book: the filters on a tiny book (pages, links, man pages)" book/filters-test.sh
step "book: the site in Chromium (links, sidebar, copy, search)" \
    book/site-check.sh build/book/html build/docs/html build/book

echo "test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
