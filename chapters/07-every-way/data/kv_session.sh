#!/bin/sh
# A session with kv_server (chapter 7's first capstone): redis-cli sends
# a few commands, a request typed by hand goes through nc (an inline
# command, then an array with a bulk length that lies), and a short
# redis-benchmark run with pipelining. Then SIGTERM: the server answers
# what it was asked, closes, and says so.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kv_server 0 20 >"$tmp/server" &
pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
    grep -q port "$tmp/server" && break
    sleep 0.1
done
port=$(sed -n 's/.*port //p' "$tmp/server")
cli() {
    printf '$ redis-cli -p PORT'
    printf " '%s'" "$@"
    echo
    redis-cli -p "$port" "$@"
}
cli set greeting "hello world"
cli get greeting
cli del greeting nothing
cli get greeting
cli sleep 200
cli fly away
printf '%s\n' "\$ printf 'PING\\r\\nECHO hi\\r\\n*2\\r\\n\$3\\r\\nGET\\r\\n\$5\\r\\nab\\r\\nxyz' | nc 127.0.0.1 PORT"
printf 'PING\r\nECHO hi\r\n*2\r\n$3\r\nGET\r\n$5\r\nab\r\nxyz' |
    nc -q 1 127.0.0.1 "$port" | tr -d '\r'
echo "\$ redis-benchmark -p PORT -t get,set -n 20000 -c 10 -P 16 -q"
redis-benchmark -p "$port" -t get,set -n 20000 -c 10 -P 16 -q 2>&1 |
    tr '\r' '\n' | grep 'requests per second' | sed 's/, p50=.*//'
kill -TERM "$pid"
wait "$pid"
echo "--- the server's output"
cat "$tmp/server" | sed "s/port $port/port PORT/"
