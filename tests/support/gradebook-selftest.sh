#!/usr/bin/env bash
# Tests `make gradebook` on a class of 29 made-up learners for chapter 1:
# reference solutions (as folders, a .tar.gz and a .zip), untouched stubs,
# known-wrong variants and hostile implementations. Checks that every
# learner has a row, that the grades are what each submission deserves,
# and that the Gradescope files are valid. Used by `make test`.
set -u
cd "$(dirname "$0")/../.." || exit 2
class=build/class
rm -rf "$class"
mkdir -p "$class"
bad=0
fail() { echo "FAIL $1"; bad=1; }

# learner NAME FROM_DIR [EXERCISE=FILE]...: a folder with chapter 1 from
# FROM_DIR, some files replaced.
learner() {
    local name=$1 from=$2 r
    shift 2
    mkdir -p "$class/$name/01-sync"
    cp "$from"/01-sync/*.c "$class/$name/01-sync/"
    for r in "$@"; do cp "${r#*=}" "$class/$name/01-sync/${r%%=*}.c"; done
}

make --no-print-directory -s $(for p in tests/01-sync/*.wrong_*.patch; do echo "build/wrong/${p%.patch}.c"; done) || exit 1

for i in 1 2 3 4; do learner "solved$i" solutions; done
for i in 1 2 3 4; do learner "stub$i" exercises; done
n=0
for w in build/wrong/tests/01-sync/*.wrong_*.c; do
    n=$((n + 1))
    [ "$n" -le 8 ] || break
    ex=$(basename "$w" | cut -d. -f1)
    learner "wrong$n" solutions "$ex=$w"
done
for k in exit0 constructor loop forkbomb atexit interpose; do
    learner "hostile_$k" solutions "runner=tests/grader/$k/01-sync/runner.c"
done
# Two solved learners hand in archives instead of folders.
learner packed_tar solutions
tar -czf "$class/packed_tar.tar.gz" -C "$class/packed_tar" . && rm -rf "$class/packed_tar"
learner packed_zip solutions
python3 -c 'import shutil,sys; shutil.make_archive(sys.argv[1], "zip", sys.argv[2])' \
    "$class/packed_zip" "$class/packed_zip" && rm -rf "$class/packed_zip"

# Learners who reach for another's files: a classmate's submission and the
# reference solution, by absolute path (neither may be seen: the learner
# does not compile); links in a folder, as a folder, and in an archive
# (refused, never followed).
learner hostile_peek_class solutions
echo "#include \"$PWD/$class/solved1/01-sync/runner.c\"" >"$class/hostile_peek_class/01-sync/runner.c"
learner hostile_peek_solution solutions
echo "#include \"$PWD/solutions/01-sync/runner.c\"" >"$class/hostile_peek_solution/01-sync/runner.c"
learner link_inside solutions
ln -sf "$PWD/solutions/01-sync/runner.c" "$class/link_inside/01-sync/runner.c"
ln -s "$PWD/$class/solved2" "$class/link_top"
learner link_tar solutions
ln -sf "$PWD/solutions/01-sync/fullio.c" "$class/link_tar/01-sync/fullio.c"
tar -czf "$class/link_tar.tar.gz" -C "$class/link_tar" . && rm -rf "$class/link_tar"

start=$(date +%s)
out=$(make --no-print-directory -s gradebook SUBMISSIONS="$class" CHAPTER=1 2>&1) || { echo "$out"; exit 1; }
grep -q "^gradebook: $(find "$class" -mindepth 1 -maxdepth 1 | wc -l) submissions in $class, chapter 1, " <<<"$out" ||
    fail "the first line does not name chapter 1: $(head -n 1 <<<"$out")"
echo "$out" | tail -n 3
took=$(($(date +%s) - start))
csv=build/gradebook/gradebook.csv
[ -f "$csv" ] || { echo "FAIL no $csv"; exit 1; }
cat "$csv"
learners=$(find "$class" -mindepth 1 -maxdepth 1 | wc -l)
[ "$(($(wc -l <"$csv") - 1))" -eq "$learners" ] || fail "$learners learners, $(($(wc -l <"$csv") - 1)) rows"
[ "$learners" -ge 20 ] || fail "a class of $learners, want at least 20"

# grade NAME: "passed total" of a learner's row.
grade() { awk -F, -v n="$1" '$1 == n { print $(NF - 1), $NF }' "$csv"; }
while read -r name; do
    read -r p t < <(grade "$name")
    case $name in
    solved* | packed*) [ "${p:-x}" = "${t:-y}" ] || fail "$name: $p of $t, expected full marks" ;;
    stub*) [ "${p:-x}" = 0 ] || fail "$name: $p of $t, expected 0" ;;
    wrong* | hostile*) [ -n "$p" ] && [ "$p" -lt "$t" ] || fail "$name: $p of $t, expected less than full marks" ;;
    link*)
        [ "${p:-x}" = 0 ] || fail "$name: $p of $t, expected 0 (refused)"
        grep -q '^refused: .*symbolic link' "build/gradebook/$name/report.txt" 2>/dev/null ||
            fail "$name: report.txt does not say the link was refused"
        ;;
    esac
done < <(tail -n +2 "$csv" | cut -d, -f1)
for f in build/gradebook/*/results.json; do
    jq -e '.score <= .max_score and (.tests | length) == .max_score' "$f" >/dev/null ||
        fail "$f is not a valid Gradescope result"
done
[ "$(jq .max_score build/gradebook/solved1/results.json)" -ge 30 ] || fail "solved1 has too few tests in results.json"
# The integrity report: what an instructor should look at.
integ=build/gradebook/integrity.csv
[ -f "$integ" ] || fail "no $integ"
grep -q '^solved1,.*identical to the reference solution solutions/01-sync/runner.c' "$integ" ||
    fail "integrity.csv does not say solved1's files are the reference's"
grep -q '^solved1,.*identical to [^|]*solved2/01-sync/runner.c' "$integ" ||
    fail "integrity.csv does not say solved1's files are solved2's"
grep -q '^hostile_constructor,.*constructor' "$integ" || fail "integrity.csv misses hostile_constructor's refusal"
grep -q '^link_top,.*symbolic link' "$integ" || fail "integrity.csv misses link_top's refusal"
jq -e '.notes | length > 0' build/gradebook/hostile_exit0/integrity.json >/dev/null ||
    fail "hostile_exit0/integrity.json has no note"
jq -e '.extra_data.integrity | length > 0' build/gradebook/hostile_exit0/results.json >/dev/null ||
    fail "hostile_exit0/results.json has no integrity note"
jq -e '.extra_data.integrity | any(test("identical to the reference"))' build/gradebook/solved1/results.json \
    >/dev/null || fail "solved1/results.json does not say its file is the reference's"
left=$(pgrep -f 'build/gradebook/work' | tr '\n' ' ')
[ -z "$left" ] || fail "processes left behind: $left"
echo "gradebook of $learners learners in $took s"
exit $bad
