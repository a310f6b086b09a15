"""Builds one test binary from the learner's files, INSIDE the sandbox
(build.py runs it there with `python3 -I -S`; it imports nothing of the
workbook).

  buildbox.py OUT SRC HEADER [SRC HEADER]... -- OBJECT...

Each SRC is a learner's file and HEADER the contract it implements (the
first pair is the graded exercise; more pairs are building blocks of the
learner's own). OBJECTs are the trusted parts. From the environment: CC,
CFLAGS (the build's flags), PLAIN_CFLAGS (the same without a sanitizer),
LDFLAGS and LIBS.

Each learner's object is checked and trimmed before it is linked:
- an object with code that runs before main() or after it (constructors,
  destructors, .init/.fini code, ifunc resolvers) is refused: such code
  would run in the process that writes the results;
- every global symbol that is not a function of its contract is made local
  (objcopy --keep-global-symbols), so the learner's file cannot replace a
  function the test support calls (waitpid, readdir, fopen, main, ...) nor
  one of the suite's;
- its allocation calls (ALLOC_REDIRECT) are renamed to the counting
  wrappers of tests/support/alloc.c (wb_learner_malloc, ...), and the suite
  is linked with --wrap=free, so each test fails when the learner's code
  leaves blocks behind, however it hides them from a leak checker.

Writes OUT/suite, and OUT/compile.log with what the compiler and the linker
said. Exit status: 0 built, 1 the compiler failed, 3 refused (the reason is
the last line of compile.log), 4 the link failed.
"""

import os
import re
import signal
import subprocess
import sys

CTOR_SECTION = re.compile(r"^\.(init|fini|preinit_array|init_array|fini_array|ctors|dtors)($|\.)")
# The same list as the Makefile's ALLOC_REDIRECT.
ALLOC_REDIRECT = ("malloc calloc realloc reallocarray free strdup strndup "
                  "posix_memalign aligned_alloc memalign valloc pvalloc "
                  "getline getdelim asprintf vasprintf").split()
EXTERN = re.compile(r"^/\* [^*]*\*/ extern [^(]*[ *]([A-Za-z_][A-Za-z_0-9]*) \(")


def main(argv: list[str]) -> int:
    out, rest = argv[0], argv[1:]
    split = rest.index("--")
    pairs, trusted = rest[:split], rest[split + 1 :]
    env = os.environ
    cflags, plain_cflags = env["CFLAGS"].split(), env["PLAIN_CFLAGS"].split()
    with open(os.path.join(out, "compile.log"), "w") as log:

        def run(cmd: list[str], logged: bool = True) -> bool:
            log.flush()
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               stdout=log if logged else subprocess.DEVNULL,
                               stderr=subprocess.STDOUT if logged else subprocess.DEVNULL)
            if r.returncode == -signal.SIGXFSZ:
                log.write("File size limit exceeded\n")
            return r.returncode == 0

        def refuse(why: str) -> int:
            log.write(f"refused: {why}\n")
            return 3

        objs = []
        for i in range(len(pairs) // 2):
            src, header = pairs[2 * i], pairs[2 * i + 1]
            obj = f"{out}/learner{i + 1}.o"
            if not run([env["CC"], *cflags, "-c", src, "-o", obj]):
                return 1
            plain = obj
            if cflags != plain_cflags:
                # Sanitizers add constructors of their own: judge a plain build.
                plain = f"{out}/plain{i + 1}.o"
                if not run([env["CC"], *plain_cflags, "-c", src, "-o", plain], logged=False):
                    return 1
            sections = subprocess.run(["objdump", "-h", plain], capture_output=True,
                                      text=True).stdout
            for line in sections.split("\n"):
                f = line.split()
                if len(f) > 1 and CTOR_SECTION.match(f[1]):
                    return refuse(
                        f"{src} has code that runs before or after main() (section {f[1]}: "
                        "a constructor or destructor); the contract's functions never need "
                        "one, and it would run where the grader writes the results")
            symbols = subprocess.run(["readelf", "-sW", plain], capture_output=True,
                                     text=True).stdout
            if any(len(f) > 3 and f[3] == "IFUNC" for f in map(str.split, symbols.split("\n"))):
                return refuse(f"{src} defines an ifunc (its resolver runs before main(), "
                              "where the grader writes the results)")
            # The contract's functions: what the header declares, per gcc
            # (clang has no -aux-info; the flags are the same).
            aux = f"{out}/aux{i + 1}.txt"
            if not run(["gcc", *plain_cflags, "-fsyntax-only", "-aux-info", aux, "-x", "c", header]):
                return 1
            keep = []
            with open(aux) as a:
                for line in a:
                    if f"/* {header}:" in line:
                        m = EXTERN.match(line)
                        if m:
                            keep.append(m.group(1))
            keepfile = f"{out}/keep{i + 1}.txt"
            with open(keepfile, "w") as k:
                k.write("".join(s + "\n" for s in keep))
            hidden = f"{out}/hidden{i + 1}.o"
            redirect = [a for f in ALLOC_REDIRECT for a in ("--redefine-sym", f"{f}=wb_learner_{f}")]
            if not run(["objcopy", f"--keep-global-symbols={keepfile}", *redirect, obj, hidden]):
                return 1
            objs.append(hidden)
        if not run([env["CC"], *env["LDFLAGS"].split(), "-Wl,--wrap=free", "-o", f"{out}/suite", *objs, *trusted,
                    *env["LIBS"].split()]):
            return 4
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
