#!/bin/sh
# Builds one test binary from the learner's file, inside the sandbox
# (tests/support/grader/build.sh runs it there).
#
#   compile.sh OUT SRC HEADER [SRC HEADER]... -- OBJECT...
#
# Each SRC is a learner's file and HEADER the contract it implements (the
# first pair is the graded exercise; more pairs are earlier building blocks
# of the learner's own, when the reference is not there). OBJECTs are the
# trusted parts: the test suite, the test support, reference building
# blocks. From the environment: CC, CFLAGS (the build's flags), PLAIN_CFLAGS
# (the same without a sanitizer), LDFLAGS and LIBS.
#
# Each learner's object is checked and trimmed before it is linked:
# - an object with code that runs before main() or after it (constructors,
#   destructors, .init/.fini code, ifunc resolvers) is refused: such code
#   would run in the process that writes the results;
# - every global symbol that is not a function of its contract is made
#   local (objcopy --keep-global-symbols), so the learner's file cannot
#   replace a function the test support calls (waitpid, readdir, fopen,
#   main, ...) nor one of the suite's.
#
# Writes OUT/suite, and OUT/compile.log with what the compiler and the
# linker said. Exit status: 0 built, 1 the compiler failed, 3 refused
# (the reason is the last line of compile.log), 4 the link failed.
set -u
out=$1
shift
log=$out/compile.log
: >"$log"
objs=
i=0
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    src=$1 header=$2
    shift 2
    i=$((i + 1))
    obj=$out/learner$i.o
    # shellcheck disable=SC2086
    $CC $CFLAGS -c "$src" -o "$obj" >>"$log" 2>&1 || exit 1
    plain=$obj
    if [ "$CFLAGS" != "$PLAIN_CFLAGS" ]; then
        # Sanitizers add constructors of their own: judge a plain build.
        plain=$out/plain$i.o
        # shellcheck disable=SC2086
        $CC $PLAIN_CFLAGS -c "$src" -o "$plain" >/dev/null 2>&1 || exit 1
    fi
    section=$(objdump -h "$plain" | awk '$2 ~ /^\.(init|fini|preinit_array|init_array|fini_array|ctors|dtors)($|\.)/ { print $2; exit }')
    if [ -n "$section" ]; then
        echo "refused: $src has code that runs before or after main() (section $section: a constructor or destructor); the contract's functions never need one, and it would run where the grader writes the results" >>"$log"
        exit 3
    fi
    if readelf -sW "$plain" | awk '$4 == "IFUNC" { found = 1 } END { exit !found }'; then
        echo "refused: $src defines an ifunc (its resolver runs before main(), where the grader writes the results)" >>"$log"
        exit 3
    fi
    # The contract's functions: what the header declares, per gcc (clang
    # has no -aux-info; the flags are the same).
    # shellcheck disable=SC2086
    gcc $PLAIN_CFLAGS -fsyntax-only -aux-info "$out/aux$i.txt" -x c "$header" >>"$log" 2>&1 || exit 1
    grep -F "/* $header:" "$out/aux$i.txt" |
        sed -nE 's|^/\* [^*]*\*/ extern [^(]*[ *]([A-Za-z_][A-Za-z_0-9]*) \(.*|\1|p' >"$out/keep$i.txt"
    objcopy --keep-global-symbols="$out/keep$i.txt" "$obj" "$out/hidden$i.o" >>"$log" 2>&1 || exit 1
    objs="$objs $out/hidden$i.o"
done
shift
# shellcheck disable=SC2086
$CC $LDFLAGS -o "$out/suite" $objs "$@" $LIBS >>"$log" 2>&1 || exit 4
exit 0
