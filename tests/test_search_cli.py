"""`modelreg search`: the filter language on the command line, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelreg import Registry
from modelreg.cli import app


@pytest.fixture
def root(tmp_path: Path) -> Path:
    registry = Registry.init(tmp_path / "registry")
    for index, (accuracy, team) in enumerate([(0.81, "growth"), (0.93, "growth"), (0.95, "risk")]):
        name = "churn" if team == "growth" else "fraud"
        registry.register(
            name,
            f"s3://bucket/{index}",
            metrics={"accuracy": accuracy},
            tags={"team": team},
            create_model=True,
        )
    registry.transition_model_version_stage("churn", 2, "Production")
    return registry.root


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--registry", str(root), "search", *args])
    return result.exit_code, result.stdout, result.stderr


def test_versions_matching_a_filter_as_plain_lines(root: Path) -> None:
    code, out, _ = run(root, "metrics.accuracy >= 0.9 AND stage != 'Archived'", "-f", "plain")
    assert code == 0
    assert [line.split("\t")[:3] for line in out.splitlines()] == [
        ["churn", "2", "Production"],
        ["fraud", "1", "None"],
    ]


def test_json_is_a_list_of_version_objects(root: Path) -> None:
    code, out, _ = run(root, "tags.team = 'growth'", "--order-by", "version ASC", "-f", "json")
    assert code == 0
    found = json.loads(out)
    assert [(item["name"], item["version"]) for item in found] == [("churn", 1), ("churn", 2)]
    assert found[0]["metrics"] == {"accuracy": 0.81}


def test_models_with_the_models_flag(root: Path) -> None:
    code, out, _ = run(root, "--models", "name LIKE 'ch%'", "-f", "plain")
    assert code == 0
    assert out.split("\t")[0] == "churn"
    assert len(out.splitlines()) == 1


def test_no_filter_lists_everything_and_pages_with_a_token(root: Path) -> None:
    code, out, err = run(root, "-n", "2", "-o", "metrics.accuracy DESC", "-f", "plain")
    assert code == 0
    assert [line.split("\t")[1] for line in out.splitlines()] == ["1", "2"]
    token = err.split("--page-token ")[1].strip()
    code, out, err = run(
        root, "-n", "2", "-o", "metrics.accuracy DESC", "--page-token", token, "-f", "plain"
    )
    assert code == 0
    assert [line.split("\t")[:2] for line in out.splitlines()] == [["churn", "1"]]
    assert err == ""


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "name > 3",
            "error: cannot compare text field 'name' with '>'; text takes =, !=, IN, LIKE, "
            "ILIKE and IS NULL\n    name > 3\n         ^\n",
        ),
        (
            "(name = 'a'",
            "error: expected ')' to close the '(' opened here\n    (name = 'a'\n    ^\n",
        ),
    ],
)
def test_a_bad_filter_is_exit_2_with_the_caret_on_stderr(
    root: Path, expression: str, message: str
) -> None:
    code, out, err = run(root, expression)
    assert (code, out, err) == (2, "", message)


def test_a_bad_max_results_is_exit_2(root: Path) -> None:
    code, _, err = run(root, "-n", "0")
    assert code == 2
    assert "max_results" in err


def test_a_corrupt_file_is_named_and_the_healthy_results_still_shown(root: Path) -> None:
    broken = root / "models" / "churn" / "versions" / "1.yaml"
    broken.write_text("garbage: [\n")
    code, out, err = run(root, "-f", "plain", "-o", "version ASC")
    assert code == 7
    assert [line.split("\t")[:2] for line in out.splitlines()] == [
        ["fraud", "1"],
        ["churn", "2"],
    ]
    assert err.startswith(f"error: {broken}: invalid YAML")


def test_a_filter_that_names_its_model_reads_only_that_folder(root: Path) -> None:
    (root / "models" / "churn" / "versions" / "1.yaml").write_text("garbage: [\n")
    code, out, err = run(root, "name = 'fraud'", "-f", "plain")
    assert (code, err) == (0, "")
    assert [line.split("\t")[:2] for line in out.splitlines()] == [["fraud", "1"]]
