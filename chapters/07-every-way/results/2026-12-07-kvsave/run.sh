#!/bin/sh
# Records the runs that the kvsave section of chapter 7 quotes.
# Run from the top of the workbook:
#     sh chapters/07-every-way/results/2026-12-07-kvsave/run.sh OUTDIR
# Writes OUTDIR/machine.txt, OUTDIR/cost.txt, OUTDIR/redis.txt.
# Builds into build/kvsave_cost_ref and build/kvsave_cost_wrong_on_loop;
# everything else (the snapshot, redis-server's folder and socket) goes
# to a temporary folder that is removed at the end.
set -eu
out=${1:?usage: run.sh OUTDIR}
mkdir -p "$out" build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Echo a command, then run it (its output follows it in the log).
run() {
    echo "\$ $*"
    "$@"
}

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "kernel: $(uname -sr)"
    echo "cores: $(nproc)"
    echo "cpu: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | sort -u)"
    echo "cc: $(cc --version | head -1)"
    echo "redis-server: $(redis-server --version)"
    echo "tmp: $tmp ($(df -T "$tmp" | awk 'NR==2 {print $2}'))"
    echo "uptime before: $(uptime)"
} >"$out/machine.txt"

srcs="solutions/07-every-way/kv.c solutions/05-callbacks/offload.c \
solutions/04-select/loop.c solutions/04-select/timerq.c"
incs="-Iexercises/07-every-way -Iexercises/05-callbacks -Iexercises/04-select \
-Iexercises -Ichapters"
patch -s -o "$tmp/kvsave_wrong_on_loop.c" solutions/07-every-way/kvsave.c \
    <tests/07-every-way/kvsave.wrong_on_loop.patch

{
    # The build command of kvsave_cost.c's header comment, once with the
    # reference kvsave.c and once with the variant applied to a copy.
    # shellcheck disable=SC2086
    run nice -n 10 cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -pthread $incs \
        -o build/kvsave_cost_ref tests/07-every-way/kvsave_cost.c \
        solutions/07-every-way/kvsave.c $srcs
    # shellcheck disable=SC2086
    run nice -n 10 cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -pthread $incs \
        -o build/kvsave_cost_wrong_on_loop tests/07-every-way/kvsave_cost.c \
        "$tmp/kvsave_wrong_on_loop.c" $srcs
    for i in 1 2 3; do
        for v in ref wrong_on_loop; do
            echo "# run $i, $v, $(date -u +%H:%M:%S), $(uptime | sed 's/.*load/load/')"
            run "build/kvsave_cost_$v" 100000 "$tmp/snap"
        done
    done
} >"$out/cost.txt" 2>&1

# redis-server with no TCP port (--port 0), a unix socket and its
# folder in $tmp, no save points, DEBUG allowed from local clients.
redis-server --port 0 --unixsocket "$tmp/redis.sock" --dir "$tmp" \
    --dbfilename dump.rdb --save '' --appendonly no \
    --enable-debug-command local --daemonize no \
    --logfile "$tmp/redis.log" &
pid=$!
i=0
while [ ! -S "$tmp/redis.sock" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
cli() {
    echo "\$ redis-cli -s \$tmp/redis.sock $*"
    redis-cli -s "$tmp/redis.sock" "$@"
}
# BGSAVE, wait until it has finished, then the fork's time.
bgsave() {
    cli BGSAVE
    n=0
    while redis-cli -s "$tmp/redis.sock" INFO persistence |
        grep -q '^rdb_bgsave_in_progress:1' && [ $n -lt 600 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    cli INFO persistence | tr -d '\r' |
        grep -E '^(rdb_last_bgsave_status|rdb_last_bgsave_time_sec|rdb_last_cow_size|latest_fork_usec)'
    cli INFO stats | tr -d '\r' | grep -E '^(latest_fork_usec|total_forks)' || true
}
{
    echo "# redis-server pid $pid: redis-server --port 0 --unixsocket \$tmp/redis.sock --dir \$tmp --dbfilename dump.rdb --save '' --appendonly no --enable-debug-command local --daemonize no --logfile \$tmp/redis.log"
    for keys in 100000 1000000; do
        cli FLUSHALL
        cli DEBUG POPULATE "$keys" key 16
        cli DBSIZE
        cli INFO memory | tr -d '\r' | grep -E '^(used_memory_human|used_memory_rss_human)'
        for i in 1 2 3; do
            echo "# $keys keys, BGSAVE $i, $(date -u +%H:%M:%S), $(uptime | sed 's/.*load/load/')"
            bgsave
        done
    done
    echo "# stop: kill $pid"
} >"$out/redis.txt" 2>&1
kill "$pid"
wait "$pid" || true
echo "uptime after: $(uptime)" >>"$out/machine.txt"
