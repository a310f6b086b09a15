#!/usr/bin/env bash
# bench.sh: chapter 4's measurements, the numbers quoted in "Measured: one
# thread against many".
#
#   chapters/04-select/bench.sh [--quick] [--reps N] [--demos DIR] [--out DIR]
#
# 1. The same echo load (echo_load: CONNS connections, every connection
#    sends 16 bytes and reads the echo, round after round) against three
#    servers; echo_load also measures each server's memory and CPU time: echo_select (one thread, select()), echo_threads (a thread per
#    connection) and echo_fork (a process per connection), at 10, 100 and
#    1000 connections. Each combination runs N times (default 3), the three
#    servers one after the other inside each repetition, so that a busy
#    moment of the machine falls on all of them alike. The table gives the
#    median of the N runs.
# 2. select_cost: the time of one select() call as the highest descriptor
#    grows, with one descriptor in the set and with all of them; N runs,
#    median.
#
# --quick: 10 and 100 connections, one repetition (for `make bench`).
# --demos DIR: where the built demos are (default build/plain/demos/04-select;
#    `make demos` builds them). --out DIR: where the results go (default
#    build/bench/04-select): raw.txt (every line the programs printed),
#    table.md (the medians, as Markdown tables) and machine.txt (what ran
#    them: date, kernel, cores, load).
# Exit status: 0, or 1 when a program failed (its output is in raw.txt).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
demos=build/plain/demos/04-select out=build/bench/04-select reps=3
sizes="10 100 1000"
while [ $# -gt 0 ]; do
    case $1 in
    --quick) sizes="10 100" reps=1 ;;
    --reps) reps=$2; shift ;;
    --demos) demos=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--reps N] [--demos DIR] [--out DIR]" >&2; exit 2 ;;
    esac
    shift
done
for p in echo_load echo_select echo_threads echo_fork select_cost; do
    if [ ! -x "$demos/$p" ]; then
        echo "bench.sh: $demos/$p is missing: run make demos first" >&2
        exit 2
    fi
done
mkdir -p "$out"
PATH=$root/$demos:$PATH
export PATH
raw=$out/raw.txt
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "kernel: $(uname -sr)"
    echo "cores: $(nproc)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "command: chapters/04-select/bench.sh --reps $reps (sizes: $sizes)"
} >"$out/machine.txt"
: >"$raw"
failed=0
echo "bench: echo servers, $reps repetition(s) of each, sizes $sizes"
for n in $sizes; do
    for _ in $(seq 1 "$reps"); do
        for server in echo_select echo_threads echo_fork; do
            if ! line=$("$server" "$n" 2>&1); then
                echo "FAIL $server $n: $line" | tee -a "$raw"
                failed=1
                continue
            fi
            echo "$line" | tee -a "$raw"
        done
    done
done
echo "bench: select_cost, $reps run(s)"
for _ in $(seq 1 "$reps"); do
    if ! select_cost >>"$raw" 2>&1; then
        echo "FAIL select_cost" | tee -a "$raw"
        failed=1
    fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"

# The medians. For each server, echo_load prints three lines:
#   echo_select   100 conns: first round    4.1 ms, then  66999 round trips/s
#                      memory    0.2 MiB,   0.0 KiB per conn; kernel stacks  +0.1 MiB
#                      server CPU   8.5 us per round trip
# and select_cost prints lines like "      1023    1.42    61.42".
awk '
function median(key,    n, i, j, t, v) {
    n = split(vals[key], v, " ")
    for (i = 2; i <= n; i++)          # insertion sort; n is small
        for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
            t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
        }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function add(key, x) { vals[key] = vals[key] " " x }
/ conns: first round / {
    mode = $1; n = $2
    if (!(n in seen_n)) { seen_n[n] = 1; ns[++nn] = n }
    line = $0
    sub(/.*first round */, "", line); add(mode SUBSEP n SUBSEP "first", line + 0)
    sub(/.*then */, "", line);        add(mode SUBSEP n SUBSEP "rate", line + 0)
}
/^ +server CPU / {
    line = $0
    sub(/.*server CPU */, "", line);  add(mode SUBSEP n SUBSEP "cpu", line + 0)
}
/^ +memory / {
    line = $0
    sub(/.*memory */, "", line);      add(mode SUBSEP n SUBSEP "mem", line + 0)
    sub(/.*MiB, */, "", line);        add(mode SUBSEP n SUBSEP "perconn", line + 0)
    sub(/.*kernel stacks */, "", line); add(mode SUBSEP n SUBSEP "kstack", line + 0)
}
/^ *[0-9]+ +[0-9.]+ +[0-9.]+ *$/ {
    if (!($1 in seen_fd)) { seen_fd[$1] = 1; fds[++nf] = $1 }
    add("one" SUBSEP $1, $2); add("all" SUBSEP $1, $3)
}
END {
    print "Echo servers (median of the runs):"
    print ""
    print "| conns | server | first round (ms) | round trips/s | CPU per round trip (us) | memory (MiB) | per conn (KiB) | kernel stacks (MiB) |"
    print "|---:|---|---:|---:|---:|---:|---:|---:|"
    split("echo_select echo_threads echo_fork", modes, " ")
    for (i = 1; i <= nn; i++)
        for (m = 1; m <= 3; m++) {
            k = modes[m] SUBSEP ns[i]
            if (!((k SUBSEP "rate") in vals)) continue
            name = modes[m]; sub(/^echo_/, "", name)
            printf "| %d | %s | %.1f | %.0f | %.1f | %.1f | %.1f | %+.1f |\n", ns[i], name,
                median(k SUBSEP "first"), median(k SUBSEP "rate"),
                median(k SUBSEP "cpu"), median(k SUBSEP "mem"),
                median(k SUBSEP "perconn"), median(k SUBSEP "kstack")
        }
    print ""
    print "One select() call, zero timeout, nothing ready (median of the runs, microseconds):"
    print ""
    print "| highest descriptor | only it in the set | all from 3 in the set |"
    print "|---:|---:|---:|"
    for (i = 1; i <= nf; i++)
        printf "| %d | %.2f | %.2f |\n", fds[i], median("one" SUBSEP fds[i]), median("all" SUBSEP fds[i])
}' "$raw" >"$out/table.md"
cat "$out/table.md"
echo "bench: $out/table.md, $out/raw.txt, $out/machine.txt"
exit "$failed"
