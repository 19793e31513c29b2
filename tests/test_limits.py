"""No write makes a file that readers refuse (issue 12, item 6): a write that would break
a read limit — the 4 MB file size, the nesting depth, the number of values — is refused
with exit 2 naming the limit, and nothing is written; for a write that changes several
files, nothing at all (the files it already changed are put back).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import modelreg_executable
from modelreg import Registry, yamlio
from modelreg.cli import app
from modelreg.errors import InvalidInputError
from modelreg.store import SEQ_FILE

TAG_VALUE = "x" * 8000
SIZE_LIMIT = "more than the 4 MB (4,194,304 bytes) a registry file may hold"
SIZE_LIMIT_RE = re.escape(SIZE_LIMIT)


def files(root: Path) -> dict[str, bytes]:
    """Every registry file's bytes but the write counter's (git-ignored, not data)."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != SEQ_FILE
    }


def near_full_tags(registry: Registry) -> None:
    """Version 1 of m with 250 tags of 8 kB (each in the tags and in the history):
    about 4.0 MB, a few more tags from the limit."""
    registry.register("m", "s3://bucket/m", create_model=True)
    registry.set_model_version_tags("m", 1, {f"k{i}": TAG_VALUE for i in range(250)})


def assert_readable(registry: Registry) -> None:
    reopened = Registry(registry.root)
    assert reopened.get_model_version("m", 1).version == 1
    assert [mv.version for mv in reopened.list_versions("m")] == [1]


@pytest.mark.slow
def test_260_tags_of_8_kb_one_call_each(registry: Registry) -> None:
    """The issue's case, call by call (about 260 fit under 4 MB, depending on the
    lengths of the user name and such): the call that would cross 4 MB is refused, and
    the version can still be described, updated and deleted."""
    registry.register("m", "s3://bucket/m", create_model=True)
    refused = None
    for i in range(300):
        before = files(registry.root)
        try:
            registry.set_model_version_tag("m", 1, f"k{i}", TAG_VALUE)
        except InvalidInputError as exc:
            refused = (i, str(exc))
            assert files(registry.root) == before
            break
    assert refused is not None and refused[0] > 250, refused
    assert SIZE_LIMIT in refused[1]
    assert_readable(registry)
    registry.update_model_version("m", 1, "still writable")
    registry.delete_model_version("m", 1)


def test_a_tag_that_would_cross_4_mb_is_refused(registry: Registry) -> None:
    near_full_tags(registry)
    with pytest.raises(InvalidInputError) as caught:
        for i in range(250, 270):
            registry.set_model_version_tag("m", 1, f"k{i}", TAG_VALUE)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert message.startswith("refused: models/m/versions/1.yaml would be ")
    assert message.endswith(f"{SIZE_LIMIT}; nothing was written")
    assert_readable(registry)
    tags = Registry(registry.root).get_model_version("m", 1).tags
    assert len(tags) > 250  # the tags that fitted are there, and the file is readable
    assert len(files(registry.root)["models/m/versions/1.yaml"]) <= yamlio.MAX_FILE_BYTES


def test_cli_tag_over_the_limit_exits_2_and_writes_nothing(registry: Registry) -> None:
    near_full_tags(registry)
    tags = [f"k{i}={TAG_VALUE}" for i in range(250, 262)]
    before = files(registry.root)
    proc = subprocess.run(
        [modelreg_executable(), "--registry", str(registry.root), "tag", "m", "1", *tags],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: refused: models/m/versions/1.yaml would be ")
    assert proc.stderr.endswith(f"{SIZE_LIMIT}; nothing was written\n")
    assert files(registry.root) == before
    described = subprocess.run(
        [modelreg_executable(), "--registry", str(registry.root), "describe", "m", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert described.returncode == 0, described.stderr


def test_a_4_5_mb_description_is_refused(registry: Registry) -> None:
    registry.register("m", "s3://bucket/m", create_model=True)
    before = files(registry.root)
    with pytest.raises(InvalidInputError, match=SIZE_LIMIT_RE):
        registry.update_model_version("m", 1, "d" * 4_500_000)
    with pytest.raises(InvalidInputError, match=SIZE_LIMIT_RE):
        registry.update_registered_model("m", "d" * 4_500_000)
    assert files(registry.root) == before
    registry.update_model_version("m", 1, "fits")  # then update and delete still work
    registry.delete_model_version("m", 1)


def test_cli_4_5_mb_description_exits_2_and_writes_nothing(registry: Registry) -> None:
    registry.register("m", "s3://bucket/m", create_model=True)
    before = files(registry.root)
    runner = CliRunner()
    args = ["--registry", str(registry.root), "update", "m", "1", "-d", "d" * 4_500_000]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: refused: models/m/versions/1.yaml would be ")
    assert SIZE_LIMIT in result.stderr
    assert files(registry.root) == before
    assert (
        runner.invoke(app, ["--registry", str(registry.root), "describe", "m", "1"]).exit_code == 0
    )


def test_a_refused_registration_leaves_no_model_behind(registry: Registry) -> None:
    """register --create-model writes the model folder and model.yaml before the version
    file: when the version file is refused, those are taken back too."""
    registry.register("other", "s3://bucket/other", create_model=True)
    before = files(registry.root)
    folders = sorted(path.name for path in (registry.root / "models").iterdir())
    with pytest.raises(InvalidInputError, match=SIZE_LIMIT_RE):
        registry.register("m", "s3://bucket/m", description="d" * 4_500_000, create_model=True)
    assert files(registry.root) == before
    assert sorted(path.name for path in (registry.root / "models").iterdir()) == folders


def test_a_refused_transition_puts_back_the_archived_version(registry: Registry) -> None:
    """--archive-existing archives version 1 before moving version 2; when version 2's
    file would cross the limit, version 1 is put back in Production."""
    registry.register("m", "s3://bucket/m1", create_model=True)
    registry.register("m", "s3://bucket/m2")
    registry.transition_model_version_stage("m", 1, "Production")
    version_file = registry.root / "models/m/versions/2.yaml"
    # Fill version 2's file to 60 bytes under the limit: every update adds a history
    # entry of the same size, measured by two updates of the same length.
    registry.update_model_version("m", 2, "d" * 4_000_000)
    first = len(version_file.read_bytes())
    registry.update_model_version("m", 2, "e" * 4_000_000)
    second = len(version_file.read_bytes())
    entry = second - first
    room = yamlio.MAX_FILE_BYTES - second - entry - 60
    registry.update_model_version("m", 2, "f" * (4_000_000 + room))
    assert yamlio.MAX_FILE_BYTES - 120 < len(version_file.read_bytes()) <= yamlio.MAX_FILE_BYTES
    before = files(registry.root)
    with pytest.raises(InvalidInputError, match=SIZE_LIMIT_RE):
        registry.transition_model_version_stage("m", 2, "Production", True)
    assert files(registry.root) == before
    stages = {mv.version: mv.current_stage for mv in registry.list_versions("m")}
    assert stages == {1: "Production", 2: "None"}


def test_nesting_deeper_than_readers_accept_is_refused(registry: Registry) -> None:
    registry.register("m", "s3://bucket/m", create_model=True)
    before = files(registry.root)
    deep: object = "bottom"
    for _ in range(yamlio.MAX_DEPTH):
        deep = {"level": deep}
    with pytest.raises(InvalidInputError, match="more than the 32 a registry file may be"):
        registry.register("m", "s3://bucket/m2", params={"deep": deep})
    assert files(registry.root) == before
    shallow: object = "bottom"
    for _ in range(yamlio.MAX_DEPTH - 3):  # file, params, the param: three levels above
        shallow = {"level": shallow}
    registry.register("m", "s3://bucket/m3", params={"deep": shallow})
    assert Registry(registry.root).get_model_version("m", 2).params["deep"] == shallow


def test_too_many_values_are_named() -> None:
    assert yamlio.limit_problem(list(range(249_995)), b"") is None
    assert yamlio.limit_problem(list(range(249_996)), b"") == (
        "250,001 values, more than the 250,000 a registry file may hold"
    )


@pytest.mark.slow
@pytest.mark.parametrize("items", [249_995, 249_996])
def test_the_value_limit_is_the_readers(tmp_path: Path, items: int) -> None:
    """What a writer refuses is exactly what a reader would refuse."""
    doc = list(range(items))
    data = yamlio.dumps(doc).encode()
    path = tmp_path / "values.yaml"
    path.write_bytes(data)
    problem = yamlio.limit_problem(doc, data)
    if items == 249_995:
        assert problem is None
        assert yamlio.load(path) == doc
    else:
        assert problem == "250,001 values, more than the 250,000 a registry file may hold"
        with pytest.raises(Exception, match="more than 250,000 values"):
            yamlio.load(path)
