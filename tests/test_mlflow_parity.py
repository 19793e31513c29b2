"""MLflow's registry semantics through ``MlflowClient`` and ``Registry`` (issue 21): the
behaviours MLflow's own store tests check, each on its own. tests/test_mlflow_stores.py
runs the same calls against MLflow's stores and compares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _safety import tree
from modelreg import (
    ConflictError,
    InvalidInputError,
    MlflowClient,
    NotFoundError,
    Registry,
    RegistryError,
    errors,
    register_model,
)

NAME = "churn"


@pytest.fixture
def client(tmp_path: Path) -> MlflowClient:
    Registry.init(tmp_path / "registry")
    return MlflowClient(registry_uri=str(tmp_path / "registry"))


# -- 1. deleting what is not there ---------------------------------------------------------


def test_deleting_an_absent_tag_or_alias_is_nothing_to_do(client: MlflowClient) -> None:
    client.create_registered_model(NAME, tags={"team": "growth"})
    client.create_model_version(NAME, "s3://a", tags={"k": "v"})
    client.set_registered_model_alias(NAME, "champion", 1)
    before = tree(client.root)
    assert client.delete_registered_model_tag(NAME, "absent") is None
    assert client.delete_model_version_tag(NAME, 1, "absent") is None
    assert client.delete_registered_model_alias(NAME, "gone") is None
    assert tree(client.root) == before  # nothing written, no history entry
    assert client.get_registered_model(NAME).tags == {"team": "growth"}
    assert client.get_model_version(NAME, 1).tags == {"k": "v"}
    assert client.get_registered_model(NAME).aliases == {"champion": 1}


def test_deleting_from_what_does_not_exist_is_still_not_found(client: MlflowClient) -> None:
    client.create_registered_model(NAME)
    client.create_model_version(NAME, "s3://a")
    with pytest.raises(NotFoundError):
        client.delete_registered_model_tag("nope", "k")
    with pytest.raises(NotFoundError):
        client.delete_model_version_tag(NAME, 2, "k")
    with pytest.raises(NotFoundError):
        client.delete_registered_model_alias("nope", "champion")


def test_a_missing_key_or_impossible_alias_is_invalid_input(client: MlflowClient) -> None:
    client.create_registered_model(NAME)
    client.create_model_version(NAME, "s3://a")
    with pytest.raises(InvalidInputError, match="missing value for the required parameter 'key'"):
        client.delete_registered_model_tag(NAME, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="missing value for the required parameter 'key'"):
        client.delete_model_version_tag(NAME, 1, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        client.delete_registered_model_alias(NAME, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="reserved"):
        client.delete_registered_model_alias(NAME, "latest")


# -- 5. error codes ------------------------------------------------------------------------


def test_every_error_carries_mlflows_error_code(client: MlflowClient) -> None:
    client.create_registered_model(NAME)
    client.create_model_version(NAME, "s3://a")
    cases = {
        "RESOURCE_DOES_NOT_EXIST": lambda: client.get_registered_model("nope"),
        "RESOURCE_ALREADY_EXISTS": lambda: client.create_registered_model(NAME),
        "INVALID_PARAMETER_VALUE": lambda: client.search_model_versions("name >"),
    }
    for code, call in cases.items():
        with pytest.raises(RegistryError) as caught:
            call()
        assert caught.value.error_code == code
    with pytest.raises(NotFoundError) as missing:
        client.get_model_version(NAME, 7)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_each_kind_of_error_has_its_code() -> None:
    codes = {
        cls.__name__: cls.error_code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, RegistryError)
    }
    assert codes == {
        "RegistryError": "INTERNAL_ERROR",
        "InvalidInputError": "INVALID_PARAMETER_VALUE",
        "FilterSyntaxError": "INVALID_PARAMETER_VALUE",
        "NotFoundError": "RESOURCE_DOES_NOT_EXIST",
        "RegistryNotFoundError": "RESOURCE_DOES_NOT_EXIST",
        "ConflictError": "RESOURCE_ALREADY_EXISTS",
        "RuleViolationError": "PERMISSION_DENIED",
        "BusyError": "COULD_NOT_ACQUIRE_LOCK",
        "CorruptFileError": "INVALID_STATE",
        "CheckFailedError": "INVALID_STATE",
        "ArtifactMismatchError": "INVALID_STATE",
        "ArtifactStoreError": "IO_ERROR",
        "HooksNotTrustedError": "PERMISSION_DENIED",
        "HookDeliveryError": "IO_ERROR",
        "InterruptedByUserError": "ABORTED",
    }
    assert errors.ConflictError("x", error_code="RESOURCE_CONFLICT").error_code == (
        "RESOURCE_CONFLICT"
    )


def test_a_rerun_with_other_details_is_a_resource_conflict(client: MlflowClient) -> None:
    client.register(NAME, "s3://a", run_id="r1", create_model=True)
    with pytest.raises(ConflictError) as caught:
        client.register(NAME, "s3://a", run_id="r1", description="other")
    assert caught.value.error_code == "RESOURCE_CONFLICT"


# -- 4. prompts are not models -------------------------------------------------------------

PROMPT = {"mlflow.prompt.is_prompt": "true"}


@pytest.fixture
def with_prompt(client: MlflowClient) -> MlflowClient:
    """A model, a prompt (tagged as MLflow's Prompt Registry tags them) and a model tagged
    'false', each with one version tagged like its model."""
    client.create_registered_model("model")
    client.create_model_version("model", "s3://m")
    client.create_registered_model("prompt", tags=PROMPT)
    client.create_model_version("prompt", "s3://p", tags=PROMPT)
    not_prompt = {"mlflow.prompt.is_prompt": "false"}
    client.create_registered_model("said-no", tags=not_prompt)
    client.create_model_version("said-no", "s3://n", tags=not_prompt)
    return client


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (None, ["model", "said-no"]),
        ("", ["model", "said-no"]),
        ("name LIKE '%'", ["model", "said-no"]),
        ("name = 'prompt'", []),
        ("tags.`mlflow.prompt.is_prompt` = 'false'", ["model", "said-no"]),
        ("tags.`mlflow.prompt.is_prompt` != 'true'", ["model", "said-no"]),
        ("tag.`mlflow.prompt.is_prompt` = 'true'", ["prompt"]),
        ("tags.`mlflow.prompt.is_prompt` = 'true' AND name = 'prompt'", ["prompt"]),
        # Beyond MLflow's language: the rest of the missing-tag rule still holds.
        ("tags.`mlflow.prompt.is_prompt` != 'false'", ["prompt"]),
        ("tags.`mlflow.prompt.is_prompt` IS NULL", ["model"]),
        ("tags.`mlflow.prompt.is_prompt` LIKE '%'", ["prompt", "said-no"]),
        (
            "name = 'prompt' OR tags.`mlflow.prompt.is_prompt` = 'false'",
            ["model", "prompt", "said-no"],
        ),
    ],
)
def test_searches_leave_prompts_out_unless_the_filter_asks(
    with_prompt: MlflowClient, filter_string: str | None, expected: list[str]
) -> None:
    models = with_prompt.search_registered_models(filter_string)
    assert sorted(model.name for model in models) == expected
    versions = with_prompt.search_model_versions(filter_string)
    assert sorted(mv.name for mv in versions) == expected


def test_prompts_stay_readable_and_listed(with_prompt: MlflowClient) -> None:
    assert with_prompt.get_registered_model("prompt").tags == PROMPT
    assert with_prompt.get_model_version("prompt", 1).source == "s3://p"
    listed = [model.name for model in with_prompt.list_registered_models()]
    assert listed == ["model", "prompt", "said-no"]


def test_the_command_line_search_follows_the_api(with_prompt: MlflowClient) -> None:
    from typer.testing import CliRunner

    from modelreg.cli import app

    root = str(with_prompt.root)
    runner = CliRunner()
    plain = ["--registry", root, "search", "--format", "json"]
    versions = runner.invoke(app, plain)
    assert versions.exit_code == 0, versions.output
    assert sorted(mv["name"] for mv in json.loads(versions.stdout)) == ["model", "said-no"]
    asked = runner.invoke(app, [*plain, "--models", "tags.`mlflow.prompt.is_prompt` = 'true'"])
    assert [model["name"] for model in json.loads(asked.stdout)] == ["prompt"]


# -- 2. MLflow 3's logged models -----------------------------------------------------------


def test_create_model_version_takes_model_id_and_await_creation_for(
    client: MlflowClient,
) -> None:
    client.create_registered_model(NAME)
    mv = client.create_model_version(
        NAME, "s3://a", None, None, None, None, 300, "m-0123abcd", metrics={"auc": 0.9}
    )
    assert (mv.model_id, mv.status, mv.metrics) == ("m-0123abcd", "READY", {"auc": 0.9})
    again = client.create_model_version(NAME, "s3://b", await_creation_for=0)
    assert again.model_id is None
    assert client.get_model_version(NAME, 1).model_id == "m-0123abcd"
    assert client.get_model_version(NAME, 1).to_dict()["model_id"] == "m-0123abcd"
    found = client.search_model_versions("model_id = 'm-0123abcd'")
    assert [(v.name, v.version) for v in found] == [(NAME, 1)]
    assert [v.version for v in client.search_model_versions("model_id IS NULL")] == [2]
    with pytest.raises(InvalidInputError):
        client.create_model_version(NAME, "s3://c", model_id="")


def test_register_model_of_a_logged_model_records_its_id(client: MlflowClient) -> None:
    mv = register_model("models:/m-77ff", NAME, registry_uri=str(client.root))
    assert (mv.name, mv.version, mv.source, mv.model_id) == (NAME, 1, "models:/m-77ff", "m-77ff")
    # Nothing to follow without a tracking server: the location is the URI.
    assert client.get_model_version_download_uri(NAME, 1) == "models:/m-77ff"
    # From a registered version, MLflow takes that version's model id.
    other = client.register_model(f"models:/{NAME}/1", "other", 0, tags={"k": "v"})
    assert (other.model_id, other.tags) == ("m-77ff", {"k": "v"})
    plain = client.register_model("runs:/r1/model", "third")
    assert (plain.model_id, plain.run_id) == (None, "r1")


def test_model_id_is_in_the_file_every_format_and_check(client: MlflowClient) -> None:
    from typer.testing import CliRunner

    from modelreg.cli import app

    client.create_registered_model(NAME)
    client.create_model_version(NAME, "s3://a")
    client.create_model_version(NAME, "s3://b", model_id="m-1")
    root = client.root
    one = (root / "models" / NAME / "versions" / "1.yaml").read_text()
    two = (root / "models" / NAME / "versions" / "2.yaml").read_text()
    assert "model_id" not in one  # written only when there is one
    assert "run_link: null\nmodel_id: m-1\ndescription: null\n" in two
    runner = CliRunner()
    base = ["--registry", str(root)]
    plain = runner.invoke(app, [*base, "list", NAME, "--format", "plain"]).stdout
    assert [line.split("\t")[-1] for line in plain.splitlines()] == ["", "m-1"]
    alone = runner.invoke(app, [*base, "describe", NAME, "1", "--format", "plain"]).stdout
    assert alone.count("\t") == 6  # no model id anywhere: the column is not shown
    assert "m-1" in runner.invoke(app, [*base, "describe", NAME, "2"]).stdout  # a card
    yaml_out = runner.invoke(app, [*base, "describe", NAME, "2", "--format", "yaml"]).stdout
    assert "model_id: m-1\n" in yaml_out
    checked = runner.invoke(app, [*base, "check"])
    assert checked.exit_code == 0, checked.output


# -- 3. copies record MLflow's source and name the same artifact ----------------------------


def test_a_copy_has_mlflows_source_and_the_originals_artifact(
    client: MlflowClient, tmp_path: Path
) -> None:
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"weights")
    client.create_registered_model("src")
    original = client.create_model_version("src", str(artifact), run_id="r1", model_id="m-9")
    copy = client.copy_model_version("models:/src/1", "dst")
    assert (copy.source, copy.run_id, copy.model_id) == ("models:/src/1", "r1", "m-9")
    assert copy.lineage["copied_from"] == "models:/src/1"
    assert (copy.artifact_sha256, copy.artifact_size) == (
        original.artifact_sha256,
        original.artifact_size,
    )
    assert client.get_model_version_download_uri("dst", 1) == str(artifact)
    assert client.artifact_location("dst") == str(artifact)
    # A copy of a copy names the same artifact; so it stays when the original goes.
    second = client.copy_model_version("models:/dst/1", "third")
    assert second.source == "models:/dst/1"
    client.delete_registered_model("src")
    assert client.get_model_version_download_uri("third", 1) == str(artifact)
    assert client.artifact_of("dst").sha256 == original.artifact_sha256


def test_a_models_source_is_pinned_when_registered(client: MlflowClient) -> None:
    client.create_registered_model(NAME)
    client.create_model_version(NAME, "s3://one")
    client.transition_model_version_stage(NAME, 1, "Production")
    follower = client.create_model_version(NAME, f"models:/{NAME}/Production")
    assert follower.source == f"models:/{NAME}/Production"
    client.create_model_version(NAME, "s3://three")
    client.transition_model_version_stage(NAME, 3, "Production", archive_existing_versions=True)
    assert client.get_model_version_download_uri(NAME, 2) == "s3://one"
    with pytest.raises(NotFoundError):
        client.create_model_version(NAME, "models:/nope/1")


def test_hand_written_models_sources_are_followed_and_cycles_stopped(
    client: MlflowClient,
) -> None:
    import yaml

    client.create_registered_model(NAME)
    for source in ("s3://one", f"models:/{NAME}/1", f"models:/{NAME}/2"):
        client.create_model_version(NAME, source)

    def rewrite(number: int, source: str) -> None:
        # As a version imported from MLflow or edited by hand: no pinned location.
        path = client.root / "models" / NAME / "versions" / f"{number}.yaml"
        doc = yaml.safe_load(path.read_text())
        doc["source"] = source
        doc["lineage"].pop("storage_location", None)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    rewrite(2, f"models:/{NAME}/1")
    rewrite(3, f"models:/{NAME}/2")
    assert client.get_model_version_download_uri(NAME, 3) == "s3://one"
    rewrite(1, f"models:/{NAME}@loop")
    client.set_registered_model_alias(NAME, "loop", 3)
    with pytest.raises(NotFoundError, match="circle"):
        client.get_model_version_download_uri(NAME, 3)


def test_checks_and_hooks_get_the_copys_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setenv("MODELREG_TRUST", "1")  # the folder is the test's own

    from modelreg.delivery import command_environment
    from modelreg.events import Event

    root = Registry.init(tmp_path / "registry").root
    (root / "registry.yaml").write_text(
        "modelreg: 2\nstages: [None, Staging, Production, Archived]\nrules:\n  stages:\n"
        f"    Staging:\n      checks:\n      - name: size\n        run: {sys.executable} c.py\n"
        "        timeout: 60\n"
    )
    (root / "c.py").write_text(
        "import json, os\n"
        "print(json.dumps({'bytes': len(open(os.environ['MODELREG_SOURCE'], 'rb').read())}))\n"
    )
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"weights")
    registry = Registry(root)
    heard: list[Event] = []
    registry.subscribers.append(heard.append)
    registry.register("src", str(artifact), create_model=True)
    copy = registry.copy_model_version("models:/src/1", "dst")
    assert command_environment(heard[-1], root, "h")["MODELREG_SOURCE"] == str(artifact)
    promoted, _ = registry.promote(copy.name, copy.version, "Staging")
    assert promoted.metrics == {"bytes": 7}


def test_export_to_mlflow_sends_a_copys_artifact_not_its_models_uri(
    client: MlflowClient,
) -> None:
    from modelreg import mlflow_io

    client.create_registered_model("src")
    client.create_model_version("src", "s3://bucket/model")
    copy = client.copy_model_version("models:/src/1", "dst")
    # The numbers of src may differ in the target MLflow: its artifact goes instead.
    assert mlflow_io._export_source(copy) == "s3://bucket/model"
    assert mlflow_io._export_source(client.get_model_version("src", 1)) == "s3://bucket/model"
