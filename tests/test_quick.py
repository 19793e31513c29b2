"""The read commands answered without Typer behave exactly like the Typer command line,
and anything the fast parser does not know goes to Typer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelreg import Registry, quick, render
from modelreg.cli import app


@pytest.fixture
def root(tmp_path: Path) -> Path:
    registry = Registry.init(tmp_path / "registry")
    for number in range(1, 4):
        registry.register(
            "churn",
            f"s3://b/{number}",
            metrics={"accuracy": 0.8 + number / 100},
            tags={"team": "growth"},
            create_model=True,
        )
    registry.register("fraud", "s3://f/1", tags={"team": "risk"}, create_model=True)
    registry.transition_model_version_stage("churn", 2, "Production")
    registry.set_registered_model_alias("churn", "champion", 2)
    return registry.root


FAST = [
    ["resolve", "churn@champion"],
    ["resolve", "churn", "2", "--format", "json"],
    ["resolve", "models:/churn/Production", "-f", "plain"],
    ["describe", "churn", "-f", "json"],
    ["describe", "churn", "latest", "--format=yaml"],
    ["describe", "churn", "9"],
    ["list", "-f", "plain"],
    ["list", "churn", "--format", "json"],
    ["list", "nope"],
    ["search", "-f", "plain"],
    ["search", "metrics.accuracy > 0.81", "-o", "version ASC", "-f", "json"],
    ["search", "--models", "tags.team = 'risk'", "--format", "plain"],
    ["search", "-n", "1", "--order-by", "version DESC", "-f", "plain"],
    ["search", "--max-results=2", "-f", "plain"],
    ["search", "name > 3"],
    ["search", "-n", "0"],
]


@pytest.mark.parametrize("args", FAST, ids=" ".join)
def test_the_fast_path_answers_like_typer(
    root: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--registry", str(root), *args]
    code = quick.try_run(argv)
    fast = capsys.readouterr()
    assert code is not None, "the fast parser should have taken this command"
    typer_result = CliRunner().invoke(app, argv)
    assert (code, fast.out, fast.err) == (
        typer_result.exit_code,
        typer_result.stdout,
        typer_result.stderr,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["resolve", "--help"],
        ["search", "--bogus"],
        ["search", "-f", "xml"],
        ["search", "-n", "many"],
        ["search", "a", "b"],
        ["list", "a", "b"],
        ["describe"],
        ["register", "m", "s3://x"],
        ["--traceback", "list"],
        ["search", "--models=yes"],
        ["search", "--order-by"],
    ],
    ids=" ".join,
)
def test_anything_else_goes_to_typer(root: Path, args: list[str]) -> None:
    assert quick.try_run(["--registry", str(root), *args]) is None


# What only writes, searches, diffs, other formats or a terminal need: a read command's
# start-up imports none of it (issue 19: `resolve` runs in every `make`). `dataclasses`
# would bring `inspect`: the read path's classes are modelreg.structs instead; its
# modules import typing only for type checkers; timestamps as modelreg writes them are
# converted without datetime.
NOT_FOR_READS = (
    "dataclasses",
    "datetime",
    "inspect",
    "json",
    "secrets",
    "shutil",
    "signal",
    "typing",
    "typer",
    "rich",
    "yaml",
    "modelreg.compare",
    "modelreg.events",
    "modelreg.filters",
    "modelreg.history",
    "modelreg.importing",
    "modelreg.jsonio",
    "modelreg.lineage",
    "modelreg.models",
    "modelreg.pointintime",
    "modelreg.promotion",
    "modelreg.search",
    "modelreg.session",
    "modelreg.versions",
    "modelreg.workflow",
)


def run_python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a new Python process, with ``args``; its output captured."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def test_read_commands_import_only_what_they_print(root: Path) -> None:
    # One process runs the three in turn, as `modelreg` runs each (quick.try_run), and
    # names what each left in sys.modules of NOT_FOR_READS and hashlib (a read through
    # the cache, `list`, names the cache folder without it: OpenSSL's load cost 5 ms).
    script = (
        "import sys\n"
        "from modelreg import quick\n"
        "heavy = set(sys.argv[2].split())\n"
        "for command in (['resolve', 'churn@champion'], ['describe', 'churn', '2'],\n"
        "                ['list', 'churn']):\n"
        "    code = quick.try_run(['--registry', sys.argv[1], *command])\n"
        "    print(command[0], code, *sorted(heavy & set(sys.modules)), file=sys.stderr)\n"
    )
    heavy = " ".join([*NOT_FOR_READS, "hashlib"])
    result = run_python(script, str(root), heavy)
    assert result.stdout.splitlines()[0] == "s3://b/2"
    assert result.stderr.splitlines() == ["resolve 0", "describe 0", "list 0"]


def test_a_search_of_one_page_imports_no_dataclasses_datetime_or_hashlib(root: Path) -> None:
    # Every search process paid 45 ms for them: the filter's classes were dataclasses,
    # a date literal needs datetime, and only a page token needs hashlib, json, base64.
    script = (
        "import sys\n"
        "from modelreg import quick\n"
        "code = quick.try_run(['--registry', sys.argv[1], 'search', \"tags.team = 'growth'\",\n"
        "                      '-f', 'plain'])\n"
        "print(code, *sorted(set(sys.argv[2].split()) & set(sys.modules)), file=sys.stderr)\n"
    )
    heavy = "dataclasses inspect datetime hashlib json base64 difflib yaml typer rich"
    result = run_python(script, str(root), heavy)
    assert len(result.stdout.splitlines()) == 3  # the three versions
    assert result.stderr.splitlines() == ["0"]


@pytest.mark.parametrize("fmt", ["plain", "table"])
def test_search_lines_and_tables_show_what_the_entities_would(
    root: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Lines and tables print a search's records without building entities: they must
    # print what the entities' to_dict would.
    registry = Registry(root)
    registry.register(
        "churn",
        "s3://b/4",
        run_id="0123456789abcdef0123",
        model_id="m-0123456789abcdef",
        description="two\nlines\tand a tab",
    )
    registry.set_registered_model_alias("churn", "challenger", 4)
    assert quick.try_run(["--registry", str(root), "search", "-f", fmt]) == 0
    shown = capsys.readouterr().out
    entities = Registry(root).search_model_versions()
    render.emit([mv.to_dict() for mv in entities], render.Format(fmt), render.VERSION_COLUMNS)
    assert capsys.readouterr().out == shown
    assert "challenger" in shown and "m-0123456789abcdef" in shown
