"""Where a version's artifact is: following ``models:/`` sources.

A version registered from another version of this registry — ``copy_model_version``, or
``register_model("models:/NAME/VERSION", ...)`` — records MLflow's source, the
``models:/`` URI; its artifact is the artifact of the version that URI names. When it is
registered, the artifact's own source is pinned in its lineage as ``storage_location``
(MLflow's name for it), with the artifact's sha256 and size, so that later moves of a
stage or an alias, or the deletion of the original, change nothing; a version imported
from MLflow has MLflow's own resolution as ``mlflow_storage_location``. :func:`artifact_of`
is the one function that answers "which artifact does this version name?": ``resolve``,
``get_model_version_download_uri`` and whatever fetches or verifies artifacts call it.
A version without the pin (written by hand, or imported from MLflow) is followed through
the versions its source names, in a chain of any length, and a chain that comes back to
a version it passed through is an error, not a hang.

MLflow 3's ``models:/<model_id>`` (one part, no ``@``) names a *logged model* of a
tracking server, which a folder registry does not have: it is not followed, and is the
location as it stands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from modelreg.entities import ModelVersion
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.refs import Ref, parse_uri
from modelreg.structs import frozen_struct, replace

#: The lineage key that pins the artifact a ``models:/`` source named at registration.
STORAGE_LOCATION = "storage_location"
#: Where MLflow itself resolved a version's source to, as an import records it.
MLFLOW_STORAGE_LOCATION = "mlflow_storage_location"

Lookup = Callable[[Ref], ModelVersion]


@frozen_struct
class Artifact:
    """The artifact a version names: its source as stored (a path relative to the
    registry folder, an absolute path or a URI; see :func:`modelreg.refs.artifact_location`)
    and the sha256 and size recorded for it (None when it was not a local file), and
    its copy in the artifact store when it was uploaded to one."""

    source: str
    sha256: str | None
    size: int | None
    uri: str | None = None


def model_id_of(uri: str) -> str | None:
    """The logged-model id of MLflow 3's ``models:/<model_id>``, else None (MLflow's rule:
    one path part without ``@``)."""
    if not isinstance(uri, str) or not uri.startswith("models:/"):
        return None
    body = uri.removeprefix("models:/").strip("/")
    if not body or "/" in body or "@" in body:
        return None
    return body


def version_named_by(source: str) -> Ref | None:
    """The version of this registry a ``models:/NAME/...`` source names, else None (an
    artifact path or URI, a logged model, or a URI that cannot name a version)."""
    if not source.startswith("models:/") or model_id_of(source) is not None:
        return None
    try:
        ref = parse_uri(source)
    except InvalidInputError:
        return None
    return None if ref.is_model else ref


def pinned_location(lineage: Mapping[str, object]) -> str | None:
    """The artifact location a version's lineage pins (see the module), else None."""
    pinned = lineage.get(STORAGE_LOCATION) or lineage.get(MLFLOW_STORAGE_LOCATION)
    return pinned if isinstance(pinned, str) and pinned else None


def model_id_for(uri: str, lookup: Lookup) -> str | None:
    """The logged-model id ``register_model(uri)`` records, as MLflow takes it: from
    ``models:/<model_id>``, or the model id of the version ``models:/NAME/...`` names."""
    named = version_named_by(uri) if isinstance(uri, str) else None
    return lookup(named).model_id if named is not None else model_id_of(uri)


def with_its_artifact(mv: ModelVersion, lookup: Lookup) -> ModelVersion:
    """``mv`` with the source, hashes and stored copy of the artifact it names (itself,
    unless its source is ``models:/``): what ``pull`` and verification work on."""
    artifact = artifact_of(mv, lookup)
    return replace(
        mv,
        source=artifact.source,
        artifact_sha256=artifact.sha256,
        artifact_size=artifact.size,
        artifact_uri=artifact.uri,
    )


def artifact_of(mv: ModelVersion, lookup: Lookup) -> Artifact:
    """The artifact ``mv`` names, following ``models:/`` sources (see the module).

    ``lookup`` finds a version by reference (``Registry.resolve_version``). Raises
    NotFoundError when a version on the way no longer exists, or when the sources lead
    back to a version already passed (a cycle, only possible by editing files by hand).
    """
    passed = [mv]
    while True:
        pinned = pinned_location(mv.lineage)
        if pinned is not None:
            return Artifact(pinned, mv.artifact_sha256, mv.artifact_size, mv.artifact_uri)
        ref = version_named_by(mv.source)
        if ref is None:
            return Artifact(mv.source, mv.artifact_sha256, mv.artifact_size, mv.artifact_uri)
        mv = lookup(ref)
        if any((seen.name, seen.version) == (mv.name, mv.version) for seen in passed):
            chain = " -> ".join(f"{seen.name} version {seen.version}" for seen in [*passed, mv])
            raise NotFoundError(f"the models:/ sources go round in a circle: {chain}")
        passed.append(mv)
