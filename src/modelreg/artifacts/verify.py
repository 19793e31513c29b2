"""``check --artifacts``: every version's artifact, checked against what it recorded.

A local artifact present here is hashed (its sha256 and size must be the recorded ones);
an artifact the store holds must be there with the recorded size (its bytes are hashed
when it is pulled: checking them here would download every artifact). A version whose
artifact is neither here nor stored is missing. Remote sources (``s3://`` registered as
such, ``runs:/``) are not checked: modelreg never had their bytes.

The versions' data sets too (:mod:`modelreg.datasets`): a local one present here is hashed
again (each file once, however many versions name it), a DVC-tracked one compared with
what DVC records now. A data set that is not here is skipped: data often stays out of a
clone (too large, or fetched by DVC), and its absence is no sign of a change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelreg.artifacts.cache import label, recorded
from modelreg.entities import ModelVersion
from modelreg.errors import RegistryError
from modelreg.lineage import artifact_digest
from modelreg.refs import artifact_location, local_artifact_path


@dataclass(frozen=True)
class ArtifactProblem:
    """One version's artifact that is missing or changed."""

    version: ModelVersion
    where: str
    problem: str
    fix: str


def verify_versions(
    versions: Sequence[ModelVersion], root: Path, advance: Callable[[int], None]
) -> list[ArtifactProblem]:
    """The problems of ``versions``' artifacts; ``advance(1)`` after each version."""
    problems: list[ArtifactProblem] = []
    hashed: dict[Path, tuple[str, int]] = {}
    for mv in versions:
        found = verify_version(mv, root)
        if found is not None:
            problems.append(found)
        problems.extend(verify_datasets(mv, root, hashed))
        advance(1)
    return problems


def verify_datasets(
    mv: ModelVersion, root: Path, hashed: dict[Path, tuple[str, int]]
) -> list[ArtifactProblem]:
    """The data sets of ``mv`` that changed since it was registered; ``hashed`` keeps
    the (sha256, size) of the files already hashed."""
    from modelreg.datalineage import dvc_record

    problems = []
    for name, dataset in sorted(mv.datasets.items()):
        if dataset.source_type not in ("local", "dvc") or dataset.digest is None:
            continue
        if dataset.digest.startswith("mlflow:"):
            continue  # MLflow's digest of the data it loaded, not of the file's bytes
        path = Path(artifact_location(dataset.source, root))
        what = f"{label(mv)}: its data set {name!r} at {path}"
        fix = (
            "restore the data it was trained on (git restore, dvc checkout), or train and "
            "register a new version on the new data"
        )
        if dataset.source_type == "dvc":
            record = dvc_record(path)
            if record is not None and record[0] != dataset.digest:
                problems.append(
                    ArtifactProblem(
                        mv,
                        str(record[2]),
                        f"{what} changed: DVC records {record[0]} in {record[2].name}, "
                        f"registered with {dataset.digest}",
                        fix,
                    )
                )
            continue
        if not path.exists():
            continue
        if path not in hashed:
            hashed[path] = artifact_digest(path)
        sha256, size = hashed[path]
        if f"sha256:{sha256}" != dataset.digest or (
            dataset.size is not None and size != dataset.size
        ):
            problems.append(
                ArtifactProblem(
                    mv,
                    str(path),
                    f"{what} changed since it was registered: sha256:{sha256} ({size} bytes), "
                    f"recorded {dataset.digest} ({dataset.size} bytes)",
                    fix,
                )
            )
    return problems


def verify_version(mv: ModelVersion, root: Path) -> ArtifactProblem | None:
    expected = recorded(mv)
    local = local_artifact_path(mv.source)
    if local is not None:
        path = Path(artifact_location(mv.source, root))
        if path.exists():
            if expected is None:
                return None
            found = artifact_digest(path)
            if found == expected:
                return None
            return ArtifactProblem(
                mv,
                str(path),
                f"{label(mv)}: changed since it was registered: sha256 {found[0]} "
                f"({found[1]} bytes), recorded sha256 {expected[0]} ({expected[1]} bytes)",
                "register the new file as a new version, or restore the recorded one "
                + ("(modelreg pull)" if mv.artifact_uri else "(no stored copy)"),
            )
    if mv.artifact_uri is not None and expected is not None:
        return _verify_stored(mv, root, expected)
    if local is not None:
        return ArtifactProblem(
            mv,
            artifact_location(mv.source, root),
            f"{label(mv)}: its artifact is missing, and no store has a copy",
            "restore the file, or register the artifact again with an artifact_store",
        )
    return None


def _verify_stored(
    mv: ModelVersion, root: Path, expected: tuple[str, int]
) -> ArtifactProblem | None:
    from modelreg.artifacts.store import stored_size

    assert mv.artifact_uri is not None
    try:
        size = stored_size(mv.artifact_uri, root)
    except RegistryError as exc:
        return ArtifactProblem(mv, mv.artifact_uri, f"{label(mv)}: {exc}", "check the store")
    if size is None:
        return ArtifactProblem(
            mv,
            mv.artifact_uri,
            f"{label(mv)}: its stored artifact is missing from the store",
            "upload it again (modelreg register --allow-duplicate), or gc released it",
        )
    if size != expected[1]:
        return ArtifactProblem(
            mv,
            mv.artifact_uri,
            f"{label(mv)}: the stored artifact has {size} bytes, recorded {expected[1]}",
            "the store's copy was changed: upload the artifact again",
        )
    return None
