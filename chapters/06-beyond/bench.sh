#!/usr/bin/env bash
# bench.sh: chapter 6's measurements, the numbers quoted in "Measured:
# select, poll and epoll" and "io_uring".
#
#   chapters/06-beyond/bench.sh [--quick] [--reps N] [--demos DIR] [--out DIR]
#
# 1. wait_cost: one wait with 10, 100, 1,000 and 10,000 idle descriptors
#    and one active, for select() (up to FD_SETSIZE), poll() and epoll;
#    N runs (default 5), the median of each cell.
# 2. copy_cost: a 64 MiB file copied by a read()/write() loop, by four
#    threads doing pread()/pwrite(), and by io_uring with 16 requests in
#    flight; time taken and system calls made (strace -c -f, when strace
#    is installed). The copies read a file that is in the page cache.
#
# 3. idle_rtt: one active client's round trip on an echo server with 0
#    and 1,000 idle clients, select() and epoll back ends; N runs, the
#    median of each run's median.
#
# --quick: one run of each, short budgets, a 4 MiB copy (for make bench
#    QUICK=1 in make test). --demos DIR: where the built demos are (default
#    build/plain/demos/06-beyond). --out DIR: where the results go (default
#    build/bench/06-beyond): raw.txt, table.md and machine.txt.
# Exit status: 0, or 1 when a program failed (its output is in raw.txt).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
demos=build/plain/demos/06-beyond out=build/bench/06-beyond reps=5 ms=100 mib=64
while [ $# -gt 0 ]; do
    case $1 in
    --quick) reps=1 ms=10 mib=4 ;;
    --reps) reps=$2; shift ;;
    --demos) demos=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--reps N] [--demos DIR] [--out DIR]" >&2; exit 2 ;;
    esac
    shift
done
for p in wait_cost copy_cost idle_rtt; do
    if [ ! -x "$demos/$p" ]; then
        echo "bench.sh: $demos/$p is missing: run make demos first" >&2
        exit 2
    fi
done
mkdir -p "$out"
raw=$out/raw.txt
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "kernel: $(uname -sr)"
    echo "cores: $(nproc)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "command: chapters/06-beyond/bench.sh --reps $reps (budget $ms ms, copy $mib MiB)"
} >"$out/machine.txt"
: >"$raw"
failed=0
echo "bench: wait_cost, $reps run(s)"
for _ in $(seq 1 "$reps"); do
    if ! "$demos/wait_cost" "$ms" >>"$raw" 2>&1; then
        echo "FAIL wait_cost" | tee -a "$raw"
        failed=1
    fi
done
echo "bench: idle_rtt, $reps run(s)"
for _ in $(seq 1 "$reps"); do
    for n in 0 1000; do
        for how in select epoll; do
            if ! "$demos/idle_rtt" "$how" "$n" >>"$raw" 2>&1; then
                echo "FAIL idle_rtt $how $n" | tee -a "$raw"
                failed=1
            fi
        done
    done
done
echo "bench: copy_cost, $mib MiB, $reps run(s)"
src=$(mktemp /tmp/copy_cost.XXXXXX) dst=$(mktemp /tmp/copy_cost.XXXXXX)
trap 'rm -f "$src" "$dst"' EXIT
head -c $((mib * 1024 * 1024)) /dev/urandom >"$src"
for _ in $(seq 1 "$reps"); do
    for how in rw pool uring; do
        if ! "$demos/copy_cost" "$how" "$src" "$dst" >>"$raw" 2>&1 || ! cmp -s "$src" "$dst"; then
            echo "FAIL copy_cost $how" | tee -a "$raw"
            failed=1
        fi
    done
done
if command -v strace >/dev/null; then
    for how in rw pool uring; do
        calls=$(strace -f -c -o /dev/stdout "$demos/copy_cost" "$how" "$src" "$dst" 2>/dev/null |
            awk '$NF == "total" { print $4 }')
        echo "syscalls $how ${calls:-?}" >>"$raw"
    done
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"

# wait_cost prints "  idle   select(us)   poll(us)   epoll(us)" and rows
# like "   100        21.45      21.06        1.12" (select "-" past its limit);
# copy_cost prints "rw      64 MiB  0.051 s  ..." ; the strace loop
# "syscalls rw 4100".
awk '
function median(key,    n, i, j, t, v) {
    n = split(vals[key], v, " ")
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
            t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
        }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function add(key, x) { vals[key] = vals[key] " " x }
/^ *[0-9]+ +([0-9.]+|-) +[0-9.]+ +[0-9.]+ *$/ {
    if (!($1 in seen)) { seen[$1] = 1; ns[++nn] = $1 }
    if ($2 != "-") add("select" SUBSEP $1, $2)
    add("poll" SUBSEP $1, $3); add("epoll" SUBSEP $1, $4)
}
/^(rw|pool|uring) +[0-9]+ MiB/ { add("copy" SUBSEP $1, $4) }
/^syscalls / { calls[$2] = $3 }
/ idle clients: round trip median / {
    add("rtt" SUBSEP $1 SUBSEP $2, $8); add("p90" SUBSEP $1 SUBSEP $2, $12)
}
END {
    print "One wait, one descriptor ready (median of the runs, microseconds):"
    print ""
    print "| idle descriptors | select | poll | epoll |"
    print "|---:|---:|---:|---:|"
    for (i = 1; i <= nn; i++) {
        s = ("select" SUBSEP ns[i]) in vals ? sprintf("%.1f", median("select" SUBSEP ns[i])) : "-"
        printf "| %d | %s | %.1f | %.1f |\n", ns[i], s, median("poll" SUBSEP ns[i]), median("epoll" SUBSEP ns[i])
    }
    print ""
    print "One active client on an echo server (median of the runs, microseconds):"
    print ""
    print "| back end | idle clients | round trip, median | 90th percentile |"
    print "|---|---:|---:|---:|"
    split("select epoll", ms, " ")
    for (m = 1; m <= 2; m++)
        for (k = 0; k <= 1000; k += 1000)
            if (("rtt" SUBSEP ms[m] SUBSEP k) in vals)
                printf "| %s | %d | %.1f | %.1f |\n", ms[m], k, median("rtt" SUBSEP ms[m] SUBSEP k), median("p90" SUBSEP ms[m] SUBSEP k)
    print ""
    print "Copying a file (median of the runs):"
    print ""
    print "| how | seconds | system calls |"
    print "|---|---:|---:|"
    split("rw pool uring", hows, " ")
    for (h = 1; h <= 3; h++)
        if (("copy" SUBSEP hows[h]) in vals)
            printf "| %s | %.3f | %s |\n", hows[h], median("copy" SUBSEP hows[h]), (hows[h] in calls) ? calls[hows[h]] : "-"
}' "$raw" >"$out/table.md"
# The wait table as a bar chart on a log scale, a Graphviz file (neato,
# positions pinned, in inches): chapters/06-beyond/wait_cost.dot is a copy.
awk -v when="$(date -u '+%Y-%m-%d')" '
function node(name, x, y, attrs) {
    printf "  %s [pos=\"%.2f,%.2f!\", %s];\n", name, x, y, attrs
}
function bar(x, v, color, name,    h) {
    if (v == "-") {
        node(name "v", x, 0.25, "shape=plaintext, fontsize=8, label=\"(no\\nselect)\"")
        return
    }
    h = 0.7 * log(v / 0.3) / log(10)           # 0.7 inch a decade; 0.3 us at 0
    node(name, x, h / 2, sprintf("width=0.3, height=%.3f, style=filled, fillcolor=\"%s\", label=\"\"", h, color))
    node(name "v", x, h + 0.12, "shape=plaintext, fontsize=8, label=\"" v "\"")
}
BEGIN {
    n = 0
    print "// One wait with one descriptor ready: median microseconds, log scale."
    print "// Drawn by chapters/06-beyond/bench.sh from its table.md (" when ")."
    print "graph wait_cost {"
    print "  layout=neato; node [shape=box, fontname=\"DejaVu Sans\", penwidth=0.5];"
    split("select poll epoll", names, " "); split("#d95f02 #7570b3 #1b9e77", colors, " ")
    for (k = 1; k <= 3; k++) {
        node("key" k, 1.6 + 1.1 * k, 3.6, "width=0.15, height=0.15, style=filled, fillcolor=\"" colors[k] "\", label=\"\"")
        node("keyt" k, 1.6 + 1.1 * k + 0.4, 3.6, "shape=plaintext, fontsize=10, label=\"" names[k] "\"")
    }
    node("unit", 1.2, 3.6, "shape=plaintext, fontsize=10, label=\"microseconds per wait,\\nlog scale\"")
}
/^\| [0-9]+ \| / && n < 4 {
    split($0, f, "|")
    for (i = 2; i <= 5; i++) gsub(/ /, "", f[i])
    x0 = 1 + n * 1.5
    node("g" n, x0 + 0.35, -0.25, "shape=plaintext, fontsize=10, label=\"" f[2] " idle\"")
    bar(x0, f[3], colors[1], "s" n); bar(x0 + 0.35, f[4], colors[2], "p" n); bar(x0 + 0.7, f[5], colors[3], "e" n)
    n++
}
END { print "}" }' "$out/table.md" >"$out/wait_cost.dot"
cat "$out/table.md"
echo "bench: $out/table.md, $out/wait_cost.dot, $out/raw.txt, $out/machine.txt"
exit "$failed"
