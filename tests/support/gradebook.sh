#!/usr/bin/env bash
# `make gradebook SUBMISSIONS=DIR [CHAPTER=N]`: grades a whole class.
#
# DIR holds one entry per learner, named after the learner: a folder laid
# out like exercises/ (DIR/alice/01-sync/runner.c ...), or an archive of
# one (alice.tar.gz, alice.tgz, alice.tar or alice.zip; its files may sit
# under one top folder). Each learner is graded by tests/support/grade.sh
# in sandboxes of their own, PARALLEL learners at a time, with one
# progress line per learner. Writes under build/gradebook/:
#
#   gradebook.csv            one row per learner, a column per exercise
#                            (passed/total), then the totals
#   LEARNER/chapter-N.json   the grader's JSON (README.md, "For instructors")
#   LEARNER/results.json     the same as a Gradescope autograder result
#   LEARNER/report.txt       what `make check` printed for that learner
#
# A submission that does not compile, hangs or attacks the grader affects
# its own row only. Exits 0 when every learner was graded (whatever their
# grades), 2 on a usage error.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/support/lib.sh
. tests/support/grader/sandbox.sh

subs=${1%/} chapter_arg=${2:-}
PARALLEL=${PARALLEL:-2}
out=build/gradebook

die() { printf 'gradebook: %s\n' "$1" >&2; exit 2; }
[ -n "$subs" ] || die "say where the submissions are: make gradebook SUBMISSIONS=DIR"
[ -d "$subs" ] || die "no folder '$subs'"
command -v jq >/dev/null || die "jq is not installed: run make deps"

chapters=()
for d in tests/[0-9][0-9]-*/; do
    d=${d%/} c=${d#tests/}
    if [ -z "$chapter_arg" ] || [ "$((10#${c%%-*}))" = "$((10#$chapter_arg))" ]; then
        chapters+=("$c")
    fi
done
[ ${#chapters[@]} -gt 0 ] || die "there is no chapter $chapter_arg with exercises"

rm -rf "$out"
mkdir -p "$out/work"
chmod 755 "$out" "$out/work"
sandbox_init 2>/dev/null || exit 2

learners=()
for entry in "$subs"/*; do
    base=${entry##*/}
    case $base in
    *.tar.gz | *.tgz | *.tar | *.zip) learners+=("${base%%.*}|$entry") ;;
    *) [ -d "$entry" ] && learners+=("$base|$entry") ;;
    esac
done
[ ${#learners[@]} -gt 0 ] || die "no submission in $subs (want one folder or archive per learner)"

# unpack SLOT ARCHIVE DEST: extract an archive inside the sandbox, as the
# slot's user, so nothing in it can write outside DEST.
unpack() {
    local slot=$1 archive=$2 dest=$3 top
    sandbox_dir "$slot" "$dest" || return 1
    case $archive in
    *.zip) sandboxed "$slot" "$dest" 60 1048576 unzip -q -o "$PWD/$archive" -d "$dest" ;;
    *) sandboxed "$slot" "$dest" 60 1048576 tar -xf "$PWD/$archive" -C "$dest" --no-same-owner --no-same-permissions ;;
    esac >/dev/null 2>&1 </dev/null || return 1
    # One top folder holding the chapter folders: use it.
    if ! compgen -G "$dest/[0-9][0-9]-*" >/dev/null; then
        top=$(find "$dest" -mindepth 1 -maxdepth 1 -type d | head -n 2)
        [ "$(wc -l <<<"$top")" -eq 1 ] && [ -n "$top" ] && printf '%s\n' "$top" && return 0
    fi
    printf '%s\n' "$dest"
}

# grade_learner K NAME SOURCE: grade one learner into $out/NAME.
grade_learner() {
    local k=$1 name=$2 src=$3 dir impl c
    dir=$out/$name
    mkdir -p "$dir"
    if [ -d "$src" ]; then
        # A copy the sandbox's users can read, whatever DIR's permissions.
        impl=$out/work/$name
        cp -R -- "$src" "$impl" && chmod -R a+rX "$impl" || {
            echo "the folder could not be copied" >"$dir/report.txt"
            return
        }
    else
        impl=$(unpack "$k" "$src" "$PWD/$out/work/$name") || {
            echo "the archive could not be unpacked" >"$dir/report.txt"
            return
        }
    fi
    : >"$dir/report.txt"
    for c in "${chapters[@]}"; do
        # Each learner's grader claims users of its own (sandbox.sh).
        JOBS=1 WB_RESULTS_DIR="$dir" \
            tests/support/grade.sh "$((10#${c%%-*}))" '' "$impl" >>"$dir/report.txt" 2>&1 </dev/null
    done
}

csv_header() {
    local c name
    printf 'learner'
    for c in "${chapters[@]}"; do
        for name in $(exercises_of "$c"); do printf ',%s' "$name"; done
    done
    printf ',passed,total\n'
}

# row NAME: the learner's CSV row, from the JSON the grader wrote. An
# exercise the learner did not hand in counts as 0 of its tests.
row() {
    local name=$1 c n ex p t all_p=0 all_t=0 declared json
    printf '%s' "$name"
    for c in "${chapters[@]}"; do
        n=$((10#${c%%-*}))
        json=$out/$name/chapter-$n.json
        for ex in $(exercises_of "$c"); do
            declared=$(tr '\n' ' ' <"tests/$c/test_$ex.c" | grep -oE 'WB_ADD(_TIMEOUT)?\(' | wc -l)
            p=0 t=$declared
            if [ -f "$json" ]; then
                read -r p t < <(jq -r --arg ex "$ex" --argjson d "$declared" \
                    '(.exercises[] | select(.name == $ex) | "\(.passed) \(.passed + .failed)") // "0 \($d)"' "$json" | head -n 1)
            fi
            printf ',%s/%s' "${p:-0}" "${t:-$declared}"
            all_p=$((all_p + ${p:-0})) all_t=$((all_t + ${t:-$declared}))
        done
    done
    printf ',%d,%d\n' "$all_p" "$all_t"
}

# gradescope NAME: Gradescope's results.json, a test per test case.
gradescope() {
    local name=$1
    jq -s '[.[].exercises[] as $e | $e.tests[]
            | {name: "\($e.name): \(.name)", score: (if .status == "pass" then 1 else 0 end),
               max_score: 1, status: (if .status == "pass" then "passed" else "failed" end),
               output: ((if .message == "" then "" else .message + "\n" end)
                        + (if .section == "" then "" else "Read: " + .section end))}] as $tests
           | {score: ([$tests[].score] | add // 0), max_score: ($tests | length),
              output: "Graded by the Async C Workbook", tests: $tests}' \
        "$out/$name"/chapter-*.json 2>/dev/null || echo '{"score": 0, "max_score": 0, "tests": []}'
}

start=$(date +%s)
total=${#learners[@]}
echo "gradebook: ${total} submissions in $subs, chapter${chapter_arg:+ $chapter_arg}${chapter_arg:-s ${chapters[*]}}, $PARALLEL at a time"
pids=() done=0
for k in "${!learners[@]}"; do
    if [ "$k" -ge "$PARALLEL" ]; then
        wait "${pids[$((k - PARALLEL))]}"
        done=$((done + 1))
        printf 'gradebook: %d/%d graded (%s)\n' "$done" "$total" "${learners[$((k - PARALLEL))]%%|*}"
    fi
    entry=${learners[$k]}
    grade_learner "$((k % PARALLEL))" "${entry%%|*}" "${entry#*|}" &
    pids[k]=$!
done
for ((k = done; k < total; k++)); do
    wait "${pids[$k]}"
    printf 'gradebook: %d/%d graded (%s)\n' "$((k + 1))" "$total" "${learners[$k]%%|*}"
done

{
    csv_header
    for entry in "${learners[@]}"; do row "${entry%%|*}"; done
} >"$out/gradebook.csv"
for entry in "${learners[@]}"; do
    gradescope "${entry%%|*}" >"$out/${entry%%|*}/results.json"
done
rm -rf "$out/work"
echo "gradebook: $out/gradebook.csv, and per learner $out/LEARNER/ (chapter-N.json, results.json for Gradescope, report.txt), in $(($(date +%s) - start)) s"
