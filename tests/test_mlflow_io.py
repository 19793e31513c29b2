"""Moving to and from MLflow, tested against MLflow itself.

The stores are written by MLflow's own client in a subprocess (the file store with
MLFLOW_ALLOW_FILE_STORE=true, and a SQLite store), and the round trip goes through an
``mlflow server`` started on 127.0.0.1. Without MLflow installed these tests skip, except
in CI (``CI=true``), where a missing MLflow is an error: ``make test`` installs the extra.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pty
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from _safety import finishes_within, tree
from modelreg import ConflictError, InvalidInputError, NotFoundError, Registry
from modelreg import mlflow_io as mio
from modelreg.catalog import Catalog
from modelreg.cli import app
from modelreg.datasets import Dataset
from modelreg.entities import RegisteredModel
from modelreg.lineage import artifact_digest
from modelreg.mlflow_datasets import LINEAGE_KEY

HAVE_MLFLOW = importlib.util.find_spec("mlflow") is not None
QUIET_MLFLOW = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
SERVER_START_TIMEOUT = 120.0

# The stores every test reads, written by MLflow's client: several models, stages,
# aliases, tags (one with '/', which the file store nests), descriptions, versions deleted
# in the middle and at the end, a model whose versions are all deleted, a model without
# versions, and names the folder cannot hold.
BUILD_STORES = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from mlflow import MlflowClient

def build(uri):
    c = MlflowClient(tracking_uri=uri, registry_uri=uri)
    name = "churn-predictor"
    c.create_registered_model(
        name, tags={"team": "growth", "domain/area": "retention"},
        description="Predicts churn.\nSecond line: [prod] stays text.",
    )
    for i in range(1, 6):
        c.create_model_version(
            name, f"s3://models/churn/{i}", run_id=f"{i:032x}",
            tags={"framework": "sklearn", "rank": str(i)},
            run_link=f"https://ci.example/runs/{i}", description=f"version {i}",
        )
    c.transition_model_version_stage(name, "2", "Archived")
    c.transition_model_version_stage(name, "3", "Production")
    c.transition_model_version_stage(name, "5", "Staging")
    c.set_registered_model_alias(name, "champion", "3")
    c.set_registered_model_alias(name, "challenger", "5")
    c.set_registered_model_alias(name, "old", "4")
    c.delete_model_version(name, "4")
    c.set_model_version_tag(name, "3", "validated", "yes")
    c.delete_model_version_tag(name, "1", "rank")

    name = "fraud-detector"
    c.create_registered_model(name, description="Card fraud")
    for i in range(1, 4):
        run = f"{i + 100:032x}"
        c.create_model_version(name, f"runs:/{run}/model", run_id=run)
    c.transition_model_version_stage(name, "2", "Production")
    c.set_registered_model_alias(name, "prod", "2")
    c.delete_model_version(name, "3")

    name = "retired"
    c.create_registered_model(name)
    for i in range(1, 3):
        c.create_model_version(name, f"s3://models/retired/{i}")
    c.delete_model_version(name, "1")
    c.delete_model_version(name, "2")

    c.create_registered_model("empty-model", tags={"owner": "nobody"})

    name = "Demand Forecast (EU)"
    c.create_registered_model(name, tags={"region": "eu"})
    c.create_model_version(name, "gs://bucket/demand/1", description="first")
    c.set_registered_model_alias(name, "prod", "1")

def dump(uri):
    c = MlflowClient(tracking_uri=uri, registry_uri=uri)
    models = {}
    for m in c.search_registered_models(max_results=1000):
        versions = {}
        for v in c.search_model_versions(f"name='{m.name}'"):
            versions[str(v.version)] = {
                "version": int(v.version), "current_stage": v.current_stage,
                "description": v.description or None, "source": v.source,
                "run_id": v.run_id or None, "run_link": v.run_link or None,
                "user_id": v.user_id or None, "status": v.status, "tags": dict(v.tags),
                "creation_timestamp": v.creation_timestamp,
                "last_updated_timestamp": v.last_updated_timestamp,
            }
        models[m.name] = {
            "description": m.description or None, "tags": dict(m.tags),
            "aliases": {k: int(n) for k, n in dict(m.aliases).items()},
            "creation_timestamp": m.creation_timestamp,
            "last_updated_timestamp": m.last_updated_timestamp,
            "versions": versions,
        }
    return models

def build_inputs(uri, data):
    # A run with dataset inputs as MLflow's own API logs them: a local file (numpy, with
    # a schema and a profile), pandas-free MetaDatasets with an https and an s3 source,
    # two inputs with the same name (other digests, other contexts), and a name that
    # cannot be a data-set name. Version 1 has the run, version 2 none.
    import mlflow
    import numpy as np
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.http_dataset_source import HTTPDatasetSource
    from mlflow.data.meta_dataset import MetaDataset

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with open(data, "w") as f:
        f.write("x,y\n1,2\n")
    s3 = resolve_dataset_source("s3://bucket/eval/2026-12.parquet")
    mlflow.set_experiment("training")
    with mlflow.start_run() as run:
        train = mlflow.data.from_numpy(np.arange(6).reshape(3, 2), source=data, name="train")
        mlflow.log_input(train, context="training")
        web = HTTPDatasetSource("https://example.com/data/reference.csv")
        mlflow.log_input(MetaDataset(web, name="reference"))
        mlflow.log_input(MetaDataset(s3, name="eval", digest="abc123"), context="validation")
        mlflow.log_input(MetaDataset(s3, name="eval", digest="def456"), context="testing")
        mlflow.log_input(MetaDataset(s3, name="holdout set"))
    c = MlflowClient()
    c.create_registered_model("trained")
    c.create_model_version("trained", "s3://models/trained/1", run_id=run.info.run_id)
    c.create_model_version("trained", "s3://models/trained/2")
    inputs = c.get_run(run.info.run_id).inputs.dataset_inputs
    return {"run_id": run.info.run_id, "inputs": run_inputs(inputs)}

def run_inputs(inputs):
    found = [[dict(i.dataset), {t.key: t.value for t in i.tags}] for i in inputs]
    return sorted(found, key=json.dumps)

out = {}
for key, uri in zip(("mlruns", "sqlite"), sys.argv[1:3]):
    build(uri)
    out[key] = dump(uri)
out["inputs"] = build_inputs(*sys.argv[3:5])
print(json.dumps(out))
"""
DELETED = {"churn-predictor": [4], "fraud-detector": [3], "retired": [1, 2]}
RENAMED = {"Demand Forecast (EU)": "Demand-Forecast-EU"}


def need_mlflow() -> None:
    """Skip without MLflow, except in CI, which must test against it."""
    if HAVE_MLFLOW:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            "MLflow is not installed, and CI must test against it: pip install -e '.[mlflow]'"
        )
    pytest.skip("MLflow is not installed (pip install -e '.[mlflow]'; `make test` installs it)")


@pytest.fixture
def requires_mlflow() -> None:
    need_mlflow()


@pytest.fixture(autouse=True)
def _quiet_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in QUIET_MLFLOW.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An mlruns file store and a SQLite store with the same history, written by MLflow,
    and what MLflow's client reads back from each (the truth the imports must match);
    and a file store with a run that has dataset inputs, and its inputs."""
    need_mlflow()
    folder = tmp_path_factory.mktemp("mlflow-stores")
    mlruns = folder / "mlruns"
    database = folder / "mlflow.db"
    with_inputs = folder / "with-inputs"  # a file store whose run has dataset inputs
    env = {
        **os.environ,
        **QUIET_MLFLOW,
        "MLFLOW_ALLOW_FILE_STORE": "true",
        # MLflow's file store looks up logged models through the default tracking URI.
        "MLFLOW_TRACKING_URI": mlruns.as_uri(),
    }
    done = subprocess.run(
        [
            *(sys.executable, "-c", BUILD_STORES, mlruns.as_uri(), f"sqlite:///{database}"),
            *(with_inputs.as_uri(), "train.csv"),  # as a run logs it: relative to its folder
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    truth = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "mlruns": mlruns,
        "sqlite": f"sqlite:///{database}",
        "truth": truth,
        "with_inputs": with_inputs,
    }


def assert_same_as_mlflow(registry: Registry, truth: dict[str, Any]) -> None:
    """Every model and version MLflow shows, field by field, under its registry name."""
    expected_names = sorted(RENAMED.get(name, name) for name in truth)
    assert [model.name for model in registry.list_registered_models()] == sorted(expected_names)
    for mlflow_name, expected in truth.items():
        name = RENAMED.get(mlflow_name, mlflow_name)
        model = registry.get_registered_model(name)
        assert model.description == expected["description"], name
        assert model.tags == expected["tags"], name
        assert model.aliases == expected["aliases"], name
        assert model.creation_timestamp == expected["creation_timestamp"], name
        assert model.last_updated_timestamp == expected["last_updated_timestamp"], name
        versions = {str(mv.version): mv for mv in registry.list_versions(name)}
        assert sorted(versions) == sorted(expected["versions"]), name
        for number, fields in expected["versions"].items():
            mv = versions[number]
            for key, value in fields.items():
                assert getattr(mv, key) == value, f"{name} version {number}: {key}"
            assert mv.aliases == sorted(
                a for a, n in expected["aliases"].items() if n == mv.version
            )
        # Deleted numbers stay used: the next version comes after them.
        highest = max([0, *map(int, expected["versions"]), *DELETED.get(mlflow_name, [])])
        assert registry.get_registered_model(name).last_version == highest, name


def fresh_registry(tmp_path: Path, name: str = "registry", file_format: int = 2) -> Registry:
    """A new registry; format 1 where a test compares the models' last-updated times with
    MLflow's (format 2 derives them from its files: an import's time)."""
    return Registry.init(tmp_path / name, file_format=file_format)


# -- names (no MLflow needed) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("mlflow_name", "proposed"),
    [
        ("Demand Forecast (EU)", "Demand-Forecast-EU"),
        ("über.model.", "uber.model"),
        ("CON", "CON_"),
        ("nul.v1", "nul_.v1"),
        ("  ", "model"),
        ("模型", "model"),
        ("-leading and trailing-", "leading-and-trailing"),
        ("a" * 200, "a" * 128),
    ],
)
def test_a_name_the_folder_cannot_hold_gets_a_deterministic_proposal(
    mlflow_name: str, proposed: str
) -> None:
    assert mio.propose_name(mlflow_name) == proposed
    assert mio.propose_name(mlflow_name) == mio.propose_name(mlflow_name)


def test_name_plan_keeps_valid_names_and_suffixes_collisions() -> None:
    plan = mio.plan_names(["b c", "b-c", "Churn", "churn", "ok"])
    assert plan.targets == {
        "Churn": "Churn",
        "b-c": "b-c",
        "ok": "ok",
        "b c": "b-c-2",  # b-c is taken by a valid name
        "churn": "churn-2",  # differs from Churn only in case
    }
    assert plan.renamed == {"b c": "b-c-2", "churn": "churn-2"}
    assert plan.skipped == {}


def test_name_plan_renames_on_request_and_skips_on_request() -> None:
    plan = mio.plan_names(["a b", "c d"], {"a b": "first"}, skip_invalid=True)
    assert plan.targets == {"a b": "first"}
    assert plan.renamed == {"a b": "first"}
    assert plan.skipped["c d"].endswith("(it would be imported as 'c-d')")
    assert "invalid model name 'c d'" in plan.skipped["c d"]


def test_a_rename_to_an_invalid_name_or_of_an_unknown_model_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="invalid model name"):
        mio.plan_names(["a b"], {"a b": "no good"})
    with pytest.raises(InvalidInputError, match="no model named 'x'"):
        mio.plan_names(["a b"], {"x": "y"})


def test_uris_lose_their_password_before_they_are_recorded() -> None:
    assert mio.redact_uri("https://me:secret@mlflow.example:8443/x") == (
        "https://mlflow.example:8443/x"
    )
    assert mio.redact_uri("sqlite:////tmp/m.db") == "sqlite:////tmp/m.db"


def test_export_uses_the_mlflow_name_a_model_was_imported_from_until_renamed_here(
    registry: Registry,
) -> None:
    origin = {"action": "imported", "origin": "file:///m", "source_name": "Demand (EU)"}
    model = RegisteredModel(name="Demand-EU", creation_timestamp=1, last_updated_timestamp=1)
    registry.import_model(model, [], origin="file:///m", source_name="Demand (EU)")
    imported = registry.get_registered_model("Demand-EU")
    assert {key: imported.history[0][key] for key in origin} == origin
    assert mio.mlflow_name(imported) == "Demand (EU)"
    registry.rename_registered_model("Demand-EU", "demand")
    assert mio.mlflow_name(registry.get_registered_model("demand")) == "demand"


def write_tiny_mlruns(root: Path) -> Path:
    """A one-model file store in MLflow's layout, for tests of the command line itself
    (the stores compared field by field are written by MLflow)."""
    model = root / "mlruns" / "models" / "m"
    (model / "version-1").mkdir(parents=True)
    (model / "meta.yaml").write_text("name: m\ncreation_timestamp: 1\nlast_updated_timestamp: 2\n")
    (model / "version-1" / "meta.yaml").write_text(
        "name: m\nversion: 1\nsource: s3://x\ncurrent_stage: None\n"
        "creation_timestamp: 1\nlast_updated_timestamp: 2\n"
    )
    return root / "mlruns"


def test_a_version_whose_local_artifact_an_export_uploaded_imports_with_its_own_source(
    tmp_path: Path,
) -> None:
    mlruns = write_tiny_mlruns(tmp_path)
    version = mlruns / "models" / "m" / "version-1"
    uploaded = f"mlflow-artifacts:/1/{'b' * 32}/artifacts/model"
    text = (version / "meta.yaml").read_text().replace("s3://x", uploaded)
    (version / "meta.yaml").write_text(text + f"run_id: {'b' * 32}\n")
    (version / "tags").mkdir()
    for key, value in (("modelreg.source", "../out/model.pkl"), ("kind", "file")):
        (version / "tags" / key).write_text(value)

    registry = fresh_registry(tmp_path)
    mio.import_models(registry, mio.MlrunsSource(mlruns))
    mv = registry.get_model_version("m", 1)
    assert (mv.source, mv.run_id, mv.tags) == ("../out/model.pkl", None, {"kind": "file"})
    assert mv.lineage == {"mlflow_storage_location": uploaded}


# -- the missing extra -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["import", "mlflow", "--tracking-uri", "sqlite:///x.db"],
        ["export", "mlflow", "--tracking-uri", "http://127.0.0.1:1"],
    ],
)
def test_without_the_extra_one_line_says_which_extra_to_install(
    registry: Registry, command: list[str]
) -> None:
    code = (
        "import sys\n"
        "sys.modules['mlflow'] = None  # as if MLflow were not installed\n"
        "sys.argv = ['modelreg', *sys.argv[1:]]\n"
        "from modelreg.__main__ import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--registry", str(registry.root), *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "error: MLflow is not installed: install the extra with pip install 'modelreg[mlflow]'\n"
    )
    assert done.stdout == ""


def test_a_file_store_needs_no_mlflow_even_through_import_mlflow(
    registry: Registry, tmp_path: Path
) -> None:
    mlruns = write_tiny_mlruns(tmp_path)
    code = (
        "import sys\n"
        "sys.modules['mlflow'] = None\n"
        "sys.argv = ['modelreg', *sys.argv[1:]]\n"
        "from modelreg.__main__ import main\n"
        "main()\n"
    )
    command = ["import", "mlflow", "--tracking-uri", mlruns.as_uri(), "-f", "plain"]
    done = subprocess.run(
        [sys.executable, "-c", code, "--registry", str(registry.root), *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "import\t1\t1\t0\t0\t0\t0\t0\t0\n"
    assert registry.get_model_version("m", 1).source == "s3://x"


# -- the mlruns file store -------------------------------------------------------------------


@pytest.mark.usefixtures("requires_mlflow")
def test_an_mlruns_store_written_by_mlflow_is_imported_field_by_field(
    stores: dict[str, Any], tmp_path: Path
) -> None:
    registry = fresh_registry(tmp_path, file_format=1)
    summary = mio.import_models(registry, mio.MlrunsSource(stores["mlruns"]))
    assert_same_as_mlflow(registry, stores["truth"]["mlruns"])
    assert summary.failed == []
    assert summary.models == sorted(RENAMED.get(n, n) for n in stores["truth"]["mlruns"])
    assert summary.versions == 7
    assert summary.renamed == [
        {"mlflow_name": "Demand Forecast (EU)", "name": "Demand-Forecast-EU"}
    ]
    deleted = sorted((s["model"], s["version"]) for s in summary.skipped)
    assert deleted == [
        ("churn-predictor", 4),
        ("fraud-detector", 3),
        ("retired", 1),
        ("retired", 2),
    ]
    # Numbers MLflow deleted are never handed out again.
    assert registry.create_model_version("churn-predictor", "s3://new").version == 6
    assert registry.create_model_version("fraud-detector", "s3://new").version == 4
    assert registry.create_model_version("retired", "s3://new").version == 3
    history = registry.get_registered_model("Demand-Forecast-EU").history
    assert history[0]["action"] == "imported"
    assert history[0]["origin"] == f"{stores['mlruns'].as_uri()}, model 'Demand Forecast (EU)'"


@pytest.mark.usefixtures("requires_mlflow")
def test_numbers_mlflow_deleted_stay_taken_in_format_2(
    stores: dict[str, Any], tmp_path: Path
) -> None:
    from modelreg.check import check_registry

    registry = fresh_registry(tmp_path)
    summary = mio.import_models(registry, mio.MlrunsSource(stores["mlruns"]))
    assert summary.failed == []
    # Format 2 keeps no counter: a tombstone holds each number MLflow handed out and deleted.
    assert (registry.root / "models" / "retired" / "deleted").is_dir()
    assert check_registry(registry.root).findings == ()
    assert all(mv.uid for mv in registry.all_versions())
    assert registry.create_model_version("churn-predictor", "s3://new").version == 6
    assert registry.create_model_version("fraud-detector", "s3://new").version == 4
    assert registry.create_model_version("retired", "s3://new").version == 3


@pytest.mark.usefixtures("requires_mlflow")
def test_importing_again_is_idempotent_and_rewrites_nothing(
    stores: dict[str, Any], tmp_path: Path
) -> None:
    registry = fresh_registry(tmp_path)
    mio.import_models(registry, mio.MlrunsSource(stores["mlruns"]))
    before = tree(registry.root)
    again = mio.import_models(registry, mio.MlrunsSource(stores["mlruns"]))
    assert tree(registry.root) == before
    assert (again.versions, again.unchanged, again.failed) == (0, 7, [])


@pytest.mark.usefixtures("requires_mlflow")
def test_a_changed_version_is_a_conflict_unless_replace(
    stores: dict[str, Any], tmp_path: Path
) -> None:
    registry = fresh_registry(tmp_path)
    source = mio.MlrunsSource(stores["mlruns"])
    mio.import_models(registry, source, models=["churn-predictor"])
    registry.transition_model_version_stage("churn-predictor", 3, "Archived")
    conflict = mio.import_models(registry, source, models=["churn-predictor"])
    assert [failure["model"] for failure in conflict.failed] == ["churn-predictor"]
    assert (
        "version 3: current_stage 'Archived' here, 'Production' imported"
        in conflict.failed[0]["error"]
    )
    error = conflict.error()
    assert error is not None and error.exit_code == ConflictError.exit_code
    assert registry.get_model_version("churn-predictor", 3).current_stage == "Archived"

    replaced = mio.import_models(registry, source, models=["churn-predictor"], replace=True)
    assert (replaced.replaced, replaced.failed) == (1, [])
    mv = registry.get_model_version("churn-predictor", 3)
    assert mv.current_stage == "Production"
    assert mv.history[-1]["action"] == "imported"
    assert mv.history[-1]["replaced"] == ["current_stage"]


@pytest.mark.usefixtures("requires_mlflow")
def test_an_import_interrupted_mid_model_is_finished_by_running_it_again(
    stores: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = fresh_registry(tmp_path, "clean", file_format=1)
    mio.import_models(clean, mio.MlrunsSource(stores["mlruns"]), models=["churn-predictor"])

    registry = fresh_registry(tmp_path, file_format=1)
    original = Catalog.save_version
    calls = []

    def interrupted(self: Catalog, mv: Any) -> None:
        calls.append(mv.version)
        if len(calls) == 3:
            raise KeyboardInterrupt
        original(self, mv)

    monkeypatch.setattr(Catalog, "save_version", interrupted)
    summary = mio.Summary("import", "test", str(registry.root))
    with pytest.raises(KeyboardInterrupt):
        mio.import_models(
            registry,
            mio.MlrunsSource(stores["mlruns"]),
            models=["churn-predictor"],
            summary=summary,
        )
    monkeypatch.setattr(Catalog, "save_version", original)
    assert len(registry.list_versions("churn-predictor")) == 2  # the model is half there

    again = mio.import_models(registry, mio.MlrunsSource(stores["mlruns"]))
    assert again.failed == []
    assert_same_as_mlflow(registry, stores["truth"]["mlruns"])
    for number in (1, 2, 3, 5):
        ours = registry.get_model_version("churn-predictor", number).to_dict()
        assert ours == clean.get_model_version("churn-predictor", number).to_dict()


# -- the command line --------------------------------------------------------------------


@pytest.mark.usefixtures("requires_mlflow")
def test_cli_reports_renamed_models_with_their_new_name(
    stores: dict[str, Any], registry: Registry, run_cli: Any
) -> None:
    done = run_cli(
        "-r", str(registry.root), "import", "mlruns", str(stores["mlruns"]), "-f", "json"
    )
    assert done.returncode == 0, done.stderr
    assert (
        "warning: 'Demand Forecast (EU)' cannot be a folder name: importing it as "
        "'Demand-Forecast-EU' (choose another with --rename, or skip it with "
        "--skip-invalid-names)\n"
    ) in done.stderr
    assert done.stderr.endswith(
        "5 models, 7 versions imported (0 already there, 4 skipped, 1 renamed)\n"
    )
    summary = json.loads(done.stdout)
    assert summary["renamed"] == [
        {"mlflow_name": "Demand Forecast (EU)", "name": "Demand-Forecast-EU"}
    ]
    assert (summary["models"], summary["versions"], summary["failed"]) == (5, 7, [])
    # In a pipe there is no progress bar: stderr holds only whole lines of text.
    assert "\r" not in done.stderr and "\x1b" not in done.stderr
    checked = run_cli("-r", str(registry.root), "check")
    assert (checked.returncode, checked.stderr) == (0, f"No problems found in {registry.root}\n")


@pytest.mark.usefixtures("requires_mlflow")
def test_cli_skips_or_renames_invalid_names_on_request(
    stores: dict[str, Any], registry: Registry, run_cli: Any
) -> None:
    base = ["-r", str(registry.root), "import", "mlruns", str(stores["mlruns"]), "-f", "json"]
    skipped = run_cli(*base, "--skip-invalid-names", "--dry-run")
    assert skipped.returncode == 0, skipped.stderr
    summary = json.loads(skipped.stdout)
    assert summary["dry_run"] is True and summary["renamed"] == []
    assert {
        "model": "Demand Forecast (EU)",
        "version": None,
        "reason": "invalid model name 'Demand Forecast (EU)': use letters, digits, '.', '_' "
        "and '-', starting with a letter or digit (it would be imported as "
        "'Demand-Forecast-EU')",
    } in summary["skipped"]
    assert registry.list_registered_models() == []  # a dry run writes nothing

    renamed = run_cli(
        *base, "--model", "Demand Forecast (EU)", "--rename", "Demand Forecast (EU)=demand-eu"
    )
    assert renamed.returncode == 0, renamed.stderr
    assert "warning: importing 'Demand Forecast (EU)' as 'demand-eu', as asked\n" in renamed.stderr
    assert [model.name for model in registry.list_registered_models()] == ["demand-eu"]
    assert registry.get_model_version_by_alias("demand-eu", "prod").source == "gs://bucket/demand/1"


def test_a_progress_bar_is_drawn_at_a_terminal(tmp_path: Path, registry: Registry) -> None:
    mlruns = write_tiny_mlruns(tmp_path)
    main, secondary = pty.openpty()
    command = [sys.executable, "-m", "modelreg", "-r", str(registry.root), "import", "mlruns"]
    with subprocess.Popen(
        [*command, str(mlruns)], stdout=subprocess.PIPE, stderr=secondary
    ) as process:
        os.close(secondary)
        output = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            output += chunk
        process.wait(timeout=60)
    os.close(main)
    assert process.returncode == 0
    # The bar (NO_COLOR draws it blank), redrawn in place, then cleared.
    assert b"\r\x1b[2Km " in output and b"0/1" in output
    assert b"1 model, 1 version imported" in output


# -- MLflow's client: SQLite, and a server ---------------------------------------------------


@pytest.mark.usefixtures("requires_mlflow")
def test_a_sqlite_store_is_imported_through_mlflows_client(
    stores: dict[str, Any], tmp_path: Path
) -> None:
    registry = fresh_registry(tmp_path, file_format=1)
    summary = mio.import_models(registry, mio.open_mlflow(stores["sqlite"]))
    assert summary.failed == []
    # Deleted versions are invisible to the client; the database still holds their
    # numbers (fraud-detector 3, retired 1 and 2), and the import reads them from it.
    assert_same_as_mlflow(registry, stores["truth"]["sqlite"])


@pytest.mark.usefixtures("requires_mlflow")
def test_import_mlflow_of_a_missing_database_or_server_is_not_found(
    registry: Registry, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="no MLflow database at"):
        mio.open_mlflow(f"sqlite:///{tmp_path / 'missing.db'}")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(NotFoundError, match="cannot reach the MLflow server"):
        finishes_within(60, lambda: mio.open_mlflow(f"http://127.0.0.1:{port}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mlflow server`` on 127.0.0.1 with a SQLite store; stopped with its process group."""
    need_mlflow()
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("wb")
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{folder / 'server.db'}",
        # Artifacts go through the server (mlflow-artifacts:/), as on a real one.
        "--artifacts-destination",
        str(folder / "artifacts"),
        "--workers",
        "1",
    ]
    server = subprocess.Popen(
        command,
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        # No job runner: its worker processes are not needed here and slow the start.
        env={**os.environ, **QUIET_MLFLOW, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"mlflow server exited: {(folder / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"mlflow server did not start in {SERVER_START_TIMEOUT:g} s")
                time.sleep(0.25)
        yield url
    finally:
        with_group = os.getpgid(server.pid) == server.pid
        if server.poll() is None and with_group:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


def comparable(registry: Registry) -> dict[str, Any]:
    """Everything MLflow can hold, model by model."""
    fields = ("version", "current_stage", "description", "source", "run_id", "run_link", "status")
    return {
        model.name: {
            "description": model.description,
            "tags": model.tags,
            "aliases": model.aliases,
            "versions": {
                mv.version: {**{key: getattr(mv, key) for key in fields}, "tags": mv.tags}
                for mv in registry.list_versions(model.name)
            },
        }
        for model in registry.list_registered_models()
    }


@pytest.mark.slow
@pytest.mark.usefixtures("requires_mlflow")
def test_round_trip_through_an_mlflow_server(
    stores: dict[str, Any], mlflow_server: str, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    first = fresh_registry(tmp_path, "first")
    mio.import_models(first, mio.MlrunsSource(stores["mlruns"]))
    exported = mio.export_models(first, mlflow_server)
    assert (exported.failed, exported.remapped, exported.skipped) == ([], [], [])
    assert exported.versions == 7
    # The model renamed on the way in gets its MLflow name back on the way out.
    assert exported.renamed == [
        {"name": "Demand-Forecast-EU", "mlflow_name": "Demand Forecast (EU)"}
    ]

    # MLflow now holds what the original store held (but for times and users, which
    # MLflow's API sets itself).
    client = MlflowClient(tracking_uri=mlflow_server)
    held = ("version", "current_stage", "description", "source", "run_id", "run_link", "tags")
    original = stores["truth"]["mlruns"]
    assert sorted(m.name for m in client.search_registered_models()) == sorted(original)
    for name, expected in original.items():
        model = client.get_registered_model(name)
        assert (model.description or None, model.tags) == (
            expected["description"],
            expected["tags"],
        )
        assert {k: int(v) for k, v in model.aliases.items()} == expected["aliases"], name
        versions = {str(mv.version): mv for mv in client.search_model_versions(f"name='{name}'")}
        assert sorted(versions) == sorted(expected["versions"]), name
        for number, fields in expected["versions"].items():
            got = versions[number]
            for key in held:
                value = getattr(got, key)
                value = int(value) if key == "version" else value
                assert (value or None) == (fields[key] or None), f"{name} {number} {key}"

    second = fresh_registry(tmp_path, "second")
    back = mio.import_models(second, mio.open_mlflow(mlflow_server))
    assert back.failed == []
    assert comparable(second) == comparable(first)

    # Exporting again creates nothing, and uses up no more numbers.
    again = mio.export_models(first, mlflow_server)
    assert (again.versions, again.unchanged, again.failed) == (0, 7, [])
    versions = client.search_model_versions("name='churn-predictor'")
    assert sorted(int(mv.version) for mv in versions) == [1, 2, 3, 5]

    # The deleted numbers were used up on the server, also at the end of a model: MLflow
    # hands out the next number modelreg would.
    for name, expected in (("churn-predictor", 6), ("fraud-detector", 4), ("retired", 3)):
        created = client.create_model_version(name, "s3://bucket/probe", await_creation_for=0)
        assert int(created.version) == expected, name
        client.delete_model_version(name, created.version)


@pytest.mark.slow
@pytest.mark.usefixtures("requires_mlflow")
def test_export_where_numbers_cannot_match_records_the_mapping(
    mlflow_server: str, tmp_path: Path, run_cli: Any
) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server)
    client.create_registered_model("taken")
    client.create_model_version("taken", "s3://someone-else/1", await_creation_for=0)

    stages = ["None", "Staging", "Production", "Archived", "QA"]
    registry = Registry.init(tmp_path / "registry", stages=stages)
    registry.create_registered_model("taken", tags={"k": "v"})
    registry.create_model_version("taken", "s3://ours/1")
    # A server refuses a runs:/ source without its run.
    registry.create_model_version("taken", f"runs:/{'0' * 32}/model")
    registry.create_model_version("taken", "s3://ours/3")
    registry.transition_model_version_stage("taken", 3, "QA")
    registry.set_registered_model_alias("taken", "champion", 3)

    command = ["-r", str(registry.root), "export", "mlflow", "--tracking-uri", mlflow_server]
    done = run_cli(*command, "-f", "json", env=QUIET_MLFLOW)
    # The refused version makes the export fail (exit 2: MLflow's INVALID_PARAMETER_VALUE),
    # after everything else was exported.
    assert done.returncode == 2, done.stderr
    assert "1 version could not be exported" in done.stderr
    summary = json.loads(done.stdout)
    # 1 is someone else's version 1, so ours is 2 there; our 2 is refused; our 3 is 3.
    assert summary["remapped"] == [{"model": "taken", "version": 1, "mlflow_version": 2}]
    assert summary["skipped"] == []
    assert [(f["version"], f["error"].split(":")[0]) for f in summary["failed"]] == [
        (2, "MLflow refused it")
    ]
    assert "stage QA recorded as the tag modelreg.stage" in done.stderr
    versions = {int(mv.version): mv for mv in client.search_model_versions("name='taken'")}
    assert sorted(versions) == [1, 2, 3]
    assert versions[1].source == "s3://someone-else/1"
    assert (versions[2].source, versions[2].tags) == (
        "s3://ours/1",
        {"modelreg.source_version": "1"},
    )
    assert (versions[3].source, versions[3].tags) == ("s3://ours/3", {"modelreg.stage": "QA"})
    assert client.get_registered_model("taken").aliases == {"champion": "3"}

    again = run_cli(*command, "-f", "json", env=QUIET_MLFLOW)
    assert again.returncode == 2, again.stderr
    rerun = json.loads(again.stdout)
    assert (rerun["versions"], rerun["unchanged"], rerun["remapped"]) == (0, 2, [])
    assert len(client.search_model_versions("name='taken'")) == 3


@pytest.mark.slow
@pytest.mark.usefixtures("requires_mlflow")
def test_export_uploads_local_artifacts_and_fails_on_those_it_cannot(
    mlflow_server: str, tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    from mlflow import MlflowClient

    out = tmp_path / "out"  # next to the registry: stored relative to it
    (out / "model-dir" / "sub").mkdir(parents=True)
    (out / "model.pkl").write_bytes(os.urandom(300_000))
    (out / "model-dir" / "config.json").write_text("{}\n")
    (out / "model-dir" / "sub" / "weights.bin").write_bytes(os.urandom(50_000))
    (out / "gone.pkl").write_bytes(b"soon gone")
    (out / "edited.pkl").write_bytes(b"first")
    registry = Registry.init(tmp_path / "registry")
    name = "local-artifacts"
    registry.create_registered_model(name, tags={"team": "growth"}, description="uploaded")
    registry.create_model_version(name, str(out / "model.pkl"), tags={"kind": "file"})
    registry.create_model_version(name, str(out / "model-dir"), run_id="a" * 32)
    registry.create_model_version(name, "s3://bucket/remote/3")
    registry.create_model_version(name, str(out / "gone.pkl"))
    registry.create_model_version(name, str(out / "edited.pkl"))
    registry.transition_model_version_stage(name, 2, "Production")
    registry.set_registered_model_alias(name, "champion", 1)
    ours = {mv.version: mv for mv in registry.list_versions(name)}
    assert ours[1].source == "../out/model.pkl"
    (out / "gone.pkl").unlink()
    (out / "edited.pkl").write_bytes(b"second")
    edited = hashlib.sha256(b"second").hexdigest()

    command = ["-r", str(registry.root), "export", "mlflow", "--tracking-uri", mlflow_server]
    done = run_cli(*command, "-m", name, "-f", "json", env=QUIET_MLFLOW)
    # A missing artifact is not found (exit 3), after everything else was exported.
    assert done.returncode == 3, done.stderr
    assert "2 versions could not be exported" in done.stderr
    summary = json.loads(done.stdout)
    assert (summary["versions"], summary["skipped"], summary["remapped"]) == (3, [], [])
    assert summary["failed"] == [
        {
            "model": name,
            "version": 4,
            "error": f"its local artifact {out / 'gone.pkl'} does not exist: nothing to upload",
        },
        {
            "model": name,
            "version": 5,
            "error": f"{out / 'edited.pkl'}: changed since version 5 was registered (sha256 "
            f"{ours[5].artifact_sha256} recorded, {edited} now): not uploaded",
        },
    ]

    for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):  # for models:/ URIs
        monkeypatch.setenv(variable, mlflow_server)
    client = MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name(mio.EXPORT_EXPERIMENT)
    assert len(client.search_runs([experiment.experiment_id])) == 2
    there = {int(mv.version): mv for mv in client.search_model_versions(f"name='{name}'")}
    assert sorted(there) == [1, 2, 3]
    for number, path in ((1, out / "model.pkl"), (2, out / "model-dir")):
        mv, run = there[number], client.get_run(there[number].run_id)
        assert run.info.status == "FINISHED"
        assert mv.source == f"{run.info.artifact_uri}/model"
        own_run = {"modelreg.run_id": "a" * 32} if number == 2 else {}
        assert mv.tags == {**ours[number].tags, "modelreg.source": ours[number].source, **own_run}
        # What MLflow's own client downloads has the bytes registered here: the folder,
        # or a folder holding the file.
        dst = tmp_path / "download" / str(number)
        dst.mkdir(parents=True)
        uri = f"models:/{name}/{number}"
        got = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(dst)))
        file = got / path.name if path.is_file() else got
        assert artifact_digest(file) == (ours[number].artifact_sha256, ours[number].artifact_size)
        assert sorted(p.relative_to(got).as_posix() for p in got.rglob("*") if p.is_file()) == (
            ["model.pkl"] if path.is_file() else ["config.json", "sub/weights.bin"]
        )
    assert (there[3].source, there[3].run_id or None, there[3].tags) == (
        "s3://bucket/remote/3",
        None,
        {},
    )
    assert there[2].current_stage == "Production"
    assert client.get_registered_model(name).aliases == {"champion": "1"}

    # Imported back, the versions have their own sources and runs again.
    back = Registry.init(tmp_path / "back")
    assert mio.import_models(back, mio.open_mlflow(mlflow_server), models=[name]).failed == []
    for mv in back.list_versions(name):
        original = ours[mv.version]
        assert (mv.source, mv.run_id, mv.tags) == (original.source, original.run_id, original.tags)
        if mv.version < 3:
            assert mv.lineage["mlflow_storage_location"] == there[mv.version].source

    # Exporting again uploads and creates nothing twice, and still fails.
    again = mio.export_models(registry, mlflow_server, models=[name])
    assert (again.versions, again.unchanged, len(again.failed)) == (0, 3, 2)
    assert len(client.search_runs([experiment.experiment_id])) == 2
    assert len(client.search_model_versions(f"name='{name}'")) == 3

    # An artifact back in place is uploaded, with the number it has here (failed versions
    # at the end used up none).
    (out / "gone.pkl").write_bytes(b"soon gone")
    third = mio.export_models(registry, mlflow_server, models=[name])
    assert (third.versions, third.remapped, [f["version"] for f in third.failed]) == (1, [], [5])
    assert client.get_model_version(name, "4").tags["modelreg.source"] == ours[4].source
    assert len(client.search_runs([experiment.experiment_id])) == 3

    # A version deleted in MLflow after its upload is created again from the same run.
    client.delete_model_version(name, "2")
    fourth = mio.export_models(registry, mlflow_server, models=[name])
    assert [(r["version"], r["mlflow_version"]) for r in fourth.remapped] == [(2, 5)]
    assert client.get_model_version(name, "5").run_id == there[2].run_id
    assert len(client.search_runs([experiment.experiment_id])) == 3


def test_an_interrupted_import_prints_its_summary_and_exits_130(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "mlruns" / "models").mkdir(parents=True)

    def interrupted(*args: Any, summary: Any, **kwargs: Any) -> Any:
        summary.models.append("first")
        summary.versions += 2
        raise KeyboardInterrupt

    monkeypatch.setattr(mio, "import_models", interrupted)
    result = CliRunner().invoke(
        app, ["-r", str(registry.root), "import", "mlruns", str(tmp_path / "mlruns"), "-f", "plain"]
    )
    assert result.exit_code == 130
    assert result.stdout == "import\t1\t2\t0\t0\t0\t0\t0\t0\n"
    assert (
        "1 model, 2 versions imported (0 already there, 0 skipped, 0 renamed) before the "
        "interruption; run it again to finish" in result.stderr
    )


# -- data sets: a run's dataset inputs -------------------------------------------------------


def inputs_of(run: Any) -> list[Any]:
    """A run's dataset inputs as the store-building script dumps them."""
    found = [
        [dict(item.dataset), {tag.key: tag.value for tag in item.tags}]
        for item in run.inputs.dataset_inputs
    ]
    return sorted(found, key=json.dumps)


def imported_inputs(stores: dict[str, Any]) -> dict[str, Dataset]:
    """What the run with inputs becomes: MLflow's digests verbatim, sources unwrapped,
    the two inputs named eval told apart by their contexts."""
    by = {
        (dataset["name"], tags.get("mlflow.data.context")): dataset
        for dataset, tags in stores["truth"]["inputs"]["inputs"]
    }
    bucket = "s3://bucket/eval/2026-12.parquet"

    def digest(name: str, context: str | None = None) -> str:
        return "mlflow:" + by[(name, context)]["digest"]

    return {
        "train": Dataset("train", "train.csv", digest("train", "training"), None, None, "local"),
        "reference": Dataset(
            "reference",
            "https://example.com/data/reference.csv",
            digest("reference"),
            None,
            None,
            "http",
        ),
        "eval-testing": Dataset("eval-testing", bucket, "mlflow:def456", None, None, "s3"),
        "eval-validation": Dataset("eval-validation", bucket, "mlflow:abc123", None, None, "s3"),
        "holdout-set": Dataset("holdout-set", bucket, digest("holdout set"), None, None, "s3"),
    }


@pytest.mark.usefixtures("requires_mlflow")
def test_the_dataset_inputs_of_a_version_s_run_are_imported_as_its_data_sets(
    stores: dict[str, Any], tmp_path: Path
) -> None:
    registry = fresh_registry(tmp_path)
    summary = mio.import_models(registry, mio.MlrunsSource(stores["with_inputs"]))
    assert (summary.failed, summary.versions) == ([], 2)
    mv = registry.get_model_version("trained", 1)
    assert mv.run_id == stores["truth"]["inputs"]["run_id"]
    assert mv.datasets == imported_inputs(stores)
    train = next(d for d, _ in stores["truth"]["inputs"]["inputs"] if d["name"] == "train")
    # What a data set has no field for stays in the lineage, for an export.
    assert mv.lineage[LINEAGE_KEY] == {
        "train": {
            "tags": {"mlflow.data.context": "training"},
            "schema": train["schema"],
            "profile": train["profile"],
        },
        "eval-testing": {"name": "eval", "tags": {"mlflow.data.context": "testing"}},
        "eval-validation": {"name": "eval", "tags": {"mlflow.data.context": "validation"}},
        "holdout-set": {"name": "holdout set"},
    }
    assert registry.get_model_version("trained", 2).datasets == {}  # no run
    # Importing again finds the versions unchanged, data sets included.
    again = mio.import_models(registry, mio.MlrunsSource(stores["with_inputs"]))
    assert (again.versions, again.unchanged, again.failed) == (0, 2, [])


@pytest.mark.usefixtures("requires_mlflow")
def test_dataset_inputs_go_back_to_a_fresh_mlflow_as_they_came(
    stores: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    first = fresh_registry(tmp_path, "first")
    mio.import_models(first, mio.MlrunsSource(stores["with_inputs"]))
    target = (tmp_path / "fresh-mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", target)
    exported = mio.export_models(first, target)
    assert (exported.failed, exported.skipped, exported.versions) == ([], [], 2)

    # The fresh MLflow has no run of that id: the export makes one, which holds the
    # inputs; the version has that run, and its tags keep the original run's id.
    client = MlflowClient(tracking_uri=target, registry_uri=target)
    there = client.get_model_version("trained", "1")
    original = stores["truth"]["inputs"]["run_id"]
    assert there.run_id != original
    assert there.tags["modelreg.run_id"] == original
    assert inputs_of(client.get_run(there.run_id)) == stores["truth"]["inputs"]["inputs"]
    assert not client.get_model_version("trained", "2").run_id

    # Back again, through MLflow's client and through the files: the same data sets.
    for source in (mio.MlflowSource(target), mio.MlrunsSource(tmp_path / "fresh-mlruns")):
        back = Registry.init(tmp_path / type(source).__name__)
        assert mio.import_models(back, source).failed == []
        mv = back.get_model_version("trained", 1)
        assert (mv.run_id, mv.datasets) == (original, imported_inputs(stores))
        assert mv.lineage[LINEAGE_KEY] == first.get_model_version("trained", 1).lineage[LINEAGE_KEY]

    # Exporting again logs nothing twice.
    again = mio.export_models(first, target)
    assert (again.versions, again.unchanged, again.failed) == (0, 2, [])
    assert inputs_of(client.get_run(there.run_id)) == stores["truth"]["inputs"]["inputs"]
    experiment = client.get_experiment_by_name(mio.EXPORT_EXPERIMENT)
    assert len(client.search_runs([experiment.experiment_id])) == 1


@pytest.mark.usefixtures("requires_mlflow")
def test_measured_data_sets_fit_mlflows_limits_and_come_back_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient
    from mlflow.utils.validation import _validate_dataset_inputs

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    folder = tmp_path / "target"
    target = folder.as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", target)
    client = MlflowClient(tracking_uri=target, registry_uri=target)
    own_run = client.create_run(client.create_experiment("training")).info.run_id

    data = tmp_path / "data" / "train.csv"
    data.parent.mkdir()
    data.write_text("x,y\n1,2\n")
    registry = Registry.init(tmp_path / "registry")
    registry.create_registered_model("measured")
    datasets: dict[str, str | Dataset] = {
        "train": str(data),
        "web": "https://example.com/d.csv#sha256:" + "a" * 64,
        "bucket": "s3://bucket/k.parquet",
        "features": Dataset(
            "features", "data/f", "md5:" + "b" * 32 + ".dir", 4096, "c" * 40, "dvc"
        ),
    }
    registry.create_model_version("measured", "s3://models/m/1", datasets=datasets)
    # A version whose run MLflow has: that run gets the inputs.
    registry.create_model_version(
        "measured", "s3://models/m/2", run_id=own_run, datasets={"train": str(data)}
    )
    # A local artifact: its upload run gets the inputs.
    (tmp_path / "model.pkl").write_bytes(b"weights")
    registry.create_model_version(
        "measured", str(tmp_path / "model.pkl"), datasets={"train": str(data)}
    )
    ours = {mv.version: mv for mv in registry.list_versions("measured")}
    train = ours[1].datasets["train"]
    assert (train.source, train.size, len(train.digest or "")) == ("../data/train.csv", 8, 71)

    exported = mio.export_models(registry, target)
    assert (exported.failed, exported.skipped, exported.versions) == ([], [], 3)
    run = client.get_run(client.get_model_version("measured", "1").run_id)
    _validate_dataset_inputs(run.inputs.dataset_inputs)  # as MLflow's SQL store checks them
    logged = {item.dataset.name: item for item in run.inputs.dataset_inputs}
    assert sorted(logged) == ["bucket", "features", "train", "web"]
    there = logged["train"]
    assert (there.dataset.digest, there.dataset.source_type, there.dataset.source) == (
        (train.digest or "")[:36],
        "local",
        json.dumps({"uri": str(data)}),
    )
    assert {tag.key: tag.value for tag in there.tags} == {
        "modelreg.digest": train.digest,
        "modelreg.source": "../data/train.csv",
        "modelreg.source_type": "local",
        "modelreg.size": "8",
    }
    second = client.get_model_version("measured", "2")
    assert (second.run_id, second.tags) == (own_run, {})
    assert [item.dataset.name for item in client.get_run(own_run).inputs.dataset_inputs] == [
        "train"
    ]
    uploaded = client.get_run(client.get_model_version("measured", "3").run_id)
    assert uploaded.data.tags["modelreg.version"] == "3"  # the upload run
    assert [item.dataset.name for item in uploaded.inputs.dataset_inputs] == ["train"]

    back = Registry.init(tmp_path / "back")
    assert mio.import_models(back, mio.MlrunsSource(folder)).failed == []
    for mv in back.list_versions("measured"):
        assert (mv.run_id, mv.datasets) == (ours[mv.version].run_id, ours[mv.version].datasets)


@pytest.mark.slow
@pytest.mark.usefixtures("requires_mlflow")
def test_data_sets_round_trip_through_an_mlflow_server(
    stores: dict[str, Any], mlflow_server: str, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    first = fresh_registry(tmp_path, "first")
    mio.import_models(first, mio.MlrunsSource(stores["with_inputs"]))
    data = tmp_path / "train.csv"
    data.write_text("x,y\n3,4\n")
    first.create_model_version(
        "trained",
        "s3://models/trained/3",
        datasets={"train": str(data), "web": "https://example.com/d.csv#sha256:" + "e" * 64},
    )
    exported = mio.export_models(first, mlflow_server, models=["trained"])
    assert (exported.failed, exported.versions) == ([], 3)
    client = MlflowClient(tracking_uri=mlflow_server)
    run_id = client.get_model_version("trained", "1").run_id
    assert inputs_of(client.get_run(run_id)) == stores["truth"]["inputs"]["inputs"]

    back = fresh_registry(tmp_path, "back")
    assert mio.import_models(back, mio.open_mlflow(mlflow_server), models=["trained"]).failed == []
    for mv in first.list_versions("trained"):
        got = back.get_model_version("trained", mv.version)
        assert (got.run_id, got.datasets) == (mv.run_id, mv.datasets)


@pytest.mark.usefixtures("requires_mlflow")
def test_data_sets_changed_in_mlflow_are_a_conflict_unless_replace(
    stores: dict[str, Any], tmp_path: Path
) -> None:
    import shutil

    mlruns = tmp_path / "mlruns"
    shutil.copytree(stores["with_inputs"], mlruns)
    registry = fresh_registry(tmp_path)
    mio.import_models(registry, mio.MlrunsSource(mlruns))
    # The s3 input of digest abc123, now with another digest.
    (meta,) = [
        path
        for path in mlruns.glob("*/datasets/*/meta.yaml")
        if "digest: abc123" in path.read_text()
    ]
    meta.write_text(meta.read_text().replace("digest: abc123", "digest: 999999"))

    conflict = mio.import_models(registry, mio.MlrunsSource(mlruns))
    assert [failure["model"] for failure in conflict.failed] == ["trained"]
    assert "version 1: datasets" in conflict.failed[0]["error"]
    assert registry.get_model_version("trained", 1).datasets == imported_inputs(stores)

    replaced = mio.import_models(registry, mio.MlrunsSource(mlruns), replace=True)
    assert (replaced.replaced, replaced.failed) == (1, [])
    mv = registry.get_model_version("trained", 1)
    assert mv.datasets["eval-validation"].digest == "mlflow:999999"
    assert mv.history[-1]["replaced"] == ["datasets"]


@pytest.mark.usefixtures("requires_mlflow")
def test_a_version_already_in_mlflow_without_its_run_there_reports_its_data_sets_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    target = (tmp_path / "target").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", target)
    elsewhere = "f" * 32  # a run of another MLflow
    client = MlflowClient(tracking_uri=target, registry_uri=target)
    client.create_registered_model("m")
    client.create_model_version("m", "s3://models/m/1", run_id=elsewhere)  # exported before
    registry = Registry.init(tmp_path / "registry")
    registry.create_registered_model("m")
    registry.create_model_version(
        "m", "s3://models/m/1", run_id=elsewhere, datasets={"train": "s3://bucket/train.csv"}
    )

    summary = mio.export_models(registry, target)
    assert (summary.versions, summary.unchanged, summary.failed) == (0, 1, [])
    assert summary.skipped == [
        {
            "model": "m",
            "version": 1,
            "reason": f"data sets not exported: the run {elsewhere} of MLflow's version 1 "
            "is not there",
        }
    ]


@pytest.mark.usefixtures("requires_mlflow")
def test_cli_imported_data_sets_are_found_by_mlflows_digest(
    stores: dict[str, Any], registry: Registry, run_cli: Any
) -> None:
    base = ["-r", str(registry.root)]
    uri = stores["with_inputs"].as_uri()
    done = run_cli(*base, "import", "mlflow", "--tracking-uri", uri, "-f", "plain")
    assert done.returncode == 0, done.stderr
    found = run_cli(*base, "search", "--dataset", "mlflow:abc123", "-f", "json")
    assert found.returncode == 0, found.stderr
    (version,) = json.loads(found.stdout)
    assert (version["name"], version["version"]) == ("trained", 1)
    assert version["datasets"]["eval-validation"] == {
        "source": "s3://bucket/eval/2026-12.parquet",
        "digest": "mlflow:abc123",
        "size": None,
        "git_commit": None,
        "source_type": "s3",
    }
