"""Builds one test binary from the learner's files, INSIDE the sandbox
(build.py runs it there with `python3 -I -S`; it imports nothing of the
workbook).

  buildbox.py OUT SRC HEADER [SRC HEADER]... -- OBJECT...

Each SRC is a learner's file and HEADER the contract it implements (the
first pair is the graded exercise; more pairs are building blocks of the
learner's own). OBJECTs are the trusted parts. From the environment: CC,
CFLAGS (the build's flags), PLAIN_CFLAGS (the same without a sanitizer),
LDFLAGS and LIBS.

Each learner's object is checked and trimmed before it is linked. The
object that is linked and the object that is judged are compiled from the
same preprocessed text (the judged one without sanitizers, which add
constructors and calls of their own), so what `#if __SANITIZE_THREAD__`
hides from one build is judged in the build that links it.
- an object with code that runs before main() or after it (constructors,
  destructors, .init/.fini code, ifunc resolvers) is refused: such code
  would run in the process that writes the results;
- every global symbol that is not a function of its contract is made local
  (objcopy --keep-global-symbols), so the learner's file cannot replace a
  function the test support calls (waitpid, readdir, fopen, main, ...) nor
  one of the suite's;
- an object that references a symbol of DENIED (the fixture's, Check's, a
  sanitizer's interface, dlsym, syscall, ptrace, setrlimit, mprotect,
  atexit, the bounds of the program's memory...) or holds a raw system-call
  instruction is refused, with the line that does it.
- its allocation calls are renamed to the counting wrappers of
  tests/support/alloc.c (wb_learner_malloc, ...), its pthread_exit() to the
  fixture's (REDIRECT: the Makefile's LEARNER_REDIRECT; a building block's
  to uncounted wrappers that a test can make fail, BLOCK_REDIRECT, as the
  workbook's reference blocks), and the suite
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
EXTERN = re.compile(r"^/\* [^*]*\*/ extern [^(]*[ *]([A-Za-z_][A-Za-z_0-9]*) \(")

# What a learner's object may never reference, and why. Judged on the
# object without sanitizers (which call their own interface), built from
# the same preprocessed text as the object that is linked.
DENIED = [
    (re.compile(r"^(wb_|_wb_|WB_)"), "the test fixture's"),
    (re.compile(r"^(srunner_|tcase_|suite_|_ck_|ck_|check_(fork|waitpid_and_exit|major|minor|micro)$)"),
     "the Check test framework's"),
    (re.compile(r"^(__tsan_|__asan_|__lsan_|__msan_|__ubsan_|__sanitizer_|__sancov_|__interceptor_"
                r"|Annotate|WTFAnnotate|RunningOnValgrind|ValgrindSlowdown)"),
     "a sanitizer's own interface (it would hide what the sanitizer finds)"),
    (re.compile(r"^(dlsym|dlvsym|dlopen|dlmopen|dladdr1?|dlinfo|dl_iterate_phdr|getauxval|_dl_.*"
                r"|__libc_start_main)$"),
     "a look-up of the program's own code (the grader's parts are off limits)"),
    (re.compile(r"^(syscall|ptrace|prctl|arch_prctl|personality|seccomp|unshare|setns|clone3?"
                r"|process_vm_readv|process_vm_writev)$"),
     "a system-call door the exercises never need"),
    (re.compile(r"^(setrlimit|setrlimit64|prlimit|prlimit64)$"),
     "a change of the grader's limits"),
    (re.compile(r"^(mprotect|pkey_mprotect|mmap|mmap64|mremap)$"),
     "a change of the program's memory map (the exercises never need one)"),
    (re.compile(r"^(atexit|on_exit|__cxa_atexit|__cxa_thread_atexit(_impl)?|at_quick_exit"
                r"|quick_exit|pthread_atfork)$"),
     "code run at exit (or around fork) in the grader's process"),
    (re.compile(r"^(etext|_etext|__etext|edata|_edata|end|_end|__data_start|data_start|__bss_start"
                r"|__executable_start|__dso_handle|_DYNAMIC|__ehdr_start"
                r"|__(init|fini|preinit)_array_(start|end)|__start_.*|__stop_.*)$"),
     "a bound of the program's own memory (a search of the grader's data)"),
]
RAW_SYSCALL = re.compile(r"\t(syscall|sysenter|int +\$0x80|int +0x80)\b")


def tool(cmd: list[str]) -> str:
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, errors="replace").stdout


def where(obj: str, section: str, offset: int) -> str:
    """file:line of an offset in a section of obj (from its debug lines)."""
    line = tool(["addr2line", "-e", obj, "-j", section, hex(offset)]).strip()
    if not line or line.startswith("??"):
        return ""
    file, _, num = line.rpartition(":")
    return f"{short(file)}:{num.split()[0]}"


def short(file: str) -> str:
    """A path as the learner knows it (relative to the workbook)."""
    return os.path.relpath(file) if os.path.isabs(file) else file


def denied(name: str) -> str:
    for pattern, whose in DENIED:
        if pattern.match(name.split("@")[0]):
            return whose
    return ""


def judge(obj: str, src: str) -> str:
    """Why obj (the learner's file src, compiled) must not be linked, or ""."""
    for line in tool(["readelf", "-SW", obj]).split("\n"):
        m = re.match(r"^\s*\[\s*\d+\]\s+(\S+)", line)
        if m and CTOR_SECTION.match(m.group(1)):
            return (f"{src} has code that runs before or after main() (section {m.group(1)}: "
                    "a constructor or destructor); the contract's functions never need "
                    "one, and it would run where the grader writes the results")
    symbols = tool(["readelf", "-sW", obj])
    if any(len(f) > 3 and f[3] == "IFUNC" for f in map(str.split, symbols.split("\n"))):
        return (f"{src} defines an ifunc (its resolver runs before main(), "
                "where the grader writes the results)")
    refused = (", the grader refuses a file that reaches past its contract "
               "(the exercises never need it)")
    # Each reference to a denied symbol, with the line that makes it.
    section = ""
    for line in tool(["readelf", "-rW", obj]).split("\n"):
        m = re.match(r"^Relocation section '\.rela?(\S+)'", line)
        if m:
            section = m.group(1)
            continue
        f = line.split()
        if len(f) < 5 or not re.match(r"^[0-9a-f]+$", f[0]) or section.startswith(".debug"):
            continue
        whose = denied(f[4])
        if whose:
            at = where(obj, section, int(f[0], 16))
            return f"{at or src}: uses {f[4]}, {whose}{refused}"
    # A reference without a relocation (an undefined symbol alone).
    for f in map(str.split, symbols.split("\n")):
        if len(f) > 7 and f[6] == "UND" and denied(f[7]):
            return f"{src}: uses {f[7]}, {denied(f[7])}{refused}"
    here = ""
    for line in tool(["objdump", "-d", "--no-show-raw-insn", "-l", obj]).split("\n"):
        if re.match(r"^/?[^\s:]+:[0-9]+( \(discriminator [0-9]+\))?$", line):
            here = short(line.split(" ")[0])
        elif RAW_SYSCALL.search(line):
            return (f"{here or src}: a raw system-call instruction "
                    f"({line.split(chr(9))[-1].strip()}); the exercises never need one")
    return ""


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
            # The compiler's own messages (and warnings) come from the file
            # itself; the object that is linked, and the one that is judged,
            # both come from the same preprocessed text, so a construct
            # inside `#if __SANITIZE_THREAD__` (or any other test of the
            # build) is judged exactly as it is linked.
            if not run([env["CC"], *cflags, "-c", src, "-o", obj]):
                return 1
            pre = f"{out}/learner{i + 1}.i"
            if not run([env["CC"], *cflags, "-E", src, "-o", pre]):
                return 1
            if not run([env["CC"], *cflags, "-w", "-c", pre, "-o", obj]):
                return 1
            judged = obj
            if cflags != plain_cflags:
                # Sanitizers add constructors and calls of their own: judge
                # the same text compiled without them.
                judged = f"{out}/plain{i + 1}.o"
                if not run([env["CC"], *plain_cflags, "-w", "-c", pre, "-o", judged]):
                    return 1
            why = judge(judged, src)
            if why:
                return refuse(why)
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
            # The graded exercise's allocations are counted; a building
            # block's are not (they can be made to fail), as in the
            # workbook, where it is the reference.
            redirect = env["REDIRECT"] if i == 0 else env.get("BLOCK_REDIRECT", "")
            if not run(["objcopy", f"--keep-global-symbols={keepfile}", *redirect.split(), obj, hidden]):
                return 1
            objs.append(hidden)
        if not run([env["CC"], *env["LDFLAGS"].split(), "-Wl,--wrap=free", "-o", f"{out}/suite", *objs, *trusted,
                    *env["LIBS"].split()]):
            return 4
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
