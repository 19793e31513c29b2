"""Lineage to the training data (issue 20): data sets recorded on a version, measured
from local files and folders, DVC's own records and URIs; shown, searched, checked."""

from __future__ import annotations

import hashlib
import json
import marshal
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from modelreg import Registry
from modelreg.cli import app
from modelreg.datasets import Dataset
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.index import cache_home


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
    # The cache was written (marshal refuses dataclasses: they are kept as tuples) ...
    cached = list(cache_home().rglob("churn.records.marshal"))
    assert len(cached) == 1
    entries = marshal.loads(cached[0].read_bytes())["entries"]  # noqa: S302 - our own cache
    assert "datasets" in entries["1.yaml"][1]


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


# -- the command line, in a real git repository with hand-written DVC files -------------

TRAIN = b"a,b\n1,2\n"
# DVC's documented formats (https://dvc.org/doc/user-guide/project-structure): a .dvc
# file's `outs`, and dvc.lock's stages with their `outs` relative to the lock's folder.
DVC_FILE = """outs:
- md5: 3863d0e317e2d7ba8ef3e1a8d4a3a9b1
  size: 1024
  hash: md5
  path: big.parquet
"""
DVC_LOCK = """schema: '2.0'
stages:
  featurize:
    cmd: python featurize.py
    deps:
    - path: data/big.parquet
      md5: 3863d0e317e2d7ba8ef3e1a8d4a3a9b1
      size: 1024
    outs:
    - path: data/features
      md5: 9a1b2c3d4e5f60718293a4b5c6d7e8f9.dir
      size: 2048
      nfiles: 2
"""


@pytest.fixture
def repo_project(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """conftest's git repository with a registry, a model, data/train.csv (committed)
    and DVC's records of data/big.parquet (not pulled) and data/features (a stage's
    output), committed too; the working directory."""
    from _safety import git

    monkeypatch.chdir(repo)
    Registry.init(repo / "registry")
    (repo / "model.pkl").write_bytes(b"model")
    data = repo / "data"
    data.mkdir()
    (data / "train.csv").write_bytes(TRAIN)
    (data / "big.parquet.dvc").write_text(DVC_FILE)
    (repo / "dvc.lock").write_text(DVC_LOCK)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data")
    return repo


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["--registry", "registry", *args])


def _json(*args: str) -> Any:
    result = _cli(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_register_records_local_dvc_and_remote_data_sets(repo_project: Path) -> None:
    from _safety import git

    head = git(repo_project, "rev-parse", "HEAD")
    (repo_project / "data" / "features").mkdir()  # pulled: DVC's md5 is still what counts
    (repo_project / "data" / "features" / "x.bin").write_bytes(b"not what dvc hashed")
    mv = _json(
        "register", "churn", "model.pkl",
        "--dataset", "train=data/train.csv",
        "--dataset", "big=data/big.parquet",
        "--dataset", "features=./data/../data/features",
        "--dataset", "remote=gs://bucket/eval.csv",
        "--dataset", "pinned=https://example.com/x.csv#sha256:" + "0" * 64,
    )  # fmt: skip
    assert mv["datasets"] == {
        "big": {
            "source": "../data/big.parquet",
            "digest": "md5:3863d0e317e2d7ba8ef3e1a8d4a3a9b1",
            "size": 1024,
            "git_commit": head,
            "source_type": "dvc",
        },
        "features": {
            "source": "../data/features",
            "digest": "md5:9a1b2c3d4e5f60718293a4b5c6d7e8f9.dir",
            "size": 2048,
            "git_commit": head,
            "source_type": "dvc",
        },
        "pinned": {
            "source": "https://example.com/x.csv",
            "digest": "sha256:" + "0" * 64,
            "size": None,
            "git_commit": None,
            "source_type": "https",
        },
        "remote": {
            "source": "gs://bucket/eval.csv",
            "digest": None,
            "size": None,
            "git_commit": None,
            "source_type": "gs",
        },
        "train": {
            "source": "../data/train.csv",
            "digest": _sha(TRAIN),
            "size": len(TRAIN),
            "git_commit": head,
            "source_type": "local",
        },
    }
    (registered,) = [
        e for e in _json("history", "churn", "1") if e["action"] == "version_registered"
    ]
    assert registered["datasets"] == {
        "big": "md5:3863d0e317e2d7ba8ef3e1a8d4a3a9b1",
        "features": "md5:9a1b2c3d4e5f60718293a4b5c6d7e8f9.dir",
        "pinned": "sha256:" + "0" * 64,
        "remote": "gs://bucket/eval.csv",
        "train": _sha(TRAIN),
    }


def test_a_modified_or_untracked_data_file_records_no_commit(repo_project: Path) -> None:
    (repo_project / "data" / "train.csv").write_bytes(TRAIN + b"3,4\n")
    (repo_project / "data" / "new.csv").write_bytes(b"new")
    mv = _json(
        "register", "churn", "model.pkl",
        "--dataset", "train=data/train.csv", "--dataset", "new=data/new.csv",
    )  # fmt: skip
    assert mv["datasets"]["train"]["digest"] == _sha(TRAIN + b"3,4\n")
    assert mv["datasets"]["train"]["git_commit"] is None
    assert mv["datasets"]["new"]["git_commit"] is None
    assert mv["datasets"]["new"]["size"] == 3


def test_describe_shows_a_line_per_data_set_on_both_paths(
    repo_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelreg import quick

    _json("register", "churn", "model.pkl", "--dataset", "train=data/train.csv")
    argv = ["--registry", "registry", "describe", "churn", "1"]
    for fmt in ("table", "json", "yaml"):
        code = quick.try_run([*argv, "--format", fmt])
        fast = capsys.readouterr()
        typer = CliRunner().invoke(app, [*argv, "--format", fmt])
        assert (code, fast.out) == (typer.exit_code, typer.stdout) == (0, typer.stdout)
    head = _json("describe", "churn", "1")["datasets"]["train"]["git_commit"]
    line = f"train: ../data/train.csv {_sha(TRAIN)} (8 bytes, local, git {head[:12]})"
    assert f"datasets                {line}\n" in _cli("describe", "churn", "1").stdout


def test_diff_lists_the_data_sets_that_changed(repo_project: Path) -> None:
    _json("register", "churn", "model.pkl", "--dataset", "train=data/train.csv")
    (repo_project / "data" / "train.csv").write_bytes(b"other")
    _json(
        "register", "churn", "model.pkl", "--allow-duplicate",
        "--dataset", "train=data/train.csv", "--dataset", "remote=s3://b/k",
    )  # fmt: skip
    assert [(c["key"], c["change"]) for c in _json("diff", "churn", "1", "2")["datasets"]] == [
        ("remote", "added"),
        ("train", "changed"),
    ]
    plain = _cli("diff", "churn", "1", "2", "--format", "plain").stdout
    assert "dataset\tremote\t\ts3://b/k\n" in plain
    assert (
        f"dataset\ttrain\t../data/train.csv {_sha(TRAIN)}\t../data/train.csv {_sha(b'other')}\n"
        in plain
    )
    assert "datasets     remote: (none) -> s3://b/k\n" in _cli("diff", "churn", "1", "2").stdout


def test_a_re_run_with_other_data_is_a_conflict(repo_project: Path) -> None:
    _json("register", "churn", "model.pkl", "--dataset", "train=data/train.csv")
    again = _cli("register", "churn", "model.pkl", "--dataset", "train=data/train.csv")
    assert again.exit_code == 0
    other = _cli("register", "churn", "model.pkl", "--dataset", "train=data/big.parquet")
    assert other.exit_code == 4
    assert "data set 'train'" in other.stderr


def test_search_finds_the_versions_trained_on_a_file(repo_project: Path) -> None:
    _json("register", "churn", "model.pkl", "--dataset", "train=data/train.csv")
    _json("register", "fraud", "model.pkl", "--dataset", "big=data/big.parquet")
    _json("register", "other", "model.pkl", "--dataset", "remote=s3://b/k")
    copy = repo_project / "elsewhere.csv"
    copy.write_bytes(TRAIN)  # the same bytes under another name

    def names(*args: str) -> list[str]:
        return [mv["name"] for mv in _json("search", *args)]

    assert names("--dataset", "data/train.csv") == ["churn"]
    assert names("--dataset", str(copy)) == ["churn"]
    assert names("--dataset", _sha(TRAIN).upper().replace("SHA256:", "")) == ["churn"]
    assert names("--dataset", "data/big.parquet") == ["fraud"]  # not pulled: DVC's md5
    assert names("--dataset", "md5:3863D0E317E2D7BA8EF3E1A8D4A3A9B1") == ["fraud"]
    assert names("--dataset", "s3://b/k") == ["other"]
    assert names("name = 'fraud'", "--dataset", "data/train.csv") == []
    assert names(f"datasets.* = '{_sha(TRAIN)}'") == ["churn"]
    assert names("datasets.big IS NOT NULL OR datasets.remote.source LIKE 's3://%'") == [
        "other",
        "fraud",
    ]
    assert names("datasets.*.source_type != 'dvc'") == ["other", "churn"]
    rows = _cli("search", "-C", "name,datasets.train.size", "-o", "name", "-f", "plain")
    assert rows.stdout == "churn\t8\nfraud\t\nother\t\n"
    missing = _cli("search", "--dataset", "data/nothing.csv")
    assert missing.exit_code == 3


def test_check_artifacts_reports_changed_data(repo_project: Path) -> None:
    (repo_project / "data" / "gone.csv").write_bytes(b"x")
    _json("register", "churn", "model.pkl", "--dataset", "train=data/train.csv")
    _json(
        "register", "churn", "model.pkl", "--allow-duplicate",
        "--dataset", "big=data/big.parquet", "--dataset", "gone=data/gone.csv",
    )  # fmt: skip
    (repo_project / "data" / "gone.csv").unlink()
    assert _cli("check", "--artifacts").exit_code == 0  # missing data is skipped
    (repo_project / "data" / "train.csv").write_bytes(b"changed")
    (repo_project / "data" / "big.parquet.dvc").write_text(DVC_FILE.replace("3863", "ffff"))
    result = _cli("check", "--artifacts", "--format", "json")
    assert result.exit_code == 7
    problems = sorted(finding["problem"] for finding in json.loads(result.stdout))
    assert len(problems) == 2
    assert problems[0].startswith("churn version 1: its data set 'train' at ")
    assert f"changed since it was registered: {_sha(b'changed')} (7 bytes)" in problems[0]
    assert problems[1].startswith("churn version 2: its data set 'big' at ")
    assert "DVC records md5:ffffd0e317e2d7ba8ef3e1a8d4a3a9b1 in big.parquet.dvc" in problems[1]


def test_the_exit_codes_of_bad_data_sets(repo_project: Path, run_cli: Any) -> None:
    bad = run_cli("--registry", "registry", "register", "churn", "model.pkl", "--dataset", "x")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert "expected NAME=PATH_OR_URI" in bad.stderr
    gone = _cli("register", "churn", "model.pkl", "--dataset", "t=no")
    assert (gone.exit_code, gone.stdout) == (3, "")
    assert "no data set at 'no'" in gone.stderr
    assert not (repo_project / "registry" / "models" / "churn").exists()


# -- the filter language on data sets (records in their JSON shape) --------------------

_RECORDS = {
    "local": {"datasets": {"train": Dataset("train", "d/t.csv", "sha256:aa", 8, "c1", "local")}},
    "dvc": {"datasets": {"train": {"source": "d/t.csv", "digest": "md5:bb", "size": 20,
                                   "git_commit": None, "source_type": "dvc"},
                         "eval": {"source": "s3://b/e", "digest": None, "size": None,
                                  "git_commit": None, "source_type": "s3"}}},
    "none": {"datasets": {}},
    "old": {},
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("datasets.train IS NOT NULL", {"local", "dvc"}),
        ("datasets.train IS NULL", {"none", "old"}),
        ("datasets.eval.digest IS NULL", {"dvc", "local", "none", "old"}),
        ("datasets.train = 'md5:bb'", {"dvc"}),
        ("datasets.train.digest != 'md5:bb'", {"local"}),
        ("datasets.train.size > 10", {"dvc"}),
        ("datasets.train.git_commit = 'c1'", {"local"}),
        ("datasets.train.source_type IN ('dvc', 'local')", {"local", "dvc"}),
        ("datasets.* IN ('sha256:aa', 'zz')", {"local"}),
        ("datasets.*.source LIKE 's3://%'", {"dvc"}),
        ("datasets.*.source_type != 's3'", {"local", "none", "old"}),
        ("datasets.* IS NULL", {"none", "old"}),
        ("datasets.* IS NOT NULL", {"local", "dvc"}),
        ("datasets.*.size >= 8 AND NOT datasets.eval IS NOT NULL", {"local"}),
    ],
)
def test_data_set_filters(text: str, expected: set[str]) -> None:
    from modelreg.filters import matches, parse, to_string

    assert {key for key, record in _RECORDS.items() if matches(text, record)} == expected
    assert parse(to_string(parse(text))) == parse(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("datasets = 'x'", "expected '.' and a data set's name after 'datasets'"),
        ("datasets.train.md5 = 'x'", "expected a field of a data set: source, digest, size"),
        ("datasets.train.size LIKE '1%'", "cannot use LIKE on numeric field"),
        ("datasets.train.digest > 'a'", "cannot compare text field"),
        ("datasets.. = 'x'", "expected a data set's name (or * for any)"),
    ],
)
def test_bad_data_set_filters_say_why(text: str, reason: str) -> None:
    from modelreg.errors import FilterSyntaxError
    from modelreg.filters import parse, parse_order_clause

    with pytest.raises(FilterSyntaxError) as caught:
        parse(text)
    assert reason in str(caught.value)
    with pytest.raises(FilterSyntaxError, match=re.escape("cannot order by 'datasets.*'")):
        parse_order_clause("datasets.*.size DESC")


def test_the_merge_of_a_version_file_keeps_its_data_sets_in_place() -> None:
    from modelreg.entities import ModelVersion
    from modelreg.merging import merge_documents

    train = Dataset("train", "d.csv", "sha256:aa", 3, None, "local")
    base = ModelVersion("m", 1, 0, 0, uid="u", datasets={"train": train}).to_doc()
    ours, theirs = {**base, "description": "x"}, {**base, "tags": {"a": "b"}}
    merged = merge_documents("version", base, ours, theirs).document
    assert merged is not None
    assert merged["datasets"] == {"train": train.to_dict()}
    assert list(merged) == [*base]  # the version file's own order: datasets before lineage


def test_the_web_catalog_shows_data_sets_and_their_changes(project: Path) -> None:
    from modelreg.webcatalog.build import build

    registry = Registry("registry")
    registry.register("churn", "model.pkl", create_model=True, datasets={"train": "data/train.csv"})
    registry.set_registered_model_alias("churn", "champion", 1)
    (project / "data" / "train.csv").write_bytes(b"<b>new</b>")
    registry.register(
        "churn", "model.pkl", allow_duplicate=True, datasets={"train": "data/train.csv"}
    )
    build(registry, project / "site")
    page = (project / "site" / "models" / "churn" / "v2.html").read_text()
    new = f"../data/train.csv {_sha(b'<b>new</b>')} 10 bytes"
    assert "<h2>Data sets</h2>" in page
    assert f'<span class="mono">{new}</span>' in page
    old = f"../data/train.csv {_sha(TRAIN)} 8 bytes"
    assert f"<td>data set</td><td>train</td><td>{old}</td><td>{new}</td>" in page
