"""The same registry calls against MLflow's own stores and against modelreg (issue 21).

One scenario runs, call for call, on MLflow 3's ``SqlAlchemyStore`` (SQLite in a temporary
folder), on its ``FileStore`` and on ``modelreg.MlflowClient``; every call's outcome — its
result, reduced to plain values, or the ``error_code`` it raised — must be the same on all
three. (MLflow's message wording is not compared: modelreg's own messages are
documented as different.) Without MLflow these tests skip, except in CI, where MLflow
must be installed.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from modelreg import MlflowClient, Registry, RegistryError

PROMPT_TAG = "mlflow.prompt.is_prompt"
QUIET_MLFLOW = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_ALLOW_FILE_STORE": "true",
}

# Filters of MLflow's own language, for both searches.
FILTERS = [
    None,
    "",
    "name LIKE '%'",
    "name = 'prompt'",
    f"tags.`{PROMPT_TAG}` = 'false'",
    f"tags.`{PROMPT_TAG}` != 'true'",
    f"tags.`{PROMPT_TAG}` = 'true'",
    f"tag.`{PROMPT_TAG}` != 'false'",
    f"tags.`{PROMPT_TAG}` = 'true' AND name = 'prompt'",
]


class Backend:
    """One store behind the calls of the scenario, with MLflow's store signatures."""

    def __init__(self, store: Any, entities: Any) -> None:
        self.store = store
        self.entities = entities

    def create_model(self, name: str, tags: dict[str, str] | None = None) -> object:
        tag_list = [self.entities.RegisteredModelTag(k, v) for k, v in (tags or {}).items()]
        return self.store.create_registered_model(name, tags=tag_list).name

    def create_version(self, name: str, source: str, **kwargs: Any) -> object:
        tags = kwargs.pop("tags", {})
        tag_list = [self.entities.ModelVersionTag(k, v) for k, v in tags.items()]
        return int(self.store.create_model_version(name, source, tags=tag_list, **kwargs).version)

    def copy(self, name: str, version: int, dst: str) -> object:
        src = self.store.get_model_version(name, str(version))
        copied = self.store.copy_model_version(src, dst)
        return (copied.name, int(copied.version), copied.source, copied.model_id)

    def call(self, method: str, *args: Any) -> object:
        return getattr(self.store, method)(*args)


class ModelregBackend(Backend):
    """modelreg, through the MlflowClient it offers code written for MLflow."""

    def __init__(self, client: MlflowClient) -> None:
        self.client = client

    def create_model(self, name: str, tags: dict[str, str] | None = None) -> object:
        return self.client.create_registered_model(name, tags=tags).name

    def create_version(self, name: str, source: str, **kwargs: Any) -> object:
        return self.client.create_model_version(name, source, **kwargs).version

    def copy(self, name: str, version: int, dst: str) -> object:
        copied = self.client.copy_model_version(f"models:/{name}/{version}", dst)
        return (copied.name, copied.version, copied.source, copied.model_id)

    def call(self, method: str, *args: Any) -> object:
        return getattr(self.client, method)(*args)


def outcome(action: Callable[[], object]) -> object:
    """What a call gave: its result as plain values, or the error code it raised."""
    try:
        result = action()
    except RegistryError as error:
        return ("error", error.error_code)
    except Exception as error:  # MLflow's MlflowException
        code = getattr(error, "error_code", None)
        if code is None:
            raise
        return ("error", code)
    return plain(result)


def plain(value: object) -> object:
    if isinstance(value, list):  # a page of models or versions: who, in order
        return [plain(item) for item in value]
    if hasattr(value, "current_stage"):  # a version
        return (value.name, int(value.version), value.source, value.model_id)  # type: ignore[attr-defined]
    if hasattr(value, "latest_versions"):  # a model
        return value.name  # type: ignore[attr-defined]
    return value


def scenario(backend: Backend) -> dict[str, object]:
    """Every call of the comparison, in order, with what it gave."""
    seen: dict[str, object] = {}

    def record(label: str, action: Callable[[], object]) -> None:
        assert label not in seen
        seen[label] = outcome(action)

    record("create model", lambda: backend.create_model("model"))
    record("create prompt", lambda: backend.create_model("prompt", {PROMPT_TAG: "true"}))
    record("create said-no", lambda: backend.create_model("said-no", {PROMPT_TAG: "false"}))
    record("create again", lambda: backend.create_model("model"))
    record("v model", lambda: backend.create_version("model", "s3://m", tags={"k": "v"}))
    prompt_tag, no_tag = {PROMPT_TAG: "true"}, {PROMPT_TAG: "false"}
    record("v prompt", lambda: backend.create_version("prompt", "s3://p", tags=prompt_tag))
    record("v said-no", lambda: backend.create_version("said-no", "s3://n", tags=no_tag))
    # (modelreg's set_registered_model_alias also returns the version: not compared.)
    backend.call("set_registered_model_alias", "model", "champion", "1")
    for filter_string in FILTERS:
        record(
            f"models {filter_string!r}",
            lambda f=filter_string: sorted(
                plain(backend.call("search_registered_models", f, 100, None, None))  # type: ignore[arg-type]
            ),
        )
        record(
            f"versions {filter_string!r}",
            lambda f=filter_string: sorted(
                name
                for name, *_ in plain(backend.call("search_model_versions", f, 1000, None, None))  # type: ignore[union-attr]
            ),
        )
    # 1. Deleting what is not there.
    record("del model tag", lambda: backend.call("delete_registered_model_tag", "model", "absent"))
    record("del version tag", lambda: backend.call("delete_model_version_tag", "model", "1", "no"))
    record("del alias", lambda: backend.call("delete_registered_model_alias", "model", "gone"))
    record("del key None", lambda: backend.call("delete_registered_model_tag", "model", None))
    record("del vkey None", lambda: backend.call("delete_model_version_tag", "model", "1", None))
    record("del tag of none", lambda: backend.call("delete_registered_model_tag", "nope", "k"))
    record("del alias of none", lambda: backend.call("delete_registered_model_alias", "nope", "a"))
    record("del tag version 9", lambda: backend.call("delete_model_version_tag", "model", "9", "k"))
    record("still tagged", lambda: dict(backend.call("get_model_version", "model", "1").tags))
    record(
        "still aliased",
        lambda: {
            a: int(v) for a, v in backend.call("get_registered_model", "model").aliases.items()
        },
    )
    # 5. Error codes.
    record("get none", lambda: backend.call("get_registered_model", "nope"))
    record("get version 9", lambda: backend.call("get_model_version", "model", "9"))
    record("bad filter", lambda: backend.call("search_model_versions", "name >", 10, None, None))
    record("bad alias", lambda: backend.call("set_registered_model_alias", "model", "v1", "1"))
    # 2. Logged models: the model id is kept (with a run id MLflow does not look it up).
    record(
        "v with model id",
        lambda: backend.create_version("model", "s3://m2", run_id="r1", model_id="m-0123"),
    )
    record("get model id", lambda: backend.call("get_model_version", "model", "2").model_id)
    # 3. A copy's source is models:/SRC/N and names the original's artifact.
    record("copy", lambda: backend.copy("model", 1, "copied"))
    record("copy download", lambda: backend.call("get_model_version_download_uri", "copied", "1"))
    record("copy of logged", lambda: backend.copy("model", 2, "copied"))
    record("from a version", lambda: backend.create_version("model", "models:/model/1"))
    record("its download", lambda: backend.call("get_model_version_download_uri", "model", "3"))
    record("source kept", lambda: backend.call("get_model_version", "model", "3").source)
    return seen


def _need_mlflow() -> None:
    if importlib.util.find_spec("mlflow") is not None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("MLflow is not installed, and CI must test against it")
    pytest.skip("MLflow is not installed (pip install -e '.[mlflow]')")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, object]]]:
    """The scenario's outcomes on each of the three stores."""
    _need_mlflow()
    folder = tmp_path_factory.mktemp("stores")
    database = f"sqlite:///{folder / 'mlflow.db'}"
    # MLflow's stores open a client of the default tracking URI for some calls: this one.
    environment = {**QUIET_MLFLOW, "MLFLOW_TRACKING_URI": database}
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
    try:
        from mlflow.entities import model_registry as entities
        from mlflow.store.model_registry.file_store import FileStore
        from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

        sql = SqlAlchemyStore(database)
        try:
            found = {
                "sqlalchemy": scenario(Backend(sql, entities)),
                "file": scenario(Backend(FileStore(str(folder / "mlruns")), entities)),
            }
        finally:
            sql.engine.dispose()
        Registry.init(folder / "registry")
        found["modelreg"] = scenario(
            ModelregBackend(MlflowClient(registry_uri=str(folder / "registry")))
        )
        yield found
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# MLflow's SQL store does not keep a version's model_id (3.17.2); its file store does.
SQL_STORE_DROPS_MODEL_ID = {"get model id", "copy of logged"}


def test_mlflows_two_stores_agree_on_the_scenario(
    outcomes: dict[str, dict[str, object]],
) -> None:
    # The ground truth is what MLflow's stores agree on, and for model_id the file store.
    sql, file = outcomes["sqlalchemy"], outcomes["file"]
    differing = {label for label in file if sql[label] != file[label]}
    assert differing == SQL_STORE_DROPS_MODEL_ID
    assert sql["get model id"] is None


def test_modelreg_gives_what_mlflow_gives(outcomes: dict[str, dict[str, object]]) -> None:
    mlflow, modelreg = outcomes["file"], outcomes["modelreg"]
    assert list(modelreg) == list(mlflow)
    differences = {
        label: (mlflow[label], modelreg[label])
        for label in mlflow
        if mlflow[label] != modelreg[label]
    }
    assert differences == {}


def test_the_scenario_covers_the_issue(outcomes: dict[str, dict[str, object]]) -> None:
    """What MLflow answers, spelled out: the behaviours issue 21 is about."""
    mlflow = outcomes["file"]
    assert mlflow["models None"] == ["model", "said-no"]
    not_a_prompt = f"tags.`{PROMPT_TAG}` = 'false'"
    assert mlflow[f"models {not_a_prompt!r}"] == ["model", "said-no"]
    assert mlflow[f"versions {not_a_prompt!r}"] == ["model", "said-no"]
    assert mlflow["del model tag"] is None
    assert mlflow["del key None"] == ("error", "INVALID_PARAMETER_VALUE")
    assert mlflow["get none"] == ("error", "RESOURCE_DOES_NOT_EXIST")
    assert mlflow["create again"] == ("error", "RESOURCE_ALREADY_EXISTS")
    assert mlflow["copy"] == ("copied", 1, "models:/model/1", None)
    assert mlflow["copy download"] == "s3://m"
    assert mlflow["copy of logged"] == ("copied", 2, "models:/model/2", "m-0123")
