# Shared by the grader's shell scripts (source it).

# exercises_of NN-topic: the exercises of a chapter, one name a line, in
# the order the chapter's text introduces them (its first mention of
# "EXERCISE=name"); exercises the text does not mention come last.
exercises_of() {
    local c=$1 t name pos
    for t in tests/"$c"/test_*.c; do
        [ -e "$t" ] || continue
        name=${t##*/test_}
        name=${name%.c}
        pos=$(grep -n -m1 "EXERCISE=$name\\b" "chapters/$c/chapter.md" 2>/dev/null | cut -d: -f1)
        printf '%06d %s\n' "${pos:-999999}" "$name"
    done | sort | cut -d' ' -f2
}
