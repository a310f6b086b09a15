"""Argument parsing: CHAPTER, EXERCISE, IMPL, and the errors that list the
valid names."""

import unittest

from wbtools import choose, workbook
from wbtools.workbook import UsageError


class TestChoose(unittest.TestCase):
    def test_every_chapter_by_default(self) -> None:
        sel = choose.choose("", "", "solutions")
        self.assertEqual(sel.chapters, workbook.chapters_with_exercises())
        self.assertEqual(sel.blocks, set())  # the references are there

    def test_one_exercise(self) -> None:
        sel = choose.choose("1", "runner", "solutions")
        self.assertEqual([e.key for e in sel.exercises], ["01-sync/runner"])
        self.assertEqual(sel.exercises[0].source, "solutions/01-sync/runner.c")
        self.assertEqual(sel.exercises[0].header, "exercises/01-sync/runner.h")

    def test_leading_zero(self) -> None:
        self.assertEqual(choose.choose("01", "", "exercises").chapters, ["01-sync"])

    def test_order_of_the_text(self) -> None:
        names = workbook.exercises_of("01-sync")
        self.assertEqual(names[0], "runner")
        self.assertEqual(sorted(names), sorted(n.name[5:-2] for n in
                                               __import__("pathlib").Path("tests/01-sync").glob("test_*.c")))

    def test_not_a_number_lists_chapters(self) -> None:
        with self.assertRaises(UsageError) as e:
            choose.choose("one", "", "exercises")
        self.assertIn("CHAPTER must be a chapter number, not 'one'", str(e.exception))
        self.assertIn("  CHAPTER=1  (01-sync)", str(e.exception))

    def test_no_such_chapter_lists_chapters(self) -> None:
        with self.assertRaises(UsageError) as e:
            choose.choose("99", "", "exercises")
        self.assertIn("there is no chapter 99 with exercises", str(e.exception))
        self.assertIn("CHAPTER=2", str(e.exception))

    def test_no_such_exercise_lists_exercises(self) -> None:
        with self.assertRaises(UsageError) as e:
            choose.choose("1", "nope", "exercises")
        self.assertIn("there is no exercise 'nope' in chapter 1", str(e.exception))
        self.assertIn("  EXERCISE=runner  (chapter 1)", str(e.exception))
        self.assertNotIn("(chapter 2)", str(e.exception))

    def test_bad_impl(self) -> None:
        with self.assertRaises(UsageError) as e:
            choose.choose("1", "", "no/such/folder")
        self.assertIn("IMPL must be 'exercises' (your code) or 'solutions'", str(e.exception))
        self.assertEqual(e.exception.command, "check")

    def test_impl_trailing_slash(self) -> None:
        self.assertEqual(choose.choose("1", "runner", "solutions/").exercises[0].impl, "solutions")

    def test_hint_errors(self) -> None:
        from wbtools import hint
        with self.assertRaises(UsageError) as e:
            hint.main([])
        self.assertIn("make hint CHAPTER=1 EXERCISE=runner", str(e.exception))
        with self.assertRaises(UsageError) as e:
            hint.main(["1", "nope"])
        self.assertIn("chapter 1 has no exercise 'nope'", str(e.exception))
        with self.assertRaises(UsageError):
            hint.main(["x", "runner"])

    def test_hint_sections(self) -> None:
        from wbtools import hint
        text = "intro\n## Hint 1\n\n\nfirst\n\n## Hint 2\nsecond\n"
        self.assertEqual(hint.hints(text), ["first\n\n", "second\n"])


if __name__ == "__main__":
    unittest.main()
