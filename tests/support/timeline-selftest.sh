#!/usr/bin/env bash
# Tests the tracing header chapters/trace.h and the timeline renderer
# book/timeline.c together. Used by `make test`.
#
#   timeline-selftest.sh TIMELINE SCRATCH
#
# TIMELINE is the built renderer, SCRATCH a folder this script may fill.
# It builds a small program against trace.h that forks children and
# starts threads that all trace at once, checks that every line of the
# trace is whole and well formed, that tracing off writes nothing, that
# the renderer draws the trace the same way twice and draws 10,000 spans
# in under a second, and that it refuses malformed traces with the line
# number. Prints one line per check; exits 1 if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
if [ $# -ne 2 ]; then
    echo "usage: $0 TIMELINE SCRATCH" >&2
    exit 2
fi
timeline=$1 scratch=$2
case $timeline in /*) ;; *) timeline=$PWD/$timeline ;; esac
if [ ! -x "$timeline" ]; then
    echo "timeline-selftest: no renderer at $timeline (build book/timeline.c first)" >&2
    exit 2
fi
mkdir -p "$scratch" || exit 2
scratch=$(cd "$scratch" && pwd)
passed=0 failed=0

ok() {
    echo "ok   $1"
    passed=$((passed + 1))
}
fail() {
    echo "FAIL $1"
    failed=$((failed + 1))
}

# ---- the traced program ------------------------------------------------
# tracer CHILDREN THREADS EVENTS SLEEP_US: the parent forks CHILDREN
# children; every process starts THREADS threads that each record EVENTS
# spans labelled "WORD P.T.I", and its main thread records one span
# "main P" around the whole. Process 0 also records a span "setup" before
# it forks and a label with a tab and a newline. Each process checks it ends with the descriptors it
# started with.
cat >"$scratch/tracer.c" <<'EOF'
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"

static int events;
static long sleep_us;
static const char *words[] = {"One", "Two", "Three", "Four"};

struct job {
    int proc, thread;
};

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

static void *on_run(void *arg)
{
    const struct job *j = arg;
    char label[64];

    for (int i = 0; i < events; i++) {
        int64_t start = trace_now();
        if (sleep_us > 0) {
            struct timespec ts = {0, sleep_us * 1000};
            while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
                continue;
        }
        snprintf(label, sizeof label, "%s %d.%d.%d", words[j->thread % 4],
                 j->proc, j->thread, i);
        trace_span(label, start, trace_now());
    }
    return NULL;
}

static int run_process(int proc, int threads)
{
    pthread_t tid[16];
    struct job jobs[16];
    int64_t start = trace_now();
    int fds = count_fds();
    char label[32];

    for (int t = 0; t < threads; t++) {
        int en;
        jobs[t] = (struct job){proc, t};
        en = pthread_create(&tid[t], NULL, on_run, &jobs[t]);
        if (en != 0) {
            fprintf(stderr, "pthread_create failed: %d\n", en);
            return 1;
        }
    }
    for (int t = 0; t < threads; t++)
        if (pthread_join(tid[t], NULL) != 0)
            return 1;
    if (proc == 0) {
        int64_t now = trace_now(); /* arguments have no evaluation order */
        trace_span("tab\there\nnewline", now, now);
    }
    snprintf(label, sizeof label, "main %d", proc);
    trace_span(label, start, trace_now());
    if (count_fds() != fds) {
        fprintf(stderr, "process %d: %d descriptors open, %d before\n", proc,
                count_fds(), fds);
        return 3;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int children, threads, status = 0;

    if (argc != 5)
        return 2;
    children = atoi(argv[1]);
    threads = atoi(argv[2]);
    events = atoi(argv[3]);
    sleep_us = atol(argv[4]);
    if (threads < 1 || threads > 16 || sleep_us >= 1000000)
        return 2;
    {
        /* Traced before fork(): a pid cached here would leak into the
           children's lines. */
        int64_t now = trace_now();
        trace_span("setup", now, now);
    }
    fflush(stdout);
    for (int c = 1; c <= children; c++) {
        pid_t pid = fork();
        if (pid == -1)
            return 1;
        if (pid == 0)
            _exit(run_process(c, threads));
    }
    status = run_process(0, threads);
    for (int c = 1; c <= children; c++) {
        int ws;
        if (wait(&ws) == -1 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
            status = 1;
    }
    return status;
}
EOF
if gcc -std=c11 -D_POSIX_C_SOURCE=200809L -pthread -Wall -Wextra -Wpedantic -Werror \
    -O2 -Ichapters -o "$scratch/tracer" "$scratch/tracer.c" 2>"$scratch/gcc.err"; then
    ok "trace.h: a traced program builds warning-free with gcc"
else
    fail "trace.h: the traced program does not build with gcc:"
    sed 's/^/    /' "$scratch/gcc.err"
    echo "$passed passed, $((failed)) failed"
    exit 1
fi
if command -v clang >/dev/null; then
    if clang -std=c11 -D_POSIX_C_SOURCE=200809L -pthread -Wall -Wextra -Wpedantic \
        -Werror -fsyntax-only -Ichapters "$scratch/tracer.c" 2>"$scratch/clang.err"; then
        ok "trace.h: warning-free with clang"
    else
        fail "trace.h: warnings with clang:"
        sed 's/^/    /' "$scratch/clang.err"
    fi
fi

# check_trace FILE PROCS THREADS EVENTS: every line whole and well formed,
# each span recorded once, each process writing its own pid.
check_trace() {
    awk -v procs="$2" -v threads="$3" -v events="$4" '
        BEGIN { bad = 0 }
        function problem(what) {
            if (bad < 3) printf "    line %d: %s: %s\n", NR, what, $0
            bad++
        }
        !/^[0-9]+ [0-9]+ [0-9]+ [0-9]+ [^ ].*$/ { problem("malformed"); next }
        $4 + 0 < $3 + 0 { problem("ends before it starts"); next }
        $5 == "main" { if (!mains[$6]++) main_count++; pid_of($6, $1); next }
        $0 ~ / tab here newline$/ { tabs++; next }
        $5 == "setup" { setups++; pid_of(0, $1); next }
        {
            split($6, k, ".")
            if (NF != 6 || k[1] >= procs || k[2] >= threads || k[3] >= events) {
                problem("unexpected label"); next
            }
            if (seen[$6]++) problem("recorded twice")
            pid_of(k[1], $1)
            spans++
        }
        function pid_of(proc, pid) {
            if (proc in pid_by_proc && pid_by_proc[proc] != pid)
                problem("process " proc " wrote two pids")
            pid_by_proc[proc] = pid
            if (pid in proc_by_pid && proc_by_pid[pid] != proc)
                problem("two processes wrote pid " pid)
            proc_by_pid[pid] = proc
        }
        END {
            want = procs * threads * events
            if (spans != want) { printf "    %d task spans, expected %d\n", spans, want; bad++ }
            if (main_count != procs) { printf "    %d main spans, expected %d\n", main_count, procs; bad++ }
            if (setups != 1) { printf "    %d setup spans, expected 1\n", setups; bad++ }
            if (tabs != 1) { printf "    %d tab/newline labels, expected 1 as one line\n", tabs; bad++ }
            exit bad > 0
        }' "$1"
}

# ---- many writers at once ----------------------------------------------
for round in 1 2 3; do
    trace=$scratch/many-$round.trace
    rm -f "$trace"
    start=$(date +%s%N)
    if ! WB_TRACE=$trace "$scratch/tracer" 3 2 2000 0 >"$scratch/run.out" 2>&1; then
        fail "trace.h round $round: 4 processes x 2 threads x 2,000 events: the program failed"
        sed 's/^/    /' "$scratch/run.out"
        continue
    fi
    ms=$((($(date +%s%N) - start) / 1000000))
    lines=$(wc -l <"$trace")
    if out=$(check_trace "$trace" 4 2 2000); then
        ok "trace.h round $round: 4 processes x 2 threads x 2,000 events: $lines whole lines, each span once, own pid per process, no descriptor left open ($ms ms)"
    else
        fail "trace.h round $round: the trace of 4 processes x 2 threads is wrong ($lines lines):"
        echo "$out"
    fi
done

# ---- tracing off -------------------------------------------------------
mkdir -p "$scratch/off"
rm -rf "$scratch/off"/* "$scratch/off"/.[!.]* 2>/dev/null
if (cd "$scratch/off" && env -u WB_TRACE "$scratch/tracer" 1 2 50 0) &&
    (cd "$scratch/off" && WB_TRACE='' "$scratch/tracer" 1 2 50 0) &&
    [ -z "$(ls -A "$scratch/off")" ]; then
    ok "trace.h: WB_TRACE unset or empty writes nothing"
else
    fail "trace.h: with WB_TRACE unset or empty the program failed or wrote: $(ls -A "$scratch/off")"
fi

# ---- drawing a real trace ----------------------------------------------
small=$scratch/small.trace
rm -f "$small"
if WB_TRACE=$small "$scratch/tracer" 2 2 4 3000 && check_trace "$small" 3 2 4 >/dev/null; then
    parent=$(awk '$5 == "main" && $6 == "0" { print $1 }' "$small")
    if "$timeline" --svg "$scratch/a.svg" --title 'tracer 2 2 4 <&>' "$small" &&
        "$timeline" --svg "$scratch/b.svg" --title 'tracer 2 2 4 <&>' "$small" &&
        "$timeline" --text "$small" >"$scratch/a.txt" &&
        "$timeline" --text "$small" >"$scratch/b.txt"; then
        ok "timeline: draws a traced run as SVG and text, exit 0"
        if cmp -s "$scratch/a.svg" "$scratch/b.svg" && cmp -s "$scratch/a.txt" "$scratch/b.txt"; then
            ok "timeline: the same trace gives byte-identical SVG and text"
        else
            fail "timeline: two renderings of one trace differ"
        fi
        missing=
        for want in "process $parent, thread 1" "process $parent, thread 3" \
            '<title>One 0.0.0 (' '<title>Two 0.1.0 (' '<title>main 0 (' 'tracer 2 2 4 &lt;&amp;&gt;' \
            'viewBox="0 0 ' '>time (ms)<' 'font-family="sans-serif"'; do
            grep -qF -- "$want" "$scratch/a.svg" || missing+=" [$want]"
        done
        lanes=$(grep -c '^process [0-9]*, thread [123] *|' "$scratch/a.txt")
        if [ -z "$missing" ] && [ "$lanes" -eq 9 ] && grep -q '^total [0-9.]* ms' "$scratch/a.txt"; then
            ok "timeline: lanes, labels, title and axis are in the SVG; the text has 9 lanes"
        else
            fail "timeline: missing from the SVG:$missing; text lanes $lanes (expected 9):"
            sed 's/^/    /' "$scratch/a.txt"
        fi
        if command -v xmllint >/dev/null; then
            if xmllint --noout "$scratch/a.svg" 2>"$scratch/xml.err"; then
                ok "timeline: the SVG is well-formed XML (xmllint)"
            else
                fail "timeline: the SVG is not well-formed XML:"
                head -n 5 "$scratch/xml.err" | sed 's/^/    /'
            fi
        fi
    else
        fail "timeline: could not draw the trace of a traced run"
    fi
else
    fail "trace.h: the small traced run (3 processes x 2 threads x 4 events) failed"
fi

# ---- --slots -------------------------------------------------------------
# Six jobs, each in a process of its own, never more than two at once
# (job 2 starts exactly when job 0 ends): two slots, and a job keeps its
# process in the SVG's tooltip.
printf '%s\n' '501 1 1000 5000 job 0' '502 1 1000 2000 job 1' \
    '503 1 2000 3000 job 2x' '504 1 3000 4000 job 3' '505 1 5000 6000 job 4' \
    '506 1 4000 7000 job 5' >"$scratch/pool.trace"
if "$timeline" --slots --text "$scratch/pool.trace" >"$scratch/pool.txt" &&
    "$timeline" --slots --svg "$scratch/pool.svg" "$scratch/pool.trace" &&
    "$timeline" --text "$scratch/pool.trace" >"$scratch/pool-procs.txt"; then
    if grep -q '^total .*: 2 lanes, 6 spans' "$scratch/pool.txt" &&
        [ "$(grep -c '^slot [12] ' "$scratch/pool.txt")" -eq 2 ] &&
        grep -q 'job 2x (slot 2, process 503)' "$scratch/pool.svg" &&
        grep -q '^total .*: 6 lanes, 6 spans' "$scratch/pool-procs.txt"; then
        ok "timeline: --slots packs six one-job processes into their two slots"
    else
        fail "timeline: --slots drew the pool trace wrongly:"
        sed 's/^/    /' "$scratch/pool.txt"
    fi
else
    fail "timeline: could not draw the pool trace with --slots"
fi

# ---- short spans after a long one -------------------------------------
# A loop's trace: a 60 ms read, then three timers of 5 us and a read,
# bunched within 0.1 ms, and two short spans in one column before it.
# Each must keep a letter in the text (after the long run of r, which
# stays at least 45 columns long) and get a bar at least 5 px wide of its
# own in the SVG.
printf '%s\n' '7 1 0 20000 timer 1' '7 1 40000 45000 read fd 3' \
    '7 1 10000000 10010000 timer 2' '7 1 10020000 70000000 read fd 3 (blocks)' \
    '7 1 70050000 70055000 timer 3' '7 1 70060000 70065000 timer 4' \
    '7 1 70070000 70075000 timer 5' '7 1 70080000 70082000 read fd 3' \
    >"$scratch/short.trace"
if "$timeline" --text "$scratch/short.trace" >"$scratch/short.txt" &&
    "$timeline" --svg "$scratch/short.svg" "$scratch/short.trace"; then
    bar=$(sed -n 's/^process 7 |\(.*\)|$/\1/p' "$scratch/short.txt")
    narrow=$(grep -o '<title>[^<]*</title><rect x="[0-9.]*" y="[0-9.]*" width="[0-9.]*"' "$scratch/short.svg" |
        sed 's/.*x="\([0-9.]*\)" y="[0-9.]*" width="\([0-9.]*\)"/\1 \2/' |
        awk '$2 < 5 { bad++ } { if (seen[$1]++) bad++ } END { print bad + 0 }')
    if [[ $bar =~ ^tr\ +tr{45,}tTtr$ ]] && [ "$narrow" -eq 0 ] &&
        grep -q 'side by side' "$scratch/short.txt"; then
        ok "timeline: short spans after a long one get letters ($bar) and bars of 5 px, side by side"
    else
        fail "timeline: short spans after a long one are hidden (text bar [$bar], $narrow SVG bars narrower than 5 px or on top of another):"
        sed 's/^/    /' "$scratch/short.txt"
    fi
else
    fail "timeline: could not draw the trace with short spans"
fi
# Twenty spans bunched in the last column are too many to set side by
# side past the end: the bar keeps its 60 columns.
awk 'BEGIN { print "7 1 0 60000000 long"; for (i = 0; i < 20; i++) print "7 1", 60000000 + i * 1000, 60000000 + i * 1000 + 500, "short", i }' \
    >"$scratch/bunch.trace"
if "$timeline" --text "$scratch/bunch.trace" >"$scratch/bunch.txt" &&
    bar=$(sed -n 's/^process 7 |\(.*\)|$/\1/p' "$scratch/bunch.txt") && [ "${#bar}" -eq 60 ]; then
    ok "timeline: twenty short spans at the end keep the bar at 60 columns"
else
    fail "timeline: twenty short spans at the end: bar [${bar:-}] (${#bar} columns, expected 60)"
fi
# ---- speed -------------------------------------------------------------
awk 'BEGIN {
    split("One Two Three Four", w, " ")
    for (i = 0; i < 10000; i++) {
        lane = i % 8; k = int(i / 8)
        start = 1000000000 + k * 800000 + lane * 50000
        printf "%d %d %d %d %s %d\n", 4000 + int(lane / 2), 140000000 + lane % 2,
            start, start + 500000 + (i * 7919) % 300000, w[lane % 4 + 1], k
    }
}' >"$scratch/big.trace"
start=$(date +%s%N)
if "$timeline" --svg "$scratch/big.svg" --text "$scratch/big.trace" >"$scratch/big.txt"; then
    ms=$((($(date +%s%N) - start) / 1000000))
    if [ "$ms" -lt 1000 ]; then
        ok "timeline: 10,000 spans drawn (SVG and text) in $ms ms, under 1000"
    else
        fail "timeline: 10,000 spans took $ms ms, more than 1000"
    fi
else
    fail "timeline: could not draw the 10,000-span trace"
fi

# ---- refusals ----------------------------------------------------------
# expect_refusal NAME PATTERN TRACE: exit 1 and stderr matching PATTERN.
expect_refusal() {
    printf '%s' "$3" >"$scratch/bad.trace"
    "$timeline" --text "$scratch/bad.trace" >/dev/null 2>"$scratch/bad.err"
    status=$?
    if [ "$status" -eq 1 ] && grep -qE -- "$2" "$scratch/bad.err"; then
        ok "timeline: $1: exit 1, \"$(head -n 1 "$scratch/bad.err")\""
    else
        fail "timeline: $1: exit $status (expected 1), message: $(cat "$scratch/bad.err")"
    fi
}
expect_refusal "a malformed line" 'bad\.trace:3: malformed' \
    $'# comment\n1 2 100 200 ok\n1 2 x 300 broken\n'
expect_refusal "a missing field" 'bad\.trace:2: malformed' \
    $'1 2 100 200 ok\n1 2 300\n'
expect_refusal "a span that ends before it starts" 'bad\.trace:4: .*ends before it starts' \
    $'\n1 2 100 200 ok\n\n1 2 300 250 backwards\n'
expect_refusal "an empty trace" 'bad\.trace: .*no spans' $'# nothing\n\n'
if "$timeline" --text "$scratch/does-not-exist.trace" >/dev/null 2>&1; then
    fail "timeline: a missing trace file gives exit 0"
else
    ok "timeline: a missing trace file is an error"
fi

echo "timeline-selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
