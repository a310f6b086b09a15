#!/bin/sh
# A session with chat_server: two people, alice and bob, each with
# `nc 127.0.0.1 PORT` in a terminal of their own. What each types is fed
# to nc with pauses, so the order is fixed; each terminal's file gets
# what the server sent and, marked "(typed)", what that person typed, in
# the order it happened. nc stays connected after its input ends; the
# server stops after 2 seconds, and both nc end when it closes their
# connections.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chat_server 0 2 >"$tmp/server" &
for i in 1 2 3 4 5 6 7 8 9 10; do
    grep -q port "$tmp/server" && break
    sleep 0.1
done
port=$(sed -n 's/.*port //p' "$tmp/server")
# person NAME: lines "SECONDS TEXT" on stdin: wait, then type TEXT.
person() {
    while read -r pause text; do
        sleep "$pause"
        echo "(typed) $text" >>"$tmp/$1"
        echo "$text"
    done
}
printf '0.3 hi bob\n0.6 bye for now\n' | person alice |
    nc 127.0.0.1 "$port" >>"$tmp/alice" &
sleep 0.1
printf '0.4 hello alice\n0.6 see you\n' | person bob |
    nc 127.0.0.1 "$port" >>"$tmp/bob" &
wait
for who in alice bob; do
    echo "--- $who's terminal: nc 127.0.0.1 $port"
    cat "$tmp/$who"
done
echo "--- the server's"
cat "$tmp/server"
