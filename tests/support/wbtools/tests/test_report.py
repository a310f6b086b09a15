"""The report: first failures, the promise sentence, the section."""

import unittest
from pathlib import Path
from tempfile import TemporaryDirectory

from wbtools import report, workbook
from wbtools.choose import Exercise
from wbtools.state import Graded, TestResult, not_run

RUNNER = Exercise("01-sync", "runner", "exercises")


def failing(n: int, message: str = "[no-clock] it went wrong") -> Graded:
    tests = [TestResult("fail", f"test_{i}", f"tests/01-sync/test_runner.c:{i}",
                        "A sequential task runner", message, 0.1) for i in range(n)]
    return Graded("failed", "", tests + [TestResult("pass", "test_ok", "", "", "", 0.1)])


class TestReport(unittest.TestCase):
    def test_exercise_line(self) -> None:
        self.assertEqual(report.exercise_line(RUNNER, failing(2)),
                         "  runner           failed               1/3 checks")
        g = failing(1)
        g.state = "not started"
        self.assertTrue(report.exercise_line(RUNNER, g).endswith(
            "0/2 checks   (edit exercises/01-sync/runner.c)".replace("0/2", "1/2")))

    def test_first_failures_are_limited(self) -> None:
        lines, shown = report.failures(RUNNER, failing(8), None, 5)
        self.assertEqual(shown, 5)
        self.assertEqual(sum(1 for l in lines if l.startswith("  runner: ")), 5)

    def test_where_message_promise_section(self) -> None:
        lines, _ = report.failures(RUNNER, failing(1), None, 5)
        self.assertEqual(lines[0], "  runner: test_0")
        self.assertEqual(lines[1], "      tests/01-sync/test_runner.c:0: [no-clock] it went wrong")
        self.assertTrue(lines[2].startswith("      broken promise [no-clock]: "))
        self.assertEqual(lines[-1], '      read: chapters/01-sync/chapter.md, section "A sequential task runner"')

    def test_promise_text(self) -> None:
        text = workbook.promise_text("exercises/01-sync/runner.h", "no-clock")
        self.assertIn("clock_gettime()", text)
        self.assertNotIn("[", text[:1])
        self.assertEqual(workbook.promise_text("exercises/01-sync/runner.h", "no-such-tag"), "")
        # The whole promise, however long (kvsave's [errors] ends with the
        # case a test checks).
        errors = workbook.promise_text("exercises/07-every-way/kvsave.h", "errors")
        self.assertGreater(len(errors), 300)
        self.assertRegex(errors, r"\.\)?$")

    def test_after_the_test_ended(self) -> None:
        g = Graded("failed", "", [TestResult("error", "test_x", "tests/support/wb.c:10", "", "a child", -1)])
        lines, _ = report.failures(RUNNER, g, None, 5)
        self.assertEqual(lines[1], "      after the test ended: a child")

    def test_not_started_shows_nothing(self) -> None:
        g = failing(3)
        g.state = "not started"
        self.assertEqual(report.failures(RUNNER, g, None, 5), ([], 0))

    def test_does_not_compile_shows_the_note_once(self) -> None:
        g = not_run(["test_a", "test_b"], "does not compile", "runner.c:3: error: oops", [])
        lines, shown = report.failures(RUNNER, g, None, 5)
        self.assertEqual(lines, ["  runner does not compile:", "      runner.c:3: error: oops"])
        self.assertEqual(shown, 1)
        self.assertEqual(report.failures(RUNNER, g, None, 0), ([], 0))

    def test_stopped_early_skips_did_not_report(self) -> None:
        g = Graded("stopped early", "the suite ran past its time limit and was stopped", [
            TestResult("error", "test_a", "tests/support/wb.c:0", "", "did not report: ...", -1)])
        lines, shown = report.failures(RUNNER, g, None, 5)
        self.assertEqual(shown, 1)
        self.assertEqual(len(lines), 2)

    def test_sanitizer_excerpt(self) -> None:
        text = ("noise\n==1==ERROR: AddressSanitizer: heap-buffer-overflow\n"
                "Write of size 4 at 0x1\n    #0 0x1 in srunner_run x\n    #1 0x2 in runner_run runner.c:5\n"
                "SUMMARY: AddressSanitizer: heap-buffer-overflow runner.c:5\nafter\n")
        self.assertEqual(report.sanitizer_excerpt(text), [
            "        | ==1==ERROR: AddressSanitizer: heap-buffer-overflow",
            "        | Write of size 4 at 0x1",
            "        |     #1 0x2 in runner_run runner.c:5",
            "        | SUMMARY: AddressSanitizer: heap-buffer-overflow runner.c:5"])

    def test_sanitizer_report_is_shown_with_its_test(self) -> None:
        with TemporaryDirectory() as d:
            Path(d, "test_0.123").write_text("==1==ERROR: LeakSanitizer: leak\nSUMMARY: leak\n")
            said = "LeakSanitizer: memory allocated during this test was never freed"
            lines, _ = report.failures(RUNNER, failing(1, said), Path(d), 5)
            self.assertIn("        | SUMMARY: leak", lines)
            # A report under a verdict that names no sanitizer was planted.
            lines, _ = report.failures(RUNNER, failing(1), Path(d), 5)
            self.assertNotIn("        | SUMMARY: leak", lines)

    def test_undefined_behavior_report_without_its_name(self) -> None:
        # gcc's UndefinedBehaviorSanitizer, stopping at the first error,
        # prints no line that names it: the runtime error is enough.
        with TemporaryDirectory() as d:
            Path(d, "test_0.stderr.123").write_text(
                "runner.c:5:9: runtime error: signed integer overflow\n    #0 0x1 in runner_run runner.c:5\n")
            said = "UndefinedBehaviorSanitizer reported an error in this test"
            lines, _ = report.failures(RUNNER, failing(1, said), Path(d), 5)
            self.assertIn("        | runner.c:5:9: runtime error: signed integer overflow", lines)

    def test_block_failure(self) -> None:
        tpool = Exercise("03-threads", "tpool", "exercises")
        bqueue = Exercise("03-threads", "bqueue", "exercises")
        self.assertEqual(report.block_failure(tpool, bqueue, failing(2)),
                         "tpool uses your bqueue, which fails 2 of its 3 checks: fix bqueue first")
        self.assertIsNone(report.block_failure(tpool, bqueue, Graded("passed")))
        stub = failing(2)
        stub.state = "not started"
        self.assertEqual(report.block_failure(tpool, bqueue, stub),
                         "tpool uses your bqueue, which is not started: write bqueue first")

    def test_failure_through_a_block_names_it(self) -> None:
        future = Exercise("05-callbacks", "future", "exercises")
        loop = Exercise("04-select", "loop", "exercises")
        timerq = Exercise("04-select", "timerq", "exercises")
        broken = Graded("failed", "", [
            TestResult("fail", "test_clock", "x.c:1", "An event loop on select", "[clock-fails] no", 0.1),
            TestResult("pass", "test_ok", "", "", "", 0.1)])
        lines, _ = report.failures(future, failing(1), None, 5, [(loop, broken), (timerq, Graded("passed"))])
        self.assertIn('      this check goes through your loop.c: it fails 1 of its 2 checks (test_clock): '
                      'fix it first; read also: chapters/04-select/chapter.md, section "An event loop on select"',
                      lines)
        # A block that passes is named only when none fails.
        self.assertFalse(any("timerq" in l for l in lines))
        # When all pass, one line names them all, under the first failure only.
        lines, _ = report.failures(future, failing(3), None, 5,
                                   [(loop, Graded("passed")), (timerq, Graded("passed"))])
        said = [l for l in lines if "go through your" in l]
        self.assertEqual(said, ["      these checks go through your loop.c and timerq.c: each passes its own "
                                "checks, which cannot try every use"])
        self.assertLess(lines.index(said[0]), lines.index("  future: test_1"))
        # Without building blocks of the learner's (the workbook): no such line.
        lines, _ = report.failures(future, failing(1), None, 5)
        self.assertFalse(any("goes through" in l for l in lines))

    def test_warnings(self) -> None:
        g = Graded("passed", warnings=["a.c:1:2: warning: x"])
        self.assertEqual(report.warnings_block(RUNNER, g)[0],
                         "  runner: 1 compiler warning in exercises/01-sync/runner.c; they often point at the bug:")

    def test_summary(self) -> None:
        self.assertEqual(report.summary("chapter-1", 3, 4), "chapter-1: 3 passed, 4 failed")


if __name__ == "__main__":
    unittest.main()
