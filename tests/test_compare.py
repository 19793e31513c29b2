"""Comparing versions: the pure differences of compare.py, ``modelreg diff`` and
``modelreg compare`` in every format (exact outputs of versions with known metrics), the
git range of two lineage commits in a real repository, and the errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from _safety import git
from modelreg import Registry, compare
from modelreg.cli import app
from modelreg.docread import JSONValue
from modelreg.entities import ModelVersion
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.refs import Ref, parse_ref_pair
from modelreg.render import sparkline
from test_cli import load_yaml as load_yaml_text
from test_terminal import ESCAPE, run_in_terminal, terminal_env

NAME = "churn"


def version(number: int, **fields: Any) -> ModelVersion:
    return ModelVersion(NAME, number, creation_timestamp=0, last_updated_timestamp=0, **fields)


# -- the pure differences --------------------------------------------------------------------


def test_metrics_added_removed_changed_and_same_with_their_deltas() -> None:
    a = version(1, metrics={"auc": 0.91, "loss": 0.3, "n": 10, "gone": 1.0})
    b = version(2, metrics={"auc": 0.93, "loss": 0.25, "n": 10, "new": 2})
    found = {m.key: m for m in compare.diff(a, b).metrics}
    assert list(found) == ["auc", "gone", "loss", "n", "new"]  # sorted, the same ones too
    assert [found[key].change for key in found] == [
        "changed",
        "removed",
        "changed",
        "same",
        "added",
    ]
    assert found["auc"].delta == 0.02  # not 0.020000000000000018
    assert found["auc"].relative == pytest.approx(0.02 / 0.91)
    assert found["loss"].delta == -0.05
    assert found["loss"].relative == pytest.approx(-1 / 6)
    assert (found["n"].delta, found["n"].relative) == (0, 0.0)
    assert (found["gone"].delta, found["gone"].relative) == (None, None)
    assert (found["new"].a, found["new"].b, found["new"].delta) == (None, 2, None)


def test_a_relative_delta_from_a_zero_baseline_is_unknown_unless_nothing_moved() -> None:
    a = version(1, metrics={"loss": 0, "zero": 0.0, "neg": -2})
    b = version(2, metrics={"loss": 0.5, "zero": 0, "neg": -1})
    found = {m.key: m for m in compare.diff(a, b).metrics}
    assert (found["loss"].delta, found["loss"].relative) == (0.5, None)
    assert (found["zero"].delta, found["zero"].relative) == (0, 0.0)
    # Over the baseline's absolute value: from -2 up to -1 is +50%, not -50%.
    assert (found["neg"].delta, found["neg"].relative) == (1, 0.5)


def test_params_tags_stage_aliases_and_description() -> None:
    a = version(
        1,
        params={"lr": 0.1, "depth": 3, "old": "x"},
        tags={"team": "a", "same": "s"},
        current_stage="Staging",
        aliases=["champion"],
        description="first",
    )
    b = version(
        2,
        params={"lr": 0.2, "depth": 3, "seed": 7},
        tags={"team": "b", "same": "s"},
        current_stage="Production",
        aliases=["prod", "blue"],
        description=None,
    )
    found = compare.diff(a, b)
    assert [(c.key, c.a, c.b, c.change) for c in found.params] == [
        ("lr", 0.1, 0.2, "changed"),
        ("old", "x", None, "removed"),
        ("seed", None, 7, "added"),
    ]
    assert [(c.key, c.a, c.b) for c in found.tags] == [("team", "a", "b")]
    assert (found.stage.a, found.stage.b, found.stage.same) == ("Staging", "Production", False)
    assert (found.aliases.a, found.aliases.b) == (["champion"], ["blue", "prod"])
    assert (found.description.a, found.description.b) == ("first", None)
    same = compare.diff(a, a)
    assert same.params == () and same.tags == ()
    assert same.stage.same and same.aliases.same and same.description.same
    assert all(m.change == "same" for m in same.metrics)


def test_artifact_same_different_or_unknown() -> None:
    a = version(1, source="/m/1", artifact_sha256="aa" * 32, artifact_size=10)
    same = version(2, source="/m/2", artifact_sha256="aa" * 32, artifact_size=10)
    other = version(3, source="/m/3", artifact_sha256="bb" * 32, artifact_size=12)
    remote = version(4, source="s3://m/4")
    assert compare.diff(a, same).artifact.same is True
    found = compare.diff(a, other).artifact
    assert found.same is False
    assert (found.a_size, found.b_size) == (10, 12)
    assert compare.diff(a, remote).artifact.same is None


def test_lineage_range_between_two_commits_of_the_registry_repository(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    for message in ("two", "three"):
        (repo / f"{message}.py").write_text(message)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", message)
    third = git(repo, "rev-parse", "HEAD")
    oneline = git(repo, "log", "--oneline", "--no-decorate", f"{first}..{third}").splitlines()
    a = version(1, lineage={"git_commit": first, "git_dirty": False})
    b = version(2, lineage={"git_commit": third, "git_dirty": True})
    found = compare.diff(a, b, repo).lineage
    assert (found.a_commit, found.b_commit, found.same_commit) == (first, third, False)
    assert found.commits == oneline and len(oneline) == 2
    assert found.count == 2
    assert [(c.key, c.a, c.b) for c in found.others] == [("git_dirty", False, True)]
    # Backwards the range is empty; without the repository, or a commit it does not
    # have, there is no range at all (None, not an empty list).
    assert compare.diff(b, a, repo).lineage.commits == []
    assert compare.diff(a, b).lineage.commits is None
    stranger = version(3, lineage={"git_commit": "f" * 40})
    assert compare.diff(a, stranger, repo).lineage.commits is None


def test_outside_a_git_repository_there_is_no_range(tmp_path: Path) -> None:
    a = version(1, lineage={"git_commit": "a" * 40})
    b = version(2, lineage={"git_commit": "b" * 40})
    found = compare.diff(a, b, tmp_path).lineage
    assert (found.commits, found.count, found.same_commit) == (None, None, False)


def test_side_by_side_keeps_the_order_and_rejects_an_unknown_metric() -> None:
    versions = [version(1, metrics={"auc": 0.9}), version(3, metrics={"auc": 0.8, "f1": 0.5})]
    found = compare.side_by_side(NAME, versions)
    assert found.to_dict() == {
        "name": NAME,
        "versions": [1, 3],
        "metrics": {"auc": [0.9, 0.8], "f1": [None, 0.5]},
    }
    assert compare.side_by_side(NAME, versions, ["f1", "auc"]).to_dict()["metrics"] == {
        "f1": [None, 0.5],
        "auc": [0.9, 0.8],
    }
    with pytest.raises(NotFoundError, match="'rmse'"):
        compare.side_by_side(NAME, versions, ["rmse"])


def test_sparkline() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([0.9, 0.95, 0.93]) == "▁█▅"
    assert sparkline([5, 5]) == "▄▄"
    assert sparkline([None, 1, None, 2]) == " ▁ █"
    assert sparkline([None]) == ""


def test_two_references_are_told_apart() -> None:
    champion, seven = Ref(NAME, "@champion"), Ref(NAME, 7)
    assert parse_ref_pair(["churn@champion", "churn", "7"]) == (champion, seven)
    assert parse_ref_pair(["churn", "7", "churn@champion"]) == (seven, champion)
    assert parse_ref_pair(["churn", "3", "churn", "7"]) == (Ref(NAME, 3), seven)
    assert parse_ref_pair(["churn", "3", "7"]) == (Ref(NAME, 3), seven)
    assert parse_ref_pair(["churn", "other"]) == (Ref(NAME), Ref("other"))
    assert parse_ref_pair(["churn", "other", "Production"]) == (
        Ref(NAME),
        Ref("other", "Production"),
    )
    assert parse_ref_pair(["models:/churn/3", "models:/churn@champion"]) == (Ref(NAME, 3), champion)
    for wrong in (["churn"], ["a", "1", "b", "2", "c"]):
        with pytest.raises(InvalidInputError):
            parse_ref_pair(wrong)


# -- the commands --------------------------------------------------------------------------


@pytest.fixture
def known(registry: Registry) -> Registry:
    """Three versions with known metrics; version 2 is champion and in Production."""
    registry.register(
        NAME,
        "s3://m/1",
        metrics={"auc": 0.9, "loss": 0, "n": 10},
        params={"lr": 0.1, "depth": 3},
        tags={"team": "a"},
        description="old",
        create_model=True,
    )
    registry.register(
        NAME,
        "s3://m/2",
        metrics={"auc": 0.95, "loss": 0.5, "f1": 0.7},
        params={"lr": 0.2, "depth": 3, "seed": 1},
        tags={"team": "b", "new": "x"},
        description="new | line\nsecond",
    )
    registry.transition_model_version_stage(NAME, 2, "Production")
    registry.set_registered_model_alias(NAME, "champion", 2)
    registry.register(NAME, "s3://m/3", metrics={"auc": 0.93, "loss": 0.25})
    return registry


def invoke(registry: Registry, *args: str) -> Result:
    return CliRunner().invoke(app, ["--registry", str(registry.root), *args])


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


DIFF_TABLE = """\
churn: version 1 -> version 2

metric  version 1  version 2  delta      relative
auc     0.9        0.95       +0.05      +5.56%
f1                 0.7        (added)
loss    0          0.5        +0.5
n       10                    (removed)

params       lr: 0.1 -> 0.2
             seed: (none) -> 1
tags         new: (none) -> x
             team: a -> b
stage        None -> Production
aliases      (none) -> champion
description  old -> new | line
             second
lineage      (none)
artifact     unknown (no recorded sha256)
             source: s3://m/1 -> s3://m/2
"""

DIFF_MARKDOWN = """\
### churn: version 1 → version 2

| metric | version 1 | version 2 | Δ | Δ % |
| --- | ---: | ---: | ---: | ---: |
| auc | 0.9 | 0.95 | +0.05 | +5.56% |
| f1 |  | 0.7 | (added) |  |
| loss | 0 | 0.5 | +0.5 |  |
| n | 10 |  | (removed) |  |

**Other differences**

- **params**: lr: 0.1 → 0.2
  - seed: (none) → 1
- **tags**: new: (none) → x
  - team: a → b
- **stage**: None → Production
- **aliases**: (none) → champion
- **description**: old → new \\| line<br>second
- **artifact**: unknown (no recorded sha256)
  - source: s3://m/1 → s3://m/2
"""

DIFF_PLAIN = """\
metric\tauc\t0.9\t0.95\t0.05\t0.0555555555556
metric\tf1\t\t0.7\t\t
metric\tloss\t0\t0.5\t0.5\t
metric\tn\t10\t\t\t
param\tlr\t0.1\t0.2
param\tseed\t\t1
tag\tnew\t\tx
tag\tteam\ta\tb
stage\t\tNone\tProduction
aliases\t\t\tchampion
description\t\told\tnew | line second
source\t\ts3://m/1\ts3://m/2
"""


def test_diff_table(known: Registry) -> None:
    assert ok(invoke(known, "diff", "churn", "1", "churn@champion")) == DIFF_TABLE


def test_diff_markdown_is_a_pull_request_comment(known: Registry) -> None:
    assert ok(invoke(known, "diff", "churn", "1", "churn", "2", "--format", "markdown")) == (
        DIFF_MARKDOWN
    )


def test_diff_plain(known: Registry) -> None:
    assert ok(invoke(known, "diff", "churn", "1", "2", "-f", "plain")) == DIFF_PLAIN


def test_diff_json_and_yaml_mean_the_same(known: Registry) -> None:
    data = json.loads(ok(invoke(known, "diff", "models:/churn/1", "churn@champion", "-f", "json")))
    assert load_yaml_text(ok(invoke(known, "diff", "churn", "1", "2", "-f", "yaml"))) == data
    assert data == known.diff("models:/churn/1", "churn@champion").to_dict()
    assert (data["a"], data["b"]) == ({"name": NAME, "version": 1}, {"name": NAME, "version": 2})
    assert data["metrics"][0] == {
        "key": "auc",
        "a": 0.9,
        "b": 0.95,
        "delta": 0.05,
        "relative": 0.0555555555556,
        "change": "changed",
    }
    assert data["stage"] == {"a": "None", "b": "Production", "same": False}
    assert data["artifact"]["same"] is None
    assert data["lineage"]["commits"] is None


def test_diff_of_a_version_with_itself_is_fine(known: Registry) -> None:
    assert ok(invoke(known, "diff", "churn", "3", "churn@champion")).startswith(
        "churn: version 3 -> version 2\n"
    )
    assert ok(invoke(known, "diff", "churn", "3", "3")) == (
        "churn: version 3 -> version 3\n"
        "\n"
        "metric  version 3  version 3  delta  relative\n"
        "auc     0.93       0.93       0      0.00%\n"
        "loss    0.25       0.25       0      0.00%\n"
        "\n"
        "params       (same)\n"
        "tags         (same)\n"
        "stage        None (same)\n"
        "aliases      (none)\n"
        "description  (none)\n"
        "lineage      (none)\n"
        "artifact     unknown (no recorded sha256)\n"
    )
    markdown = ok(invoke(known, "diff", "churn", "3", "3", "-f", "markdown"))
    assert markdown.endswith("| loss | 0.25 | 0.25 | 0 | 0.00% |\n\nNo other differences.\n")


def test_diff_with_lineage_and_artifacts_in_a_git_repository(repo: Path) -> None:
    registry = Registry.init(repo / "registry")
    (repo / "model.pkl").write_text("one")
    first = git(repo, "rev-parse", "HEAD")
    registry.register(
        NAME, str(repo / "model.pkl"), create_model=True, lineage={"git_commit": first}
    )
    (repo / "model.pkl").write_text("two!")
    git(repo, "commit", "-q", "--allow-empty", "-m", "tune | the model")
    second = git(repo, "rev-parse", "HEAD")
    registry.register(NAME, str(repo / "model.pkl"), lineage={"git_commit": second})
    one, two = (str(registry.get_model_version(NAME, n).artifact_sha256)[:12] for n in (1, 2))
    short = git(repo, "rev-parse", "--short", "HEAD")
    table = ok(invoke(registry, "diff", "churn", "1", "2"))
    assert (
        f"lineage      {first[:12]} -> {second[:12]}\n"
        f"             1 commit in {first[:12]}..{second[:12]}\n"
        f"               {short} tune | the model\n"
        f"artifact     different: sha256 {one} -> {two}, size 3 -> 4 bytes\n"
    ) in table
    markdown = ok(invoke(registry, "diff", "churn", "1", "2", "-f", "markdown"))
    assert f"  - {short} tune \\| the model\n" in markdown
    data = json.loads(ok(invoke(registry, "diff", "churn", "1", "2", "-f", "json")))
    assert data["lineage"]["range"] == f"{first}..{second}"
    assert data["lineage"]["commits"] == [f"{short} tune | the model"]
    assert data["artifact"]["same"] is False
    plain = ok(invoke(registry, "diff", "churn", "1", "2", "-f", "plain")).splitlines()
    assert f"commit\t\t{first}\t{second}" in plain
    assert "artifact_size\t\t3\t4" in plain


def test_compare_table_with_sparklines(known: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    assert ok(invoke(known, "compare", NAME)) == (
        "metric  1    2     3     trend\n"
        "auc     0.9  0.95  0.93  ▁█▅\n"
        "f1           0.7          ▄\n"
        "loss    0    0.5   0.25  ▁█▅\n"
        "n       10               ▄\n"
    )


def test_compare_in_a_real_terminal(known: Registry) -> None:
    screen = run_in_terminal(
        ["--registry", str(known.root), "compare", NAME, "-m", "auc"], 60, terminal_env()
    )
    lines = ESCAPE.sub("", screen).splitlines()
    assert lines == ["metric  1    2     3     trend", "auc     0.9  0.95  0.93  ▁█▅"]


def test_compare_gives_the_numbers_in_the_other_formats(known: Registry) -> None:
    assert ok(invoke(known, "compare", NAME, "-f", "plain")) == (
        "auc\t0.9\t0.95\t0.93\nf1\t\t0.7\t\nloss\t0\t0.5\t0.25\nn\t10\t\t\n"
    )
    as_json = json.loads(
        ok(invoke(known, "compare", NAME, "--last", "2", "-m", "auc", "-f", "json"))
    )
    assert as_json == {"name": NAME, "versions": [2, 3], "metrics": {"auc": [0.95, 0.93]}}
    as_yaml = load_yaml_text(
        ok(invoke(known, "compare", NAME, "-n", "2", "-m", "auc", "-f", "yaml"))
    )
    assert as_yaml == as_json
    assert ok(
        invoke(
            known,
            "compare",
            NAME,
            "3",
            "@champion",
            "1",
            "-m",
            "loss",
            "-m",
            "auc",
            "-f",
            "markdown",
        )
    ) == (
        "### churn: metrics by version\n"
        "\n"
        "| metric | 3 | 2 | 1 |\n"
        "| --- | ---: | ---: | ---: |\n"
        "| loss | 0.25 | 0.5 | 0 |\n"
        "| auc | 0.93 | 0.95 | 0.9 |\n"
    )


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["diff", "churn", "1", "churn", "9"], 3, "version 9 of model 'churn' not found"),
        (["diff", "churn@nobody", "churn", "1"], 3, "nobody"),
        (["diff", "nope", "churn"], 3, "'nope' not found"),
        (["diff", "churn"], 2, "expected two references"),
        (["compare", NAME, "-m", "rmse"], 3, "'rmse'"),
        (["compare", "nope"], 3, "'nope' not found"),
        (["compare", NAME, "9"], 3, "version 9"),
    ],
)
def test_errors(known: Registry, args: list[str], code: int, said: str) -> None:
    result = invoke(known, *args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert said in result.stderr


def test_compare_of_a_model_without_versions_is_not_found(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    result = invoke(registry, "compare", NAME)
    assert (result.exit_code, result.stdout) == (3, "")
    assert "model 'churn' has no versions to compare" in result.stderr


def test_the_installed_command_separates_data_and_errors(known: Registry, run_cli: Any) -> None:
    done = run_cli(
        "--registry", str(known.root), "diff", "churn@champion", "churn", "3", "-f", "json"
    )
    assert done.returncode == 0 and done.stderr == ""
    data: dict[str, JSONValue] = json.loads(done.stdout)
    assert data["b"] == {"name": NAME, "version": 3}
    missing = run_cli("--registry", str(known.root), "diff", "churn@champion", "churn", "9")
    assert (missing.returncode, missing.stdout) == (3, "")
    assert missing.stderr == "error: version 9 of model 'churn' not found\n"
