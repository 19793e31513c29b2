"""``check --artifacts``: every version's artifact, checked against what it recorded.

A local artifact present here is hashed (its sha256 and size must be the recorded ones);
an artifact the store holds must be there with the recorded size (its bytes are hashed
when it is pulled: checking them here would download every artifact). A version whose
artifact is neither here nor stored is missing. Remote sources (``s3://`` registered as
such, ``runs:/``) are not checked: modelreg never had their bytes.
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
    for mv in versions:
        found = verify_version(mv, root)
        if found is not None:
            problems.append(found)
        advance(1)
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
