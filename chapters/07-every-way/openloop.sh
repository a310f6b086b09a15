#!/bin/sh
# openloop.sh: the same server measured twice by load, first in a closed
# loop (each connection sends its next request when the last reply has
# come), then in an open loop (--rate: requests leave on a timetable) at
# 80% of the rate the closed loop reached. Prints the two side by side:
# a closed loop slows down with the server and so never sees the queue
# that a stall builds; the open loop keeps sending, and its latencies
# count from when each request was due.
#
#   sh openloop.sh [SERVER [MIX [CONNS [REQS]]]]
#   (defaults: server_epoll cpu 10 1000; load and the server on PATH)
set -eu
unset WB_TRACE # no trace of its thousand BURNs
server=${1:-server_epoll} mix=${2:-cpu} conns=${3:-10} reqs=${4:-1000}
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
closed=$(load -c "$conns" -n "$reqs" -m "$mix" -- "$server")
rps=$(field rps "$closed")
rate=$((rps * 8 / 10))
open=$(load -c "$conns" -n "$reqs" -m "$mix" --rate "$rate" -- "$server")
echo "$server, mix $mix, $conns connections, $reqs requests each:"
printf '%-28s %8s %8s %8s %8s\n' "load" "req/s" "p50 ms" "p99 ms" "max ms"
for line in "$closed" "$open"; do
    r=$(field rate "$line")
    if [ "$r" = 0 ]; then name="closed loop"; else name="open loop, --rate $r"; fi
    echo "$line" | awk -v name="$name" '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        printf "%-28s %8d %8.2f %8.2f %8.2f\n", name, f["rps"],
            f["p50_us"] / 1000, f["p99_us"] / 1000, f["max_us"] / 1000 }'
done
