# Results for programs (sourced by tests/support/grade.sh): each
# exercise's JSON, TAP and TSV, and a chapter's JSON (README.md, "Results
# for programs"). jq writes every JSON document.

# exercise_json DIR NAME SRC: DIR/exercise.json from DIR/results.tsv.
exercise_json() {
    local dir=$1
    jq -R -s --arg name "$2" --arg source "$3" --arg state "$(cat "$dir/state")" \
        --arg note "$(cat "$dir/note" 2>/dev/null)" '
        [split("\n")[] | select(length > 0) | split("\t")
         | {name: .[1], status: .[0], where: .[2], section: .[3], message: .[4],
            duration: ((.[5] // "-1") | tonumber | if . < 0 then null else . end)}] as $tests
        | {name: $name, source: $source, state: $state}
          + (if $note == "" then {} else {note: $note} end)
          + {passed: ([$tests[] | select(.status == "pass")] | length),
             failed: ([$tests[] | select(.status != "pass")] | length),
             tests: $tests}' "$dir/results.tsv" >"$dir/exercise.json"
}

# exercise_tap DIR: the results as TAP, on stdout.
exercise_tap() {
    awk -F'\t' '{ n++; line[n] = ($1 == "pass" ? "ok " : "not ok ") n " - " $2 ($1 == "pass" ? "" : " # " $5) }
                END { print "1.." n; for (i = 1; i <= n; i++) print line[i] }' "$1/results.tsv"
}

# chapter_json N FOLDER IMPL VARIANT EXERCISE_JSON...: a chapter's JSON.
chapter_json() {
    local n=$1 folder=$2 impl=$3 variant=$4
    shift 4
    jq -s --argjson chapter "$n" --arg folder "$folder" --arg impl "$impl" --arg variant "$variant" '
        {chapter: $chapter, folder: $folder, impl: $impl, variant: $variant,
         exercises: ., passed: (map(.passed) | add // 0), failed: (map(.failed) | add // 0)}' "$@"
}
