# What the learner reads (sourced by tests/support/grade.sh): one line per
# exercise, then the compiler's warnings, then the first failures, each
# with file:line, the message, the broken promise and the section to read.

MAX_FAILURES_SHOWN=${MAX_FAILURES_SHOWN:-5}

# counts DIR: "PASSED FAILED" from DIR/results.tsv.
counts() {
    awk -F'\t' '$1 == "pass" { p++ } $1 != "pass" { f++ } END { printf "%d %d\n", p, f }' "$1/results.tsv"
}

# exercise_line DIR NAME SRC: the exercise's one line.
exercise_line() {
    local dir=$1 name=$2 src=$3 state p f
    state=$(cat "$dir/state")
    read -r p f < <(counts "$dir")
    printf '  %-16s %-20s %d/%d checks%s\n' "$name" "$state" "$p" "$((p + f))" \
        "$([ "$state" = "not started" ] && printf '   (edit %s)' "$src")"
}

# promise_text HEADER TAG: the sentence of promise [TAG] in a contract.
promise_text() {
    awk -v tag="[$2]" '
        { line = $0; sub(/^ *\*+ ?/, "", line) }
        found && (line ~ /^- \[/ || line ~ /^ *$/ || line ~ /^@/ || $0 ~ /\*\//) { exit }
        found { sub(/^ +/, "", line); text = text " " line; next }
        index(line, "- " tag " ") == 1 { found = 1; text = substr(line, length(tag) + 4) }
        END { if (found) print text }' "$1" | cut -c1-300
}

# sanitizer_excerpt REPORT: the error, the first frames that are not the
# test machinery, and the summary.
sanitizer_excerpt() {
    awk '/ERROR:|WARNING:|runtime error:/ && !head { print; head = 1; next }
         !head { next }
         /^SUMMARY:/ { print; exit }
         /^ *(Previous )?(read|write|atomic|Read|Write|Atomic)[^#]* of size/ && blocks < 2 {
             print; blocks++; frames = 0; next }
         /^ *#[0-9]+ / && frames < 3 {
             if ($0 ~ /srunner|__libc|_start|wb\.c|check_run|__interceptor|_interceptors|sanitizer_common/) next
             print; frames++ }' "$1" | cut -c1-160 | sed 's/^/        | /'
}

# failures DIR NN-topic NAME REPORTS LIMIT: the failures of one exercise,
# at most LIMIT of them; how many it showed goes to DIR/shown.
failures() {
    local dir=$1 c=$2 name=$3 reports=$4 limit=$5 state shown=0
    local st test where section msg secs tag text r
    state=$(cat "$dir/state")
    case $state in
    "not started") return 0 ;;
    "does not compile" | refused | "stopped early")
        [ "$limit" -gt 0 ] || return 0
        printf '  %s %s:\n' "$name" "$state"
        sed 's/^/      /' "$dir/note"
        shown=1
        [ "$state" = "stopped early" ] || { echo "$shown" >"$dir/shown"; return 0; }
        ;;
    esac
    while IFS=$'\037' read -r st test where section msg secs; do
        [ "$st" = pass ] && continue
        [ "$shown" -lt "$limit" ] || break
        case $msg in "did not report:"* | "not run:"*) [ "$shown" -gt 0 ] && continue ;; esac
        shown=$((shown + 1))
        printf '  %s: %s\n' "$name" "$test"
        case $where in
        tests/support/*) printf '      after the test ended: %s\n' "$msg" ;;
        *) printf '      %s: %s\n' "$where" "$msg" ;;
        esac
        if [[ $msg =~ ^\[([a-z0-9-]+)\]\  ]]; then
            tag=${BASH_REMATCH[1]}
            text=$(promise_text "exercises/$c/$name.h" "$tag")
            [ -n "$text" ] && printf '      broken promise [%s]: %s\n' "$tag" "$text"
        fi
        for r in "$reports/$test".*; do
            [ -f "$r" ] && sanitizer_excerpt "$r"
        done
        [ -n "$section" ] && printf '      read: chapters/%s/chapter.md, section "%s"\n' "$c" "$section"
    done < <(tr '\t' '\037' <"$dir/results.tsv") # tabs would merge empty fields
    echo "$shown" >"$dir/shown"
}
