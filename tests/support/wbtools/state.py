"""What grading one exercise yields, passed from step to step: its state,
a note, one result per declared test, the compiler's warnings."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

# An exercise's state, one of:
STATES = ("passed", "failed", "not started", "does not compile", "refused", "stopped early")


@dataclass
class TestResult:
    status: str  # pass, fail or error
    name: str
    where: str  # file:line
    section: str  # the chapter's section that explains it
    message: str
    seconds: float  # -1 when unknown

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass
class Graded:
    state: str = "failed"
    note: str = ""  # why, for the states that are not about single tests
    tests: list[TestResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the learner's file
    run_log: str = ""  # what the suite printed
    cached: bool = False  # a building block's result kept from an earlier run

    @property
    def passed(self) -> int:
        return sum(t.passed for t in self.tests)

    @property
    def failed(self) -> int:
        return len(self.tests) - self.passed

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str) -> Graded:
        d = json.loads(text)
        d["tests"] = [TestResult(**t) for t in d["tests"]]
        return Graded(**d)


def not_run(declared: list[str], state: str, note: str, warnings: list[str]) -> Graded:
    """An exercise that did not get to run: each declared test an error."""
    return Graded(state, note, [TestResult("error", t, "", "", f"not run: the exercise {state}", -1)
                                for t in declared], warnings)
