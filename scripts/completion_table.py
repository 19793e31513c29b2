"""Rewrite src/modelreg/completion_table.py, the commands and options shell completion
answers from, after a change to the app's commands or options:
``python scripts/completion_table.py`` (tests/test_completion.py fails until it is done)."""

from modelreg.cli import app
from modelreg.cli.completion import write_table

print(write_table(app))
