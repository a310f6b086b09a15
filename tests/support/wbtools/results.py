"""Step 5: the raw results checked against the tests the suite declares,
and the exercise's state decided. A result that is missing becomes an
error; one that is extra, repeated or malformed means the results cannot be
trusted, and the whole exercise is refused."""

from __future__ import annotations

from wbtools.state import Graded, TestResult

FORGED = ("the results of the suite are malformed (a test reported twice, an unknown test, "
          "or a broken line): something wrote to the grader's results")


def parse(raw: str, declared: list[str]) -> dict[str, TestResult] | None:
    """The results by test name, or None when a line is malformed, names a
    test the suite does not declare, or repeats one."""
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    found: dict[str, TestResult] = {}
    for line in lines:
        f = line.split("\t")
        if len(f) != 6 or f[0] not in ("pass", "fail", "error") or f[1] not in declared:
            return None
        if f[1] in found:
            return None
        try:
            seconds = float(f[5])
        except ValueError:
            return None
        found[f[1]] = TestResult(f[0], f[1], f[2], f[3], f[4], seconds)
    return found


def collect(raw: str, declared: list[str], status: int, run_log: str,
            stub_untouched: bool) -> Graded:
    """The exercise's state and one result per declared test, in order."""
    found = parse(raw, declared)
    if found is None:
        return Graded("refused", FORGED, [
            TestResult("error", t, "tests/support/wb.c:0", "",
                       "not graded: the results were forged or damaged", -1) for t in declared])
    tests = [found.get(t) or TestResult(
        "error", t, "tests/support/wb.c:0", "",
        f"did not report: the suite stopped before this test ended (exit status {status}, "
        "see the note above)", -1) for t in declared]
    graded = Graded(tests=tests, run_log=run_log)
    if not declared:
        graded.state, graded.note = "stopped early", "the suite declares no test"
    elif len(found) < len(declared) or status >= 2:
        graded.state = "stopped early"
        if status == 147:  # run.RUNNER_STOPPED
            graded.note = ("the test runner (the suite's main()) was stopped (SIGSTOP or the "
                           "like, sent by the code under test?); the grader ended it")
        elif status > 1000:  # run.RUNNER_KILLED + the signal
            graded.note = (f"the test runner (the suite's main()) was killed by signal "
                           f"{status - 1000} before its time limit (sent by the code under test?)")
        elif status in (124, 137):
            graded.note = "the suite ran past its time limit and was stopped"
        else:
            tail = "\n".join(l[:200] for l in run_log.rstrip("\n").split("\n")[-5:])
            graded.note = f"the test suite stopped early (exit status {status}); its last output:\n{tail}"
    elif all(t.passed for t in tests):
        graded.state = "passed"
    elif stub_untouched:
        graded.state = "not started"
    else:
        graded.state = "failed"
    return graded
