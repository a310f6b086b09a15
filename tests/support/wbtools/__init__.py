"""The Async C Workbook's tools: the grader behind `make check` and the
commands around it (gradebook, progress, handout, hint, watch, test).

A learner's file goes through one module per step, in this order:

  choose.py    what to grade: the chapters and exercises asked for, and the
               building blocks they link (workbook.py knows the layout)
  trusted.py   the trusted parts (test suites, test support, reference
               building blocks), built by make outside the sandbox
  sandbox.py   the sandbox every step that touches the learner's code runs in
  build.py     the learner's file compiled and linked in the sandbox
               (buildbox.py is the part that runs inside it)
  run.py       the test suite run in the sandbox, its results on a
               descriptor only the grader can read
  results.py   the results checked against the tests the suite declares
  report.py    what the learner reads
  outputs.py   results for programs: JSON, TAP, Gradescope's results.json

Before any of them, needs.py checks that the machine has what grading
needs (the compiler, pkg-config, Check, Bubblewrap) and names the missing
packages and `make deps`. check.py ties the steps together; the other commands each have a module
named after them. Run them as `python3 -m wbtools COMMAND ...` from
tests/support (the Makefile does).
"""
