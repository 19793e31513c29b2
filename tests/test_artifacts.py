"""Artifacts that travel: what ``register`` records for a local path, the artifact store
(a local folder here; S3 in test_artifacts_s3.py), ``pull``, verification and ``gc``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from _safety import git
from modelreg import Registry
from modelreg.errors import NotFoundError

NAME = "churn"


def cli(root: Path, *args: str) -> Any:
    from modelreg.cli import app

    return CliRunner().invoke(app, ["--registry", str(root), *args])


@pytest.fixture
def project(repo: Path) -> Path:
    """A git repository whose registry is two folders down (ml/registry) and whose
    build output out/ is git-ignored, as it should be."""
    Registry.init(repo / "ml" / "registry")
    (repo / ".gitignore").write_text("out/\n")
    (repo / "out").mkdir()
    (repo / "out" / "model.pkl").write_bytes(b"weights v1")
    (repo / "data.csv").write_text("a,b\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "registry")
    return repo


# -- (a) what register records -------------------------------------------------------------


def test_register_refuses_a_local_path_that_does_not_exist(project: Path) -> None:
    root = project / "ml" / "registry"
    result = cli(root, "register", "nofile", "./does-not-exist.pkl")
    assert result.exit_code == 3, result.output
    assert "no artifact at './does-not-exist.pkl'" in result.stderr
    assert not (root / "models" / "nofile").exists()  # nothing registered, not even the model
    with pytest.raises(NotFoundError):
        Registry(root).register(NAME, "missing/model.pkl", create_model=True)


def test_mlflow_create_model_version_accepts_any_source(project: Path) -> None:
    registry = Registry(project / "ml" / "registry")
    registry.create_registered_model(NAME)
    mv = registry.create_model_version(NAME, "/elsewhere/model.pkl")
    assert (mv.source, mv.artifact_sha256) == ("/elsewhere/model.pkl", None)
    assert registry.register_model("relative/nowhere", "other").source == "relative/nowhere"


def test_a_local_path_resolves_the_same_from_any_folder_and_any_clone(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry sits two levels down in its repository: an artifact elsewhere in the
    repository is recorded relative to the registry folder, so a copy of the repository
    resolves it inside the copy (before, it was recorded absolute)."""
    root = project / "ml" / "registry"
    monkeypatch.chdir(project / "out")
    result = cli(root, "register", NAME, "model.pkl")
    assert result.exit_code == 0, result.output
    mv = Registry(root).get_model_version(NAME, 1)
    assert mv.source == "../../out/model.pkl"
    monkeypatch.chdir(project / "ml")
    assert cli(root, "resolve", NAME).stdout == f"{project / 'out' / 'model.pkl'}\n"
    copy = tmp_path / "clone"
    shutil.copytree(project, copy)
    resolved = cli(copy / "ml" / "registry", "resolve", NAME).stdout
    assert resolved == f"{copy / 'out' / 'model.pkl'}\n"


def test_register_warns_when_the_artifact_will_not_travel(project: Path, tmp_path: Path) -> None:
    root = project / "ml" / "registry"
    ignored = cli(root, "register", NAME, str(project / "out" / "model.pkl"))
    assert ignored.exit_code == 0, ignored.output
    assert f"warning: git ignores {project / 'out' / 'model.pkl'}" in ignored.stderr
    assert "this artifact will not travel with a clone" in ignored.stderr
    outside = tmp_path / "elsewhere.pkl"
    outside.write_bytes(b"x")
    far = cli(root, "register", "far", str(outside))
    assert f"{outside} is outside the git repository {project}" in far.stderr
    tracked = cli(root, "register", "tracked", str(project / "data.csv"))
    assert tracked.exit_code == 0, tracked.output
    assert "warning" not in tracked.stderr
    api = Registry(root).register("api", str(outside), create_model=True)
    assert len(api.warnings) == 1
    assert "will not travel" in api.warnings[0]
