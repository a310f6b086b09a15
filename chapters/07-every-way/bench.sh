#!/usr/bin/env bash
# bench.sh: chapter 7's measurements, "The same job, every way": one
# workload (resp.h, a subset of the Redis protocol), one server per model,
# and the real redis-server beside them, driven by two clients.
#
#   chapters/07-every-way/bench.sh [--quick] [--only ceiling|budget]
#                                  [--demos DIR] [--out DIR]
#
# The servers: server_seq (one client at a time), server_fork (a process
# per client), server_threads (a thread per client), server_pool (16
# threads), server_select and server_epoll (one thread, a loop),
# server_uring (io_uring), server_uv (libuv), server_asyncio.py (Python's
# asyncio), and redis-server (Debian's; started here on a free loopback
# port, no persistence).
#
# 1. load (load.c, ours): for each server, conns 1, 10, 100 and 1000, each
#    connection sending its requests one at a time (depth 1) and 16 at a
#    time (depth 16), mix getset (SET and GET in turn); then mix wait
#    (every 10th request SLEEP 10: waiting, as on a disk) and mix cpu
#    (every 10th request BURN 1: CPU work; half the requests of getset)
#    at depth 1 (not redis-server:
#    it has no SLEEP or BURN, and would answer them with an error at
#    once). It measures
#    throughput, latency (p50, p99, max), the server's CPU time and peak
#    memory, and its own CPU share (load_cpu: near 100 would mean the
#    client was the limit).
# 2. redis-benchmark -t get,set, without and with -P 16, at the same
#    connection counts; not against server_seq (beyond 1 connection) or
#    server_pool (beyond its 16 threads): redis-benchmark keeps every
#    connection open to the end, so those would serve one connection and
#    leave the others waiting for its 10 s idle timeout. At 1 connection
#    half the requests (10,000 of each), to pay for groups 3 and 4.
# 3. The generator's ceiling: load against server_null (a server that
#    answers +OK to every request and does nothing else) at 1, 10 and 100
#    connections, depth 1, getset, beside the real servers of the same
#    groups: when load reaches far more against server_null than against
#    the fastest real server, the server, not load, was the limit.
#    server_null is left out of "x best".
# 4. The budget (issue 21): redis-benchmark -t get,set -c 50, without
#    pipelining and with -P 16, -n 100000 (server_asyncio: 10000, it is
#    slower; a rate needs no more), against server_epoll, server_select,
#    server_uv, server_asyncio and redis-server, one after the other;
#    prints each C loop's ratio to redis-server and to asyncio, against
#    the goals (epoll at least 0.8 of redis-server, select 0.6, every C
#    loop 3 times asyncio), into budget.md too. When
#    chapters/07-every-way/bench_kv.sh exists (the capstone's reference
#    server), it runs here, with --quick in the quick mode; its lines of
#    key=value (as raw.txt's, client=redis-benchmark conns=50) join the
#    group; its exit status counts as a step's.
# Every step prints a progress line. Ratios: each server's requests per
# second over redis-server's and over the best server's, in the same
# group (same client, mix, connections, depth) of the same run.
#
# --quick: 10 connections only, fewer requests, redis-benchmark at 10
#    (for `make bench QUICK=1`, which `make test` runs: under 60 s). It
#    fails when a server does not answer every getset request rightly.
# --only ceiling: only group 3, with server_epoll, server_select,
#    server_uv and redis-server beside server_null; --only budget: only
#    group 4 (and bench_kv.sh). For quoting one group from one run.
# --demos DIR: the built demos (default build/plain/demos/07-every-way).
# --out DIR: the results (default build/bench/07-every-way): raw.txt (one
#    line of key=value per step), results.csv, results.json, table.md,
#    machine.txt (date, kernel, cores, load average, command) and, when
#    gnuplot is installed, rps.svg and p99.svg (getset, depth 1, load).
# Exit status: 0, 1 when a step failed (its output is in raw.txt), 2 when
# something is missing.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
here=chapters/07-every-way
demos=build/plain/demos/07-every-way out=build/bench/07-every-way
quick=0 only=
while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --demos) demos=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--only ceiling|budget] [--demos DIR] [--out DIR]" >&2
       exit 2 ;;
    esac
    shift
done
unset WB_TRACE # the servers would trace every BURN and SLEEP (resp.h)
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3 # Debian's, as the chapter says
servers="server_seq server_fork server_threads server_pool server_select
         server_epoll server_uring server_uv server_asyncio redis-server"
for p in load server_seq server_fork server_threads server_pool \
    server_select server_epoll server_uring server_uv server_null; do
    if [ ! -x "$demos/$p" ]; then
        echo "bench.sh: $demos/$p is missing: run make demos first" >&2
        exit 2
    fi
done
for p in redis-server redis-benchmark "$PY"; do
    command -v "$p" >/dev/null ||
        { echo "bench.sh: $p is missing: run make deps" >&2; exit 2; }
done
if [ "$quick" = 1 ]; then
    sizes="10" rb_sizes="10" budget=400 rb_n=4000 limit=10 wait_sizes="10"
    null_sizes="10" budget_n=2000
else
    sizes="1 10 100 1000" rb_sizes="1 10 100 1000" budget=20000 rb_n=20000
    limit=20 wait_sizes="10 100 1000" null_sizes="1 10 100" budget_n=100000
fi
mkdir -p "$out"
PATH=$root/$demos:$PATH
export PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
raw=$out/raw.txt
: >"$raw"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "kernel: $(uname -sr)"
    echo "cores: $(nproc)"
    echo "cpu: $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n 1)"
    echo "redis-server: $(redis-server --version | head -n 1)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "command: $here/bench.sh$([ "$quick" = 1 ] && echo ' --quick')${only:+ --only $only}"
} >"$out/machine.txt"

# A free loopback port for redis-server (which cannot pick its own).
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Start a server in the background: sets $srv_pid and $srv_port.
start() {
    srv_pid= srv_port=
    if [ "$1" = redis-server ]; then
        srv_port=$(free_port)
        redis-server --port "$srv_port" --bind 127.0.0.1 --save '' \
            --appendonly no --protected-mode no --maxclients 10000 \
            --loglevel warning >"$tmp/redis.log" 2>&1 &
        srv_pid=$!
        for _ in $(seq 1 100); do
            redis-cli -p "$srv_port" ping >/dev/null 2>&1 && return 0
            sleep 0.05
        done
        return 1
    fi
    if [ "$1" = server_asyncio ]; then
        "$PY" "$here/server_asyncio.py" 600 >"$tmp/port" &
    else
        "$1" 600 >"$tmp/port" &
    fi
    srv_pid=$!
    for _ in $(seq 1 200); do
        srv_port=$(sed -n 's/^port //p' "$tmp/port")
        [ -n "$srv_port" ] && return 0
        sleep 0.05
    done
    return 1
}

stop() {
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
}

failed=0 step=0
# The steps, to count them first: "load MIX CONNS DEPTH" and "rb CONNS P".
plan=$tmp/plan
: >"$plan"
for s in $servers; do
    for c in $sizes; do
        for d in 1 16; do echo "$s load getset $c $d" >>"$plan"; done
    done
    if [ "$s" != redis-server ]; then # it has no SLEEP or BURN
        for c in $wait_sizes; do echo "$s load wait $c 1" >>"$plan"; done
        echo "$s load cpu 10 1" >>"$plan"
    fi
    for c in $rb_sizes; do
        case $s in server_seq) [ "$c" -gt 1 ] && continue ;; esac
        case $s in server_pool) [ "$c" -gt 16 ] && continue ;; esac
        for d in 1 16; do echo "$s rb get,set $c $d" >>"$plan"; done
    done
done
for c in $null_sizes; do echo "server_null load getset $c 1" >>"$plan"; done
for s in server_epoll server_select server_uv server_asyncio redis-server; do
    for d in 1 16; do echo "$s rbb get,set 50 $d" >>"$plan"; done
done
case $only in
'') ;;
ceiling) awk -v sizes=" $null_sizes " '$2 == "load" && $3 == "getset" && $5 == 1 &&
        index(sizes, " " $4 " ") && $1 ~ /^(server_(null|epoll|select|uv)|redis-server)$/' \
        "$plan" >"$plan.only" ;;
budget) awk '$2 == "rbb"' "$plan" >"$plan.only" ;;
*) echo "bench.sh: --only ceiling or budget" >&2; exit 2 ;;
esac
[ -n "$only" ] && mv "$plan.only" "$plan"
total=$(wc -l <"$plan")
echo "bench: $total steps, $(echo $servers | wc -w) servers, connections $sizes"

run_load() { # server mix conns depth
    local s=$1 mix=$2 c=$3 d=$4 n line
    n=$((budget / c))
    [ "$mix" = wait ] && n=$((budget / 4 / c)) # 1 in 10 waits 10 ms
    [ "$mix" = cpu ] && n=$((budget / 2 / c))  # 1 in 10 burns 1 ms
    [ "$n" -lt $((2 * d)) ] && n=$((2 * d))
    [ "$mix" != getset ] && n=$(((n + 9) / 10 * 10))
    if [ "$s" = redis-server ]; then
        start redis-server || { echo "FAIL: redis-server did not start"; return 1; }
        line=$(load -c "$c" -n "$n" -P "$d" -m "$mix" -t "$limit" \
            -p "$srv_port" -s "$srv_pid" -N redis-server 2>&1 | tail -n 1)
        stop
    elif [ "$s" = server_asyncio ]; then
        line=$(cd "$here" && load -c "$c" -n "$n" -P "$d" -m "$mix" \
            -t "$limit" -N "$s" -- "$PY" server_asyncio.py 600 2>&1 | tail -n 1)
    else
        line=$(load -c "$c" -n "$n" -P "$d" -m "$mix" -t "$limit" -N "$s" \
            -- "$s" 600 2>&1 | tail -n 1)
    fi
    case $line in server=*) ;; *) echo "FAIL: $line"; return 1 ;; esac
    echo "client=load $line"
}

# redis-benchmark's CSV: "test","rps","avg","min","p50","p95","p99","max"
run_rb() { # server conns depth requests (the server is running: $srv_port)
    local s=$1 c=$2 d=$3 n=$4
    timeout 120 redis-benchmark -p "$srv_port" -t get,set -n "$n" \
        -c "$c" -P "$d" --csv 2>/dev/null |
        tr -d '"' | awk -F, -v s="$s" -v c="$c" -v d="$d" -v n="$n" '
        $1 == "SET" || $1 == "GET" {
            printf "client=redis-benchmark server=%s conns=%d depth=%d mix=%s done=%d want=%d errors=0 dropped=0 secs=%.2f rps=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f\n",
                s, c, d, tolower($1), n, n, n / $2, $2, $5 * 1000, $7 * 1000, $8 * 1000
        }'
}

running=
while read -r s kind mix c d; do
    if [ "$kind" != load ] && [ "$running" != "$s" ]; then
        [ -n "$running" ] && stop
        running=
        if start "$s"; then running=$s; else
            echo "FAIL: $s did not start" | tee -a "$raw"; failed=1
        fi
    fi
    if [ "$kind" = load ]; then
        step=$((step + 1))
        if ! line=$(run_load "$s" "$mix" "$c" "$d"); then
            echo "FAIL $s load $mix $c $d: $line" | tee -a "$raw"
            failed=1
            continue
        fi
        echo "$line" >>"$raw"
    else
        step=$((step + 1))
        [ "$running" = "$s" ] || continue
        n=$rb_n
        [ "$c" = 1 ] && n=$((rb_n / 2)) # one connection: the slowest steps
        [ "$kind" = rbb ] && n=$budget_n
        [ "$kind" = rbb ] && [ "$s" = server_asyncio ] && n=$((budget_n / 10))
        line=$(run_rb "$s" "$c" "$d" "$n")
        [ -n "$line" ] || line="FAIL $s redis-benchmark -c $c -P $d: no result"
        echo "$line" >>"$raw"
    fi
    case $line in FAIL*) failed=1 ;; esac
    printf '[%3d/%d] %-15s %-15s %-6s c=%-4s P=%-2s %s\n' "$step" "$total" "$s" \
        "$([ "$kind" = load ] && echo load || echo redis-bench)" "$mix" "$c" "$d" \
        "$(echo "$line" | tr ' ' '\n' | grep -E '^(rps|p99_us|done|want)=' | tr '\n' ' ')"
done <"$plan"
[ -n "$running" ] && stop
if [ -f "$here/bench_kv.sh" ] && [ "$only" != ceiling ]; then
    echo "bench: $here/bench_kv.sh (the capstone's server, budget group)"
    if bash "$here/bench_kv.sh" $([ "$quick" = 1 ] && echo --quick) \
        >"$out/bench_kv.txt" 2>&1; then
        grep '^client=' "$out/bench_kv.txt" >>"$raw"
    else
        echo "FAIL bench_kv.sh: see $out/bench_kv.txt" | tee -a "$raw"
        failed=1
    fi
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"

# CSV, JSON, the tables with ratios, the sanity checks, the plots.
"$PY" - "$raw" "$out" "$quick" <<'EOF' || failed=1
import csv, json, shutil, subprocess, sys
raw, out, quick = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
rows, bad = [], []
for line in open(raw):
    if line.startswith("FAIL"):
        bad.append(line.strip())
        continue
    r = dict(kv.split("=", 1) for kv in line.split())
    for k in r:
        if k not in ("client", "server", "mix"):
            v = float(r[k])
            r[k] = int(v) if v.is_integer() else v
    rows.append(r)
groups = {}
for r in rows:
    groups.setdefault((r["client"], r["mix"], r["conns"], r["depth"]), []).append(r)
for g in groups.values():
    best = max([r["rps"] for r in g if r["server"] != "server_null"] or [1]) or 1
    redis = [r["rps"] for r in g if r["server"] == "redis-server"]
    for r in g:
        r["x_best"] = round(r["rps"] / best, 3)
        r["x_redis"] = round(r["rps"] / redis[0], 3) if redis and redis[0] else ""
        if r["client"] == "load" and r["done"]:
            r["cpu_us_per_req"] = round(r["cpu_s"] * 1e6 / r["done"], 1)
keys = ["client", "server", "mix", "conns", "depth", "done", "want", "errors",
        "dropped", "secs", "rps", "x_redis", "x_best", "p50_us", "p99_us",
        "max_us", "cpu_s", "cpu_us_per_req", "mem_mib", "load_cpu"]
with open(out + "/results.csv", "w", newline="") as f:
    w = csv.DictWriter(f, keys, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
json.dump({"machine": open(out + "/machine.txt").read().splitlines(),
           "results": rows}, open(out + "/results.json", "w"), indent=1)
def num(x, fmt="{:.0f}"):
    return "" if x == "" else fmt.format(x)
lines = []
order = ["server_seq", "server_fork", "server_threads", "server_pool",
         "server_select", "server_epoll", "server_uring", "server_uv",
         "server_asyncio", "redis-server", "server_null"]
order += sorted({r["server"] for r in rows} - set(order))  # bench_kv.sh's
for key in sorted(groups, key=lambda k: (k[0] != "load", k[1] != "getset", k[1], k[3], k[2])):
    client, mix, conns, depth = key
    lines.append(f"\n{client}, {mix}, {conns:.0f} connections, depth {depth:.0f}:\n")
    lines.append("| server | req/s | x redis | x best | p50 ms | p99 ms | max ms | done/asked | CPU us/req | MiB | client CPU % |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(groups[key], key=lambda r: order.index(r["server"])):
        lines.append("| {} | {} | {} | {} | {} | {} | {} | {:.0f}/{:.0f} | {} | {} | {} |".format(
            r["server"], num(r["rps"]), num(r["x_redis"], "{:.2f}"), num(r["x_best"], "{:.2f}"),
            num(r["p50_us"] / 1e3, "{:.2f}"), num(r["p99_us"] / 1e3, "{:.2f}"),
            num(r["max_us"] / 1e3, "{:.1f}"), r["done"], r["want"],
            num(r.get("cpu_us_per_req", ""), "{:.1f}"), num(r.get("mem_mib", ""), "{:.1f}"),
            num(r.get("load_cpu", ""))))
open(out + "/table.md", "w").write("\n".join(lines).lstrip() + "\n")
# The summary: getset, load, requests per second by connections.
print("\nRequests per second (load, getset; x redis-server in brackets):")
for depth in (1, 16):
    cs = sorted({k[2] for k in groups if k[:2] == ("load", "getset") and k[3] == depth})
    print(f"\n  depth {depth}: " + "".join(f"{c:>17.0f}" for c in cs) + "  connections")
    for s in order:
        cells = []
        for c in cs:
            r = [r for r in groups.get(("load", "getset", c, depth), []) if r["server"] == s]
            cells.append(f"{r[0]['rps']:>9.0f} ({r[0]['x_redis']:>4.2f})" if r and r[0]["x_redis"] != "" else " " * 17)
        print(f"  {s:<15}" + "".join(f"{x:>17}" for x in cells))
# The generator's ceiling: load against server_null, and against the
# fastest real server of the same group.
print("\nThe generator's ceiling (load, getset, depth 1):")
print(f"  {'conns':>5}  {'server_null req/s':>17}  {'load CPU %':>10}  {'null CPU %':>10}  {'fastest real server':<20} {'req/s':>8}  {'x null':>6}  {'load CPU %':>10}")
for key in sorted(k for k in groups if k[:2] == ("load", "getset") and k[3] == 1):
    null = [r for r in groups[key] if r["server"] == "server_null"]
    real = [r for r in groups[key] if r["server"] != "server_null"]
    if not null or not real:
        continue
    n, b = null[0], max(real, key=lambda r: r["rps"])
    # A run too short to time (the quick mode's 400 requests at 100,000
    # a second) has no CPU share or ratio: "-".
    null_cpu = f"{100 * n['cpu_s'] / n['secs']:>10.0f}" if n["secs"] > 0 else f"{'-':>10}"
    x_null = f"{b['rps'] / n['rps']:>6.2f}" if n["rps"] > 0 else f"{'-':>6}"
    print(f"  {key[2]:>5.0f}  {n['rps']:>17.0f}  {n['load_cpu']:>10.0f}  {null_cpu}  "
          f"{b['server']:<20} {b['rps']:>8.0f}  {x_null}  {b['load_cpu']:>10.0f}")
# The budget: redis-benchmark -c 50, each C loop against redis-server
# and asyncio.
goals = {"server_epoll": 0.8, "server_select": 0.6}
blines = ["| test | -P | server | req/s | x redis-server | goal | x asyncio | goal 3 |", "|---|---:|---|---:|---:|---:|---:|---:|"]
for key in sorted(k for k in groups if k[0] == "redis-benchmark" and k[2] == 50):
    g = {r["server"]: r["rps"] for r in groups[key]}
    redis, py = g.get("redis-server", 0), g.get("server_asyncio", 0)
    for s in sorted(g, key=order.index):
        if s in ("redis-server", "server_asyncio"):
            blines.append(f"| {key[1]} | {key[3]:.0f} | {s} | {g[s]:.0f} | {g[s] / redis if redis else 0:.2f} | | | |")
            continue
        xr, xp = (g[s] / redis if redis else 0), (g[s] / py if py else 0)
        goal = goals.get(s)
        mark = "" if goal is None else (f"{goal} met" if xr >= goal else f"{goal} MISSED")
        blines.append(f"| {key[1]} | {key[3]:.0f} | {s} | {g[s]:.0f} | {xr:.2f} | {mark} | {xp:.1f} | {'met' if xp >= 3 else 'MISSED'} |")
if len(blines) > 2:
    print("\nThe budget (redis-benchmark -t get,set -c 50; the machine's load: machine.txt):")
    print("\n".join("  " + l for l in blines))
    open(out + "/budget.md", "w").write("\n".join(blines) + "\n")
# Sanity: every getset request answered, rightly, at a positive rate.
for r in rows:
    if r["mix"] in ("getset", "get", "set") and (r["done"] < r["want"] or r["errors"] or r["dropped"] or r["rps"] <= 0):
        bad.append("{client} {server} {mix} c={conns:.0f} P={depth:.0f}: done {done:.0f} of {want:.0f}, errors {errors:.0f}, dropped {dropped:.0f}".format(**r))
if shutil.which("gnuplot"):
    for what, col, title in (("rps", "rps", "requests per second"), ("p99", "p99_us", "p99 latency (us)")):
        data, names = [], []
        for s in order:
            pts = sorted((r["conns"], r[col]) for r in rows
                         if r["server"] == s and r["client"] == "load" and r["mix"] == "getset" and r["depth"] == 1)
            if pts:  # gnuplot fails on a series with no points
                data.append("\n".join(f"{c:.0f} {v:.0f}" for c, v in pts) + "\n\n\n")
                names.append(s)
        if not names:
            break
        open(out + f"/{what}.dat", "w").write("".join(data))
        # A colour per server (gnuplot's own repeat after eight), dashed for
        # the blocking servers, solid for the loops, dotted for redis-server;
        # noenhanced: an underscore is an underscore, not a subscript.
        colours = ["#000000", "#d62728", "#ff7f0e", "#8c564b", "#1f77b4", "#2ca02c", "#9467bd",
                   "#17becf", "#bcbd22", "#e377c2", "#7f7f7f"]
        blocking = ("server_seq", "server_fork", "server_threads", "server_pool")
        plot = ", ".join(
            f"'{out}/{what}.dat' index {i} with linespoints lw 2 lc rgb '{colours[i % len(colours)]}' "
            f"dt {2 if s in blocking else 3 if s == 'redis-server' else 1} pt {i + 1} title '{s}'"
            for i, s in enumerate(names))
        subprocess.run(["gnuplot", "-e", f"set terminal svg size 800,500 noenhanced background rgb 'white'; set output '{out}/{what}.svg'; "
                        f"set logscale x; set logscale y; set xlabel 'connections'; set ylabel '{title}'; "
                        f"set key outside; set title 'getset, depth 1, load.c'; plot {plot}"], check=True)
for b in bad:
    print("bench: FAIL", b)
sys.exit(1 if bad else 0)
EOF
echo "bench: $out/table.md, results.csv, results.json, raw.txt, machine.txt"
exit "$failed"
