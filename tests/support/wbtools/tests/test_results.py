"""The results checker: forged, repeated, missing and malformed lines."""

import unittest

from wbtools import results
from wbtools.state import Graded

DECLARED = ["test_a", "test_b", "test_c"]


def line(name: str, status: str = "pass") -> str:
    return f"{status}\t{name}\tx.c:1\tsection\t\t0.001\n"


def every() -> str:
    return "".join(line(n) for n in DECLARED)


class TestCollect(unittest.TestCase):
    def collect(self, raw: str, status: int = 0, untouched: bool = False) -> Graded:
        return results.collect(raw, DECLARED, status, "last words\n", untouched)

    def test_all_pass(self) -> None:
        g = self.collect(every())
        self.assertEqual((g.state, g.passed, g.failed), ("passed", 3, 0))

    def test_a_failure(self) -> None:
        g = self.collect(line("test_a") + line("test_b", "fail") + line("test_c"), status=1)
        self.assertEqual((g.state, g.passed, g.failed), ("failed", 2, 1))

    def test_untouched_stub_is_not_started(self) -> None:
        g = self.collect("".join(line(n, "fail") for n in DECLARED), 1, untouched=True)
        self.assertEqual(g.state, "not started")

    def test_reported_twice_is_refused(self) -> None:
        g = self.collect(every() + line("test_a"))
        self.assertEqual(g.state, "refused")
        self.assertIn("something wrote to the grader's results", g.note)
        self.assertEqual(g.passed, 0)
        self.assertEqual([t.name for t in g.tests], DECLARED)

    def test_unknown_test_is_refused(self) -> None:
        self.assertEqual(self.collect(every() + line("test_not_in_the_suite")).state, "refused")

    def test_malformed_line_is_refused(self) -> None:
        self.assertEqual(self.collect(every() + "pass broken\n").state, "refused")
        self.assertEqual(self.collect(every() + "\n").state, "refused")
        self.assertEqual(self.collect(every().replace("pass", "PASS", 1)).state, "refused")
        self.assertEqual(self.collect(line("test_a").replace("0.001", "soon") + line("test_b")
                                      + line("test_c")).state, "refused")

    def test_forged_pass_with_extra_field_is_refused(self) -> None:
        self.assertEqual(self.collect(every().replace("0.001\n", "0.001\textra\n", 1)).state, "refused")

    def test_missing_is_an_error(self) -> None:
        g = self.collect(line("test_b") + line("test_c"), status=1)
        self.assertEqual(g.state, "stopped early")
        self.assertEqual(g.tests[0].status, "error")
        self.assertTrue(g.tests[0].message.startswith("did not report:"))
        self.assertIn("last words", g.note)

    def test_empty(self) -> None:
        g = self.collect("", status=1)
        self.assertEqual((g.state, g.passed, g.failed), ("stopped early", 0, 3))

    def test_time_limit(self) -> None:
        g = self.collect(line("test_a"), status=124)
        self.assertEqual(g.note, "the suite ran past its time limit and was stopped")

    def test_crash_after_every_result(self) -> None:
        self.assertEqual(self.collect(every(), status=139).state, "stopped early")

    def test_no_declared_test(self) -> None:
        g = results.collect("", [], 0, "", False)
        self.assertEqual((g.state, g.note), ("stopped early", "the suite declares no test"))

    def test_last_line_without_newline(self) -> None:
        self.assertEqual(self.collect(every().rstrip("\n")).state, "passed")

    def test_declared_tests_of_a_suite(self) -> None:
        from wbtools import workbook
        names = workbook.declared_tests("01-sync", "runner")
        self.assertGreaterEqual(len(names), 5)
        self.assertTrue(all(n.startswith("test_") for n in names))
        self.assertEqual(len(names), len(set(names)))


if __name__ == "__main__":
    unittest.main()
