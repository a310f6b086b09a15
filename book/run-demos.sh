#!/usr/bin/env bash
# Runs every demo run listed in chapters/*/runs and keeps what it printed.
#
#   run-demos.sh DEMO_DIR OUT_DIR [CHAPTER_FOLDER...]
#
# DEMO_DIR holds the built demos (DEMO_DIR/NN-topic/NAME). For each run,
# OUT_DIR/NN-topic/ID.txt gets its output (stdout and stderr together) and
# OUT_DIR/NN-topic/ID.cmd its command line, which the book shows. A run
# fails when its exit status is not the one listed, when an `exact` run's
# output differs from chapters/NN-topic/expected/ID.txt, or when it runs
# past RUN_LIMIT seconds. A demo that no run uses is a failure too.
#
# Every run has WB_TRACE pointing at OUT_DIR/NN-topic/ID.trace (see
# chapters/trace.h). When a run leaves a trace and the renderer TIMELINE
# (default build/tools/timeline) exists, the trace is drawn into ID.svg,
# ID.pdf (for the PDF book) and ID.timeline.txt; when its spans come from
# more than one process, also by slot (timeline --slots) into
# ID.slots.svg and ID.slots.pdf.
# Chapters run side by side, RUN_JOBS (default 4) at a time. Prints one
# line per run, in chapter order; exits 1 if anything failed.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
demos=$1 out=$2
shift 2
RUN_LIMIT=${RUN_LIMIT:-20}
RUN_JOBS=${RUN_JOBS:-4}
TIMELINE=${TIMELINE:-build/tools/timeline}

if [ $# -gt 0 ]; then
    folders=("$@")
else
    folders=()
    for f in chapters/[0-9][0-9]-*/; do
        f=${f%/}
        folders+=("${f#chapters/}")
    done
fi

# One chapter's runs, in order: its lines on stdout, then "count failed"
# in $scratch/CHAPTER.counts.
run_chapter() {
    local c=$1 failed=0 count=0 runs used id want mode cmd word start trace status ms src name
    runs=chapters/$c/runs
    mkdir -p "$out/$c"
    used=" "
    if [ -f "$runs" ]; then
        while read -r id want mode cmd; do
            case $id in '' | '#'*) continue ;; esac
            count=$((count + 1))
            if [ -z "$cmd" ] || ! [[ $want =~ ^[0-9]+$ ]] ||
                { [ "$mode" != exact ] && [ "$mode" != varies ]; }; then
                echo "FAIL $c/$id: malformed line in $runs (want: id exit exact|varies command)"
                failed=$((failed + 1))
                continue
            fi
            for word in $cmd; do used+="$word "; done
            printf '%s\n' "$cmd" >"$out/$c/$id.cmd"
            start=$(date +%s%N)
            trace=$root/$out/$c/$id.trace
            rm -f "$trace" "$out/$c/$id".{svg,pdf,timeline.txt,slots.svg,slots.pdf}
            (cd "chapters/$c" &&
                PATH="$root/$demos/$c:$PATH" WB_TRACE=$trace timeout -k 2 "$RUN_LIMIT" sh -c "$cmd") \
                >"$out/$c/$id.txt" 2>&1 </dev/null
            status=$?
            if [ -s "$trace" ] && [ -x "$TIMELINE" ]; then
                if ! "$TIMELINE" --svg "$out/$c/$id.svg" --title "$cmd" "$trace" ||
                    ! "$TIMELINE" --text "$trace" >"$out/$c/$id.timeline.txt" ||
                    ! rsvg-convert -f pdf -o "$out/$c/$id.pdf" "$out/$c/$id.svg"; then
                    echo "FAIL $c/$id: its trace could not be drawn"
                    failed=$((failed + 1))
                    continue
                fi
                # Spans from more than one process: also one lane per
                # slot (timeline --slots), as ID.slots.svg and .pdf.
                if [ "$(awk '!/^#/ && NF { print $1 }' "$trace" | sort -u | wc -l)" -gt 1 ] &&
                    { ! "$TIMELINE" --slots --svg "$out/$c/$id.slots.svg" --title "$cmd" "$trace" ||
                        ! rsvg-convert -f pdf -o "$out/$c/$id.slots.pdf" "$out/$c/$id.slots.svg"; }; then
                    echo "FAIL $c/$id: its trace could not be drawn by slot"
                    failed=$((failed + 1))
                    continue
                fi
            fi
            ms=$((($(date +%s%N) - start) / 1000000))
            if [ "$status" -ne "$want" ]; then
                echo "FAIL $c/$id: exit status $status, expected $want ($cmd)"
                sed 's/^/    /' "$out/$c/$id.txt" | tail -n 5
                failed=$((failed + 1))
            elif [ "$mode" = exact ] && ! diff -u "chapters/$c/expected/$id.txt" "$out/$c/$id.txt" >"$out/$c/$id.diff" 2>&1; then
                echo "FAIL $c/$id: output differs from chapters/$c/expected/$id.txt:"
                head -n 20 "$out/$c/$id.diff" | sed 's/^/    /'
                failed=$((failed + 1))
            else
                printf 'ok   %s/%s (%s, %d ms)\n' "$c" "$id" "$mode" "$ms"
            fi
        done <"$runs"
    fi
    for src in chapters/"$c"/*.c; do
        [ -e "$src" ] || continue
        name=$(basename "$src" .c)
        case $used in *" $name "*) ;; *)
            echo "FAIL $c/$name: no line of $runs runs this demo"
            failed=$((failed + 1)) ;;
        esac
    done
    echo "$count $failed" >"$scratch/$c.counts"
}

# The chapters run side by side, RUN_JOBS at a time (their demos mostly
# sleep and wait); what each printed is shown in chapter order.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for c in "${folders[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$RUN_JOBS" ]; do wait -n; done
    run_chapter "$c" >"$scratch/$c.out" 2>&1 &
done
wait
failed=0 count=0
for c in "${folders[@]}"; do
    cat "$scratch/$c.out"
    read -r n f <"$scratch/$c.counts" || { n=0 f=1; echo "FAIL $c: its runs did not finish"; }
    count=$((count + n)) failed=$((failed + f))
done
echo "demos: $((count - failed > 0 ? count - failed : 0)) runs ok, $failed failed"
[ "$failed" -eq 0 ]
