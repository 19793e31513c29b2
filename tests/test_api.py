"""The library through its Python API: the MLflow workflow, then each semantic on its own."""

from __future__ import annotations

import hashlib
import inspect
import itertools
import math
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import modelreg
from _safety import finishes_within, git, lock_held, tree
from modelreg import (
    BusyError,
    ConflictError,
    CorruptFileError,
    InvalidInputError,
    MlflowClient,
    NotFoundError,
    Registry,
    RegistryError,
    RuleViolationError,
)
from modelreg.entities import ModelVersion, RegisteredModel, ms_to_iso
from modelreg.errors import (
    ArtifactMismatchError,
    ArtifactStoreError,
    CheckFailedError,
    FilterSyntaxError,
    HookDeliveryError,
    HooksNotTrustedError,
    InterruptedByUserError,
    RegistryNotFoundError,
)
from modelreg.refs import Ref

NAME = "churn-predictor"


def stat_key(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_mtime_ns, info.st_ino


def now_ms() -> int:
    return math.floor(time.time() * 1000)


@pytest.fixture
def ticking_clock() -> Callable[[], str]:
    """A clock for ``Registry(..., clock=)``: each write's time is one second after the
    previous one, so order within a millisecond is never a question."""
    ticks = itertools.count(1)
    start = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    return lambda: ms_to_iso(start + next(ticks) * 1000)


@pytest.fixture
def model_path(registry_path: Path) -> Path:
    return registry_path / "models" / NAME


# -- the MLflow workflow ----------------------------------------------------------------


def test_mlflow_guide_workflow_runs_with_only_import_and_constructor_changed(
    registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = now_ms()
    client = MlflowClient(registry_uri=str(registry_path))

    # Create a registered model
    model = client.create_registered_model(
        name=NAME,
        description="Predicts which customers churn",
        tags={"team": "growth", "priority": "high"},
    )
    assert (model.name, model.description) == (NAME, "Predicts which customers churn")
    assert model.tags == {"team": "growth", "priority": "high"}

    # Register an existing run's model, three times: versions 1, 2, 3
    for expected in (1, 2):
        result = modelreg.register_model(
            model_uri="runs:/abc123def456/model", name=NAME, registry_uri=str(registry_path)
        )
        assert result.version == expected
    monkeypatch.setenv("MODELREG_REGISTRY", str(registry_path))
    result = modelreg.register_model(model_uri="runs:/abc123def456/model", name=NAME)
    assert result.version == 3
    assert result.run_id == "abc123def456"
    assert result.source == "runs:/abc123def456/model"
    assert result.current_stage == "None"

    # List all versions of a model
    versions = client.search_model_versions(f"name='{NAME}'")
    assert [(v.version, v.current_stage, v.run_id) for v in versions] == [
        (3, "None", "abc123def456"),
        (2, "None", "abc123def456"),
        (1, "None", "abc123def456"),
    ]

    # Get a specific version, update its description
    version = client.get_model_version(NAME, version=3)
    assert (version.name, version.version) == (NAME, 3)
    assert before <= version.creation_timestamp <= now_ms()
    updated = client.update_model_version(
        name=NAME, version=3, description="Improved model with new features. F1: 0.94"
    )
    assert updated.description == "Improved model with new features. F1: 0.94"
    assert client.get_model_version(NAME, 3).description == updated.description

    # Version 2 is serving; version 3 goes through Staging to Production
    client.transition_model_version_stage(name=NAME, version=2, stage="Production")
    staged = client.transition_model_version_stage(name=NAME, version=3, stage="Staging")
    assert staged.current_stage == "Staging"
    promoted = client.transition_model_version_stage(
        name=NAME, version=3, stage="Production", archive_existing_versions=True
    )
    assert promoted.current_stage == "Production"
    assert client.get_model_version(NAME, 2).current_stage == "Archived"

    # The approval workflow tags a version that failed validation
    client.set_model_version_tag(NAME, 1, "validation", "failed")
    assert client.get_model_version(NAME, 1).tags == {"validation": "failed"}

    # Get the latest Production version
    prod_version = client.get_latest_versions(NAME, stages=["Production"])
    assert [v.version for v in prod_version] == [3]

    # Aliases: set, read, delete
    client.set_registered_model_alias(NAME, "champion", 3)
    assert client.get_model_version_by_alias(NAME, "champion").version == 3
    assert client.get_registered_model(NAME).aliases == {"champion": 3}
    assert client.get_model_version(NAME, 3).aliases == ["champion"]
    client.delete_registered_model_alias(NAME, "champion")
    assert client.get_registered_model(NAME).aliases == {}
    with pytest.raises(NotFoundError):
        client.get_model_version_by_alias(NAME, "champion")

    # Search registered models
    models = client.search_registered_models(filter_string="name LIKE '%churn%'")
    assert [m.name for m in models] == [NAME]

    # Delete a model version, then the entire registered model
    client.delete_model_version(name=NAME, version=1)
    with pytest.raises(NotFoundError):
        client.get_model_version(NAME, 1)
    assert [v.version for v in client.search_model_versions(f"name='{NAME}'")] == [3, 2]
    client.delete_registered_model(name=NAME)
    with pytest.raises(NotFoundError):
        client.get_registered_model(NAME)
    assert not (registry_path / "models" / NAME).exists()


@pytest.mark.parametrize("form", ["plain", "file:", "file://"])
def test_mlflow_client_takes_the_registry_folder_as_registry_uri(
    registry_path: Path, form: str
) -> None:
    uri = str(registry_path) if form == "plain" else f"{form}{registry_path}"
    client = MlflowClient(registry_uri=uri, tracking_uri="http://ignored:5000")
    client.create_registered_model("m")
    assert client.root == registry_path
    assert (registry_path / "models" / "m" / "model.yaml").is_file()


def test_mlflow_client_without_registry_uri_uses_modelreg_registry(
    registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELREG_REGISTRY", str(registry_path))
    assert MlflowClient().root == registry_path


def test_register_model_creates_the_model_and_takes_the_run_id_from_the_uri(
    registry_path: Path,
) -> None:
    mv = modelreg.register_model(
        "runs:/0a1b2c/artifacts/model",
        "new-model",
        tags={"k": "v"},
        registry_uri=str(registry_path),
    )
    assert (mv.name, mv.version, mv.run_id, mv.tags) == ("new-model", 1, "0a1b2c", {"k": "v"})
    other = modelreg.register_model("s3://bucket/model", "new-model", registry_uri=registry_path)
    assert (other.version, other.run_id) == (2, None)


# -- discovery -----------------------------------------------------------------------------


def test_registry_discovery_finds_the_nearest_registry_yaml_at_or_above_cwd(
    registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELREG_REGISTRY")
    deep = registry_path / "models" / "deeper" / "still"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert Registry().root == registry_path
    monkeypatch.chdir(registry_path)
    assert Registry().root == registry_path


def test_explicit_path_wins_over_the_environment(
    registry_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Registry.init(tmp_path / "other").root
    monkeypatch.setenv("MODELREG_REGISTRY", str(other))
    assert Registry().root == other
    assert Registry(registry_path).root == registry_path


def test_no_registry_found_is_not_found_with_a_hint_to_run_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELREG_REGISTRY")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    with pytest.raises(NotFoundError) as caught:
        Registry()
    assert caught.value.exit_code == 3
    assert "modelreg init" in str(caught.value)


def test_a_path_that_is_not_a_registry_is_not_found_with_a_hint_to_run_init(
    tmp_path: Path,
) -> None:
    with pytest.raises(NotFoundError) as caught:
        Registry(tmp_path)
    assert caught.value.exit_code == 3
    assert f"modelreg init {tmp_path}" in str(caught.value)


def test_init_refuses_an_existing_registry(registry_path: Path) -> None:
    before = tree(registry_path)
    with pytest.raises(ConflictError):
        Registry.init(registry_path)
    assert tree(registry_path) == before


def test_init_writes_registry_yaml_and_gitignore(tmp_path: Path) -> None:
    root = Registry.init(tmp_path / "r").root
    assert (root / "registry.yaml").read_text() == (
        "modelreg: 2\nstages:\n- None\n- Staging\n- Production\n- Archived\n"
        "exclusive_stages:\n- Production\nlock_timeout: 10.0\n"
    )
    ignored = (root / ".gitignore").read_text().splitlines()
    assert ".modelreg.lock" in ignored


# -- errors --------------------------------------------------------------------------------


# Every class of the one error hierarchy, with the exit code README.md's table gives it.
EXIT_CODES: dict[type[RegistryError], int] = {
    InvalidInputError: 2,
    FilterSyntaxError: 2,
    NotFoundError: 3,
    RegistryNotFoundError: 3,
    ConflictError: 4,
    RuleViolationError: 5,
    HooksNotTrustedError: 5,
    BusyError: 6,
    CorruptFileError: 7,
    CheckFailedError: 7,
    ArtifactMismatchError: 7,
    ArtifactStoreError: 9,
    HookDeliveryError: 8,
    InterruptedByUserError: 130,
}


def subclasses(cls: type[RegistryError]) -> set[type[RegistryError]]:
    found = set(cls.__subclasses__())
    return found.union(*(subclasses(sub) for sub in found))


def test_the_exit_codes_name_every_error_class() -> None:
    assert set(EXIT_CODES) == subclasses(RegistryError)


def test_every_exit_code_is_in_the_readme_table() -> None:
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = text.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    documented = {int(code) for code in re.findall(r"(?m)^\| (\d+) \|", table)}
    assert set(EXIT_CODES.values()) <= documented - {0, 1}


@pytest.mark.parametrize(
    ("error", "code"), EXIT_CODES.items(), ids=lambda v: getattr(v, "__name__", str(v))
)
def test_every_error_is_a_registry_error_with_its_exit_code(
    error: type[RegistryError], code: int
) -> None:
    assert issubclass(error, modelreg.RegistryError)
    assert error.exit_code == code


def test_errors_raised_by_the_api_carry_their_exit_codes(registry: Registry) -> None:
    registry.create_registered_model("m")
    with pytest.raises(ConflictError) as conflict:
        registry.create_registered_model("m")
    assert conflict.value.exit_code == 4
    assert str(conflict.value) == "registered model 'm' already exists"
    with pytest.raises(NotFoundError) as missing:
        registry.get_registered_model("nope")
    assert str(missing.value) == "registered model 'nope' not found"
    with pytest.raises(NotFoundError) as missing_version:
        registry.get_model_version("m", 7)
    assert str(missing_version.value) == "version 7 of model 'm' not found"
    with pytest.raises(InvalidInputError) as bad_version:
        registry.get_model_version("m", "seven")
    assert bad_version.value.exit_code == 2


def test_a_corrupt_file_is_an_error_that_names_it(registry: Registry, model_path: Path) -> None:
    registry.create_registered_model(NAME)
    (model_path / "model.yaml").write_text("<<<<<<< HEAD\nname: a\n=======\nname: b\n>>>>>>> x\n")
    with pytest.raises(CorruptFileError) as caught:
        registry.get_registered_model(NAME)
    assert caught.value.exit_code == 7
    assert caught.value.path == model_path / "model.yaml"
    assert str(caught.value) == (
        f"{model_path / 'model.yaml'}: git conflict marker on line 1: "
        "resolve the merge conflict first"
    )


# -- entities ------------------------------------------------------------------------------


def test_model_version_exposes_mlflow_attribute_names(registry: Registry) -> None:
    before = now_ms()
    registry.create_registered_model(NAME)
    mv = registry.create_model_version(
        NAME,
        "s3://bucket/model",
        run_id="r1",
        tags={"k": "v"},
        run_link="http://runs/r1",
        description="first",
    )
    after = now_ms()
    assert isinstance(mv, ModelVersion)
    assert mv.name == NAME
    assert mv.version == 1
    assert mv.current_stage == "None"
    assert mv.run_id == "r1"
    assert mv.run_link == "http://runs/r1"
    assert mv.source == "s3://bucket/model"
    assert mv.description == "first"
    assert mv.tags == {"k": "v"}
    assert mv.aliases == []
    assert mv.status == "READY"
    assert mv.user_id == "tester@example.com"
    assert isinstance(mv.creation_timestamp, int)
    assert before <= mv.creation_timestamp <= after
    assert mv.last_updated_timestamp == mv.creation_timestamp
    assert registry.get_model_version(NAME, 1) == mv


def test_registered_model_exposes_mlflow_attribute_names(registry: Registry) -> None:
    before = now_ms()
    registry.create_registered_model(NAME, tags={"team": "ml"}, description="d")
    registry.create_model_version(NAME, "s3://a")
    registry.create_model_version(NAME, "s3://b")
    registry.transition_model_version_stage(NAME, 1, "Production")
    model = registry.get_registered_model(NAME)
    assert isinstance(model, RegisteredModel)
    assert (model.name, model.description, model.tags) == (NAME, "d", {"team": "ml"})
    assert model.user_id == "tester@example.com"
    assert before <= model.creation_timestamp <= model.last_updated_timestamp <= now_ms()
    assert [(v.version, v.current_stage) for v in model.latest_versions] == [
        (2, "None"),
        (1, "Production"),
    ]


def test_to_dict_keys_are_the_attribute_names(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    mv = registry.create_model_version(NAME, "s3://a")
    for key, value in mv.to_dict().items():
        assert getattr(mv, key) == value
    model = registry.get_registered_model(NAME)
    for key, value in model.to_dict().items():
        if key != "latest_versions":
            assert getattr(model, key) == value
    assert model.to_dict()["latest_versions"] == [mv.to_dict()]


def test_last_updated_timestamp_moves_on_a_change(registry: Registry, ticking_clock: None) -> None:
    registry.create_registered_model(NAME)
    created = registry.create_model_version(NAME, "s3://a")
    updated = registry.update_model_version(NAME, 1, "new description")
    assert updated.creation_timestamp == created.creation_timestamp
    assert updated.last_updated_timestamp > created.last_updated_timestamp


# -- stages --------------------------------------------------------------------------------


def test_stage_input_is_case_insensitive_and_output_canonical(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://a")
    assert registry.transition_model_version_stage(NAME, 1, "sTaGiNg").current_stage == "Staging"
    assert registry.get_model_version(NAME, 1).current_stage == "Staging"


def test_an_unknown_stage_is_invalid_input_and_changes_nothing(
    registry: Registry, registry_path: Path
) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://a")
    before = tree(registry_path)
    with pytest.raises(InvalidInputError) as caught:
        registry.transition_model_version_stage(NAME, 1, "Prod")
    assert str(caught.value) == (
        "unknown stage 'Prod'; this registry's stages are: None, Staging, Production, Archived"
    )
    assert tree(registry_path) == before


@pytest.mark.parametrize("stage", ["None", "Archived"])
def test_archive_existing_versions_is_refused_outside_staging_and_production(
    registry: Registry, registry_path: Path, stage: str
) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://a")
    registry.create_model_version(NAME, "s3://b")
    registry.transition_model_version_stage(NAME, 1, stage)
    before = tree(registry_path)
    with pytest.raises(InvalidInputError) as caught:
        registry.transition_model_version_stage(NAME, 2, stage, archive_existing_versions=True)
    assert str(caught.value) == (
        "archive_existing_versions can only be used when moving to Staging or Production, "
        f"not {stage}"
    )
    assert tree(registry_path) == before


def one_in_production_two_in_staging(registry: Registry) -> None:
    """NAME versions 1 (Production), 2 and 3 (Staging) and 4 (None)."""
    registry.create_registered_model(NAME)
    for source in ("s3://1", "s3://2", "s3://3", "s3://4"):
        registry.create_model_version(NAME, source)
    registry.transition_model_version_stage(NAME, 1, "Production")
    registry.transition_model_version_stage(NAME, 2, "Staging")
    registry.transition_model_version_stage(NAME, 3, "Staging")


def test_archive_existing_versions_archives_only_the_target_stage(registry: Registry) -> None:
    one_in_production_two_in_staging(registry)
    registry.transition_model_version_stage(NAME, 4, "Staging", archive_existing_versions=True)
    stages = [(mv.version, mv.current_stage) for mv in registry.list_versions(NAME)]
    assert stages == [(1, "Production"), (2, "Archived"), (3, "Archived"), (4, "Staging")]
    archived = registry.get_model_version(NAME, 2).history[-1]
    assert archived["action"] == "stage_changed"
    assert (archived["from_stage"], archived["to_stage"]) == ("Staging", "Archived")


def test_transition_says_which_versions_it_archived(registry: Registry) -> None:
    one_in_production_two_in_staging(registry)
    result = registry.transition(NAME, 4, "Staging", archive_existing_versions=True)
    assert (result.version.version, result.version.current_stage) == (4, "Staging")
    assert [(mv.version, mv.current_stage) for mv in result.archived] == [
        (2, "Archived"),
        (3, "Archived"),
    ]
    assert result.archived == tuple(registry.list_versions(NAME)[1:3])
    again = registry.transition(NAME, 4, "Staging", archive_existing_versions=True)
    assert (again.version, again.archived) == (registry.get_model_version(NAME, 4), ())
    # a later transition into the stage archives only what is there now
    later = registry.transition(NAME, 1, "Staging", archive_existing_versions=True)
    assert [mv.version for mv in later.archived] == [4]


def test_without_archive_existing_two_versions_may_share_a_stage(registry: Registry) -> None:
    # Staging: new registries make Production exclusive (see test_format2).
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://1")
    registry.create_model_version(NAME, "s3://2")
    registry.transition_model_version_stage(NAME, 1, "Staging")
    registry.transition_model_version_stage(NAME, 2, "Staging")
    assert [mv.current_stage for mv in registry.list_versions(NAME)] == ["Staging"] * 2


def test_get_latest_versions_gives_the_highest_version_per_stage(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    for number in range(1, 6):
        registry.create_model_version(NAME, f"s3://{number}")
    for number, stage in [(1, "Production"), (2, "Production"), (3, "Staging"), (4, "Archived")]:
        registry.transition_model_version_stage(NAME, number, stage)
    latest = registry.get_latest_versions(NAME)
    assert sorted((mv.current_stage, mv.version) for mv in latest) == [
        ("Archived", 4),
        ("None", 5),
        ("Production", 2),
        ("Staging", 3),
    ]
    wanted = registry.get_latest_versions(NAME, stages=["production", "Staging"])
    assert sorted((mv.current_stage, mv.version) for mv in wanted) == [
        ("Production", 2),
        ("Staging", 3),
    ]
    assert registry.get_latest_versions(NAME, stages=["Production"])[0].version == 2


def test_get_latest_versions_of_an_empty_stage_is_empty(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://1")
    assert registry.get_latest_versions(NAME, stages=["Production"]) == []


# -- version numbers -----------------------------------------------------------------------


def test_a_deleted_highest_version_number_is_not_handed_out_again(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://1")
    registry.create_model_version(NAME, "s3://2")
    registry.delete_model_version(NAME, 2)
    assert registry.create_model_version(NAME, "s3://3").version == 3
    registry.delete_model_version(NAME, 1)
    registry.delete_model_version(NAME, 3)
    assert registry.list_versions(NAME) == []
    assert registry.create_model_version(NAME, "s3://4").version == 4
    assert modelreg.register_model("s3://5", NAME, registry_uri=str(registry.root)).version == 5


def test_a_deleted_middle_version_leaves_a_gap(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    for number in range(1, 4):
        registry.create_model_version(NAME, f"s3://{number}")
    registry.delete_model_version(NAME, 2)
    assert [mv.version for mv in registry.list_versions(NAME)] == [1, 3]
    assert registry.create_model_version(NAME, "s3://4").version == 4
    with pytest.raises(NotFoundError):
        registry.delete_model_version(NAME, 2)


def test_deleting_a_version_drops_its_aliases(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://1")
    registry.create_model_version(NAME, "s3://2")
    registry.set_registered_model_alias(NAME, "champion", 1)
    registry.set_registered_model_alias(NAME, "challenger", 2)
    registry.delete_model_version(NAME, 1)
    assert registry.get_registered_model(NAME).aliases == {"challenger": 2}
    with pytest.raises(NotFoundError):
        registry.get_model_version_by_alias(NAME, "champion")


# -- names ---------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "",
    ".",
    "..",
    "../x",
    "../../etc/passwd",
    "a/b",
    "a\\b",
    "/abs",
    "C:x",
    ".hidden",
    "-flag",
    "name.",
    "with space",
    "a\x00b",
    "a\nb",
    "a\tb",
    "a\x1bb",
    "a\x7fb",
    "con",
    "CON",
    "nul.txt",
    "Nul.tar.gz",
    "COM1",
    "lpt9",
    "aux",
    "prn",
    "x" * 129,
    "caf\u00e9",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_model_name_is_refused_and_nothing_is_written(
    registry: Registry, registry_path: Path, name: str
) -> None:
    registry.create_registered_model("existing")
    before = tree(registry_path)
    with pytest.raises(InvalidInputError) as created:
        registry.create_registered_model(name)
    assert created.value.exit_code == 2
    with pytest.raises(InvalidInputError):
        modelreg.register_model("s3://a", name, registry_uri=str(registry_path))
    with pytest.raises(InvalidInputError):
        registry.register(name, "s3://a", create_model=True)
    with pytest.raises(InvalidInputError):
        registry.rename_registered_model("existing", name)
    with pytest.raises(InvalidInputError):
        registry.get_registered_model(name)
    with pytest.raises(InvalidInputError):
        registry.delete_registered_model(name)
    assert tree(registry_path) == before


def test_a_name_that_differs_only_in_case_is_refused_and_nothing_is_written(
    registry: Registry, registry_path: Path
) -> None:
    registry.create_registered_model(NAME)
    registry.create_registered_model("other")
    before = tree(registry_path)
    with pytest.raises(InvalidInputError) as caught:
        registry.create_registered_model("Churn-Predictor")
    assert caught.value.exit_code == 2
    assert str(caught.value) == (
        "model name 'Churn-Predictor' differs from existing model 'churn-predictor' only in "
        "case; the folder would clash on macOS and Windows checkouts"
    )
    with pytest.raises(InvalidInputError):
        modelreg.register_model("s3://a", "CHURN-PREDICTOR", registry_uri=str(registry_path))
    with pytest.raises(InvalidInputError):
        registry.rename_registered_model("other", "CHURN-predictor")
    assert tree(registry_path) == before


def test_control_characters_are_shown_escaped_in_the_error(registry: Registry) -> None:
    with pytest.raises(InvalidInputError) as caught:
        registry.create_registered_model("a\x1b[31mb")
    assert "\x1b" not in str(caught.value)
    assert "'a\\x1b[31mb'" in str(caught.value)


@pytest.mark.parametrize(
    "name", ["a", "1abc", "churn-predictor", "m.v2_final", "console", "nullable", "x" * 128]
)
def test_valid_model_names_are_accepted(registry: Registry, name: str) -> None:
    registry.create_registered_model(name)
    assert (registry.root / "models" / name / "model.yaml").is_file()
    assert registry.get_registered_model(name).name == name


# -- aliases -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "reason"),
    [
        ("latest", "reserved"),
        ("LATEST", "reserved"),
        ("v1", "reserved"),
        ("V42", "reserved"),
        ("a.b", "use letters"),
        ("a b", "use letters"),
        ("a/b", "use letters"),
        ("@x", "use letters"),
        ("", "empty"),
        ("x" * 256, "use letters"),
    ],
)
def test_invalid_and_reserved_aliases_are_refused(
    registry: Registry, registry_path: Path, alias: str, reason: str
) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://a")
    before = tree(registry_path)
    with pytest.raises(InvalidInputError) as caught:
        registry.set_registered_model_alias(NAME, alias, 1)
    assert reason in str(caught.value)
    assert tree(registry_path) == before


@pytest.mark.parametrize("alias", ["champion", "v1a", "version", "x-1_Y", "latest2"])
def test_valid_aliases_are_accepted(registry: Registry, alias: str) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://a")
    assert registry.set_registered_model_alias(NAME, alias, 1).aliases == [alias]


def test_aliases_are_case_sensitive(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://a")
    registry.create_model_version(NAME, "s3://b")
    registry.set_registered_model_alias(NAME, "champion", 1)
    registry.set_registered_model_alias(NAME, "Champion", 2)
    assert registry.get_registered_model(NAME).aliases == {"Champion": 2, "champion": 1}
    assert registry.get_model_version_by_alias(NAME, "champion").version == 1
    assert registry.get_model_version_by_alias(NAME, "Champion").version == 2
    with pytest.raises(NotFoundError):
        registry.get_model_version_by_alias(NAME, "CHAMPION")


def test_an_alias_moves_and_each_version_lists_its_aliases(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://a")
    registry.create_model_version(NAME, "s3://b")
    registry.set_registered_model_alias(NAME, "champion", 1)
    registry.set_registered_model_alias(NAME, "stable", 1)
    assert registry.get_model_version(NAME, 1).aliases == ["champion", "stable"]
    moved = registry.set_registered_model_alias(NAME, "champion", 2)
    assert moved.aliases == ["champion"]
    assert registry.get_model_version(NAME, 1).aliases == ["stable"]


def test_an_alias_must_point_at_an_existing_version(
    registry: Registry, registry_path: Path
) -> None:
    registry.create_registered_model(NAME)
    before = tree(registry_path)
    with pytest.raises(NotFoundError):
        registry.set_registered_model_alias(NAME, "champion", 1)
    registry.delete_registered_model_alias(NAME, "champion")  # nothing to do, as in MLflow
    assert tree(registry_path) == before


# -- references ----------------------------------------------------------------------------


@pytest.fixture
def three_versions(registry: Registry) -> Registry:
    """v1 Production, v2 Production, v3 Staging, alias champion -> 1 (in a registry
    whose Production is not exclusive, as MLflow's)."""
    config = registry.root / "registry.yaml"
    config.write_text(config.read_text().replace("exclusive_stages:\n- Production\n", ""))
    registry = Registry(registry.root)
    registry.create_registered_model(NAME)
    for number in (1, 2, 3):
        registry.create_model_version(NAME, f"s3://bucket/{number}")
    registry.transition_model_version_stage(NAME, 1, "Production")
    registry.transition_model_version_stage(NAME, 2, "Production")
    registry.transition_model_version_stage(NAME, 3, "Staging")
    registry.set_registered_model_alias(NAME, "champion", 1)
    return registry


@pytest.mark.parametrize(
    ("ref", "version"),
    [
        (Ref(NAME, 2), 2),
        (Ref(NAME, "latest"), 3),
        (Ref(NAME, "production"), 2),
        (Ref(NAME, "STAGING"), 3),
        (Ref(NAME, "@champion"), 1),
    ],
)
def test_resolve_finds_the_version_a_reference_names(
    three_versions: Registry, ref: Ref, version: int
) -> None:
    found = three_versions.resolve(ref)
    assert isinstance(found, ModelVersion)
    assert found.version == version


@pytest.mark.parametrize(
    ("uri", "version"),
    [
        (f"models:/{NAME}/3", 3),
        (f"models:/{NAME}/Production", 2),
        (f"models:/{NAME}/latest", 3),
        (f"models:/{NAME}@champion", 1),
    ],
)
def test_model_uris_name_versions(three_versions: Registry, uri: str, version: int) -> None:
    copied = three_versions.copy_model_version(uri, "copy")
    assert copied.source == f"models:/{NAME}/{version}"  # as MLflow records a copy
    assert copied.lineage["copied_from"] == f"models:/{NAME}/{version}"
    assert three_versions.artifact_location(copied) == f"s3://bucket/{version}"


def test_resolving_a_stage_with_no_version_is_not_found(three_versions: Registry) -> None:
    with pytest.raises(NotFoundError) as caught:
        three_versions.resolve(Ref(NAME, "Archived"))
    assert str(caught.value) == f"model '{NAME}' has no version in stage Archived"


@pytest.mark.parametrize(
    "uri",
    ["models:/", f"models:/{NAME}/", f"models:/{NAME}/1/2", f"models:/{NAME}@", "models:/../x/1"],
)
def test_malformed_model_uris_are_invalid_input(three_versions: Registry, uri: str) -> None:
    with pytest.raises(InvalidInputError):
        three_versions.copy_model_version(uri, "copy")


def test_download_uri_of_a_local_source_is_absolute_even_for_a_relative_registry_path(
    registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = registry_path.parent
    (project / "model.pkl").write_bytes(b"weights")
    monkeypatch.chdir(project)
    registry = Registry(registry_path.name)
    registry.create_registered_model(NAME)
    mv = registry.create_model_version(NAME, "model.pkl")
    assert mv.source == "../model.pkl"  # relative to the registry, so clones resolve it
    assert registry.get_model_version_download_uri(NAME, 1) == str(
        (project / "model.pkl").resolve()
    )


# -- register: metrics, params, artifacts, duplicates, lineage -----------------------------


def test_register_records_metrics_and_params_with_their_types(registry: Registry) -> None:
    result = registry.register(
        NAME,
        "s3://a",
        metrics={"acc": 0.93, "n": 10},
        params={"epochs": 10, "lr": 0.01, "opt": "adam"},
        create_model=True,
    )
    stored = registry.get_model_version(NAME, result.version.version)
    assert stored.metrics == {"acc": 0.93, "n": 10}
    assert isinstance(stored.metrics["n"], int)
    assert stored.params == {"epochs": 10, "lr": 0.01, "opt": "adam"}


@pytest.mark.parametrize("value", ["0.9", None, True])
def test_a_metric_must_be_a_number(registry: Registry, value: object) -> None:
    registry.create_registered_model(NAME)
    with pytest.raises(InvalidInputError):
        registry.register(NAME, "s3://a", metrics={"acc": value})  # type: ignore[dict-item]
    assert registry.list_versions(NAME) == []


def test_register_records_sha256_and_size_of_a_local_file(
    registry: Registry, tmp_path: Path
) -> None:
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"\x00\x01weights" * 1000)
    mv = registry.register(NAME, str(artifact), create_model=True).version
    assert mv.artifact_sha256 == hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert mv.artifact_size == artifact.stat().st_size == 9000


def test_register_records_the_size_of_a_local_folder(registry: Registry, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.bin").write_bytes(b"a" * 100)
    (folder / "sub" / "b.bin").write_bytes(b"b" * 23)
    mv = registry.register(NAME, str(folder), create_model=True).version
    assert mv.artifact_size == 123
    assert re.fullmatch(r"[0-9a-f]{64}", mv.artifact_sha256 or "")


def test_a_remote_source_has_no_checksum(registry: Registry) -> None:
    mv = registry.register(NAME, "s3://bucket/model", create_model=True).version
    assert (mv.artifact_sha256, mv.artifact_size) == (None, None)


def test_registering_an_unchanged_local_artifact_returns_the_existing_version(
    registry: Registry, registry_path: Path, tmp_path: Path
) -> None:
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"v1")
    first = registry.register(NAME, str(artifact), create_model=True)
    assert (first.created, first.version.version) == (True, 1)
    before = tree(registry_path)
    again = registry.register(NAME, str(artifact))
    assert (again.created, again.version.version) == (False, 1)
    assert tree(registry_path) == before
    forced = registry.register(NAME, str(artifact), allow_duplicate=True)
    assert (forced.created, forced.version.version) == (True, 2)
    artifact.write_bytes(b"v2")
    changed = registry.register(NAME, str(artifact))
    assert (changed.created, changed.version.version) == (True, 3)


def test_create_model_version_never_deduplicates_like_mlflow(
    registry: Registry, tmp_path: Path
) -> None:
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"v1")
    registry.create_registered_model(NAME)
    assert registry.create_model_version(NAME, str(artifact)).version == 1
    assert registry.create_model_version(NAME, str(artifact)).version == 2


def test_register_records_the_user_from_modelreg_user(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELREG_USER", "alice@example.com")
    mv = Registry(registry.root).register(NAME, "s3://a", create_model=True).version
    assert mv.user_id == "alice@example.com"
    assert mv.lineage["user"] == "alice@example.com"


@pytest.fixture
def project(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The git repository with a committed registry inside it, as the working directory."""
    Registry.init(repo / "registry")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start")
    monkeypatch.chdir(repo)
    return repo


def test_lineage_records_the_git_commit_and_dirty_flag(project: Path) -> None:
    registry = Registry(project / "registry")
    clean = registry.register(NAME, "s3://a", create_model=True).version
    assert clean.lineage["git_commit"] == git(project, "rev-parse", "HEAD")
    assert clean.lineage["git_dirty"] is False
    (project / "train.py").write_text("print('changed')\n")
    dirty = registry.register(NAME, "s3://b").version
    assert dirty.lineage["git_commit"] == git(project, "rev-parse", "HEAD")
    assert dirty.lineage["git_dirty"] is True


def test_changes_inside_the_registry_folder_do_not_make_the_tree_dirty(project: Path) -> None:
    registry = Registry(project / "registry")
    registry.register(NAME, "s3://a", create_model=True)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "v1")
    registry.set_registered_model_tag(NAME, "k", "v")  # a tracked registry file changes
    assert git(project, "status", "--porcelain", "--untracked-files=no") != ""
    mv = registry.register(NAME, "s3://b").version
    assert mv.lineage["git_commit"] == git(project, "rev-parse", "HEAD")
    assert mv.lineage["git_dirty"] is False


def test_lineage_is_dirty_when_a_file_outside_the_working_subfolder_changed(project: Path) -> None:
    (project / "src").mkdir()
    (project / "src" / "keep.py").write_text("x = 1\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "src")
    (project / "train.py").write_text("print('changed')\n")
    os.chdir(project / "src")
    mv = Registry(project / "registry").register(NAME, "s3://a", create_model=True).version
    assert mv.lineage["git_dirty"] is True


def test_lineage_is_dirty_when_the_registry_lives_outside_the_repository(
    project: Path, tmp_path: Path
) -> None:
    outside = Registry.init(tmp_path / "elsewhere")
    (project / "train.py").write_text("print('changed')\n")
    mv = outside.register(NAME, "s3://a", create_model=True).version
    assert mv.lineage["git_commit"] == git(project, "rev-parse", "HEAD")
    assert mv.lineage["git_dirty"] is True


def test_outside_a_git_repository_lineage_has_no_commit(registry: Registry) -> None:
    mv = registry.register(NAME, "s3://a", create_model=True).version
    assert "git_commit" not in mv.lineage
    assert mv.lineage["user"] == "tester@example.com"


# -- history -------------------------------------------------------------------------------


def test_every_write_records_the_time_of_the_registry_clock(registry: Registry) -> None:
    stamp = "2030-01-02T03:04:05.678Z"
    clocked = Registry(registry.root, clock=lambda: stamp)
    heard: list[str] = []
    clocked.subscribers.append(lambda event: heard.append(event.timestamp))
    clocked.create_registered_model(NAME, tags={"team": "growth"})
    clocked.create_model_version(NAME, "s3://a")
    clocked.register("other", "s3://b", create_model=True)
    clocked.set_model_version_tag(NAME, 1, "k", "v")
    clocked.update_model_version(NAME, 1, "described")
    clocked.transition_model_version_stage(NAME, 1, "Staging")
    clocked.set_registered_model_alias(NAME, "champion", 1)
    clocked.comment_model_version(NAME, 1, "looks good")
    clocked.update_registered_model(NAME, "the model")
    clocked.rename_registered_model("other", "renamed")

    entries = clocked.history(Ref(NAME)) + clocked.history(Ref("renamed"))
    assert len(entries) >= 10
    assert {entry["timestamp"] for entry in entries} == {stamp}
    assert set(heard) == {stamp} and len(heard) >= 10
    mv = clocked.get_model_version(NAME, 1)
    model = clocked.get_registered_model(NAME)
    millis = 1_893_553_445_678  # 2030-01-02T03:04:05.678Z
    assert ms_to_iso(millis) == stamp
    assert (mv.creation_timestamp, mv.last_updated_timestamp) == (millis, millis)
    assert (model.creation_timestamp, model.last_updated_timestamp) == (millis, millis)


def test_history_records_stage_changes_alias_moves_and_descriptions(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, ticking_clock: Callable[[], str]
) -> None:
    registry = Registry(registry.root, clock=ticking_clock)
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://a")
    registry.create_model_version(NAME, "s3://b")
    monkeypatch.setenv("MODELREG_USER", "bob@example.com")
    bob = Registry(registry.root, clock=ticking_clock)
    bob.transition_model_version_stage(NAME, 1, "Staging", comment="shadow traffic")
    bob.transition_model_version_stage(NAME, 1, "Production")
    bob.set_registered_model_alias(NAME, "champion", 1, comment="first champion")
    bob.set_registered_model_alias(NAME, "champion", 2)
    bob.update_model_version(NAME, 1, "better")
    bob.update_registered_model(NAME, "the model")

    entries = registry.history(Ref(NAME))
    assert all(entry["user_id"] in ("tester@example.com", "bob@example.com") for entry in entries)
    stamps = [entry["timestamp"] for entry in entries]
    assert stamps == sorted(stamps)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", s) for s in stamps)

    def strip(entry: dict[str, object]) -> dict[str, object]:
        return {key: value for key, value in entry.items() if key != "timestamp"}

    by_bob = [strip(entry) for entry in entries if entry["user_id"] == "bob@example.com"]
    assert by_bob == [
        {
            "user_id": "bob@example.com",
            "action": "stage_changed",
            "from_stage": "None",
            "to_stage": "Staging",
            "comment": "shadow traffic",
            "version": 1,
        },
        {
            "user_id": "bob@example.com",
            "action": "stage_changed",
            "from_stage": "Staging",
            "to_stage": "Production",
            "version": 1,
        },
        {
            "user_id": "bob@example.com",
            "action": "alias_set",
            "alias": "champion",
            "version": 1,
            "comment": "first champion",
        },
        {
            "user_id": "bob@example.com",
            "action": "alias_set",
            "alias": "champion",
            "version": 2,
            "previous_version": 1,
        },
        {"user_id": "bob@example.com", "action": "description_changed", "version": 1},
        {"user_id": "bob@example.com", "action": "description_changed"},
    ]
    version_two = [entry["action"] for entry in registry.history(Ref(NAME, 2))]
    assert version_two == ["version_registered", "alias_set"]


# -- files ---------------------------------------------------------------------------------


def test_version_file_is_deterministic_yaml(registry: Registry, tmp_path: Path) -> None:
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"weights")
    mv = registry.register(
        NAME,
        str(artifact),
        run_id="r1",
        tags={"z": "last", "a": "first"},
        metrics={"acc": 0.93},
        params={"epochs": 10, "opt": "adam"},
        description="line one\nline two",
        create_model=True,
    ).version
    stamp = ms_to_iso(mv.creation_timestamp)
    digest = hashlib.sha256(b"weights").hexdigest()
    assert re.fullmatch("[0-9a-f]{32}", mv.uid or "")
    text = (registry.root / "models" / NAME / "versions" / "1.yaml").read_text()
    assert text == (
        f"name: {NAME}\n"
        "version: 1\n"
        f"uid: {mv.uid}\n"
        "source: ../model.pkl\n"
        "run_id: r1\n"
        "run_link: null\n"
        "description: |-\n"
        "  line one\n"
        "  line two\n"
        "current_stage: None\n"
        "status: READY\n"
        "user_id: tester@example.com\n"
        f"created_at: {stamp}\n"
        f"updated_at: {stamp}\n"
        "tags:\n"
        "  a: first\n"
        "  z: last\n"
        "metrics:\n"
        "  acc: 0.93\n"
        "params:\n"
        "  epochs: 10\n"
        "  opt: adam\n"
        "artifact:\n"
        f"  sha256: {digest}\n"
        "  size: 7\n"
        "lineage:\n"
        "  user: tester@example.com\n"
        "history:\n"
        f"- timestamp: {stamp}\n"
        "  user_id: tester@example.com\n"
        "  action: version_registered\n"
        "  version: 1\n"
    )


@pytest.mark.parametrize("file_format", [1, 2])
def test_model_file_keeps_a_stable_key_order(tmp_path: Path, file_format: int) -> None:
    registry = Registry.init(tmp_path / "registry", file_format=file_format)
    registry.create_registered_model(NAME, tags={"b": "2", "a": "1"}, description="d")
    text = (registry.root / "models" / NAME / "model.yaml").read_text()
    keys = [line.split(":")[0] for line in text.splitlines() if re.match(r"[a-z_]+:", line)]
    # Format 2 stores nothing every write changes (see layout.py).
    assert keys == (
        ["name", "description", "user_id", "created_at", "tags", "history"]
        if file_format == 2
        else [
            "name",
            "description",
            "user_id",
            "created_at",
            "updated_at",
            "last_version",
            "tags",
            "aliases",
            "history",
        ]
    )
    assert "  a: '1'\n  b: '2'\n" in text
    assert text.endswith("\n")
    assert "&" not in text
    assert "*" not in text


@pytest.mark.parametrize(
    "change",
    [
        "model_tag",
        "version_tag",
        "model_description",
        "version_description",
        "alias",
        "stage",
        "rename_to_itself",
    ],
)
def test_a_write_that_changes_nothing_does_not_rewrite_any_file(
    registry: Registry, registry_path: Path, model_path: Path, change: str
) -> None:
    registry.create_registered_model(NAME, tags={"team": "ml"}, description="d")
    registry.create_model_version(NAME, "s3://a", tags={"k": "v"}, description="vd")
    registry.transition_model_version_stage(NAME, 1, "Staging")
    registry.set_registered_model_alias(NAME, "champion", 1)
    files = sorted(path for path in registry_path.rglob("*.yaml"))
    stats = {path: stat_key(path) for path in files}
    before = tree(registry_path)
    if change == "model_tag":
        registry.set_registered_model_tag(NAME, "team", "ml")
    elif change == "version_tag":
        registry.set_model_version_tag(NAME, 1, "k", "v")
    elif change == "model_description":
        registry.update_registered_model(NAME, "d")
    elif change == "version_description":
        registry.update_model_version(NAME, 1, "vd")
    elif change == "alias":
        registry.set_registered_model_alias(NAME, "champion", 1)
    elif change == "stage":
        registry.transition_model_version_stage(NAME, 1, "staging")
    else:
        registry.rename_registered_model(NAME, NAME)
    assert {path: stat_key(path) for path in files} == stats
    assert tree(registry_path) == before


def test_a_tag_change_rewrites_only_the_file_it_changes(
    registry: Registry, model_path: Path
) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://a")
    registry.create_model_version(NAME, "s3://b")
    model_before = (model_path / "model.yaml").read_bytes()
    other_before = stat_key(model_path / "versions" / "2.yaml")
    registry.set_model_version_tag(NAME, 1, "k", "v")
    assert (model_path / "model.yaml").read_bytes() == model_before
    assert stat_key(model_path / "versions" / "2.yaml") == other_before
    assert "  k: v\n" in (model_path / "versions" / "1.yaml").read_text()


def test_tags_are_set_and_deleted(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://a")
    registry.set_registered_model_tag(NAME, "n", 3)
    assert registry.get_registered_model(NAME).tags == {"n": "3"}
    registry.delete_registered_model_tag(NAME, "n")
    assert registry.get_registered_model(NAME).tags == {}
    registry.set_model_version_tag(NAME, 1, "k", "v")
    registry.delete_model_version_tag(NAME, 1, "k")
    assert registry.get_model_version(NAME, 1).tags == {}
    # Deleting a tag that is not there is nothing to do, as in MLflow.
    assert registry.delete_model_version_tag(NAME, 1, "k") is None
    assert registry.delete_registered_model_tag(NAME, "n") is None


# -- locking -------------------------------------------------------------------------------


# Every public member of Registry is a write, a read, or one of these. A new method fails
# test_every_public_method_is_classified until it is put in one of the three.
# A constructor, properties, and publish (it needs a git remote: tests/test_publish.py), and
# the artifact methods that need an artifact or a store (tests/test_artifacts.py; they take
# no lock: they read the registry and write only the cache or the store).
NOT_ON_AN_OPEN_REGISTRY = {
    "init",
    "lock_path",
    "rules",
    "user",
    "publish",
    "download_artifacts",
    "pull_artifact",
    "verify_artifact",
    "collect_garbage",
}


def writes_of(registry: Registry) -> dict[str, Callable[[], object]]:
    """One call of every public write, on a registry holding NAME version 1 with the
    alias champion."""
    imported = RegisteredModel(name="imported", creation_timestamp=0, last_updated_timestamp=0)
    return {
        "create_registered_model": lambda: registry.create_registered_model("other"),
        "create_model_version": lambda: registry.create_model_version(NAME, "s3://b"),
        "register": lambda: registry.register(NAME, "s3://b"),
        "register_model": lambda: registry.register_model("runs:/r/m", "new"),
        "copy_model_version": lambda: registry.copy_model_version(f"models:/{NAME}/1", "copy"),
        "import_model": lambda: registry.import_model(imported, []),
        "update_registered_model": lambda: registry.update_registered_model(NAME, "x"),
        "update_model_version": lambda: registry.update_model_version(NAME, 1, "x"),
        "transition_model_version_stage": lambda: registry.transition_model_version_stage(
            NAME, 1, "Staging"
        ),
        "transition": lambda: registry.transition(NAME, 1, "Staging"),
        "promote": lambda: registry.promote(NAME, 1, "Staging"),
        "request_transition": lambda: registry.request_transition(NAME, 1, "Production"),
        "approve_transition": lambda: registry.approve_transition(NAME, 1, "Production"),
        "reject_transition": lambda: registry.reject_transition(NAME, 1, "Production"),
        "comment_model_version": lambda: registry.comment_model_version(NAME, 1, "hi"),
        "set_registered_model_tag": lambda: registry.set_registered_model_tag(NAME, "k", "v"),
        "set_registered_model_tags": lambda: registry.set_registered_model_tags(NAME, {"k": "v"}),
        "delete_registered_model_tag": lambda: registry.delete_registered_model_tag(NAME, "t"),
        "set_model_version_tag": lambda: registry.set_model_version_tag(NAME, 1, "k", "v"),
        "set_model_version_tags": lambda: registry.set_model_version_tags(NAME, 1, {"k": "v"}),
        "delete_model_version_tag": lambda: registry.delete_model_version_tag(NAME, 1, "t"),
        "set_registered_model_alias": lambda: registry.set_registered_model_alias(NAME, "other", 1),
        "delete_registered_model_alias": lambda: registry.delete_registered_model_alias(
            NAME, "champion"
        ),
        "rename_registered_model": lambda: registry.rename_registered_model(NAME, "renamed"),
        "delete_model_version": lambda: registry.delete_model_version(NAME, 1),
        "delete_registered_model": lambda: registry.delete_registered_model(NAME),
    }


def reads_of(registry: Registry) -> dict[str, Callable[[], object]]:
    """One call of every public read."""
    return {
        "get_registered_model": lambda: registry.get_registered_model(NAME),
        "get_model_version": lambda: registry.get_model_version(NAME, 1),
        "get_model_version_by_alias": lambda: registry.get_model_version_by_alias(NAME, "champion"),
        "get_model_version_download_uri": lambda: registry.get_model_version_download_uri(NAME, 1),
        "get_latest_versions": lambda: registry.get_latest_versions(NAME),
        "list_registered_models": registry.list_registered_models,
        "list_versions": lambda: registry.list_versions(NAME),
        "all_versions": registry.all_versions,
        "search_registered_models": registry.search_registered_models,
        "search_model_versions": registry.search_model_versions,
        "search_version_records": registry.search_version_records,
        "resolve": lambda: registry.resolve(f"{NAME}@champion"),
        "resolve_version": lambda: registry.resolve_version(f"models:/{NAME}/1"),
        "artifact_location": lambda: registry.artifact_location(f"models:/{NAME}/1"),
        "artifact_of": lambda: registry.artifact_of(f"models:/{NAME}/1"),
        "diff": lambda: registry.diff(f"models:/{NAME}/1", f"models:/{NAME}/1"),
        "history": lambda: registry.history(NAME),
        "as_of": lambda: read_as_of(registry),
        "verify_artifacts": registry.verify_artifacts,
    }


def read_as_of(registry: Registry) -> object:
    with registry.as_of("2999-01-01") as past:  # everything has happened by then
        return past.resolve(f"{NAME}@champion")


def public_members(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")}


@pytest.fixture
def locked_registry(registry: Registry) -> Registry:
    """NAME version 1 with the alias champion and a model and a version tag t."""
    registry.create_registered_model(NAME, tags={"t": "1"})
    registry.create_model_version(NAME, "s3://a", tags={"t": "1"})
    registry.set_registered_model_alias(NAME, "champion", 1)
    return registry


def test_every_public_method_is_classified(locked_registry: Registry) -> None:
    writes, reads = writes_of(locked_registry), reads_of(locked_registry)
    assert not set(writes) & set(reads)
    assert set(writes) | set(reads) | NOT_ON_AN_OPEN_REGISTRY == public_members(Registry)


def test_every_write_waits_for_the_lock_and_fails_busy_without_writing(
    locked_registry: Registry, registry_path: Path
) -> None:
    lock_file = registry_path / ".modelreg.lock"
    assert locked_registry.lock_path == lock_file
    busy = Registry(registry_path, lock_timeout=0.05)
    before = tree(registry_path)
    with lock_held(lock_file):
        for what, write in writes_of(busy).items():
            with pytest.raises(BusyError) as caught:
                write()
            assert caught.value.lock_path == lock_file, what
            assert caught.value.exit_code == 6
            assert str(lock_file) in str(caught.value)
            assert tree(registry_path) == before, f"{what} wrote without the lock"
        # Readers take no lock.
        for what, read in reads_of(busy).items():
            assert read() is not None, what
    assert tree(registry_path) == before
    busy.create_registered_model("other")  # the lock is free again


def test_each_write_changes_the_registry_once_the_lock_is_free(
    locked_registry: Registry, registry_path: Path, tmp_path: Path
) -> None:
    # The other half of the test above: the calls it makes are writes that change the
    # registry when they get the lock (each on its own copy), so a BusyError there was the
    # lock's doing.
    before = tree(registry_path)
    for what in writes_of(locked_registry):
        copy = shutil.copytree(registry_path, tmp_path / what)
        writes_of(Registry(copy))[what]()
        assert tree(copy) != before, f"{what} changed nothing"


def test_the_lock_file_is_never_deleted(registry: Registry, registry_path: Path) -> None:
    registry.create_registered_model(NAME)
    assert (registry_path / ".modelreg.lock").exists()
    registry.delete_registered_model(NAME)
    assert (registry_path / ".modelreg.lock").exists()


def test_modelreg_lock_timeout_sets_the_timeout(
    registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # registry.yaml asks for 600 s: were the variable ignored, the write would wait that
    # long, far beyond finishes_within's bound; honoured, it gives up after 0.2 s.
    config = registry_path / "registry.yaml"
    config.write_text(config.read_text().replace("lock_timeout: 10.0", "lock_timeout: 600"))
    assert "lock_timeout: 600\n" in config.read_text()
    monkeypatch.setenv("MODELREG_LOCK_TIMEOUT", "0.2")
    registry = Registry(registry_path)
    with lock_held(registry_path / ".modelreg.lock"):
        started = time.monotonic()
        with pytest.raises(BusyError) as caught:
            finishes_within(60, lambda: registry.create_registered_model(NAME))
        waited = time.monotonic() - started
    assert caught.value.timeout == 0.2
    assert waited >= 0.2  # it did wait for the lock first
    assert "within 0.2 s" in str(caught.value)


# -- other MLflow methods ------------------------------------------------------------------


def test_rename_keeps_versions_and_aliases(registry: Registry, registry_path: Path) -> None:
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://a")
    registry.set_registered_model_alias(NAME, "champion", 1)
    renamed = registry.rename_registered_model(NAME, "retention")
    assert renamed.aliases == {"champion": 1}
    assert registry.get_model_version("retention", 1).name == "retention"
    assert not (registry_path / "models" / NAME).exists()
    registry.create_registered_model("x")
    with pytest.raises(ConflictError):
        registry.rename_registered_model("x", "retention")


def test_search_results_are_lists_with_a_page_token(registry: Registry) -> None:
    registry.create_registered_model(NAME)
    for number in range(1, 4):
        registry.create_model_version(NAME, f"s3://{number}")
    first = registry.search_model_versions(f"name='{NAME}'", max_results=2)
    assert isinstance(first, list)
    assert len(first) == 2
    assert first.token is not None
    rest = registry.search_model_versions(f"name='{NAME}'", max_results=2, page_token=first.token)
    assert rest.token is None
    assert sorted(mv.version for mv in [*first, *rest]) == [1, 2, 3]


@pytest.mark.parametrize("file_format", [1, 2])
def test_an_alias_pointing_at_a_missing_version_can_still_be_deleted(
    tmp_path: Path, file_format: int
) -> None:
    registry = Registry.init(tmp_path / "registry", file_format=file_format)
    registry.register(NAME, "s3://a", create_model=True)
    if file_format == 1:
        path = registry.root / "models" / NAME / "model.yaml"
        path.write_text(path.read_text().replace("aliases: {}", "aliases:\n  ghost: 9"))
    else:
        folder = registry.root / "models" / NAME / "aliases"
        folder.mkdir()
        (folder / "ghost.yaml").write_text("alias: ghost\nversion: 9\nhistory: []\n")
    assert Registry(registry.root).get_registered_model(NAME).aliases == {"ghost": 9}
    Registry(registry.root).delete_registered_model_alias(NAME, "ghost")
    assert Registry(registry.root).get_registered_model(NAME).aliases == {}
