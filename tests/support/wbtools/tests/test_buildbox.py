"""buildbox.judge(): what a learner's object may not hold, judged on small
files compiled here (the grader's own self-test grades whole hostile
submissions, tests/grader/)."""

from __future__ import annotations

import subprocess
import tempfile
import unittest
from pathlib import Path

from wbtools import buildbox

FLAGS = ["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-g", "-O1", "-pthread"]


def judged(source: str, sanitizer: list[str] | None = None) -> str:
    """Compile source as buildbox does (preprocessed with the build's
    flags, compiled without a sanitizer) and judge it."""
    with tempfile.TemporaryDirectory() as d:
        src, pre, obj = Path(d, "x.c"), Path(d, "x.i"), Path(d, "x.o")
        src.write_text(source)
        subprocess.run(["gcc", *FLAGS, *(sanitizer or []), "-E", str(src), "-o", str(pre)], check=True)
        subprocess.run(["gcc", *FLAGS, "-w", "-c", str(pre), "-o", str(obj)], check=True)
        return buildbox.judge(str(obj), "x.c")


class JudgeTest(unittest.TestCase):
    def test_ordinary_code_passes(self) -> None:
        self.assertEqual(judged("#include <unistd.h>\n#include <stdlib.h>\n"
                                "int f(void) { void *p = malloc(4); free(p); return (int)getpid(); }\n"), "")

    def test_constructor_hidden_in_a_sanitizer_build(self) -> None:
        text = ("#ifdef __SANITIZE_THREAD__\nstatic volatile int v;\n__attribute__((constructor)) static void c(void) { v = 1; }\n"
                "#endif\nint f(void) { return 0; }\n")
        self.assertEqual(judged(text), "")
        self.assertIn("a constructor or destructor", judged(text, ["-fsanitize=thread"]))

    def test_denied_symbol_named_with_its_line(self) -> None:
        why = judged("void __lsan_disable(void);\nint f(void)\n{\n    __lsan_disable();\n    return 0;\n}\n")
        self.assertIn("x.c:4: uses __lsan_disable", why)
        self.assertIn("atexit", judged("#include <stdlib.h>\nstatic void g(void) {}\n"
                                       "int f(void) { return atexit(g); }\n"))

    def test_raw_system_call(self) -> None:
        self.assertIn("raw system-call instruction",
                      judged("void f(void) { __asm__ volatile(\"syscall\" ::: \"rcx\", \"r11\"); }\n"))


if __name__ == "__main__":
    unittest.main()
