"""Lineage to the training data (issue 20): data sets recorded on a version, measured
from local files and folders, DVC's own records and URIs; shown, searched, checked."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.datasets import Dataset
from modelreg.errors import InvalidInputError, NotFoundError


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (the working directory) with a registry, a model and data."""
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    Registry.init(root / "registry")
    (root / "model.pkl").write_bytes(b"model")
    (root / "data").mkdir()
    (root / "data" / "train.csv").write_bytes(b"a,b\n1,2\n")
    return root


def test_a_version_records_its_data_sets_in_its_file_and_reads_them_back(project: Path) -> None:
    registry = Registry("registry")
    imported = Dataset("imported", "runs:/abc/data", "mlflow:123", None, None, "mlflow")
    result = registry.register(
        "churn",
        "model.pkl",
        create_model=True,
        datasets={
            "train": "data/train.csv",
            "remote": "s3://bucket/eval.csv#sha256:" + "AB" * 32,
            "imported": imported,
        },
    )
    expected = {
        "imported": imported,
        "remote": Dataset(
            "remote", "s3://bucket/eval.csv", "sha256:" + "ab" * 32, None, None, "s3"
        ),
        "train": Dataset("train", "../data/train.csv", _sha(b"a,b\n1,2\n"), 8, None, "local"),
    }
    assert result.version.datasets == expected
    assert Registry("registry").get_model_version("churn", 1).datasets == expected
    text = (project / "registry/models/churn/versions/1.yaml").read_text()
    assert "datasets:\n  imported:\n    source: runs:/abc/data\n    digest: mlflow:123\n" in text
    assert result.version.to_dict()["datasets"] == {
        "imported": {
            "source": "runs:/abc/data",
            "digest": "mlflow:123",
            "size": None,
            "git_commit": None,
            "source_type": "mlflow",
        },
        "remote": expected["remote"].to_dict(),
        "train": expected["train"].to_dict(),
    }


def test_a_version_without_data_sets_has_no_datasets_key_in_its_file(project: Path) -> None:
    registry = Registry("registry")
    registry.register("churn", "model.pkl", create_model=True)
    assert "datasets" not in (project / "registry/models/churn/versions/1.yaml").read_text()
    assert registry.get_model_version("churn", 1).to_dict()["datasets"] == {}


def test_searches_through_the_cache_keep_the_data_sets(project: Path, settle_now: None) -> None:
    registry = Registry("registry")
    registry.register("churn", "model.pkl", create_model=True, datasets={"train": "data/train.csv"})
    for _ in range(2):  # the first search fills the cache, the second reads it
        (found,) = Registry("registry").search_model_versions("name = 'churn'")
        assert found.datasets["train"].digest == _sha(b"a,b\n1,2\n")


@pytest.mark.parametrize(
    ("datasets", "error"),
    [
        ({"bad name": "data/train.csv"}, InvalidInputError),
        ({"-x": "data/train.csv"}, InvalidInputError),
        ({"train": "s3://b/x#sha256:abc"}, InvalidInputError),
        ({"train": "data/nothing.csv"}, NotFoundError),
        ({"train": Dataset("other", "x")}, InvalidInputError),
    ],
    ids=["space in name", "leading dash", "short digest", "missing file", "other name"],
)
def test_bad_data_sets_register_nothing(
    project: Path, datasets: dict[str, str | Dataset], error: type[Exception]
) -> None:
    registry = Registry("registry")
    registry.create_registered_model("churn")
    with pytest.raises(error):
        registry.create_model_version("churn", "model.pkl", datasets=datasets)
    assert registry.search_model_versions() == []
