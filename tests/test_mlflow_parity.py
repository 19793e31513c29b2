"""MLflow's registry semantics through ``MlflowClient`` and ``Registry`` (issue 21): the
behaviours MLflow's own store tests check, each on its own. tests/test_mlflow_stores.py
runs the same calls against MLflow's stores and compares."""

from __future__ import annotations

from pathlib import Path

import pytest

from _safety import tree
from modelreg import InvalidInputError, MlflowClient, NotFoundError, Registry

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
