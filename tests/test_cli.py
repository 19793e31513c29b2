"""Every command through Typer's CliRunner: exact json and plain output, every error with
its exit code and its one error line on stderr."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer.testing
from typer.testing import CliRunner, Result

from _safety import git, tree
from conftest import leaf_commands
from modelreg import Registry, yamlio
from modelreg.cli import app
from modelreg.cli import core as cli_core
from modelreg.entities import ModelVersion, RegisteredModel

NAME = "churn-predictor"
Invoke = Callable[..., Result]
VERSION_KEYS = set(
    ModelVersion(name="m", version=1, creation_timestamp=0, last_updated_timestamp=0).to_dict()
)
MODEL_KEYS = set(
    RegisteredModel(name="m", creation_timestamp=0, last_updated_timestamp=0).to_dict()
)


def at(second: int) -> str:
    return f"2026-01-01T00:00:{second:02d}.000Z"


class Clock:
    """The time every write records: set by the test, so output is exact."""

    def __init__(self) -> None:
        self.now = at(0)

    def __call__(self) -> str:
        return self.now


def load_yaml(text: str) -> Any:
    return yamlio.loads(text.encode(), Path("<stdout>"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock of every registry the commands open (and of ``known``)."""
    clock = Clock()
    monkeypatch.setattr(cli_core, "registry_factory", functools.partial(Registry, clock=clock))
    return clock


def build_known(registry: Registry, clock: Clock) -> None:
    """churn-predictor: v1 Production (alias champion), v2 Staging; fraud: no versions."""
    clock.now = at(1)
    registry.create_registered_model(NAME, tags={"team": "growth"}, description="Predicts churn")
    clock.now = at(2)
    registry.create_model_version(NAME, "s3://models/churn/1", run_id="run1")
    clock.now = at(3)
    registry.create_model_version(NAME, "s3://models/churn/2", run_id="run2")
    clock.now = at(4)
    registry.transition_model_version_stage(NAME, 1, "Production")
    clock.now = at(5)
    registry.transition_model_version_stage(NAME, 2, "Staging", comment="shadow traffic")
    clock.now = at(6)
    registry.set_registered_model_alias(NAME, "champion", 1)
    clock.now = at(7)
    registry.create_registered_model("fraud")


@pytest.fixture(scope="module")
def known_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The known registry, built once: each test gets a copy (copying skips the fsyncs)."""
    base = tmp_path_factory.mktemp("known")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(base)  # no git repository: lineage is the user alone
        patch.setenv("MODELREG_USER", "tester@example.com")
        clock = Clock()
        build_known(Registry(Registry.init(base / "registry").root, clock=clock), clock)
    return base / "registry"


@pytest.fixture
def known(registry: Registry, clock: Clock, known_template: Path) -> Registry:
    """A copy of the known registry at registry_path; the clock then reads 00:00:10."""
    shutil.copytree(known_template, registry.root, dirs_exist_ok=True)
    clock.now = at(10)
    return Registry(registry.root, clock=clock)


V1_LINE = f"{NAME}\t1\tProduction\tchampion\trun1\ts3://models/churn/1\t{at(2)}"
V2_LINE = f"{NAME}\t2\tStaging\t\trun2\ts3://models/churn/2\t{at(3)}"


@pytest.fixture
def cli(registry_path: Path) -> Invoke:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["--registry", str(registry_path), *args], input=input)

    return invoke


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def as_json(result: Result) -> Any:
    ok(result)
    return json.loads(result.stdout)


# -- init, discovery -----------------------------------------------------------------------


def test_init_creates_a_registry_and_prints_its_path(tmp_path: Path) -> None:
    target = tmp_path / "new"
    result = ok(CliRunner().invoke(app, ["init", str(target), "--format", "plain"]))
    assert result.stdout == f"{target.resolve()}\n"
    assert result.stderr == f"Created a registry in {target}\n"
    assert (target / "registry.yaml").is_file()
    again = CliRunner().invoke(app, ["init", str(target)])
    assert again.exit_code == 4
    assert again.stderr == f"error: {target} is already a registry (it has registry.yaml)\n"


def test_init_makes_the_registry_the_global_option_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `modelreg --registry DIR init` made the registry in the working directory.
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "elsewhere"
    result = ok(CliRunner().invoke(app, ["--registry", str(target), "init", "--format", "plain"]))
    assert result.stdout == f"{target.resolve()}\n"
    assert (target / "registry.yaml").is_file()
    assert not (tmp_path / "registry.yaml").exists()
    same = CliRunner().invoke(app, ["--registry", str(tmp_path / "b"), "init", str(tmp_path / "b")])
    assert ok(same).stderr == f"Created a registry in {tmp_path / 'b'}\n"
    both = CliRunner().invoke(app, ["--registry", str(tmp_path / "c"), "init", str(tmp_path / "d")])
    assert both.exit_code == 2
    assert "two folders to create the registry in" in both.stderr
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists()


def test_init_json_and_custom_stages(tmp_path: Path) -> None:
    target = tmp_path / "new"
    args = ["init", str(target), "--stage", "None", "--stage", "Canary", "--format", "json"]
    result = ok(CliRunner().invoke(app, args))
    assert json.loads(result.stdout) == {"path": str(target.resolve())}
    assert Registry(target).config.stages == ("None", "Canary")


def test_registry_from_the_environment(registry_path: Path, known: Registry) -> None:
    result = CliRunner().invoke(
        app, ["list", "--format", "plain"], env={"MODELREG_REGISTRY": str(registry_path)}
    )
    assert ok(result).stdout == PLAIN["list"]


def test_registry_found_above_the_working_directory(
    registry_path: Path, known: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELREG_REGISTRY")
    monkeypatch.chdir(registry_path / "models" / NAME / "versions")
    result = ok(CliRunner().invoke(app, ["list", NAME, "--format", "plain"]))
    assert result.stdout == f"{V1_LINE}\n{V2_LINE}\n"


def test_no_registry_is_exit_3_with_a_hint_to_run_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELREG_REGISTRY")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        f"error: no registry found in {tmp_path} or any folder above it; create one with "
        "`modelreg init PATH`, or point to one with --registry or $MODELREG_REGISTRY\n"
    )
    named = CliRunner().invoke(app, ["--registry", str(tmp_path), "list"])
    assert named.exit_code == 3
    assert named.stderr == (
        f"error: no registry at {tmp_path} (it has no registry.yaml); "
        f"create one with: modelreg init {tmp_path}\n"
    )


# -- create, register ----------------------------------------------------------------------


def test_rename_moves_the_model_with_its_versions_aliases_and_history(cli: Invoke) -> None:
    ok(cli("register", NAME, "s3://bucket/1", "--run-id", "r1", "--alias", "champion"))
    renamed = ok(cli("rename", NAME, "attrition", "--format", "json"))
    assert as_json(renamed)["name"] == "attrition"
    assert renamed.stderr == f"Renamed model {NAME} to attrition\n"
    version = as_json(ok(cli("describe", "attrition@champion", "--format", "json")))
    assert (version["name"], version["version"], version["run_id"]) == ("attrition", 1, "r1")
    assert cli("describe", NAME).exit_code == 3
    ok(cli("create", "taken"))
    assert cli("rename", "attrition", "taken").exit_code == 4
    assert cli("rename", "absent", "other").exit_code == 3


def test_copy_keeps_what_the_api_keeps_and_records_the_original(
    cli: Invoke, registry: Registry
) -> None:
    ok(cli("register", NAME, "s3://bucket/1", "--run-id", "r1", "-m", "auc=0.9", "-p", "depth=3"))
    ok(cli("tag", NAME, "1", "team=growth"))
    ok(cli("update", NAME, "1", "-d", "First"))
    ok(cli("alias", NAME, "champion", "1"))
    copied = ok(cli("copy", f"{NAME}@champion", "churn-eu", "--format", "json"))
    assert copied.stderr == f"Copied {NAME} version 1 to churn-eu version 1\n"
    through_cli = as_json(copied)
    assert through_cli["lineage"]["copied_from"] == f"models:/{NAME}/1"
    # MLflow's source for a copy; it names the original's artifact, which resolve prints.
    assert (through_cli["source"], through_cli["run_id"]) == (f"models:/{NAME}/1", "r1")
    assert through_cli["lineage"]["storage_location"] == "s3://bucket/1"
    assert ok(cli("resolve", "churn-eu", "1")).stdout == "s3://bucket/1\n"
    assert (through_cli["metrics"], through_cli["params"]) == ({"auc": 0.9}, {"depth": 3})
    assert (through_cli["tags"], through_cli["description"]) == ({"team": "growth"}, "First")
    # The same as the API's copy of the same version, but for its own number and times.
    through_api = registry.copy_model_version(f"models:/{NAME}/1", "churn-eu").to_dict()
    ignored = ("version", "creation_timestamp", "last_updated_timestamp")
    assert {k: v for k, v in through_cli.items() if k not in ignored} == {
        k: v for k, v in through_api.items() if k not in ignored
    }
    ok(cli("copy", f"models:/{NAME}/1", "churn-eu"))
    assert as_json(cli("describe", "churn-eu", "3", "--format", "json"))["source"] == (
        f"models:/{NAME}/1"
    )
    assert cli("copy", NAME, "churn-eu").exit_code == 2  # a model, not a version
    assert cli("copy", NAME, "9", "churn-eu").exit_code == 3
    assert cli("copy", NAME, "1", "bad/name").exit_code == 2


def test_descriptions_and_comments_from_a_file_or_stdin(
    cli: Invoke, registry: Registry, tmp_path: Path
) -> None:
    card = tmp_path / "card.md"
    markdown = "# Churn\n\n- trained on *November*\n- `auc` 0.91\n"
    card.write_text(markdown, encoding="utf-8")
    ok(cli("create", NAME, "--description-file", str(card)))
    assert registry.get_registered_model(NAME).description == markdown.rstrip("\n")
    ok(cli("register", NAME, "s3://x", "--description-file", "-", input="from stdin\n\n"))
    assert registry.get_model_version(NAME, 1).description == "from stdin"
    ok(cli("update", NAME, "1", "--description-file", "-", input="Ünïcode ✓\n"))
    assert registry.get_model_version(NAME, 1).description == "Ünïcode ✓"
    ok(cli("transition", NAME, "1", "Staging", "--comment-file", "-", input="why\nbecause\n"))
    ok(cli("comment", NAME, "1", "--comment-file", str(card)))
    ok(cli("alias", NAME, "champion", "1", "--comment-file", "-", input="moved\n"))
    history = registry.history(f"{NAME}@champion")
    assert [(entry["action"], entry.get("comment")) for entry in history[-3:]] == [
        ("stage_changed", "why\nbecause"),
        ("commented", markdown.rstrip("\n")),
        ("alias_set", "moved"),
    ]


def test_a_text_and_its_file_together_or_neither_is_exit_2(
    cli: Invoke, registry: Registry, tmp_path: Path
) -> None:
    ok(cli("register", NAME, "s3://x"))
    note = tmp_path / "note.txt"
    note.write_text("x", encoding="utf-8")
    both = cli("update", NAME, "1", "-d", "a", "--description-file", str(note))
    assert (both.exit_code, both.stderr) == (
        2,
        "error: give either --description or --description-file, not both\n",
    )
    neither = cli("update", NAME, "1")
    assert neither.exit_code == 2
    assert "--description TEXT or --description-file FILE" in neither.stderr
    missing = cli("comment", NAME, "1", "--comment-file", str(tmp_path / "absent.txt"))
    assert missing.exit_code == 2 and "No such file" in missing.stderr
    both_comments = cli("transition", NAME, "1", "Staging", "-c", "a", "--comment-file", str(note))
    assert both_comments.exit_code == 2
    assert registry.get_model_version(NAME, 1).current_stage == "None"


def test_create_prints_the_model(cli: Invoke, clock: Clock) -> None:
    clock.now = at(1)
    result = cli("create", NAME, "-d", "Predicts churn", "-t", "team=growth", "--format", "json")
    data = as_json(result)
    assert set(data) == MODEL_KEYS
    assert data == {
        "name": NAME,
        "creation_timestamp": 1767225601000,
        "last_updated_timestamp": 1767225601000,
        "description": "Predicts churn",
        "user_id": "tester@example.com",
        "tags": {"team": "growth"},
        "aliases": {},
        "latest_versions": [],
    }
    assert result.stderr == f"Created model {NAME}\n"
    plain = cli("create", "other", "--format", "plain")
    assert ok(plain).stdout == "other\t\t\t\t\n"


def test_register_prints_the_version_in_json(cli: Invoke, clock: Clock) -> None:
    clock.now = at(2)
    result = cli(
        "register", NAME, "s3://models/churn/1", "--run-id", "run1",
        "--run-link", "http://mlflow/runs/run1", "-d", "first", "--tag", "k=v",
        "--metric", "acc=0.93", "--metric", "n=100", "--param", "epochs=10",
        "--param", "lr=0.01", "--param", "opt=adam", "--format", "json",
    )  # fmt: skip
    data = as_json(result)
    assert set(data) == VERSION_KEYS
    assert data == {
        "name": NAME,
        "version": 1,
        "creation_timestamp": 1767225602000,
        "last_updated_timestamp": 1767225602000,
        "current_stage": "None",
        "description": "first",
        "user_id": "tester@example.com",
        "source": "s3://models/churn/1",
        "run_id": "run1",
        "run_link": "http://mlflow/runs/run1",
        "model_id": None,
        "status": "READY",
        "status_message": None,
        "tags": {"k": "v"},
        "aliases": [],
        "metrics": {"acc": 0.93, "n": 100},
        "params": {"epochs": 10, "lr": 0.01, "opt": "adam"},
        "artifact_sha256": None,
        "artifact_size": None,
        "artifact_uri": None,
        "datasets": {},
        "lineage": {"user": "tester@example.com"},
    }
    assert isinstance(data["metrics"]["acc"], float)
    assert isinstance(data["params"]["epochs"], int)
    assert result.stderr == f"Registered {NAME} version 1\n"


def test_register_plain_prints_one_line(cli: Invoke, clock: Clock) -> None:
    clock.now = at(2)
    result = ok(cli("register", NAME, "s3://a", "--format", "plain"))
    assert result.stdout == f"{NAME}\t1\tNone\t\t\ts3://a\t{at(2)}\n"


def test_register_with_stage_and_alias(cli: Invoke, known: Registry, clock: Clock) -> None:
    result = cli(
        "register", NAME, "s3://c", "--stage", "production", "--alias", "champion",
        "--alias", "latest-good", "--format", "plain",
    )  # fmt: skip
    assert ok(result).stdout == (
        f"{NAME}\t3\tProduction\tchampion,latest-good\t\ts3://c\t{at(10)}\n"
    )
    assert result.stderr == f"Registered {NAME} version 3\n"
    assert known.get_model_version_by_alias(NAME, "champion").version == 3


@pytest.mark.parametrize(
    ("option", "error"),
    [
        (
            ["--stage", "Prod"],
            "unknown stage 'Prod'; this registry's stages are: None, Staging, Production, Archived",
        ),
        (
            ["--alias", "latest"],
            "invalid alias 'latest': 'latest' and 'v<number>' are reserved for model URIs",
        ),
        (
            ["--alias", "a.b"],
            "invalid alias 'a.b': use letters, digits, '_' and '-' (at most 255 characters)",
        ),
        (["--metric", "acc=high"], "metric 'acc' must be a number, not 'high'"),
        (["--metric", "acc"], "invalid metric 'acc': expected KEY=VALUE"),
        (["--param", "=1"], "invalid param '=1': expected KEY=VALUE"),
        (["--tag", "novalue"], "invalid tag 'novalue': expected KEY=VALUE"),
    ],
)
def test_register_refuses_bad_options_before_writing_anything(
    cli: Invoke, known: Registry, registry_path: Path, option: list[str], error: str
) -> None:
    before = tree(registry_path)
    result = cli("register", NAME, "s3://new", *option)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: {error}\n"
    assert tree(registry_path) == before


def test_register_records_checksum_and_returns_the_existing_version_for_the_same_artifact(
    cli: Invoke, registry_path: Path, tmp_path: Path
) -> None:
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"weights" * 100)
    first = as_json(cli("register", NAME, str(artifact), "--format", "json"))
    assert first["artifact_sha256"] == hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert first["artifact_size"] == 700
    assert first["source"] == "../model.pkl"
    before = tree(registry_path)
    again = cli("register", NAME, str(artifact), "--format", "json")
    assert as_json(again) == first
    assert again.stderr == (
        f"{NAME} version 1 already has this artifact (same source and sha256); "
        "not registering it again (use --allow-duplicate to force a new version)\n"
    )
    assert tree(registry_path) == before
    forced = cli("register", NAME, str(artifact), "--allow-duplicate", "--format", "json")
    assert as_json(forced)["version"] == 2
    assert forced.stderr == f"Registered {NAME} version 2\n"


def test_register_records_git_lineage_of_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "train.py").write_text("print(1)\n")
    Registry.init(tmp_path / "registry")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "start")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODELREG_USER", "ci-bot")
    runner = CliRunner()
    args = ["--registry", "registry", "register", NAME, "s3://a", "--format", "json"]
    clean = as_json(runner.invoke(app, args))
    assert clean["lineage"]["git_commit"] == git(tmp_path, "rev-parse", "HEAD")
    assert clean["lineage"]["git_dirty"] is False
    assert clean["lineage"]["user"] == clean["user_id"] == "ci-bot"
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "v1")  # the registry's files are tracked from here on
    (tmp_path / "train.py").write_text("print(2)\n")
    dirty = as_json(runner.invoke(app, [*args[:4], "s3://b", "--format", "json"]))
    assert dirty["lineage"]["git_commit"] == git(tmp_path, "rev-parse", "HEAD")
    assert dirty["lineage"]["git_dirty"] is True
    git(tmp_path, "checkout", "-q", "train.py")
    args_transition = ["--registry", "registry", "transition", NAME, "1", "Staging"]
    assert runner.invoke(app, args_transition).exit_code == 0
    assert (
        git(tmp_path, "status", "--porcelain", "--untracked-files=no") != ""
    )  # versions/1.yaml changed
    registry_only = as_json(runner.invoke(app, [*args[:4], "s3://c", "--format", "json"]))
    assert registry_only["lineage"]["git_dirty"] is False


# -- list, describe, resolve ---------------------------------------------------------------


def test_list_models_plain(cli: Invoke, known: Registry) -> None:
    result = ok(cli("list", "--format", "plain"))
    assert result.stdout == (f"{NAME}\t2\tchampion=1\tteam=growth\tPredicts churn\nfraud\t\t\t\t\n")
    assert result.stderr == ""


def test_list_models_json(cli: Invoke, known: Registry) -> None:
    data = as_json(cli("list", "--format", "json"))
    assert [model["name"] for model in data] == [NAME, "fraud"]
    assert all(set(model) == MODEL_KEYS for model in data)
    assert data[0]["aliases"] == {"champion": 1}
    assert [(v["version"], v["current_stage"]) for v in data[0]["latest_versions"]] == [
        (2, "Staging"),
        (1, "Production"),
    ]


def test_list_versions_plain_json_and_yaml(cli: Invoke, known: Registry) -> None:
    assert ok(cli("list", NAME, "--format", "plain")).stdout == f"{V1_LINE}\n{V2_LINE}\n"
    data = as_json(cli("list", NAME, "--format", "json"))
    assert [set(item) for item in data] == [VERSION_KEYS, VERSION_KEYS]
    assert data == [mv.to_dict() for mv in known.list_versions(NAME)]
    assert load_yaml(ok(cli("list", NAME, "--format", "yaml")).stdout) == data


def test_list_table_is_for_people(cli: Invoke, known: Registry) -> None:
    lines = ok(cli("list")).stdout.splitlines()
    assert lines[0].split() == ["name", "latest", "aliases", "tags", "description"]
    assert lines[1].split() == [NAME, "2", "champion=1", "team=growth", "Predicts", "churn"]


def test_list_of_an_empty_registry(cli: Invoke) -> None:
    assert ok(cli("list", "--format", "json")).stdout == "[]\n"
    assert ok(cli("list", "--format", "plain")).stdout == ""


@pytest.mark.parametrize(
    ("ref", "line"),
    [
        ([NAME, "1"], V1_LINE),
        ([NAME, "2"], V2_LINE),
        ([NAME, "latest"], V2_LINE),
        ([NAME, "LATEST"], V2_LINE),
        ([NAME, "production"], V1_LINE),
        ([NAME, "Staging"], V2_LINE),
        ([NAME, "@champion"], V1_LINE),
        ([f"{NAME}@champion"], V1_LINE),
        ([f"models:/{NAME}/1"], V1_LINE),
        ([f"models:/{NAME}/staging"], V2_LINE),
        ([f"models:/{NAME}/latest"], V2_LINE),
        ([f"models:/{NAME}@champion"], V1_LINE),
    ],
)
def test_describe_accepts_every_ref_form(
    cli: Invoke, known: Registry, ref: list[str], line: str
) -> None:
    result = ok(cli("describe", *ref, "--format", "plain"))
    assert result.stdout == line + "\n"
    assert result.stderr == ""


def test_describe_a_model(cli: Invoke, known: Registry) -> None:
    assert ok(cli("describe", NAME, "--format", "plain")).stdout == (
        f"{NAME}\t2\tchampion=1\tteam=growth\tPredicts churn\n"
    )
    data = as_json(cli("describe", NAME, "--format", "json"))
    assert set(data) == MODEL_KEYS
    assert data == known.get_registered_model(NAME).to_dict()
    assert load_yaml(ok(cli("describe", NAME, "--format", "yaml")).stdout) == data


def test_describe_a_version_json(cli: Invoke, known: Registry) -> None:
    data = as_json(cli("describe", NAME, "1", "--format", "json"))
    assert set(data) == VERSION_KEYS
    assert data == known.get_model_version(NAME, 1).to_dict()
    assert data["creation_timestamp"] == 1767225602000
    assert data["last_updated_timestamp"] == 1767225604000


def test_describe_table_shows_every_field(cli: Invoke, known: Registry) -> None:
    lines = ok(cli("describe", NAME, "1")).stdout.splitlines()
    fields = [line.split()[0] for line in lines if line and not line.startswith(" ")]
    assert fields == list(known.get_model_version(NAME, 1).to_dict())


def test_resolve_prints_the_location(
    cli: Invoke, known: Registry, registry_path: Path, tmp_path: Path
) -> None:
    assert ok(cli("resolve", f"{NAME}@champion")).stdout == "s3://models/churn/1\n"
    assert ok(cli("resolve", NAME)).stdout == "s3://models/churn/2\n"
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"w")
    ok(cli("register", NAME, str(artifact)))
    result = ok(cli("resolve", f"models:/{NAME}/latest"))
    assert result.stdout == f"{artifact.resolve()}\n"
    assert result.stderr == ""
    assert as_json(cli("resolve", NAME, "3", "--format", "json")) == {
        "name": NAME,
        "version": 3,
        "source": "../model.pkl",
        "location": str(artifact.resolve()),
    }
    assert ok(cli("resolve", NAME, "1", "--format", "plain")).stdout == (
        f"{NAME}\t1\ts3://models/churn/1\ts3://models/churn/1\n"
    )


# -- tag, update ---------------------------------------------------------------------------


def test_tag_a_model_and_a_version(cli: Invoke, known: Registry, clock: Clock) -> None:
    result = cli("tag", NAME, "owner=alice", "tier=1", "--format", "json")
    data = as_json(result)
    assert set(data) == MODEL_KEYS
    assert data["tags"] == {"owner": "alice", "team": "growth", "tier": "1"}
    assert result.stderr == f"Updated the tags of model {NAME}\n"
    removed = as_json(cli("tag", NAME, "--remove", "tier", "--format", "json"))
    assert removed["tags"] == {"owner": "alice", "team": "growth"}
    version = cli("tag", NAME, "@champion", "validation=passed", "--format", "plain")
    assert ok(version).stdout == V1_LINE + "\n"
    assert version.stderr == f"Updated the tags of {NAME} version 1\n"
    assert known.get_model_version(NAME, 1).tags == {"validation": "passed"}
    assert ok(cli("tag", f"models:/{NAME}/2", "a=b=c")).exit_code == 0
    assert known.get_model_version(NAME, 2).tags == {"a": "b=c"}


def test_tag_to_the_same_value_does_not_rewrite_the_file(
    cli: Invoke, known: Registry, registry_path: Path
) -> None:
    model_file = registry_path / "models" / NAME / "model.yaml"
    before = model_file.stat()
    ok(cli("tag", NAME, "team=growth"))
    after = model_file.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_update_descriptions(cli: Invoke, known: Registry, clock: Clock) -> None:
    model = cli("update", NAME, "--description", "Churn, v2 features", "--format", "json")
    assert as_json(model)["description"] == "Churn, v2 features"
    assert model.stderr == f"Updated the description of model {NAME}\n"
    version = cli("update", NAME, "2", "-d", "F1: 0.94", "--format", "json")
    assert as_json(version)["description"] == "F1: 0.94"
    assert version.stderr == f"Updated the description of {NAME} version 2\n"
    assert known.get_model_version(NAME, 2).description == "F1: 0.94"


# -- transition, archive, alias ------------------------------------------------------------


def test_transition_prints_the_move_and_the_version(cli: Invoke, known: Registry) -> None:
    result = cli("transition", NAME, "2", "production", "--comment", "passed", "-f", "plain")
    assert ok(result).stdout == f"{NAME}\t2\tProduction\t\trun2\ts3://models/churn/2\t{at(3)}\n"
    # New registries hold one version in Production: the one there is archived.
    assert result.stderr == f"{NAME} version 2: Staging -> Production (archived 1)\n"
    assert known.get_model_version(NAME, 1).current_stage == "Archived"


def test_transition_to_the_stage_it_is_in_says_it_is_already_there(
    cli: Invoke, known: Registry, registry_path: Path
) -> None:
    before = tree(registry_path)
    result = cli("transition", NAME, "1", "production", "-f", "plain")
    assert ok(result).stderr == f"{NAME} version 1 is already in Production\n"
    assert tree(registry_path) == before
    archived = cli("archive", NAME, "1")
    assert ok(archived).stderr == f"{NAME} version 1: Production -> Archived\n"
    again = cli("archive", NAME, "1", "-f", "json")
    assert ok(again).stderr == f"{NAME} version 1 is already in Archived\n"


def test_transition_with_archive_existing(cli: Invoke, known: Registry) -> None:
    result = cli("transition", f"models:/{NAME}/2", "Production", "--archive-existing")
    ok(result)
    assert [mv.current_stage for mv in known.list_versions(NAME)] == ["Archived", "Production"]


def test_archive_is_transition_to_archived(cli: Invoke, known: Registry) -> None:
    result = cli("archive", f"{NAME}@champion", "--comment", "retired", "--format", "json")
    assert as_json(result)["current_stage"] == "Archived"
    assert result.stderr == f"{NAME} version 1: Production -> Archived\n"
    entry = known.get_model_version(NAME, 1).history[-1]
    assert (entry["to_stage"], entry["comment"]) == ("Archived", "retired")


def test_alias_set_move_and_delete(cli: Invoke, known: Registry, clock: Clock) -> None:
    moved = cli("alias", NAME, "champion", "2", "--format", "plain")
    assert ok(moved).stdout == f"{NAME}\t2\tStaging\tchampion\trun2\ts3://models/churn/2\t{at(3)}\n"
    assert moved.stderr == f"{NAME}@champion -> version 2\n"
    by_stage = cli("alias", NAME, "stable", "production", "--format", "json")
    assert as_json(by_stage)["aliases"] == ["stable"]
    deleted = cli("alias", NAME, "champion", "--delete", "--format", "json")
    assert as_json(deleted) == {"name": NAME, "alias": "champion", "version": 2}
    assert deleted.stderr == f"Deleted alias champion of model {NAME} (was version 2)\n"
    assert known.get_registered_model(NAME).aliases == {"stable": 1}
    plain = cli("alias", NAME, "stable", "--delete", "--format", "plain")
    assert ok(plain).stdout == f"{NAME}\tstable\t1\n"


# -- history -------------------------------------------------------------------------------


def test_history_plain_lines(cli: Invoke, known: Registry, clock: Clock) -> None:
    clock.now = at(11)
    ok(cli("alias", NAME, "champion", "2", "--comment", "better f1"))
    clock.now = at(12)
    ok(cli("update", NAME, "2", "-d", "new"))
    result = ok(cli("history", NAME, "--format", "plain"))
    user = "tester@example.com"
    assert result.stdout.splitlines() == [
        f"{at(1)}\t{user}\t\tmodel_created\t",
        f"{at(2)}\t{user}\t1\tversion_registered\t",
        f"{at(3)}\t{user}\t2\tversion_registered\t",
        f"{at(4)}\t{user}\t1\tstage_changed\tNone -> Production",
        f"{at(5)}\t{user}\t2\tstage_changed\tNone -> Staging; comment: shadow traffic",
        f"{at(6)}\t{user}\t1\talias_set\talias=champion",
        f"{at(11)}\t{user}\t2\talias_set\talias=champion; previous_version=1; comment: better f1",
        f"{at(12)}\t{user}\t2\tdescription_changed\t",
    ]
    version = ok(cli("history", NAME, "2", "--format", "plain")).stdout.splitlines()
    assert [line.split("\t")[3] for line in version] == [
        "version_registered",
        "stage_changed",
        "alias_set",
        "description_changed",
    ]


def test_history_json_carries_who_when_and_the_comment(cli: Invoke, known: Registry) -> None:
    data = as_json(cli("history", NAME, "2", "--format", "json"))
    assert data == [
        {
            "timestamp": at(3),
            "user_id": "tester@example.com",
            "action": "version_registered",
            "version": 2,
        },
        {
            "timestamp": at(5),
            "user_id": "tester@example.com",
            "action": "stage_changed",
            "from_stage": "None",
            "to_stage": "Staging",
            "comment": "shadow traffic",
            "version": 2,
        },
    ]


def test_history_records_cli_transitions_with_their_user_and_comment(
    cli: Invoke, known: Registry, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELREG_USER", "carol")
    clock.now = at(20)
    ok(cli("transition", NAME, "2", "Production", "--archive-existing", "-c", "go live"))
    entries = as_json(cli("history", NAME, "--format", "json"))
    assert entries[-2:] == [
        {
            "timestamp": at(20),
            "user_id": "carol",
            "action": "stage_changed",
            "from_stage": "Production",
            "to_stage": "Archived",
            "comment": "archived: version 2 entered Production",
            "archived_by": 2,
            "version": 1,
        },
        {
            "timestamp": at(20),
            "user_id": "carol",
            "action": "stage_changed",
            "from_stage": "Staging",
            "to_stage": "Production",
            "comment": "go live",
            "version": 2,
        },
    ]


# -- delete --------------------------------------------------------------------------------


def test_delete_needs_yes_when_not_at_a_terminal(
    cli: Invoke, known: Registry, registry_path: Path
) -> None:
    before = tree(registry_path)
    result = cli("delete", NAME, "2")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: refusing to delete {NAME} version 2 without --yes (not at a terminal)\n"
    )
    model = cli("delete", NAME, input="y\n")
    assert model.exit_code == 2
    assert model.stderr == (
        f"error: refusing to delete model {NAME} and all its versions without --yes "
        "(not at a terminal)\n"
    )
    assert tree(registry_path) == before


def test_delete_a_version_and_a_model_with_yes(
    cli: Invoke, known: Registry, registry_path: Path
) -> None:
    record = known.get_model_version(NAME, 2).to_dict()
    version = cli("delete", NAME, "2", "--yes", "--format", "json")
    assert as_json(version) == record
    assert version.stderr == f"Deleted {NAME} version 2\n"
    assert not (registry_path / "models" / NAME / "versions" / "2.yaml").exists()
    again = as_json(cli("register", NAME, "s3://new", "--format", "json"))
    assert again["version"] == 3
    described = ok(cli("describe", NAME, "--format", "plain")).stdout
    assert described == f"{NAME}\t3\tchampion=1\tteam=growth\tPredicts churn\n"
    model = cli("delete", NAME, "-y", "--format", "plain")
    assert ok(model).stdout == described
    assert model.stderr == f"Deleted model {NAME} and all its versions\n"
    assert not (registry_path / "models" / NAME).exists()
    assert cli("describe", NAME).exit_code == 3


@pytest.mark.parametrize(("answer", "deleted"), [("y\n", True), ("n\n", False), ("\n", False)])
def test_delete_asks_at_a_terminal(
    cli: Invoke,
    known: Registry,
    registry_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    deleted: bool,
) -> None:
    # CliRunner's stdin and stderr are this wrapper: make them look like a terminal.
    monkeypatch.setattr(typer.testing._NamedTextIOWrapper, "isatty", lambda self: True)
    result = ok(cli("delete", NAME, "2", input=answer))
    assert f"Delete {NAME} version 2? [y/N]" in result.stderr
    assert (registry_path / "models" / NAME / "versions" / "2.yaml").exists() is not deleted
    if not deleted:
        assert result.stderr.endswith("Nothing deleted\n")


# -- every command prints data in every format ---------------------------------------------

WRITE_AND_READ_COMMANDS = [
    ["create", "other"],
    ["rename", "fraud", "fraud2"],
    ["copy", NAME, "1", "fraud"],
    ["register", NAME, "s3://x"],
    ["list"],
    ["list", NAME],
    ["describe", NAME],
    ["describe", NAME, "1"],
    ["tag", NAME, "1", "k=v"],
    ["update", NAME, "1", "-d", "x"],
    ["transition", NAME, "1", "Staging"],
    ["archive", NAME, "1"],
    ["alias", NAME, "best", "1"],
    ["resolve", NAME, "1"],
    ["history", NAME],
    ["delete", NAME, "1", "--yes"],
]


USER = "tester@example.com"
PLAIN = {
    "create other": "other\t\t\t\t\n",
    "rename fraud fraud2": "fraud2\t\t\t\t\n",
    f"copy {NAME} 1 fraud": f"fraud\t1\tNone\t\trun1\tmodels:/{NAME}/1\t{at(10)}\n",
    f"register {NAME} s3://x": f"{NAME}\t3\tNone\t\t\ts3://x\t{at(10)}\n",
    "list": f"{NAME}\t2\tchampion=1\tteam=growth\tPredicts churn\nfraud\t\t\t\t\n",
    f"list {NAME}": f"{V1_LINE}\n{V2_LINE}\n",
    f"describe {NAME}": f"{NAME}\t2\tchampion=1\tteam=growth\tPredicts churn\n",
    f"describe {NAME} 1": f"{V1_LINE}\n",
    f"tag {NAME} 1 k=v": f"{V1_LINE}\n",
    f"update {NAME} 1 -d x": f"{V1_LINE}\n",
    f"transition {NAME} 1 Staging": f"{V1_LINE.replace('Production', 'Staging')}\n",
    f"archive {NAME} 1": f"{V1_LINE.replace('Production', 'Archived')}\n",
    f"alias {NAME} best 1": f"{V1_LINE.replace('champion', 'best,champion')}\n",
    f"resolve {NAME} 1": f"{NAME}\t1\ts3://models/churn/1\ts3://models/churn/1\n",
    f"history {NAME}": (
        f"{at(1)}\t{USER}\t\tmodel_created\t\n"
        f"{at(2)}\t{USER}\t1\tversion_registered\t\n"
        f"{at(3)}\t{USER}\t2\tversion_registered\t\n"
        f"{at(4)}\t{USER}\t1\tstage_changed\tNone -> Production\n"
        f"{at(5)}\t{USER}\t2\tstage_changed\tNone -> Staging; comment: shadow traffic\n"
        f"{at(6)}\t{USER}\t1\talias_set\talias=champion\n"
    ),
    f"delete {NAME} 1 --yes": f"{V1_LINE}\n",  # the deleted version, as it was
}


def test_every_command_has_an_expected_plain_output() -> None:
    assert [" ".join(args) for args in WRITE_AND_READ_COMMANDS] == list(PLAIN)


@pytest.mark.parametrize("args", WRITE_AND_READ_COMMANDS, ids=" ".join)
def test_plain_output_is_exact_tab_separated_lines(
    cli: Invoke, known: Registry, args: list[str]
) -> None:
    result = ok(cli(*args, "--format", "plain"))
    assert result.stdout == PLAIN[" ".join(args)]


@pytest.mark.parametrize("args", WRITE_AND_READ_COMMANDS, ids=" ".join)
def test_json_output_is_valid_json_on_stdout_and_messages_on_stderr(
    cli: Invoke, known: Registry, args: list[str]
) -> None:
    result = cli(*args, "--format", "json")
    data = as_json(result)
    assert isinstance(data, (dict, list))
    writes = (
        "create",
        "rename",
        "copy",
        "register",
        "tag",
        "update",
        "transition",
        "archive",
        "alias",
    )
    if args[0] in writes:
        assert result.stderr.strip() != ""
        assert result.stderr.count("\n") == 1
    else:
        assert result.stderr == (
            "Deleted churn-predictor version 1\n" if args[0] == "delete" else ""
        )


@pytest.mark.parametrize("args", WRITE_AND_READ_COMMANDS, ids=" ".join)
def test_yaml_output_means_the_same_as_json(
    known: Registry, clock: Clock, registry_path: Path, tmp_path: Path, args: list[str]
) -> None:
    # The same command on two identical registries at the same (frozen) time.
    twin = tmp_path / "twin"
    shutil.copytree(registry_path, twin)
    runner = CliRunner()
    as_yaml = runner.invoke(app, ["--registry", str(registry_path), *args, "--format", "yaml"])
    as_json_ = runner.invoke(app, ["--registry", str(twin), *args, "--format", "json"])
    # yamlio keeps ISO times as text, as they are in the JSON.
    assert load_yaml(ok(as_yaml).stdout) == json.loads(ok(as_json_).stdout)
    # A new version's uid is random: the same everywhere else.
    assert without_uids(tree(registry_path)) == without_uids(tree(twin))


def without_uids(files: dict[str, bytes | None]) -> dict[str, bytes | None]:
    return {
        path: None if data is None else re.sub(rb"\nuid: [0-9a-f]{32}\n", b"\n", data)
        for path, data in files.items()
    }


# The approval commands, beyond the foundation: their output in each format means the same.
APPROVAL_COMMANDS = [
    ["request", NAME, "2", "Production"],
    ["approve", NAME, "2", "Production"],
    ["reject", NAME, "2", "Production"],
    ["comment", NAME, "2", "looks good"],
    ["promote", NAME, "2", "Production"],
]
# Commands whose formats are tested where what they need is built (the key words of each).
FORMATS_TESTED_ELSEWHERE = {
    "init": "test_init_* in this file (a new folder)",
    "check": "test_check.py",
    "search": "test_search_cli.py, test_quick.py",
    "hooks list": "test_hooks.py (a hooks: section)",
    "hooks log": "test_hooks.py",
    "hooks test": "test_hooks.py",
    "hooks trust": "test_hooks.py",
    "trust": "test_provenance.py (a registry with hooks and checks)",
    "import mlruns": "test_mlflow_io.py (an mlruns folder)",
    "import mlflow": "test_mlflow_io.py (MLflow)",
    "export mlflow": "test_mlflow_io.py (MLflow)",
    "merge-file": "test_merge_driver.py (three files git hands over)",
    "git-setup": "test_merge_driver.py (a git repository)",
    "changes": "test_changes.py (two commits of a git repository)",
    "merge-continue": "test_merge_continue.py (a stopped git merge)",
    "sync": "test_publish.py (a git remote)",
    "diff": "test_compare.py (versions with known metrics, a git repository)",
    "compare": "test_compare.py (versions with known metrics)",
    "pull": "test_artifacts.py (an artifact store)",
    "gc": "test_artifacts.py (an artifact store)",
    "catalog build": "test_webcatalog.py (a site folder)",
    "catalog serve": "test_webcatalog_browser.py (a running server)",
}


def test_every_command_of_the_app_has_its_formats_tested() -> None:
    here = {args[0] for args in WRITE_AND_READ_COMMANDS + APPROVAL_COMMANDS}
    assert not here & set(FORMATS_TESTED_ELSEWHERE)
    assert here | set(FORMATS_TESTED_ELSEWHERE) == set(leaf_commands())


@pytest.mark.parametrize("args", APPROVAL_COMMANDS, ids=" ".join)
def test_approval_commands_print_json_and_yaml_that_mean_the_same(
    known: Registry, clock: Clock, registry_path: Path, tmp_path: Path, args: list[str]
) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(registry_path, twin)
    runner = CliRunner()
    as_yaml = runner.invoke(app, ["--registry", str(registry_path), *args, "--format", "yaml"])
    as_json_ = runner.invoke(app, ["--registry", str(twin), *args, "--format", "json"])
    data = json.loads(ok(as_json_).stdout)
    assert isinstance(data, dict)
    assert load_yaml(ok(as_yaml).stdout) == data
    assert tree(registry_path) == tree(twin)
    plain = runner.invoke(app, ["--registry", str(twin), *args, "--format", "plain"])
    assert ok(plain).stdout.startswith(f"{NAME}\t2\t")


# -- errors: exit code and the one line on stderr ------------------------------------------

ERRORS = [
    # (args, exit code, error line)
    (["create", NAME], 4, f"registered model '{NAME}' already exists"),
    (
        ["create", "Churn-Predictor"],
        2,
        f"model name 'Churn-Predictor' differs from existing model '{NAME}' only in case; "
        "the folder would clash on macOS and Windows checkouts",
    ),
    (
        ["create", "../x"],
        2,
        "invalid model name '../x': use letters, digits, '.', '_' and '-', "
        "starting with a letter or digit",
    ),
    (["create", "nul.txt"], 2, "invalid model name 'nul.txt': it is a reserved name on Windows"),
    (["create", "m", "--tag", "x"], 2, "invalid tag 'x': expected KEY=VALUE"),
    (
        ["register", "a/b", "s3://x"],
        2,
        "invalid model name 'a/b': use letters, digits, '.', '_' and '-', "
        "starting with a letter or digit",
    ),
    (["list", "nope"], 3, "registered model 'nope' not found"),
    (["describe", "nope"], 3, "registered model 'nope' not found"),
    (["describe", NAME, "9"], 3, f"version 9 of model '{NAME}' not found"),
    (["describe", f"{NAME}@nope"], 3, f"model '{NAME}' has no alias 'nope'"),
    (["describe", NAME, "archived"], 3, f"model '{NAME}' has no version in stage Archived"),
    (["describe", "fraud", "latest"], 3, "model 'fraud' has no versions"),
    (
        ["describe", NAME, "Prod"],
        2,
        "unknown stage 'Prod'; this registry's stages are: None, Staging, Production, Archived",
    ),
    (
        ["describe", NAME, "1", "2"],
        2,
        "expected a reference: NAME, NAME VERSION, NAME@ALIAS or models:/NAME/VERSION",
    ),
    (
        ["describe", f"models:/{NAME}/1", "2"],
        2,
        "a models:/ URI already names the version; unexpected '2'",
    ),
    (
        ["describe", f"models:/{NAME}/1/2"],
        2,
        f"invalid model URI 'models:/{NAME}/1/2': expected models:/NAME/VERSION, "
        "models:/NAME/STAGE, models:/NAME/latest or models:/NAME@ALIAS",
    ),
    (["tag", NAME], 2, "nothing to do: give KEY=VALUE tags or --remove KEY"),
    (["tag", NAME, "1", "--remove", "zz"], 3, f"{NAME} 1 has no tag 'zz'"),
    (["tag", NAME, "--remove", "zz"], 3, f"{NAME} has no tag 'zz'"),
    (["tag", NAME, "=v"], 2, "invalid tag '=v': expected KEY=VALUE"),
    (["update", "nope", "-d", "x"], 3, "registered model 'nope' not found"),
    (["update", NAME, "9", "-d", "x"], 3, f"version 9 of model '{NAME}' not found"),
    (["transition", NAME], 2, "expected NAME VERSION STAGE"),
    (
        ["transition", NAME, "Production"],
        2,
        f"'{NAME}' names a model; this command needs a version: {NAME} VERSION, "
        f"{NAME}@ALIAS or models:/{NAME}/VERSION",
    ),
    (
        ["transition", NAME, "1", "bogus"],
        2,
        "unknown stage 'bogus'; this registry's stages are: None, Staging, Production, Archived",
    ),
    (
        ["transition", NAME, "1", "archived", "--archive-existing"],
        2,
        "archive_existing_versions can only be used when moving to Staging or Production, "
        "not Archived",
    ),
    (["transition", NAME, "9", "Staging"], 3, f"version 9 of model '{NAME}' not found"),
    (
        ["archive", NAME],
        2,
        f"'{NAME}' names a model; this command needs a version: {NAME} VERSION, "
        f"{NAME}@ALIAS or models:/{NAME}/VERSION",
    ),
    (["archive", NAME, "9"], 3, f"version 9 of model '{NAME}' not found"),
    (
        ["alias", NAME, "latest", "1"],
        2,
        "invalid alias 'latest': 'latest' and 'v<number>' are reserved for model URIs",
    ),
    (
        ["alias", NAME, "v2", "1"],
        2,
        "invalid alias 'v2': 'latest' and 'v<number>' are reserved for model URIs",
    ),
    (
        ["alias", NAME, "a.b", "1"],
        2,
        "invalid alias 'a.b': use letters, digits, '_' and '-' (at most 255 characters)",
    ),
    (["alias", NAME, "best"], 2, "expected NAME ALIAS VERSION, or NAME ALIAS --delete"),
    (["alias", NAME, "best", "1", "--delete"], 2, "give either VERSION or --delete, not both"),
    (["alias", NAME, "best", "--delete"], 3, f"model '{NAME}' has no alias 'best'"),
    (["alias", NAME, "best", "9"], 3, f"version 9 of model '{NAME}' not found"),
    (["alias", "nope", "best", "1"], 3, "registered model 'nope' not found"),
    (["resolve", "nope"], 3, "registered model 'nope' not found"),
    (["resolve", NAME, "archived"], 3, f"model '{NAME}' has no version in stage Archived"),
    (["history", "nope"], 3, "registered model 'nope' not found"),
    (["history", NAME, "9"], 3, f"version 9 of model '{NAME}' not found"),
    (["delete", "nope", "--yes"], 3, "registered model 'nope' not found"),
    (["delete", NAME, "9", "--yes"], 3, f"version 9 of model '{NAME}' not found"),
]


@pytest.mark.parametrize(("args", "code", "line"), ERRORS, ids=lambda v: str(v)[:40])
def test_errors_are_one_line_on_stderr_with_their_exit_code(
    cli: Invoke, known: Registry, registry_path: Path, args: list[str], code: int, line: str
) -> None:
    before = tree(registry_path)
    result = cli(*args)
    assert result.exit_code == code
    assert result.stderr == f"error: {line}\n"
    assert result.stdout == ""
    assert tree(registry_path) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bogus"], "No such command 'bogus'."),
        (["list", "--bogus"], "No such option: --bogus"),
        (["list", "--format", "xml"], "Invalid value for '--format'"),
        (["update", NAME], "expected --description TEXT or --description-file FILE"),
        (["create"], "Missing argument"),
    ],
)
def test_usage_errors_are_exit_2(
    cli: Invoke, known: Registry, args: list[str], message: str
) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "error", "suggestion"),
    [
        (["create", "-dash"], "Missing argument 'NAME'.", "modelreg create -- -dash"),
        (["describe", "-dash"], "No such option: -d", "modelreg describe -- -dash"),
        (
            ["comment", NAME, "1", "-2% off"],
            "No such option: -2",
            f"modelreg comment {NAME} 1 -- '-2% off'",
        ),
    ],
)
def test_a_value_that_starts_with_a_dash_gets_a_hint_to_use_double_dash(
    cli: Invoke,
    known: Registry,
    registry_path: Path,
    args: list[str],
    error: str,
    suggestion: str,
) -> None:
    before = tree(registry_path)
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert error in result.stderr
    hint = f"'{args[-1]}' was read as options; to give a value that starts with '-', put '--'"
    assert f"({hint} before it: {suggestion})" in result.stderr or (
        f"{error} {hint} before it: {suggestion}\n" in result.stderr
    )
    assert tree(registry_path) == before


def test_after_double_dash_a_name_that_starts_with_a_dash_is_an_invalid_name(
    cli: Invoke, known: Registry, registry_path: Path
) -> None:
    before = tree(registry_path)
    for command in ("create", "describe"):
        result = cli(command, "--", "-dash")
        assert result.exit_code == 2
        assert result.stderr.startswith("error: invalid model name '-dash'")
    assert tree(registry_path) == before
    assert ok(cli("comment", NAME, "1", "--", "-2% off")).stderr.startswith("Commented on")
    assert as_json(cli("history", NAME, "1", "-f", "json"))[-1]["comment"] == "-2% off"


def test_a_corrupt_file_is_exit_7_naming_the_file(
    cli: Invoke, known: Registry, registry_path: Path
) -> None:
    model_file = registry_path / "models" / NAME / "model.yaml"
    model_file.write_text("<<<<<<< HEAD\nname: a\n")
    result = cli("describe", NAME)
    assert result.exit_code == 7
    assert result.stderr == (
        f"error: {model_file}: git conflict marker on line 1: resolve the merge conflict first\n"
    )


def test_an_unexpected_error_is_exit_1_in_one_line(
    cli: Invoke, known: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Registry, "list_registered_models", boom)
    result = cli("list")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: internal error: RuntimeError: boom (run with --traceback to see where)\n"
    )
    shown = CliRunner().invoke(app, ["--registry", str(known.root), "--traceback", "list"])
    assert shown.exit_code == 1
    assert "Traceback (most recent call last)" in shown.stderr
    assert 'raise RuntimeError("boom")' in shown.stderr


def test_a_rule_refusal_is_exit_5(cli: Invoke, known: Registry, registry_path: Path) -> None:
    config = registry_path / "registry.yaml"
    config.write_text(
        config.read_text() + "rules:\n  stages:\n    Production:\n      approvals: 1\n"
    )
    result = cli("transition", NAME, "2", "Production")
    assert result.exit_code == 5
    assert result.stderr == (
        f"error: cannot move {NAME} version 2 from Staging to Production:\n"
        "  - needs 1 approval(s) for Production, 1 missing\n"
    )


def test_ctrl_c_is_exit_130(cli: Invoke, known: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Registry, "list_versions", interrupt)
    result = cli("list", NAME)
    assert result.exit_code == 130
    assert result.stderr == "error: interrupted\n"


def test_corrupt_error_from_a_write_is_exit_7(
    cli: Invoke, known: Registry, registry_path: Path
) -> None:
    model_file = registry_path / "models" / NAME / "model.yaml"
    text = model_file.read_text()
    model_file.write_text(re.sub(r"\ncreated_at: .*\n", "\ncreated_at: two\n", text, count=1))
    before = tree(registry_path)
    result = cli("tag", NAME, "a=b")
    assert result.exit_code == 7
    assert result.stderr == f"error: {model_file}: 'created_at' is not an ISO-8601 time: 'two'\n"
    assert tree(registry_path) == before


def test_version_option() -> None:
    from modelreg import __version__

    result = ok(CliRunner().invoke(app, ["--version"]))
    assert result.stdout == f"modelreg {__version__}\n"
