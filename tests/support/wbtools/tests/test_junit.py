"""JUnit XML (outputs.junit): valid against tests/support/schemas/junit.xsd
(with xmllint when installed), and the counts and texts the CI tools show."""

import shutil
import subprocess
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path
from tempfile import TemporaryDirectory

from wbtools import outputs
from wbtools.choose import Exercise
from wbtools.state import Graded, TestResult, not_run

XSD = Path(__file__).resolve().parents[2] / "schemas" / "junit.xsd"
RUNNER = Exercise("01-sync", "runner", "exercises")


def chapter() -> dict:  # type: ignore[type-arg]
    g = Graded("failed", "", [TestResult("pass", "test_a", "t.c:1", "S", "", 0.5),
                              TestResult("fail", "test_b", "t.c:2", "Sec", "[tag] wrong\x01 <&>", -1),
                              TestResult("error", "test_c", "t.c:3", "", "crashed: SIGSEGV", 0.1)])
    broken = not_run(["test_x", "test_y"], "does not compile", "runner.c:3: error: oops", [])
    block = outputs.exercise_json(Exercise("01-sync", "fullio", "exercises"), g, block=True)
    return outputs.chapter_json(1, "01-sync", "exercises", "plain",
                                [block, outputs.exercise_json(RUNNER, g),
                                 outputs.exercise_json(Exercise("01-sync", "wait", "exercises"), broken)])


def structure_problems(root: ET.Element) -> list[str]:
    """The schema's essential constraints, checked without xmllint."""
    bad = []
    if root.tag != "testsuites":
        bad.append("root is not testsuites")
    for s in root:
        if s.tag != "testsuite" or "name" not in s.attrib or not s.get("tests", "").isdigit():
            bad.append(f"bad testsuite {s.attrib}")
        cases = list(s)
        if int(s.get("tests", "-1")) != len(cases):
            bad.append(f"{s.get('name')}: tests={s.get('tests')} but {len(cases)} testcases")
        for kind, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            if int(s.get(attr, "0")) != sum(1 for c in cases for x in c if x.tag == kind):
                bad.append(f"{s.get('name')}: {attr} does not count its {kind} elements")
        for c in cases:
            if c.tag != "testcase" or not c.get("name") or not c.get("classname"):
                bad.append(f"bad testcase {c.attrib}")
            float(c.get("time", "0"))
            for x in c:
                if x.tag not in ("failure", "error", "skipped", "system-out", "system-err"):
                    bad.append(f"testcase holds {x.tag}")
    return bad


class TestJUnit(unittest.TestCase):
    def test_structure(self) -> None:
        root = ET.fromstring(outputs.junit(chapter()))
        self.assertEqual(structure_problems(root), [])
        self.assertEqual([s.get("name") for s in root], ["runner", "wait"])  # no building block
        self.assertEqual((root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")),
                         ("6", "1", "2", "2"))
        b = root.find("testsuite[@name='runner']/testcase[@name='test_b']/failure")
        assert b is not None and b.text is not None
        self.assertEqual(b.get("message"), "[tag] wrong? <&>")
        self.assertIn('read: section "Sec"', b.text)
        build = root.find("testsuite[@name='wait']/testcase[@name='(build and run)']/error")
        assert build is not None and build.text is not None
        self.assertIn("oops", build.text)
        for c in root.iter("testcase"):
            self.assertIn(c.get("classname"), ("runner", "wait"))

    @unittest.skipUnless(shutil.which("xmllint"), "xmllint not installed (libxml2-utils)")
    def test_schema(self) -> None:
        with TemporaryDirectory() as d:
            f = Path(d) / "chapter-1.xml"
            f.write_text(outputs.junit(chapter()))
            r = subprocess.run(["xmllint", "--noout", "--schema", str(XSD), str(f)],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            # and the schema does reject what the tools would not read
            f.write_text('<testsuites><testsuite name="x"><testcase name="y"/></testsuite></testsuites>')
            r = subprocess.run(["xmllint", "--noout", "--schema", str(XSD), str(f)],
                               capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
