"""The Gradescope autograder's pure parts: where a learner's files are
found, POINTS, the results' entries, and the format checker."""

import json
import unittest
from pathlib import Path
from tempfile import TemporaryDirectory

from wbtools import autograder
from wbtools.workbook import UsageError

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas"
                     / "gradescope-results.schema.json").read_text())
KNOWN = {"runner": "01-sync", "fullio": "01-sync", "tpool": "03-threads"}


def tree(files: dict[str, str]) -> TemporaryDirectory:  # type: ignore[type-arg]
    d = TemporaryDirectory()
    for rel, text in files.items():
        p = Path(d.name) / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return d


class TestPlace(unittest.TestCase):
    def test_layouts(self) -> None:
        for files, want in [
            ({"exercises/01-sync/runner.c": "", "exercises/03-threads/tpool.c": ""},
             {"runner": "exercises/01-sync/runner.c", "tpool": "exercises/03-threads/tpool.c"}),
            ({"01-sync/runner.c": "", "01-sync/fullio.c": ""},
             {"runner": "01-sync/runner.c", "fullio": "01-sync/fullio.c"}),
            ({"runner.c": "", "tpool.c": ""}, {"runner": "runner.c", "tpool": "tpool.c"}),
            # the copy in its chapter's folder wins over a loose one
            ({"runner.c": "", "old/01-sync/runner.c": ""}, {"runner": "old/01-sync/runner.c"}),
        ]:
            with tree(files) as d:
                found, _ = autograder.place(Path(d), KNOWN)
                self.assertEqual(found, want)

    def test_left_out(self) -> None:
        with tree({"main.c": "", ".git/runner.c": "", "big/runner.c": "x" * (autograder.MAX_FILE + 1)}) as d:
            (Path(d) / "fullio.c").symlink_to("/etc/passwd")
            found, notes = autograder.place(Path(d), KNOWN)
            self.assertEqual(found, {})
            text = "\n".join(notes)
            for want in ("main.c: left out (no exercise", "fullio.c: left out (not a plain file)",
                         "big/runner.c: left out (larger"):
                self.assertIn(want, text)


class TestPoints(unittest.TestCase):
    def test_parse(self) -> None:
        self.assertEqual(autograder.parse_points("runner=10,fullio=2.5", ["runner", "fullio"]),
                         {"runner": 10.0, "fullio": 2.5})
        self.assertEqual(autograder.parse_points("", ["runner"]), {})
        for bad in ("nosuch=1", "runner", "runner=x", "runner=-1"):
            with self.assertRaises(UsageError):
                autograder.parse_points(bad, ["runner", "fullio"])

    def test_entries(self) -> None:
        config = {"exercises": ["runner"], "points": {"runner": 4}}
        t = {"name": "t1", "status": "pass", "where": "", "section": "S", "message": "", "promise": ""}
        f = dict(t, name="t2", status="error", message="not run: the exercise does not compile")
        chapter = {"folder": "01-sync", "exercises": [
            {"name": "runner", "state": "does not compile", "note": "runner.c:1: error", "tests": [t, f]},
            {"name": "fullio", "state": "passed", "building_block": True, "tests": [t]}]}
        got = autograder.entries(config, chapter, {"runner": "runner.c"})
        self.assertEqual([(e["name"], e["score"], e["max_score"]) for e in got],
                         [("runner: t1", 2.0, 2.0), ("runner: t2", 0.0, 2.0)])
        self.assertIn("does not compile: runner.c:1: error", got[1]["output"])
        self.assertIn('section "S"', got[1]["output"])
        self.assertEqual(autograder.validate({"output": "", "tests": got}, SCHEMA), [])


class TestValidate(unittest.TestCase):
    def test_schema(self) -> None:
        case = {"name": "a", "score": 1, "max_score": 1, "status": "passed", "output": ""}
        good: dict[str, object] = {"score": 1, "output": "x", "tests": [case]}
        self.assertEqual(autograder.validate(good, SCHEMA), [])
        for broken in ({"output": "x"}, dict(good, score="1"), dict(good, extra=1),
                       dict(good, tests=[dict(case, status="ok")]),
                       dict(good, tests=[{"name": "a"}]), dict(good, score=-1)):
            self.assertNotEqual(autograder.validate(broken, SCHEMA), [], broken)


if __name__ == "__main__":
    unittest.main()
