"""References in the Python API and on the command line: the same strings everywhere
(``NAME``, ``NAME@ALIAS``, ``models:/...``), an empty alias is bad usage, a dangling
alias is named, and ``artifact_location`` is what ``modelreg resolve`` prints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelreg import InvalidInputError, NotFoundError, Registry, yamlio
from modelreg.cli import app
from modelreg.refs import Ref

NAME = "churn-predictor"
Run = Callable[..., Any]


@pytest.fixture
def two_versions(registry: Registry, tmp_path: Path) -> Registry:
    for number in (1, 2):
        artifact = tmp_path / f"model-{number}.pkl"
        artifact.write_bytes(bytes([number]) * 10)
        registry.register(NAME, str(artifact), create_model=True)
    registry.set_registered_model_alias(NAME, "champion", 1)
    registry.transition_model_version_stage(NAME, 2, "Staging")
    return registry


def cli(registry: Registry, *args: str) -> Any:
    return CliRunner().invoke(app, ["--registry", str(registry.root), *args])


# -- item 7: every method that takes a reference takes the command line's strings ------


@pytest.mark.parametrize(
    ("text", "version"),
    [
        (f"{NAME}@champion", 1),
        (f"models:/{NAME}@champion", 1),
        (f"models:/{NAME}/1", 1),
        (f"models:/{NAME}/Staging", 2),
        (f"models:/{NAME}/latest", 2),
        (NAME, 2),
    ],
)
def test_resolve_version_takes_the_strings_the_command_line_takes(
    two_versions: Registry, text: str, version: int
) -> None:
    assert two_versions.resolve_version(text).version == version


def test_resolve_takes_strings_and_still_takes_a_ref(two_versions: Registry) -> None:
    model = two_versions.resolve(NAME)
    assert model.name == NAME
    assert not hasattr(model, "current_stage")  # a bare name is the model
    assert two_versions.resolve(f"{NAME}@champion").version == 1  # type: ignore[union-attr]
    assert two_versions.resolve(Ref(NAME, "@champion")).version == 1  # type: ignore[union-attr]


def test_history_takes_strings(two_versions: Registry) -> None:
    of_model = two_versions.history(NAME)
    of_version = two_versions.history(f"{NAME}@champion")
    assert of_model == two_versions.history(Ref(NAME))
    assert {entry["version"] for entry in of_version} == {1}
    assert "alias_set" in [entry["action"] for entry in of_version]
    assert two_versions.history(f"models:/{NAME}/1") == of_version


@pytest.mark.parametrize("wrong", [42, None, 1.5, ["churn"], b"churn-predictor"])
@pytest.mark.parametrize("method", ["resolve", "resolve_version", "history", "artifact_location"])
def test_a_reference_of_the_wrong_type_is_invalid_input_not_attribute_error(
    two_versions: Registry, method: str, wrong: object
) -> None:
    with pytest.raises(InvalidInputError, match="expected a reference") as caught:
        getattr(two_versions, method)(wrong)
    assert caught.value.exit_code == 2


def test_copy_model_version_refuses_a_non_uri_as_invalid_input(two_versions: Registry) -> None:
    with pytest.raises(InvalidInputError):
        two_versions.copy_model_version(42, "other")  # type: ignore[arg-type]


def test_artifact_location_of_a_reference_is_what_resolve_prints(
    two_versions: Registry, run_cli: Run
) -> None:
    for ref in (f"{NAME}@champion", NAME, f"models:/{NAME}/Staging"):
        printed = run_cli("--registry", str(two_versions.root), "resolve", ref)
        assert printed.returncode == 0, printed.stderr
        assert two_versions.artifact_location(ref) + "\n" == printed.stdout
    mv = two_versions.get_model_version(NAME, 1)
    assert two_versions.artifact_location(mv) == two_versions.artifact_location(f"{NAME}@champion")
    assert two_versions.artifact_location(mv) == two_versions.get_model_version_download_uri(
        NAME, 1
    )


# -- item 11: an empty alias is bad usage ---------------------------------------------


@pytest.mark.parametrize("text", [f"{NAME}@", f"{NAME}@ ", f"models:/{NAME}@"])
def test_an_empty_alias_is_invalid_input_in_the_api(two_versions: Registry, text: str) -> None:
    with pytest.raises(InvalidInputError, match="empty alias"):
        two_versions.resolve_version(text)


@pytest.mark.parametrize("args", [[f"{NAME}@"], [NAME, "@"]])
@pytest.mark.parametrize("command", ["resolve", "describe", "history"])
def test_an_empty_alias_is_exit_2_on_the_typer_path(
    two_versions: Registry, command: str, args: list[str]
) -> None:
    result = cli(two_versions, command, *args)
    assert result.exit_code == 2, result.output
    assert "empty alias" in result.stderr


@pytest.mark.parametrize("args", [["mm@"], [f"{NAME}@"], [NAME, "@"]])
def test_an_empty_alias_is_exit_2_on_the_fast_path(
    two_versions: Registry, run_cli: Run, args: list[str]
) -> None:
    for command in ("resolve", "describe"):
        result = run_cli("--registry", str(two_versions.root), command, *args)
        assert (result.returncode, result.stdout) == (2, ""), result.stderr
        assert "empty alias" in result.stderr


# -- item 14: a dangling alias is named ------------------------------------------------


def dangle(registry: Registry, alias: str, number: int) -> None:
    """Point ``alias`` at a version that does not exist, as a hand edit would (its file,
    in format 2)."""
    folder = registry.root / "models" / NAME / "aliases"
    folder.mkdir(exist_ok=True)
    (folder / f"{alias}.yaml").write_text(
        yamlio.dumps({"alias": alias, "version": number, "history": []})
    )


DANGLING = f"alias 'champion' of model '{NAME}' points to version 7, which does not exist"


def test_a_dangling_alias_is_not_found_naming_the_alias(two_versions: Registry) -> None:
    dangle(two_versions, "champion", 7)
    fresh = Registry(two_versions.root)
    for lookup in (
        lambda: fresh.get_model_version_by_alias(NAME, "champion"),
        lambda: fresh.resolve_version(f"{NAME}@champion"),
        lambda: fresh.artifact_location(f"models:/{NAME}@champion"),
    ):
        with pytest.raises(NotFoundError) as caught:
            lookup()
        assert str(caught.value) == DANGLING


def test_a_dangling_alias_is_exit_3_naming_the_alias_on_both_paths(
    two_versions: Registry, run_cli: Run
) -> None:
    dangle(two_versions, "champion", 7)
    for command in ("resolve", "describe"):
        typer_path = cli(two_versions, command, f"{NAME}@champion")
        assert typer_path.exit_code == 3
        assert typer_path.stderr == f"error: {DANGLING}\n"
        fast_path = run_cli("--registry", str(two_versions.root), command, f"{NAME}@champion")
        assert (fast_path.returncode, fast_path.stdout) == (3, "")
        assert fast_path.stderr == f"error: {DANGLING}\n"
