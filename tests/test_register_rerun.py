"""A re-run of ``register``: the same registration returns the existing version; one that
asks for details the version does not have is refused whole, never applied in half."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelreg import ConflictError, Registry

NAME = "m"
Run = Callable[..., Any]


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "a.pkl"
    path.write_bytes(b"model bytes")
    return path


def cli(registry: Registry, *args: str) -> Any:
    from modelreg.cli import app

    return CliRunner().invoke(app, ["--registry", str(registry.root), *args])


def test_a_rerun_with_new_details_is_refused_and_changes_nothing(
    registry: Registry, artifact: Path
) -> None:
    first = cli(registry, "register", NAME, str(artifact), "--metric", "acc=0.9", "-f", "json")
    assert first.exit_code == 0, first.output
    before = sorted(p.read_bytes() for p in (registry.root / "models").rglob("*.yaml"))
    rerun = cli(
        registry,
        "register",
        NAME,
        str(artifact),
        "--metric",
        "acc=0.99",
        "--tag",
        "note=new",
        "--alias",
        "champion",
        "--stage",
        "Production",
    )
    assert rerun.exit_code == 4, rerun.output
    assert "metric 'acc': 0.99 given, 0.9 recorded" in rerun.stderr
    assert "tag 'note': 'new' given, none recorded" in rerun.stderr
    assert "Nothing was registered or changed" in rerun.stderr
    after = sorted(p.read_bytes() for p in (registry.root / "models").rglob("*.yaml"))
    assert after == before  # no alias, no stage, no metric, no tag, no new version
    mv = Registry(registry.root).get_model_version(NAME, 1)
    assert (mv.current_stage, mv.aliases, mv.tags) == ("None", [], {})


def test_a_rerun_asking_for_what_is_recorded_applies_alias_and_stage(
    registry: Registry, artifact: Path
) -> None:
    args = ["register", NAME, str(artifact), "--metric", "acc=0.9", "--tag", "team=growth"]
    assert cli(registry, *args).exit_code == 0
    rerun = cli(registry, *args, "--alias", "champion", "--stage", "Staging", "-f", "plain")
    assert rerun.exit_code == 0, rerun.output
    assert "already has this artifact (same source and sha256)" in rerun.stderr
    mv = Registry(registry.root).get_model_version(NAME, 1)
    assert (mv.current_stage, mv.aliases, mv.metrics) == ("Staging", ["champion"], {"acc": 0.9})
    assert Registry(registry.root).list_versions(NAME)[-1].version == 1


def test_the_api_refuses_a_rerun_with_other_details(registry: Registry, artifact: Path) -> None:
    registry.register(NAME, str(artifact), create_model=True, description="first")
    same = registry.register(NAME, str(artifact), description="first")
    assert (same.created, same.version.version) == (False, 1)
    for changed in (
        {"description": "second"},
        {"params": {"lr": 0.1}},
        {"run_id": "another-run"},
        {"tags": {"k": "v"}},
    ):
        with pytest.raises(ConflictError, match="with other details") as caught:
            registry.register(NAME, str(artifact), **changed)  # type: ignore[arg-type]
        assert caught.value.exit_code == 4
    assert registry.get_model_version(NAME, 1).description == "first"
    assert len(registry.list_versions(NAME)) == 1


def test_a_remote_source_is_the_same_registration_with_the_same_run_id(
    registry: Registry,
) -> None:
    first = registry.register(NAME, "s3://bucket/m.pkl", run_id="r1", create_model=True)
    again = registry.register(NAME, "s3://bucket/m.pkl", run_id="r1")
    assert (again.created, again.version.version) == (False, first.version.version)
    other_run = registry.register(NAME, "s3://bucket/m.pkl", run_id="r2")
    assert (other_run.created, other_run.version.version) == (True, 2)
    # Without a run id nothing says the content at the URI is the same: a new version.
    assert registry.register(NAME, "s3://bucket/m.pkl").created
    assert registry.register(NAME, "s3://bucket/m.pkl").created
    registry.register(NAME, "s3://bucket/x", run_id="r9", metrics={"a": 1})
    with pytest.raises(ConflictError, match="same source and run id"):
        registry.register(NAME, "s3://bucket/x", run_id="r9", metrics={"a": 2})


def test_a_half_applied_rerun_is_exit_4_in_a_real_process(
    registry: Registry, artifact: Path, run_cli: Run
) -> None:
    base = ("--registry", str(registry.root), "register", NAME, str(artifact))
    assert run_cli(*base).returncode == 0
    rerun = run_cli(*base, "--metric", "acc=0.99", "--alias", "champion", "-f", "plain")
    assert (rerun.returncode, rerun.stdout) == (4, "")
    assert "metric 'acc': 0.99 given, none recorded" in rerun.stderr
    assert Registry(registry.root).get_registered_model(NAME).aliases == {}
