"""A fresh machine: what grading needs, named as Debian packages."""

import os
import unittest
from pathlib import Path
from tempfile import TemporaryDirectory
from unittest import mock

from wbtools import needs, workbook


class TestNeeds(unittest.TestCase):
    def setUp(self) -> None:
        workbook.go_to_top()

    def test_nothing_on_path_names_every_package(self) -> None:
        with TemporaryDirectory() as empty, mock.patch.dict(os.environ, {"PATH": empty}):
            found = needs.missing("gcc")
        self.assertEqual(found[:3], ["gcc", "pkg-config", "check"])
        self.assertIn("bubblewrap", found)
        self.assertIn("liburing-dev", found)  # chapter 6's uringcopy links -luring

    def test_only_the_asked_chapters_libraries(self) -> None:
        with TemporaryDirectory() as empty, mock.patch.dict(os.environ, {"PATH": empty}):
            self.assertNotIn("liburing-dev", needs.missing("gcc", ["01-sync"]))
            self.assertIn("liburing-dev", needs.missing("gcc", ["06-beyond"]))
        from wbtools.__main__ import asked_chapters
        self.assertEqual(asked_chapters(["check", "1", "", "exercises"]), ["01-sync"])
        self.assertIsNone(asked_chapters(["check", "", "runner", "exercises"]))
        self.assertIsNone(asked_chapters(["progress"]))
        self.assertIsNone(asked_chapters(["check", "x"]))  # check itself says what is wrong

    def test_a_pkg_config_without_check(self) -> None:
        with TemporaryDirectory() as d:
            fake = Path(d) / "pkg-config"
            fake.write_text("#!/bin/sh\nfor a; do [ \"$a\" = check ] && exit 1; done\nexit 0\n")
            fake.chmod(0o755)
            for tool in ("gcc", "bwrap"):
                (Path(d) / tool).symlink_to("/bin/true")
            with mock.patch.dict(os.environ, {"PATH": d}):
                self.assertEqual(needs.missing("gcc"), ["check"])
                self.assertEqual(needs.missing("clang"), ["clang", "check"])

    def test_message_names_make_deps(self) -> None:
        text = needs.message("check", ["check", "bubblewrap"])
        self.assertEqual(len(text.split("\n")), 2)
        self.assertIn("check bubblewrap", text)
        self.assertIn("make deps", text)


if __name__ == "__main__":
    unittest.main()
