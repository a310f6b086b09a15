#!/usr/bin/env bash
# Test the HTML book in a real browser: headless Chromium, nothing else.
#
#   book/browser-check.sh HTML_FILE OUT_DIR
#
# On a copy of the page, with book/browser-check.js injected at the start of
# <head>, it checks that every picture loads, every internal link (#id) has
# its target, the console shows no error or warning, nothing is loaded from
# outside the page, the page does not scroll sideways on a 390 px phone, and
# the colours follow the reader's light or dark preference (text and links
# readable in both). It prints one line per problem and exits 1 if there is
# any, 2 if it cannot run at all, 0 when all is well. It saves screenshots in
# OUT_DIR: screenshot-first-screen.png (1280 x 900), screenshot-phone.png
# (390 x 844), screenshot-dark.png (1280 x 900, dark preference) and
# screenshot-timeline.png (the first picture of the book, if it has one).
#
# The copy lives in a temporary folder, so a picture that is not embedded in
# the page fails to load there: this also checks that the page is
# self-contained. CHROMIUM names the browser (default: chromium);
# BROWSER_CHECK_KEEP=1 keeps the temporary folder (the copies, the dumped
# DOMs, chromium's log) and prints where it is.
set -u

prog=browser-check
if [ $# -ne 2 ]; then
    echo "usage: $0 HTML_FILE OUT_DIR" >&2
    exit 2
fi
html=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
js=$here/browser-check.js
chromium=${CHROMIUM:-chromium}

[ -f "$html" ] || { echo "$prog: no such file: $html" >&2; exit 2; }
[ -f "$js" ] || { echo "$prog: missing $js" >&2; exit 2; }
command -v "$chromium" >/dev/null ||
    { echo "$prog: $chromium not found (make deps installs Debian's chromium)" >&2; exit 2; }
mkdir -p "$out" || exit 2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/browser-check.XXXXXX") || exit 2
child=
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    # Every chromium call runs under timeout, which ends its whole process
    # group when time is up or when it is itself told to stop; then any
    # process that got away is found by the profile folder it was given
    # (inside $tmp) and ended by its id.
    local pids
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    pids=$(pgrep -f -- "--user-data-dir=$tmp/" 2>/dev/null || true)
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
    fi
    if [ -n "${BROWSER_CHECK_KEEP:-}" ]; then
        echo "$prog: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$SECONDS
deadline=$((start + 55))      # the whole check stays under a minute
problems=0
problem() {
    echo "$prog: $*"
    problems=$((problems + 1))
}

# --- the copies of the page ---------------------------------------------------
# The script goes in by a short <script src> tag, so that <meta charset>
# stays within the first 1024 bytes where the browser looks for it.
cp "$js" "$tmp/browser-check.js"
cp "$html" "$tmp/plain.html"
sed -E '0,/<head([[:space:]][^>]*)?>/I s//&<script src="browser-check.js"><\/script>/' \
    "$html" >"$tmp/page.html"
if ! grep -q '<script src="browser-check.js"></script>' "$tmp/page.html"; then
    echo "$prog: $html has no <head> tag: cannot inject the check" >&2
    exit 2
fi
cat >"$tmp/phone.html" <<'EOF'
<!DOCTYPE html>
<html lang="en" data-page="page.html"><head><meta charset="utf-8">
<title>phone</title><script src="browser-check.js"></script>
<style>html, body { margin: 0; padding: 0; }</style></head><body></body></html>
EOF

# --- running chromium -----------------------------------------------------------
# As root on a closed network: no sandbox, no GPU, and nothing that reaches
# out (background networking, component updates, sync, crash reports).
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --disable-crash-reporter --disable-breakpad --disable-extensions
       --disable-default-apps --no-default-browser-check --mute-audio
       --hide-scrollbars --lang=en-US)
# Turns prefers-color-scheme to dark (checked below, and by eye in the
# screenshot); --force-dark-mode does too, but it also darkens the browser's
# own parts.
dark_flag=--blink-settings=preferredColorScheme=0
runs=0

# run_chromium SECONDS_WANTED ARGS... : one chromium, its own new profile, a
# time limit that never runs past the deadline. Its log goes to $tmp.
run_chromium() {
    local want=$1 left
    shift
    left=$((deadline - SECONDS))
    [ "$left" -lt "$want" ] && want=$left
    if [ "$want" -lt 3 ]; then
        echo "out of time" >>"$tmp/chromium.log"
        return 124
    fi
    runs=$((runs + 1))
    local t0=$SECONDS rc
    echo "== run $runs: $*" >>"$tmp/chromium.log"
    # In the background and waited for, so that a signal to this script is
    # handled at once: timeout runs chromium in a process group of its own,
    # which a Ctrl-C at the terminal does not reach.
    timeout -k 3 "$want" "$chromium" "${flags[@]}" \
        --user-data-dir="$tmp/profile-$runs" "$@" 2>>"$tmp/chromium.log" &
    child=$!
    wait "$child"
    rc=$?
    child=
    echo "== run $runs: exit $rc after $((SECONDS - t0))s" >>"$tmp/chromium.log"
    return "$rc"
}

# dump_result NAME WINDOW URL [FLAGS...] : load URL, let its scripts run, and
# cut the result lines out of the DOM into $tmp/NAME.result. Returns 0 with a
# result, 2 if chromium ran out of time, 1 on any other failure.
dump_result() {
    local name=$1 size=$2 url=$3 rc
    shift 3
    run_chromium 20 --window-size="$size" --virtual-time-budget=30000 "$@" \
        --dump-dom "$url" >"$tmp/$name.dom"
    rc=$?
    awk '/BC-BEGIN/ { on = 1; next } /BC-END/ { on = 0 } on' "$tmp/$name.dom" |
        sed -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&nbsp;/ /g' -e 's/&amp;/\&/g' \
            >"$tmp/$name.result"
    [ -s "$tmp/$name.result" ] && return 0
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        problem "$name: the page did not finish loading in time (a script that never ends, or a resource that never comes?)"
        return 2
    fi
    problem "$name: the page gave no result (chromium exit $rc); chromium said:"
    grep -v -e dbus -e 'unexpected operator' -e zygote -e '^== ' "$tmp/chromium.log" |
        tail -n 5 | sed "s/^/$prog:   /"
    return 1
}

# report NAME : print the problems of one result (and count them).
report() {
    local line
    while IFS= read -r line; do
        case $line in
            problem:*) problem "${line#problem: }" ;;
        esac
    done <"$tmp/$1.result"
}

info() {   # info NAME PREFIX : the rest of the first info line with PREFIX
    sed -n "s/^info: $2//p" "$tmp/$1.result" 2>/dev/null | head -n 1
}

summary() {
    local elapsed=$((SECONDS - start))
    if [ -s "$tmp/check.result" ]; then
        echo "$prog: $(grep -m1 -e 'image(s)' "$tmp/check.result" | sed 's/^info: //');" \
            "$(grep -m1 -e 'internal link' "$tmp/check.result" | sed 's/^info: //')"
    fi
    if [ "$problems" -gt 0 ]; then
        echo "$prog: FAIL: $problems problem(s) in $html ($runs chromium runs, ${elapsed}s)"
        exit 1
    fi
    echo "$prog: OK: $html (no console error, no sideways scroll at 390 px, light and dark; screenshots in $out; $runs chromium runs, ${elapsed}s)"
    exit 0
}

base="file://$tmp"
rm -f "$out"/screenshot-{first-screen,phone,dark,timeline}.png

# 1. Errors, pictures, links, self-containment, light colours (1280 x 900).
dump_result check 1280,900 "$base/page.html?bc=check"
case $? in
    0) report check ;;
    *) summary ;;   # a page that hangs or will not load: no use going on
esac

# 2. The phone: the book in a 390 x 844 frame (a headless window cannot be
#    narrower than 500 px, a frame can).
if dump_result phone 1280,900 "$base/phone.html?bc=phone-host"; then
    report phone
fi

# 3. The dark preference: the colours must change, and stay readable.
if dump_result dark 1280,900 "$base/page.html?bc=colors" "$dark_flag"; then
    report dark
    light_colors=$(info check 'colors light ')
    dark_colors=$(info dark 'colors dark ')
    if [ -z "$dark_colors" ]; then
        problem "chromium did not turn on the dark preference with $dark_flag"
    elif [ -n "$light_colors" ] &&
        [ "${light_colors%% text*}" = "${dark_colors%% text*}" ]; then
        problem "the page ignores the dark preference: the same ${dark_colors%% text*} in light and dark"
    fi
fi

# 4. Screenshots, of the page as it is (the copy without the script).
shot() {   # shot FILE WINDOW URL [FLAGS...]
    local file=$1 size=$2 url=$3
    shift 3
    run_chromium 15 --window-size="$size" --virtual-time-budget=5000 "$@" \
        --screenshot="$out/$file" "$url" >/dev/null
    [ -s "$out/$file" ] || problem "no screenshot $out/$file"
}
shot screenshot-first-screen.png 1280,900 "$base/plain.html"
shot screenshot-phone.png 390,844 "$base/plain.html"
shot screenshot-dark.png 1280,900 "$base/plain.html" "$dark_flag"

# The first picture alone, at the book's width, the window as tall as it is.
picture=$(info check 'picture: ')
if [ -n "$picture" ]; then
    height=${picture%% *}
    case $height in '' | *[!0-9]*) height=600 ;; esac
    height=$((height + 80))
    [ "$height" -lt 200 ] && height=200
    [ "$height" -gt 3000 ] && height=3000
    shot screenshot-timeline.png "1280,$height" "$base/page.html?bc=timeline"
    echo "$prog: first picture: ${picture#* }"
elif [ -s "$tmp/check.result" ]; then
    echo "$prog: the page has no picture: no screenshot-timeline.png"
fi

summary
