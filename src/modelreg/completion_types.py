"""The types of shell completion's table of commands and options, in one place for the
table (:mod:`modelreg.completion_table`, generated), the completion that reads it
(:mod:`modelreg.completion`) and the generator (:mod:`modelreg.cli.completion`).

Imported only under TYPE_CHECKING: a completion never loads it (nor ``typing``)."""

from __future__ import annotations

from typing import TypedDict

# One spelling of an option: what its value is (a kind of modelreg.completion; "flag":
# none), whether it may be given again, and its help.
Option = tuple[str, bool, str]


class Node(TypedDict):
    """The app, a group or a command: its options, its positional arguments (a list of
    value kinds; the last one repeats when ``repeat``) and its subcommands."""

    help: str
    options: dict[str, Option]
    args: list[str]
    repeat: bool
    commands: dict[str, Node]
