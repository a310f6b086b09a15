"""Unit tests of make mutants: finding mutants, equivalents, the tally."""

from __future__ import annotations

import tempfile
import unittest
from pathlib import Path
from unittest import mock

from wbtools import mutants

SAMPLE = b"""\
#include <stddef.h>
int f(int *a, size_t n, int x)
{
    int s = 0;
    size_t i = 0;
    while (i < n && !x) {
        s += a[i] * 2;
        i++;
    }
    g(s, x);
    return s == 3;
}
"""


def sample_mutants() -> list[mutants.Mutant]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.c"
        path.write_bytes(b"void g(int, int);\n" + SAMPLE)
        return mutants.find_mutants(path, ["-std=c11"])


class FindMutants(unittest.TestCase):
    found: list[mutants.Mutant]
    keys: set[str]

    @classmethod
    def setUpClass(cls) -> None:
        cls.found = sample_mutants()
        cls.keys = {m.key for m in cls.found}

    def test_every_kind_of_change(self) -> None:
        wanted = {
            "L7:14 < -> <=",  # boundary
            "L7:14 < -> >=",  # opposite
            "L7:18 && -> ||",
            "L7:21 ! ->",  # negation dropped (no trailing space)
            "L8:11 += -> -=",
            "L8:19 * -> /",
            "L8:21 2 -> 3",
            "L8:21 2 -> 1",
            "L9:10 ++ -> --",
            "L11:5 g(s, x) -> (void)0",  # a call statement removed
            "L11:7 s, x -> x, s",  # arguments swapped
            "L7:5 while -> if",
            "L12:14 == -> !=",
        }
        self.assertLessEqual(wanted, self.keys, sorted(self.keys))

    def test_no_duplicates_and_source_order(self) -> None:
        starts = [(m.start, m.end, m.new) for m in self.found]
        self.assertEqual(starts, sorted(set(starts)))

    def test_apply_changes_only_that_span(self) -> None:
        m = next(m for m in self.found if m.key == "L12:14 == -> !=")
        src = b"void g(int, int);\n" + SAMPLE
        out = m.apply(src)
        self.assertEqual(out.replace(b"s != 3", b"s == 3"), src)


class Equivalents(unittest.TestCase):
    def read(self, text: str) -> dict[str, str]:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "tests" / "01-sync").mkdir(parents=True)
            (root / "tests" / "01-sync" / "fullio.equivalent").write_text(text)
            with mock.patch.object(mutants, "ROOT", root):
                return mutants.read_equivalents("01-sync/fullio")

    def test_key_and_reason(self) -> None:
        got = self.read("# a comment\n\nL3:4 < -> <=  # i never exceeds n here\n")
        self.assertEqual(got, {"L3:4 < -> <=": "i never exceeds n here"})

    def test_a_deletion_can_be_listed(self) -> None:
        # A dropped `!` has nothing after the arrow: its key, as the
        # survivors file prints it, must match the stripped line.
        dropped = next(m for m in sample_mutants() if m.old == "!" and m.new == "")
        got = self.read(f"{dropped.key}  # the test is always true here\n")
        self.assertIn(dropped.key, got)

    def test_a_line_without_reason_is_refused(self) -> None:
        with self.assertRaises(SystemExit) as cm:
            self.read("L3:4 < -> <=\n")
        self.assertIn("needs '# reason'", str(cm.exception))


class Tally(unittest.TestCase):
    def test_timeouts_count_as_killed_stillborn_not_at_all(self) -> None:
        t = mutants.Tally("01-sync/fullio", killed=8, survived=1, timeout=1, stillborn=5, equivalent=2)
        self.assertAlmostEqual(t.score, 90.0)
        self.assertIn("90.0% killed", t.line())

    def test_nothing_to_grade_is_not_a_failure(self) -> None:
        self.assertEqual(mutants.Tally("x/y").score, 100.0)


class Choose(unittest.TestCase):
    def test_unknown_names_list_the_valid_ones(self) -> None:
        from wbtools.workbook import UsageError
        with self.assertRaises(UsageError) as cm:
            mutants.exercises("1", "nosuch")
        self.assertIn("exercises are:", str(cm.exception))
        self.assertIn("fullio", str(cm.exception))
        self.assertEqual(cm.exception.command, "mutants")
        with self.assertRaises(UsageError) as cm2:
            mutants.exercises("99", "")
        self.assertIn("no chapter 99", str(cm2.exception))
        self.assertEqual(mutants.exercises("1", ""), ["01-sync/runner", "01-sync/fullio", "01-sync/report"])


if __name__ == "__main__":
    unittest.main()
