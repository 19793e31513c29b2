"""`list` and `search` with `--columns`: exactly the named fields, in their order, in every
format, from the fast path and from the Typer command line alike."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelreg import Registry, quick
from modelreg.cli import app

PRODUCTION_OR_FRAUD = "stage = 'Production' OR name = 'fraud'"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One registry for the module: the tests only read it."""
    folder = tmp_path_factory.mktemp("columns")
    with pytest.MonkeyPatch.context() as patch:  # as the per-test environment has it
        patch.chdir(folder)
        patch.setenv("MODELREG_USER", "tester@example.com")
        patch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
        return _seed(folder / "registry")


def _seed(path: Path) -> Path:
    registry = Registry.init(path)
    registry.register(
        "churn",
        "s3://b/1",
        metrics={"auc": 0.8},
        params={"lr": 0.1},
        tags={"team": "growth", "my key": "one"},
        create_model=True,
    )
    registry.register("churn", "s3://b/2", metrics={"auc": 0.9, "f1": 0.5}, params={"lr": 0.2})
    registry.register("fraud", "s3://f/1", tags={"team": "risk"}, create_model=True)
    registry.transition_model_version_stage("churn", 2, "Production")
    registry.set_registered_model_alias("churn", "champion", 2)
    registry.set_registered_model_tag("churn", "owner", "ana")
    return registry.root


def both_paths(
    root: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run ``args`` through the fast path and through Typer; they must agree exactly."""
    argv = ["--registry", str(root), *args]
    code = quick.try_run(argv)
    fast = capsys.readouterr()
    assert code is not None, "the fast parser should have taken this command"
    result = CliRunner().invoke(app, argv)
    assert (code, fast.out, fast.err) == (result.exit_code, result.stdout, result.stderr)
    return code, fast.out, fast.err


SEARCH = ["search", PRODUCTION_OR_FRAUD, "-o", "name ASC", "--columns", "name,version,metrics.auc"]
EXPECTED = {
    "table": "name   version  metrics.auc\nchurn  2        0.9\nfraud  1\n",
    "plain": "churn\t2\t0.9\nfraud\t1\t\n",
    "json": '[\n  {\n    "name": "churn",\n    "version": 2,\n    "metrics.auc": 0.9\n  },\n'
    '  {\n    "name": "fraud",\n    "version": 1,\n    "metrics.auc": null\n  }\n]\n',
    "yaml": "- name: churn\n  version: 2\n  metrics.auc: 0.9\n"
    "- name: fraud\n  version: 1\n  metrics.auc: null\n",
}


@pytest.mark.parametrize("fmt", sorted(EXPECTED))
def test_search_prints_exactly_the_columns_in_every_format(
    root: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert both_paths(root, [*SEARCH, "-f", fmt], capsys) == (0, EXPECTED[fmt], "")


def test_columns_repeat_and_read_metrics_params_tags_and_renamed_fields(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["list", "churn", "-C", "version,stage", "--columns", "params.lr, metrics.f1"]
    args += ["-C", "tags.team,tags.`my key`,alias,version_number", "-f", "json"]
    code, out, _ = both_paths(root, args, capsys)
    assert code == 0
    assert json.loads(out) == [
        {
            "version": 1,
            "stage": "None",
            "params.lr": 0.1,
            "metrics.f1": None,
            "tags.team": "growth",
            "tags.`my key`": "one",
            "alias": [],
            "version_number": 1,
        },
        {
            "version": 2,
            "stage": "Production",
            "params.lr": 0.2,
            "metrics.f1": 0.5,
            "tags.team": None,
            "tags.`my key`": None,
            "alias": ["champion"],
            "version_number": 2,
        },
    ]


def test_a_time_column_is_iso_in_a_table_and_milliseconds_in_json(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["search", "name = 'fraud'", "-C", "created,artifact_sha256"]
    _, plain, _ = both_paths(root, [*args, "-f", "plain"], capsys)
    _, out, _ = both_paths(root, [*args, "-f", "json"], capsys)
    [record] = json.loads(out)
    assert list(record) == ["created", "artifact_sha256"]
    stamp = Registry(root).get_model_version("fraud", 1).creation_timestamp
    assert record == {"created": stamp, "artifact_sha256": None}
    assert plain.endswith("Z\t\n") and plain.startswith("20")


@pytest.mark.parametrize("command", [["list"], ["search", "--models"]], ids=" ".join)
def test_models_take_their_own_fields(
    root: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*command, "-C", "name,latest,aliases,tags.owner", "-f", "plain"]
    code, out, _ = both_paths(root, args, capsys)
    assert (code, out) == (0, "churn\t2\tchampion=2\tana\nfraud\t1\t\t\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["search", "-C", "name,nmae"],
            "error: unknown column 'nmae' (did you mean 'name'?); valid columns: name, "
            "version, creation_timestamp, last_updated_timestamp, current_stage, description, "
            "user_id, source, run_id, run_link, model_id, status, status_message, tags, aliases, "
            "metrics, params, artifact_sha256, artifact_size, artifact_uri, datasets, lineage, "
            "stage, "
            "created, tags.<key>, metrics.<key>, params.<key>\n",
        ),
        (
            ["list", "-C", "metrics.auc"],
            "error: column 'metrics.auc' is a field of versions, not of models; valid "
            "columns: name, creation_timestamp, last_updated_timestamp, description, "
            "user_id, tags, aliases, latest_versions, latest, tags.<key>\n",
        ),
        (["list", "churn", "-C", "name,version,name"], "error: --columns names 'name' twice\n"),
        (["search", "--columns", " , "], "error: --columns names no column; valid columns: "),
    ],
    ids=["unknown field", "metric of a model", "twice", "empty"],
)
def test_an_unknown_column_is_bad_usage_naming_the_valid_ones(
    root: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = both_paths(root, [*args, "-f", "json"], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(message)


def test_an_unknown_column_is_refused_before_the_registry_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = both_paths(tmp_path / "no-registry", ["list", "-C", "bogus"], capsys)
    assert code == 2 and "unknown column 'bogus'" in err


def test_columns_with_an_option_only_typer_knows(root: Path) -> None:
    argv = ["--registry", str(root), "--traceback", "search", "-C", "version,name", "-f", "plain"]
    assert quick._parse(argv) is None
    result = CliRunner().invoke(app, [*argv, "-o", "version ASC"])
    assert (result.exit_code, result.stdout) == (0, "1\tchurn\n1\tfraud\n2\tchurn\n")


def test_json_columns_on_stdout_of_the_real_command(root: Path, run_cli: Any) -> None:
    done = run_cli("--registry", str(root), "search", *SEARCH[1:], "-f", "json")
    assert (done.returncode, done.stdout, done.stderr) == (0, EXPECTED["json"], "")
    done = run_cli("--registry", str(root), "search", "-C", "name,bogus", "-f", "json")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("error: unknown column 'bogus'")


def test_a_models_latest_versions_read_as_in_describe(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = both_paths(root, ["list", "-C", "latest_versions,name", "-f", "plain"], capsys)
    assert (code, out) == (0, "1 (None), 2 (Production)\tchurn\n1 (None)\tfraud\n")
