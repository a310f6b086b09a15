"""Unit tests of the tools: fast, no sandbox, no compiler.

  python3 -m unittest discover -s tests/support -t tests/support -p 'test_*.py'
"""

from wbtools.workbook import go_to_top

go_to_top()
