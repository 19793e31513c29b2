"""Meta-tests of the command-line surface: every command and option is documented, in its
help and in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from conftest import cli_commands, leaf_commands
from modelreg.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"
ROOT = typer.main.get_command(app)

COMMANDS = cli_commands()
# The commands of the foundation (DESIGN.md, "The command line").
FOUNDATION = [
    "init",
    "create",
    "register",
    "list",
    "describe",
    "tag",
    "update",
    "transition",
    "archive",
    "alias",
    "resolve",
    "history",
    "delete",
]
FORMATS = ["table", "json", "yaml", "plain"]


def params_of(command_name: str | None) -> list[object]:
    command = ROOT if command_name is None else COMMANDS[command_name]
    params = getattr(command, "params", [])
    return [param for param in params if not getattr(param, "hidden", False)]


def test_the_foundation_commands_exist() -> None:
    assert set(FOUNDATION) <= set(COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help_text(name: str) -> None:
    help_text = getattr(COMMANDS[name], "help", None) or ""
    assert help_text.strip(), f"`modelreg {name}` has no help text"


@pytest.mark.parametrize(
    ("command_name", "param_name"),
    [(None, param.name) for param in params_of(None)]
    + [(name, param.name) for name in COMMANDS for param in params_of(name)],
    ids=lambda value: str(value),
)
def test_every_option_and_argument_has_help_text(command_name: str | None, param_name: str) -> None:
    (param,) = [p for p in params_of(command_name) if p.name == param_name]
    where = f"modelreg {command_name or ''}".strip()
    assert (getattr(param, "help", None) or "").strip(), f"{where}: {param_name} has no help"


def test_the_top_level_command_has_help_text() -> None:
    assert (ROOT.help or "").strip()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_of_every_command_exits_0_and_shows_its_help(name: str) -> None:
    result = CliRunner().invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0
    first_line = (getattr(COMMANDS[name], "help", None) or "").strip().splitlines()[0]
    assert first_line.split()[0] in result.stdout
    assert f"modelreg {name}" in result.stdout


@pytest.mark.parametrize("name", leaf_commands())
def test_every_command_that_prints_data_takes_format(name: str) -> None:
    (option,) = [p for p in params_of(name) if "--format" in getattr(p, "opts", [])]
    # The reports people paste into a pull request add markdown.
    expected = [*FORMATS, "markdown"] if name in ("diff", "compare") else FORMATS
    assert list(option.type.choices) == expected  # type: ignore[attr-defined]


def test_resolve_takes_format_but_prints_the_location_alone_by_default() -> None:
    (option,) = [p for p in params_of("resolve") if "--format" in getattr(p, "opts", [])]
    assert list(option.type.choices) == FORMATS  # type: ignore[attr-defined]
    assert option.default is None  # type: ignore[attr-defined]


def readme_mentions(text: str, name: str) -> bool:
    """``modelreg [GLOBAL OPTIONS] NAME`` anywhere, or NAME opening an indented line of a
    usage synopsis."""
    invoked = rf"\bmodelreg(?:\s+--?[\w-]+(?:[ =][^\s-]\S*)?)*\s+{re.escape(name)}(?=[\s`]|$)"
    synopsis = rf"(?m)^ {{2,}}{re.escape(name)}(?=\s|$)"
    return bool(re.search(invoked, text) or re.search(synopsis, text))


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_is_in_the_readme(name: str) -> None:
    # A missing README fails here (FileNotFoundError): it is part of the product.
    text = README.read_text(encoding="utf-8")
    assert readme_mentions(text, name), f"README.md does not show `modelreg {name}`"


def test_readme_mentions_is_not_fooled_by_prose() -> None:
    text = "Use the list of models.\nmodelreg is a tool to delete nothing.\n"
    assert not readme_mentions(text, "list")
    assert not readme_mentions(text, "delete")
    assert readme_mentions("```\nmodelreg --registry r list m\n```", "list")
    assert readme_mentions("```\nmodelreg [--registry PATH] COMMAND\n  delete REF\n```", "delete")
    assert readme_mentions("run `modelreg history churn 3`", "history")


def test_leaf_commands_include_the_sub_apps() -> None:
    assert {"create", "hooks test", "import mlruns"} <= set(leaf_commands())


@pytest.mark.parametrize("name", leaf_commands())
def test_help_shows_arguments_in_capitals_without_braces(name: str) -> None:
    result = CliRunner().invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    usage = lines[0]
    assert usage.startswith(f"Usage: modelreg {name} [OPTIONS]")
    arguments = usage.split("[OPTIONS]", 1)[1]
    assert "{" not in arguments and "}" not in arguments, usage
    assert arguments == arguments.upper(), usage
    if "Arguments:" in lines:
        start = lines.index("Arguments:") + 1
        for line in lines[start : lines.index("", start) if "" in lines[start:] else None]:
            if line.startswith("  ") and not line.startswith("   "):  # an argument's row
                metavar = line.strip().split("  ")[0]
                assert metavar == metavar.upper() and "{" not in metavar, line
