"""The two front ends — the fast path (quick.py) and the Typer app — share one error funnel:
the same outcome for a reader of stdout that goes away, on either path, through real pipes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from conftest import modelreg_executable
from modelreg import Registry, quick
from modelreg.cli import app
from modelreg.errors import BusyError, CorruptFileError, NotFoundError

# Fast-path commands (quick.py answers them) and Typer-path ones (the same data, through
# the full command line).
FAST = [
    ["list"],
    ["list", "-f", "json"],
    ["search", "--format", "plain"],
    ["describe", "m-00"],
    ["resolve", "m-00"],
]
TYPER = [
    ["--traceback", "list", "-f", "json"],
    ["--strict-hooks", "search"],
    ["history", "m-00"],
]


def make_registry(path: Path, models: int, description: str) -> Path:
    registry = Registry.init(path)
    for number in range(models):
        registry.register(
            f"m-{number:02d}",
            f"s3://bucket/m-{number:02d}/model.pkl",
            description=description,
            create_model=True,
        )
    return registry.root


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_registry(tmp_path / "registry", 3, "a model")


@pytest.fixture
def large(tmp_path: Path) -> Path:
    """A registry whose listings are larger than a pipe holds (64 KiB)."""
    return make_registry(tmp_path / "registry", 30, "x" * 3000)


def test_the_lists_say_which_path_serves_them(root: Path) -> None:
    for args in FAST:
        assert quick._parse(["--registry", str(root), *args]) is not None, args
    for args in TYPER:
        assert quick._parse(["--registry", str(root), *args]) is None, args


@pytest.mark.parametrize("args", FAST + TYPER, ids=" ".join)
def test_a_pipe_closed_before_the_output_is_a_quiet_exit_0(root: Path, args: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before modelreg writes anything
    try:
        done = subprocess.run(
            [modelreg_executable(), "--registry", str(root), *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize(
    "args",
    [["list", "-f", "json"], ["search", "-f", "json"], ["--traceback", "list", "-f", "json"]],
    ids=" ".join,
)
def test_modelreg_list_into_head_exits_quietly(
    large: Path, tmp_path: Path, args: list[str]
) -> None:
    """``modelreg list | head -1`` in a shell: the first line, and nothing on stderr."""
    status, errors = tmp_path / "status", tmp_path / "stderr"
    script = '{ "$@" 2>"$ERRORS"; echo $? >"$STATUS"; } | head -1'
    done = subprocess.run(
        ["sh", "-c", script, "sh", modelreg_executable(), "--registry", str(large), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "ERRORS": str(errors), "STATUS": str(status)},
        timeout=60,
        check=False,
    )
    assert done.stdout == "[\n"
    assert status.read_text() == "0\n"
    assert errors.read_text() == ""


@pytest.mark.parametrize(
    "raised",
    [
        NotFoundError("registered model 'x' not found"),
        CorruptFileError(Path("models/x/model.yaml"), "not a mapping"),
        BusyError(Path(".modelreg.lock"), 0.5),
        KeyboardInterrupt(),
        RuntimeError("boom"),
    ],
    ids=lambda raised: type(raised).__name__,
)
def test_both_paths_end_an_error_alike(
    root: Path,
    raised: BaseException,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same line on stderr and the same exit code, from the fast path and from Typer."""

    def fail(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(Registry, "list_registered_models", fail)
    argv = ["--registry", str(root), "list"]
    fast_code = quick.try_run(argv)
    fast = capsys.readouterr()
    typer_result = CliRunner().invoke(app, argv)
    assert (fast_code, fast.out, fast.err) == (
        typer_result.exit_code,
        typer_result.stdout,
        typer_result.stderr,
    )
    expected = {KeyboardInterrupt: 130, RuntimeError: 1}.get(type(raised))
    assert fast_code == (expected or getattr(raised, "exit_code", None))
    assert fast.err.startswith("error: ") and fast.err.count("\n") == 1


# -- the fast path's options are the Typer app's -----------------------------------------

Kind = tuple[str, str]  # (parameter name, "flag" | "value" | "many")


def typer_options(command: TyperCommand | TyperGroup) -> dict[str, Kind]:
    """Every spelling of the command's options (but --help) -> its parameter and kind."""
    options: dict[str, Kind] = {}
    for param in command.params:
        if param.param_type_name != "option" or param.name == "help":
            continue
        kind = "flag" if getattr(param, "is_flag", False) else "value"
        kind = "many" if param.multiple else kind
        for spelling in [*param.opts, *param.secondary_opts]:
            options[spelling] = (param.name or "", kind)
    return options


def typer_arity(command: TyperCommand) -> tuple[int, float]:
    """How many positional arguments the command takes, at least and at most."""
    low, high = 0, 0.0
    for param in command.params:
        if param.param_type_name == "argument":
            low += param.nargs if param.required and param.nargs > 0 else int(param.required)
            high += float("inf") if param.nargs == -1 else param.nargs
    return low, high


def test_the_fast_commands_take_exactly_the_options_of_typers() -> None:
    root = get_command(app)
    assert isinstance(root, TyperGroup)
    assert sorted(quick._COMMANDS) == ["describe", "list", "resolve", "search"]
    for name, fast in quick._COMMANDS.items():
        command = root.commands[name]
        assert isinstance(command, TyperCommand)
        assert dict(fast.options) == typer_options(command), name
        low, high = fast.positional
        typer_low, typer_high = typer_arity(command)
        assert typer_low <= low <= high <= typer_high, name


def test_the_fast_path_takes_typers_global_options_or_leaves_them_to_typer() -> None:
    root = get_command(app)
    assert isinstance(root, TyperGroup)
    everything = typer_options(root)
    taken = {spelling: everything.get(spelling) for spelling in quick._GLOBAL}
    assert taken == dict(quick._GLOBAL)
    # These change what a read prints or how it exits: Typer answers them (and the
    # completion options, which print a script instead of running a command).
    assert set(everything) - set(quick._GLOBAL) == {
        "--traceback",
        "--strict-hooks",
        "--version",
        "--install-completion",
        "--show-completion",
    }
    for spelling in ("--traceback", "--strict-hooks", "--version", "-r=x", "--show-completion"):
        assert quick._parse([spelling, "list"]) is None, spelling


@pytest.mark.parametrize(
    "args",
    [["list", "-f=json"], ["search", "-n=3"], ["resolve", "m", "--format"], ["list", "--"]],
    ids=" ".join,
)
def test_what_typer_reads_differently_goes_to_typer(args: list[str]) -> None:
    assert quick._parse(args) is None
