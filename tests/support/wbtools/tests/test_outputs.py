"""Results for programs: JSON, TAP, Gradescope, the gradebook's CSV, and the
cache keys."""

import json
import os
import unittest
from pathlib import Path
from tempfile import TemporaryDirectory

from wbtools import gradebook, outputs, workbook
from wbtools.choose import Exercise
from wbtools.state import Graded, TestResult

RUNNER = Exercise("01-sync", "runner", "exercises")
G = Graded("failed", "", [TestResult("pass", "test_a", "t.c:1", "S", "", 0.5),
                          TestResult("fail", "test_b", "t.c:2", "S", "[tag] wrong", -1)])


class TestOutputs(unittest.TestCase):
    def test_tap(self) -> None:
        self.assertEqual(outputs.tap(G), "1..2\nok 1 - test_a\nnot ok 2 - test_b # [tag] wrong\n")

    def test_tsv(self) -> None:
        self.assertEqual(outputs.tsv(G).split("\n")[1], "fail\ttest_b\tt.c:2\tS\t[tag] wrong\t-1")

    def test_exercise_json(self) -> None:
        d = outputs.exercise_json(RUNNER, G)
        self.assertEqual(d["passed"], 1)
        self.assertEqual(d["failed"], 1)
        self.assertEqual(d["source"], "exercises/01-sync/runner.c")
        self.assertNotIn("note", d)
        self.assertEqual(d["tests"][0]["duration"], 0.5)
        self.assertIsNone(d["tests"][1]["duration"])
        json.dumps(d)

    def test_chapter_json_counts_its_own_exercises(self) -> None:
        own = outputs.exercise_json(RUNNER, G)
        block = outputs.exercise_json(Exercise("01-sync", "fullio", "exercises"), G, block=True)
        d = outputs.chapter_json(1, "01-sync", "exercises", "plain", [block, own])
        self.assertEqual((d["passed"], d["failed"]), (1, 1))
        self.assertTrue(d["exercises"][0]["building_block"])

    def test_gradescope(self) -> None:
        d = outputs.gradescope([outputs.chapter_json(1, "01-sync", "x", "plain",
                                                     [outputs.exercise_json(RUNNER, G)])], ["a note"])
        self.assertEqual((d["score"], d["max_score"]), (1, 2))
        self.assertEqual(d["extra_data"], {"integrity": ["a note"]})
        self.assertEqual(d["tests"][1]["name"], "runner: test_b")
        self.assertEqual(d["tests"][1]["output"], "[tag] wrong\nRead: S")
        self.assertEqual(d["tests"][1]["status"], "failed")

    def test_state_round_trip(self) -> None:
        self.assertEqual(Graded.from_json(G.to_json()), G)

    def test_write_replaces_a_link(self) -> None:
        with TemporaryDirectory() as d:
            target, link = Path(d, "target"), Path(d, "out.json")
            target.write_text("keep")
            link.symlink_to(target)
            outputs.write(link, "new")
            self.assertEqual(target.read_text(), "keep")
            self.assertFalse(link.is_symlink())
            self.assertEqual(os.stat(link).st_mode & 0o777, 0o644)


class TestGradebook(unittest.TestCase):
    def test_csv(self) -> None:
        names = workbook.exercises_of("01-sync")
        declared = {n: len(workbook.declared_tests("01-sync", n)) for n in names}
        chapter = {"chapter": 1, "exercises": [
            {"name": names[0], "passed": 2, "failed": 1},
            {"name": names[1], "passed": 5, "failed": 0, "building_block": True}]}
        text = gradebook.csv_text(["alice", "bob"], ["01-sync"], {"alice": {1: chapter}, "bob": {}})
        rows = [r.split(",") for r in text.splitlines()]
        self.assertEqual(rows[0], ["learner"] + names + ["passed", "total"])
        self.assertEqual(rows[1][1], "2/3")
        self.assertEqual(rows[1][2], f"0/{declared[names[1]]}")  # a block counts nothing
        total = 3 + sum(declared[n] for n in names[1:])
        self.assertEqual(rows[1][-2:], ["2", str(total)])
        self.assertEqual(rows[2][-2:], ["0", str(sum(declared.values()))])

    def test_learners(self) -> None:
        with TemporaryDirectory() as d:
            for f in ("b.tar.gz", "a.zip", "c.tgz", "notes.txt"):
                Path(d, f).write_text("")
            Path(d, "dora").mkdir()
            self.assertEqual([n for n, _ in gradebook.learners(Path(d))], ["a", "b", "c", "dora"])

    def test_copy_leaves_links_out(self) -> None:
        with TemporaryDirectory() as d:
            src = Path(d, "src")
            (src / "01-sync").mkdir(parents=True)
            (src / "01-sync" / "runner.c").write_text("int x;")
            (src / "01-sync" / "link.c").symlink_to("/etc/passwd")
            (src / "secret").symlink_to("/root")
            gradebook.copy_tree(src, Path(d, "dest"))
            self.assertTrue(Path(d, "dest/01-sync/runner.c").is_file())
            self.assertFalse(Path(d, "dest/01-sync/link.c").exists())
            self.assertFalse(Path(d, "dest/secret").exists())


class TestCacheKeys(unittest.TestCase):
    def test_key_follows_content(self) -> None:
        with TemporaryDirectory() as d:
            f = Path(d, "a.c")
            f.write_text("one")
            k1 = workbook.files_digest([str(f)])
            self.assertEqual(k1, workbook.files_digest([str(f)]))
            f.write_text("two")
            self.assertNotEqual(k1, workbook.files_digest([str(f)]))
            self.assertNotEqual(workbook.files_digest([str(f)]), workbook.files_digest([str(f)], "gcc"))
            self.assertNotEqual(workbook.files_digest([str(f), str(Path(d, "missing"))]),
                                workbook.files_digest([str(f)]))
            self.assertEqual(len(k1), 16)

    def test_kept_result_follows_its_key(self) -> None:
        from wbtools import check
        from wbtools.state import Graded, TestResult
        from wbtools.trusted import BuildEnv
        env = BuildEnv("build/plain", "gcc", "-O1", "-O1", "", "", "")
        saved = check.CACHE
        with TemporaryDirectory() as d:
            check.CACHE = Path(d)
            try:
                self.assertIsNone(check.kept(RUNNER, env))
                g = Graded("passed", tests=[TestResult("pass", "t", "", "", "", 0.1)])
                f = check.cache_file(RUNNER, env)
                f.parent.mkdir(parents=True)
                f.write_text(check.cache_key(RUNNER, env) + "\n" + g.to_json())
                k = check.kept(RUNNER, env)
                self.assertIsNotNone(k)
                assert k is not None
                self.assertEqual((k.state, k.passed, k.cached), ("passed", 1, True))
                other = BuildEnv("build/plain", "gcc", "-O2", "-O1", "", "", "")
                self.assertIsNone(check.kept(RUNNER, other))  # the flags changed
                f.write_text("0" * 16 + "\n" + g.to_json())
                self.assertIsNone(check.kept(RUNNER, env))
                f.write_text(check.cache_key(RUNNER, env) + "\nnot json")
                self.assertIsNone(check.kept(RUNNER, env))
            finally:
                check.CACHE = saved

    def test_block_cache_key(self) -> None:
        from wbtools import check
        from wbtools.trusted import BuildEnv
        env = BuildEnv("build/plain", "gcc", "-O1", "-O1", "", "", "")
        k = check.cache_key(RUNNER, env)
        self.assertEqual(k, check.cache_key(RUNNER, env))
        self.assertNotEqual(k, check.cache_key(RUNNER, BuildEnv("build/tsan", "gcc", "-O1", "-O1", "", "", "")))
        self.assertNotEqual(k, check.cache_key(Exercise("01-sync", "fullio", "exercises"), env))

    def test_progress_line(self) -> None:
        from wbtools import progress
        out = "chapter 1: x\n  runner           not started          0/11 checks   (edit e)\n"
        self.assertEqual(progress.parse_line("runner", out), ("not started", 0, 11))
        self.assertEqual(progress.parse_line("runner", "check: broken\n"), ("failed", 0, 0))
        self.assertEqual(progress.bar(1, 2), "[" + "#" * 10 + "." * 10 + "]")
        self.assertEqual(progress.bar(0, 0), "[" + "." * 20 + "]")


if __name__ == "__main__":
    unittest.main()


class TestSandboxMessages(unittest.TestCase):
    def test_blocked_names_the_folder_and_the_fix(self) -> None:
        from wbtools import sandbox
        with TemporaryDirectory() as d:
            private = Path(d, "private")
            (private / "handout").mkdir(parents=True)
            Path(d).chmod(0o755)
            private.chmod(0o700)
            msg = sandbox.blocked_message(private / "handout", 64000, "no /tmp")
        self.assertEqual(msg.count("\n"), 0)
        self.assertIn(f"cannot read {private},", msg)
        self.assertIn(f"chmod a+rx {private}", msg)

    def test_copy_out_refuses_links(self) -> None:
        from wbtools import sandbox
        with TemporaryDirectory() as d:
            Path(d, "link").symlink_to("/etc/passwd")
            self.assertFalse(sandbox.copy_out(Path(d, "link"), Path(d, "copy")))
            self.assertFalse(Path(d, "copy").exists())
            Path(d, "file").write_text("x")
            self.assertTrue(sandbox.copy_out(Path(d, "file"), Path(d, "copy")))
