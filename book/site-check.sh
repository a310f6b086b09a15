#!/usr/bin/env bash
# Test the site (the book a page per chapter) in a real browser: headless
# Chromium, as book/browser-check.sh tests the one-page book.
#
#   book/site-check.sh SITE_DIR DOCS_DIR OUT_DIR
#   (make test: book/site-check.sh build/book/html build/docs/html build/book)
#
# On a copy of the site (and of the API reference beside it, where the
# site's links expect it), with book/site-check.js and book/browser-check.js
# injected at the start of every page's <head>:
#
#  - every page the sidebar lists loads with no error, no console error or
#    warning, no missing picture or resource, nothing from outside the site;
#  - every link resolves: in the page, to another page's section, to a
#    listing's source file, to the API reference, and each exercise's
#    contract page links back to the section that links to it;
#  - the sidebar marks the current page and follows the reader's scrolling;
#    at 390 px no page scrolls sideways and the Contents button opens and
#    closes the sidebar;
#  - every code block has a copy button that copies it (a run: its command);
#  - the search finds, for each page, a word only that page uses, and Enter
#    opens the first result;
#  - a link from one chapter to a section of another lands on that section;
#  - a chapter page is readable with the light and the dark preference
#    (book/browser-check.js's colour checks), and changes with it.
#
# It prints one line per problem and exits 1 if there is any, 2 if it cannot
# run at all, 0 when all is well. Screenshots of a chapter page, for a person
# to look at, go to OUT_DIR: screenshot-site-light.png, screenshot-site-dark.png
# (1280 x 900), screenshot-site-phone.png (390 x 844), screenshot-site-menu.png
# (the phone with the sidebar open), screenshot-site-search.png (a search and
# its results) and screenshot-site-listing.png (the first listing, with the
# file it comes from and its copy button).
# CHROMIUM names the browser (default: chromium); SITE_CHECK_KEEP=1 keeps the
# temporary folder and prints where it is.
set -u

prog="site-check"
if [ $# -ne 3 ]; then
    echo "usage: $0 SITE_DIR DOCS_DIR OUT_DIR" >&2
    exit 2
fi
site=$1 docs=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
chromium=${CHROMIUM:-chromium}

[ -f "$site/index.html" ] || { echo "$prog: no $site/index.html (make book builds it)" >&2; exit 2; }
[ -d "$docs" ] || { echo "$prog: no $docs (make docs builds it)" >&2; exit 2; }
for f in site-check.js browser-check.js; do
    [ -f "$here/$f" ] || { echo "$prog: missing $here/$f" >&2; exit 2; }
done
command -v "$chromium" >/dev/null ||
    { echo "$prog: $chromium not found (make deps installs Debian's chromium)" >&2; exit 2; }
mkdir -p "$out" || exit 2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/site-check.XXXXXX") || exit 2
child=
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    # As in browser-check.sh: every chromium runs under timeout; one that got
    # away is found by the profile folder it was given, and ended by its id.
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
    if [ -n "${SITE_CHECK_KEEP:-}" ]; then
        echo "$prog: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$SECONDS
deadline=$((start + 110))
problems=0
problem() {
    echo "$prog: $*"
    problems=$((problems + 1))
}

# --- the copy: book/html and docs/html side by side, as under build/ ---------------
copy=$tmp/build/book/html
mkdir -p "$copy" "$tmp/build/docs" || exit 2
cp -R "$site/." "$copy/" && cp -R "$docs" "$tmp/build/docs/html" || exit 2
cp "$here/site-check.js" "$here/browser-check.js" "$copy/" || exit 2
for page in "$copy"/*.html; do
    sed -i -E '0,/<head([[:space:]][^>]*)?>/I s//&<script src="site-check.js"><\/script><script src="browser-check.js"><\/script>/' "$page"
    grep -q '<script src="site-check.js">' "$page" ||
        { echo "$prog: $page has no <head> tag: cannot inject the check" >&2; exit 2; }
done
cat >"$copy/check-host.html" <<'EOF'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>site check</title>
<script src="site-check.js"></script>
<style>html, body { margin: 0; padding: 0; }</style></head><body></body></html>
EOF

# Which chapter page the screenshots and the colour checks look at: the
# first page after the start page, unless SITE_CHECK_PAGE names another.
chapter=${SITE_CHECK_PAGE:-$(sed -n 's/.*<a class="pager-next" rel="next" href="\([^"]*\)".*/\1/p' "$site/index.html" | head -n 1)}
if [ -z "$chapter" ] || [ ! -f "$site/$chapter" ]; then
    echo "$prog: cannot tell the first chapter's page from $site/index.html" >&2
    exit 2
fi

# --- the API reference links back (checked from the files; the browser then
#     checks that the links land) -----------------------------------------------------
for h in exercises/*/*.h; do
    [ -f "$h" ] || continue
    name=$(basename "$h")
    apipage=$docs/$(printf '%s' "$name" | sed 's/_/__/g; s/\./_8/g').html
    if [ ! -f "$apipage" ]; then
        problem "no API page $apipage for $h"
    elif ! grep -q 'href="\.\./\.\./book/html/[^"]*#' "$apipage"; then
        problem "$apipage has no link back to the book (does a section of the chapter link to [$name](api:$name)?)"
    fi
done

# --- running chromium (as in browser-check.sh) ------------------------------------------
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --disable-crash-reporter --disable-breakpad --disable-extensions
       --disable-default-apps --no-default-browser-check --mute-audio
       --hide-scrollbars --lang=en-US)
dark_flag=--blink-settings=preferredColorScheme=0
runs=0

run_chromium() {   # run_chromium SECONDS_WANTED ARGS...
    local want=$1 left t0 rc
    shift
    left=$((deadline - SECONDS))
    [ "$left" -lt "$want" ] && want=$left
    if [ "$want" -lt 3 ]; then
        echo "out of time" >>"$tmp/chromium.log"
        return 124
    fi
    runs=$((runs + 1))
    t0=$SECONDS
    echo "== run $runs: $*" >>"$tmp/chromium.log"
    timeout -k 3 "$want" "$chromium" "${flags[@]}" \
        --user-data-dir="$tmp/profile-$runs" "$@" 2>>"$tmp/chromium.log" &
    child=$!
    wait "$child"
    rc=$?
    child=
    echo "== run $runs: exit $rc after $((SECONDS - t0))s" >>"$tmp/chromium.log"
    return "$rc"
}

# dump_result NAME SECONDS MARK URL [FLAGS...]: load URL, cut the lines
# between MARK-BEGIN and MARK-END out of the DOM into $tmp/NAME.result.
dump_result() {
    local name=$1 secs=$2 mark=$3 url=$4 rc
    shift 4
    run_chromium "$secs" --window-size=1400,1000 --virtual-time-budget=120000 "$@" \
        --dump-dom "$url" >"$tmp/$name.dom"
    rc=$?
    awk -v b="$mark-BEGIN" -v e="$mark-END" '$0 ~ b { on = 1; next } $0 ~ e { on = 0 } on' \
        "$tmp/$name.dom" |
        sed -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&nbsp;/ /g' -e 's/&quot;/"/g' -e 's/&amp;/\&/g' \
            >"$tmp/$name.result"
    [ -s "$tmp/$name.result" ] && return 0
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        problem "$name: no result in time (a page that never loads, or a machine too busy?)"
        return 2
    fi
    problem "$name: no result (chromium exit $rc); chromium said:"
    grep -v -e dbus -e 'unexpected operator' -e zygote -e '^== ' "$tmp/chromium.log" |
        tail -n 5 | sed "s/^/$prog:   /"
    return 1
}

report() {   # report NAME: print its problems, count them; print its info lines
    local line
    while IFS= read -r line; do
        case $line in
            problem:*) problem "${line#problem: }" ;;
            info:*) [ "${2:-}" = quiet ] || echo "$prog: ${line#info: }" ;;
        esac
    done <"$tmp/$1.result"
}

base="file://$copy"
rm -f "$out"/screenshot-site-{light,dark,phone,search,listing,menu}.png

# 1. The whole site, page by page, as a reader (one chromium).
if dump_result site 75 SC "$base/check-host.html?sc=host" --allow-file-access-from-files; then
    report site
fi

# 2. A chapter's colours, light and dark (book/browser-check.js's checks).
if dump_result light 20 BC "$base/$chapter?bc=colors"; then
    report light quiet
fi
if dump_result dark 20 BC "$base/$chapter?bc=colors" "$dark_flag"; then
    report dark quiet
    light=$(sed -n 's/^info: colors light //p' "$tmp/light.result" | head -n 1)
    dark=$(sed -n 's/^info: colors dark //p' "$tmp/dark.result" | head -n 1)
    if [ -z "$dark" ]; then
        problem "chromium did not turn on the dark preference with $dark_flag"
    elif [ -n "$light" ] && [ "${light%% text*}" = "${dark%% text*}" ]; then
        problem "$chapter ignores the dark preference: the same ${dark%% text*} in light and dark"
    else
        echo "$prog: $chapter light: $light; dark: $dark"
    fi
fi

# 3. Screenshots for a person to look at: the pages as they are.
shot() {   # shot FILE WINDOW URL [FLAGS...]
    local file=$1 size=$2 url=$3
    shift 3
    run_chromium 15 --window-size="$size" --virtual-time-budget=5000 "$@" \
        --screenshot="$out/$file" "$url" >/dev/null
    [ -s "$out/$file" ] || problem "no screenshot $out/$file"
}
shot screenshot-site-light.png 1280,900 "$base/$chapter"
shot screenshot-site-dark.png 1280,900 "$base/$chapter" "$dark_flag"
shot screenshot-site-phone.png 390,844 "$base/$chapter"
shot screenshot-site-search.png 1280,900 "$base/$chapter?q=select+timeout"
shot screenshot-site-listing.png 1280,900 "$base/$chapter?sc=shot-listing"
shot screenshot-site-menu.png 390,844 "$base/$chapter?sc=shot-menu"

elapsed=$((SECONDS - start))
if [ "$problems" -gt 0 ]; then
    echo "$prog: FAIL: $problems problem(s) in $site ($runs chromium runs, ${elapsed}s)"
    exit 1
fi
echo "$prog: OK: $site (every page, link, picture, sidebar, copy button, search; light and dark; screenshots in $out; $runs chromium runs, ${elapsed}s)"
exit 0
