"""The installed ``modelreg`` as a real subprocess: what shells, Makefiles and CI see.

Exit codes, stdout/stderr separation, JSON shape, a shell session, a lock held by another
process, hostile names. Each subprocess costs ~0.2 s, so each test here checks a contract
that only a real process can show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from _safety import lock_held, tree
from modelreg import Registry, __version__
from modelreg.entities import ModelVersion, RegisteredModel

Run = Callable[..., subprocess.CompletedProcess[str]]
NAME = "churn-predictor"
VERSION_KEYS = set(
    ModelVersion(name="m", version=1, creation_timestamp=0, last_updated_timestamp=0).to_dict()
)
MODEL_KEYS = set(
    RegisteredModel(name="m", creation_timestamp=0, last_updated_timestamp=0).to_dict()
)


@pytest.fixture
def reg(registry: Registry) -> Registry:
    """churn-predictor with one version, s3://models/churn/1."""
    registry.create_registered_model(NAME, description="Predicts churn")
    registry.create_model_version(NAME, "s3://models/churn/1", run_id="run1")
    return registry


@pytest.fixture
def run(run_cli: Run, registry_path: Path) -> Run:
    """``modelreg --registry ROOT ARGS...`` as a subprocess."""

    def invoke(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return run_cli("--registry", str(registry_path), *args, **kwargs)

    return invoke


def test_version_from_the_script_and_from_python_dash_m(run_cli: Run) -> None:
    script = run_cli("--version")
    assert (script.returncode, script.stdout, script.stderr) == (0, f"modelreg {__version__}\n", "")
    module = subprocess.run(
        [sys.executable, "-m", "modelreg", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert script_result(module) == script_result(script)


def script_result(result: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return result.returncode, result.stdout, result.stderr


def test_no_registry_is_exit_3_with_a_hint_to_run_init(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("list", cwd=tmp_path, env={"MODELREG_REGISTRY": ""})
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.startswith("error: no registry found in ")
    assert "modelreg init" in result.stderr
    assert result.stderr.count("\n") == 1


def test_init_then_discovery_from_a_subfolder(run_cli: Run, tmp_path: Path) -> None:
    created = run_cli("init", "registry", "--format", "json", cwd=tmp_path)
    assert created.returncode == 0
    assert json.loads(created.stdout) == {"path": str((tmp_path / "registry").resolve())}
    assert created.stderr == "Created a registry in registry\n"
    inside = tmp_path / "registry" / "models"
    listed = run_cli("list", "--format", "json", cwd=inside, env={"MODELREG_REGISTRY": ""})
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "[]\n", "")


def test_register_json_on_stdout_message_on_stderr(run: Run, reg: Registry) -> None:
    result = run(
        "register", NAME, "s3://models/churn/2", "--metric", "acc=0.93",
        "--param", "epochs=10", "--param", "opt=adam", "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0
    assert result.stderr == f"Registered {NAME} version 2\n"
    data = json.loads(result.stdout)
    assert set(data) == VERSION_KEYS
    assert (data["name"], data["version"], data["current_stage"]) == (NAME, 2, "None")
    assert data["metrics"] == {"acc": 0.93}
    assert data["params"] == {"epochs": 10, "opt": "adam"}
    assert data == reg.get_model_version(NAME, 2).to_dict()


def test_describe_a_model_json_shape(run: Run, reg: Registry) -> None:
    result = run("describe", NAME, "--format", "json")
    assert (result.returncode, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    assert set(data) == MODEL_KEYS
    assert data == reg.get_registered_model(NAME).to_dict()


def test_a_shell_session(registry_path: Path, reg: Registry, tmp_path: Path) -> None:
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"weights")
    script = f"""
set -eu
VERSION=$(modelreg register {NAME} {artifact} --run-id r2 --format plain | cut -f2)
echo "version=$VERSION"
modelreg transition {NAME} "$VERSION" staging --comment "shadow" --format plain > /dev/null
modelreg alias {NAME} champion "$VERSION" --format plain > /dev/null
echo "model=$(modelreg resolve {NAME}@champion)"
modelreg list {NAME} --format plain |
while IFS="$(printf '\\t')" read -r name version stage rest; do
    echo "row=$name $version $stage"
done
modelreg describe {NAME} nope 2> err.txt || echo "status=$?"
cat err.txt
"""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MODELREG_REGISTRY": str(registry_path),
    }
    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "version=2",
        f"model={artifact.resolve()}",
        f"row={NAME} 1 None",
        f"row={NAME} 2 Staging",
        "status=2",
        "error: unknown stage 'nope'; this registry's stages are: "
        "None, Staging, Production, Archived",
    ]
    assert result.stderr.splitlines() == [
        f"Registered {NAME} version 2",
        f"{NAME} version 2: None -> Staging",
        f"{NAME}@champion -> version 2",
    ]


def test_exit_4_on_a_conflict(run: Run, reg: Registry) -> None:
    result = run("create", NAME)
    assert script_result(result) == (4, "", f"error: registered model '{NAME}' already exists\n")


def test_exit_3_on_a_missing_version_through_the_fast_path_and_typer(
    run: Run, reg: Registry
) -> None:
    expected = (3, "", f"error: version 9 of model '{NAME}' not found\n")
    assert script_result(run("describe", NAME, "9")) == expected
    assert script_result(run("resolve", f"models:/{NAME}/9")) == (
        3,
        "",
        f"error: version 9 of model '{NAME}' not found\n",
    )
    assert script_result(run("history", NAME, "9")) == expected


def test_usage_errors_are_exit_2(run: Run, reg: Registry) -> None:
    result = run("describe", NAME, "--no-such-option")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "No such option: --no-such-option" in result.stderr


def test_delete_without_a_terminal_needs_yes(run: Run, reg: Registry, registry_path: Path) -> None:
    before = tree(registry_path)
    result = run("delete", NAME, "1", stdin="y\n")
    assert script_result(result) == (
        2,
        "",
        f"error: refusing to delete {NAME} version 1 without --yes (not at a terminal)\n",
    )
    assert tree(registry_path) == before


@pytest.fixture
def held_lock(registry_path: Path) -> Iterator[Path]:
    """The registry's lock, held by another real process for the whole test."""
    lock_file = registry_path / ".modelreg.lock"
    with lock_held(lock_file):
        yield lock_file


def test_a_held_lock_is_exit_6_naming_the_lock_file(
    run: Run, reg: Registry, registry_path: Path, held_lock: Path
) -> None:
    before = tree(registry_path)
    result = run("register", NAME, "s3://models/churn/2", env={"MODELREG_LOCK_TIMEOUT": "0.2"})
    assert result.returncode == 6
    assert result.stdout == ""
    assert result.stderr == (
        f"error: the registry is busy: could not take the lock {held_lock} within 0.2 s "
        "(another modelreg process is writing; retry, or raise MODELREG_LOCK_TIMEOUT)\n"
    )
    assert tree(registry_path) == before
    # Readers take no lock.
    read = run("resolve", NAME, env={"MODELREG_LOCK_TIMEOUT": "0.2"})
    assert script_result(read) == (0, "s3://models/churn/1\n", "")


HOSTILE = [
    ("create", "../x"),
    ("create", "a/b"),
    ("create", "/abs"),
    ("register", "a\x01b"),
    ("create", "con"),
    ("register", "nul.txt"),
    ("create", "COM1"),
    ("register", "Churn-Predictor"),
]


@pytest.mark.parametrize(("command", "name"), HOSTILE, ids=repr)
def test_a_hostile_name_is_exit_2_and_writes_nothing(
    run: Run, reg: Registry, registry_path: Path, tmp_path: Path, command: str, name: str
) -> None:
    (tmp_path / "model.pkl").write_bytes(b"weights")
    before = tree(registry_path)
    args = [command, name] + ([str(tmp_path / "model.pkl")] if command == "register" else [])
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert tree(registry_path) == before
    assert sorted(path.name for path in (registry_path / "models").iterdir()) == [NAME]


def test_a_description_piped_in_from_a_real_process(run: Run, registry: Registry) -> None:
    card = "# Churn\n\nTrained on *November*; `auc` 0.91.\n" + "x" * 300_000 + "\n"
    done = run("register", "churn", "s3://b/1", "--description-file", "-", stdin=card)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == "Registered churn version 1\n"
    # Longer than one argument may be (MAX_ARG_STRLEN is 128 KiB on Linux).
    assert registry.get_model_version("churn", 1).description == card.rstrip("\n")
