"""The two front ends — the fast path (quick.py) and the Typer app — share one error funnel:
the same outcome for a reader of stdout that goes away, on either path, through real pipes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import modelreg_executable
from modelreg import Registry, quick

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


def test_an_internal_error_on_the_fast_path_is_one_line_like_typers(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Registry, "list_registered_models", boom)
    assert quick.try_run(["--registry", str(root), "list"]) == 1
    assert capsys.readouterr().err == (
        "error: internal error: RuntimeError: boom (run with --traceback to see where)\n"
    )
