#!/bin/sh
# bench_kv.sh: chapter 7's capstone budget. The kv exercise (kv.c, the
# reference solution, or the learner's own in a handout) runs as
# kv_server on chapter 6's epoll loop (eloop.c) and on chapter 4's
# select loop (loop.c), and Debian's redis-server runs beside them, in
# the same run, each driven by
#
#     redis-benchmark -t get,set -c 50 -n 100000 [-P 16]
#
# Servers are measured in turn within each repetition, so that a machine
# that gets busier or quieter affects them alike; the table gives the
# median of the repetitions and each kv server's requests per second over
# redis-server's. Goals (issue 21): at least 0.8 on epoll, 0.6 on select.
# On a shared, loaded machine requests per second swing from run to run;
# the server's CPU time per request (from /proc/PID/stat) varies less,
# and is reported beside them.
#
# Usage: bench_kv.sh [--reps N] [--quick] [--out DIR]
#   --quick: 10,000 requests, one repetition (a smoke test).
# Results: DIR/kv_bench.csv (every run) and DIR/kv_bench.txt (the table);
# DIR defaults to build/bench/kv. Everything listens on 127.0.0.1 only;
# each server is stopped (SIGTERM to the pid this script started) after
# its runs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
reps=3
n=100000
out="$root/build/bench/kv"
while [ $# -gt 0 ]; do
    case $1 in
    --reps) reps=$2; shift 2 ;;
    --quick) reps=1; n=10000; shift ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--reps N] [--quick] [--out DIR]" >&2; exit 2 ;;
    esac
done
for p in redis-server redis-benchmark redis-cli python3; do
    command -v "$p" >/dev/null 2>&1 || {
        echo "bench_kv.sh: $p is not installed (make deps)" >&2
        exit 2
    }
done
mkdir -p "$out"
tmp=$(mktemp -d)
srv_pid=
cleanup() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Build the two kv servers from the same sources, with the same flags
# (the reference solutions, or the learner's files in a handout).
cd "$root"
impl() { [ -f "solutions/$1" ] && echo "solutions/$1" || echo "exercises/$1"; }
CC=${CC:-cc}
FLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -O2 -pthread -Iexercises -Iexercises/07-every-way -Ichapters"
$CC $FLAGS -Iexercises/04-select -o "$out/kv_select" \
    chapters/07-every-way/kv_server.c "$(impl 07-every-way/kv.c)" \
    "$(impl 04-select/loop.c)" "$(impl 04-select/timerq.c)"
$CC $FLAGS -Iexercises/04-select -Iexercises/06-beyond -o "$out/kv_epoll" \
    chapters/07-every-way/kv_server.c "$(impl 07-every-way/kv.c)" \
    "$(impl 06-beyond/eloop.c)" "$(impl 04-select/timerq.c)"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() { # name: sets srv_pid and port
    port=
    if [ "$1" = redis-server ]; then
        port=$(free_port)
        redis-server --port "$port" --bind 127.0.0.1 --save '' \
            --appendonly no --protected-mode no --loglevel warning \
            >"$tmp/redis.log" 2>&1 &
        srv_pid=$!
    else
        "$out/$1" 0 600 >"$tmp/port" &
        srv_pid=$!
        for _ in $(seq 1 100); do
            port=$(sed -n 's/.*port \([0-9]*\)$/\1/p' "$tmp/port")
            [ -n "$port" ] && break
            sleep 0.05
        done
    fi
    for _ in $(seq 1 100); do
        [ -n "$port" ] && redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "bench_kv.sh: $1 did not start" >&2
    exit 1
}

stop() {
    kill -TERM "$srv_pid"
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=
}

# The server's CPU time so far, in clock ticks (utime + stime of
# /proc/PID/stat: its name has no space, so the fields are in place).
ticks() { awk '{ print $14 + $15 }' "/proc/$srv_pid/stat"; }
hz=$(getconf CLK_TCK)

csv="$out/kv_bench.csv"
echo "rep,server,pipeline,test,rps,cpu_us_per_req" >"$csv"
{
    echo "machine: $(nproc) cores, $(uname -sr), load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "redis-server: $(redis-server --version | cut -d' ' -f1-3)"
    echo "command: redis-benchmark -t get,set -c 50 -n $n [-P 16], $reps repetition(s)"
} >"$out/kv_bench.txt"
for rep in $(seq 1 "$reps"); do
    for s in redis-server kv_epoll kv_select; do
        start "$s"
        for p in 1 16; do
            for t in set get; do
                t0=$(ticks)
                redis-benchmark -p "$port" -t "$t" -c 50 -n "$n" -P "$p" \
                    --csv 2>/dev/null | tr -d '"' >"$tmp/rb"
                t1=$(ticks)
                awk -F, -v r="$rep" -v s="$s" -v p="$p" -v n="$n" \
                    -v cpu=$((t1 - t0)) -v hz="$hz" \
                    '$1 == "SET" || $1 == "GET" {
                        printf "%s,%s,%s,%s,%s,%.2f\n", r, s, p, $1, $2, cpu * 1e6 / hz / n
                    }' "$tmp/rb" >>"$csv"
            done
        done
        stop
    done
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/kv_bench.txt"

python3 - "$csv" >>"$out/kv_bench.txt" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def median(field):
    med = {}
    for key in {(r["server"], r["pipeline"], r["test"]) for r in rows}:
        med[key] = statistics.median(float(r[field]) for r in rows
                                     if (r["server"], r["pipeline"], r["test"]) == key)
    return med
rps, cpu = median("rps"), median("cpu_us_per_req")
print()
print("Requests per second (median), and over redis-server's:")
print()
print("| test | -P | redis-server | kv epoll | x redis | kv select | x redis |")
print("|---|---|---|---|---|---|---|")
for p in ("1", "16"):
    for t in ("SET", "GET"):
        r, e, s = (rps.get((x, p, t)) for x in ("redis-server", "kv_epoll", "kv_select"))
        if not (r and e and s):
            print(f"| {t} | {p} | missing | | | | |")
            continue
        print(f"| {t} | {p} | {r:,.0f} | {e:,.0f} | {e / r:.2f} | {s:,.0f} | {s / r:.2f} |")
print()
print("Server CPU time per request (median, microseconds), and redis-server's")
print("over it (above 1: the kv server needs less CPU per request):")
print()
print("| test | -P | redis-server | kv epoll | redis/kv | kv select | redis/kv |")
print("|---|---|---|---|---|---|---|")
for p in ("1", "16"):
    for t in ("SET", "GET"):
        r, e, s = (cpu.get((x, p, t)) for x in ("redis-server", "kv_epoll", "kv_select"))
        if not (r and e and s):
            print(f"| {t} | {p} | missing | | | | |")
            continue
        print(f"| {t} | {p} | {r:.2f} | {e:.2f} | {r / e:.2f} | {s:.2f} | {r / s:.2f} |")
EOF
cat "$out/kv_bench.txt"
