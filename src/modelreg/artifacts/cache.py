"""The local cache of pulled artifacts, and ``pull`` itself.

The cache is ``$MODELREG_CACHE``, else ``$XDG_CACHE_HOME/modelreg/artifacts``, else
``~/.cache/modelreg/artifacts`` (beside the index cache of :mod:`modelreg.index`). An
artifact lives in ``<cache>/<sha256>/<name>`` (``name``: the last part of its source, so
a loader that looks at the suffix sees ``model.pkl``), with
``<cache>/<sha256>/.verified`` noting the size and modification time of every file as
they were when their hash was checked. A download goes to ``<cache>/tmp-<random>/``, is
verified there and only then renamed to ``<cache>/<sha256>``: the cache never holds a
partial or unverified artifact under its final name. A later pull whose ``.verified``
still matches the files is a hit (no download, no hashing); one that no longer matches
is hashed again, and replaced when its bytes changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from modelreg.artifacts.local import check_digest, remove_path
from modelreg.entities import ModelVersion
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.lineage import artifact_digest
from modelreg.refs import artifact_location, local_artifact_path

_STAMP = ".verified"

Progress = Callable[[int], None]


def cache_root() -> Path:
    explicit = os.environ.get("MODELREG_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "modelreg" / "artifacts"


def label(mv: ModelVersion) -> str:
    return f"{mv.name} version {mv.version}"


def artifact_name(mv: ModelVersion) -> str:
    """The file or folder name a pulled artifact gets: the last part of its source."""
    local = local_artifact_path(mv.source)
    text = str(local) if local is not None else mv.source.split("://", 1)[-1]
    name = PurePosixPath(text.replace("\\", "/").rstrip("/")).name
    return name if name and name not in (".", "..") else "artifact"


@dataclass(frozen=True)
class Pulled:
    """Where a pulled artifact is, and whether it was downloaded this time."""

    path: Path
    downloaded: bool
    verified: bool


def pull(
    mv: ModelVersion, root: Path, dst: Path | None = None, progress: Progress | None = None
) -> Pulled:
    """A verified local copy of ``mv``'s artifact: in the cache (``dst`` None) or in the
    folder ``dst``. Without a stored copy, a local artifact present here is verified in
    place (or copied to ``dst``)."""
    expected = recorded(mv)
    if mv.artifact_uri is not None:
        assert expected is not None  # an uploaded artifact always has its hash recorded
        if dst is None:
            return _pull_to_cache(mv, root, expected, progress)
        return _pull_to(mv, root, dst, expected, progress)
    location = artifact_location(mv.source, root)
    local = local_artifact_path(mv.source)
    if local is None:
        raise NotFoundError(
            f"{label(mv)} has no stored artifact to pull (its source is {mv.source}, and it "
            "was not uploaded to an artifact store)"
        )
    path = Path(location)
    if not path.exists():
        raise NotFoundError(
            f"{label(mv)}: its artifact {location} is not here and was never uploaded to an "
            "artifact store (set artifact_store in registry.yaml before registering)"
        )
    if expected is not None:
        check_local(mv, path, expected)
    if dst is None:
        return Pulled(path, downloaded=False, verified=expected is not None)
    return _copy_local(mv, path, dst, expected)


def verify_here(mv: ModelVersion, root: Path) -> str:
    """Check the local artifact of ``mv`` (as :func:`modelreg.sources.with_its_artifact`
    gives it) against its recorded sha256 and size; its location. ArtifactMismatchError
    (exit 7) when it changed, NotFoundError when it is not here, InvalidInputError when
    the version recorded no hash."""
    location = artifact_location(mv.source, root)
    expected = recorded(mv)
    if expected is None:
        raise InvalidInputError(
            f"{label(mv)} records no sha256 (a remote source, or one registered before "
            "it existed): nothing to verify against"
        )
    if not Path(location).exists():
        hint = "; `modelreg pull` downloads the stored copy" if mv.artifact_uri else ""
        raise NotFoundError(f"{label(mv)}: its artifact {location} is not here{hint}")
    check_local(mv, Path(location), expected)
    return location


def recorded(mv: ModelVersion) -> tuple[str, int] | None:
    if mv.artifact_sha256 is None or mv.artifact_size is None:
        return None
    return mv.artifact_sha256, mv.artifact_size


def check_local(mv: ModelVersion, path: Path, expected: tuple[str, int]) -> None:
    """Raise ArtifactMismatchError unless the file or folder at ``path`` hashes to
    ``expected``."""
    check_digest(label(mv), str(path), expected, artifact_digest(path))


def _pull_to_cache(
    mv: ModelVersion, root: Path, expected: tuple[str, int], progress: Progress | None
) -> Pulled:
    cache = cache_root()
    entry = cache / expected[0]
    hit = _cached(entry, expected)
    if hit is not None:
        return Pulled(hit, downloaded=False, verified=True)
    cache.mkdir(parents=True, exist_ok=True)
    staging = cache / f"tmp-{secrets.token_hex(8)}"
    staging.mkdir()
    try:
        target = staging / artifact_name(mv)
        _download(mv, root, target, expected, progress)
        _write_stamp(staging, target)
        if entry.exists():
            # Changed since it was verified (or another pull won the race): replaced.
            remove_path(entry)
        try:
            staging.replace(entry)
        except OSError:
            # Another pull renamed its copy first: the same verified bytes.
            hit = _cached(entry, expected)
            if hit is None:
                raise
            return Pulled(hit, downloaded=True, verified=True)
    finally:
        remove_path(staging)
    return Pulled(entry / target.name, downloaded=True, verified=True)


def _pull_to(
    mv: ModelVersion, root: Path, dst: Path, expected: tuple[str, int], progress: Progress | None
) -> Pulled:
    dst.mkdir(parents=True, exist_ok=True)
    final = dst / artifact_name(mv)
    if final.exists() and artifact_digest(final) == expected:
        return Pulled(final, downloaded=False, verified=True)
    staging = dst / f".modelreg-tmp-{secrets.token_hex(8)}"
    staging.mkdir()
    try:
        target = staging / final.name
        _download(mv, root, target, expected, progress)
        remove_path(final)
        target.replace(final)
    finally:
        remove_path(staging)
    return Pulled(final, downloaded=True, verified=True)


def _copy_local(
    mv: ModelVersion, path: Path, dst: Path, expected: tuple[str, int] | None
) -> Pulled:
    dst.mkdir(parents=True, exist_ok=True)
    final = dst / path.name
    staging = dst / f".modelreg-tmp-{secrets.token_hex(8)}"
    staging.mkdir()
    try:
        target = staging / path.name
        if path.is_dir():
            shutil.copytree(path, target, symlinks=False)
        else:
            shutil.copyfile(path, target)
        if expected is not None:
            check_local(mv, target, expected)
        remove_path(final)
        target.replace(final)
    finally:
        remove_path(staging)
    return Pulled(final, downloaded=False, verified=expected is not None)


def _download(
    mv: ModelVersion, root: Path, target: Path, expected: tuple[str, int], progress: Progress | None
) -> None:
    from modelreg.artifacts.store import download

    assert mv.artifact_uri is not None
    download(mv.artifact_uri, root, target, expected, label(mv), progress)


def _cached(entry: Path, expected: tuple[str, int]) -> Path | None:
    """The verified artifact in a cache entry, or None (absent, or no longer verified)."""
    try:
        names = [p for p in entry.iterdir() if p.name != _STAMP]
    except (FileNotFoundError, NotADirectoryError):
        return None
    if len(names) != 1:
        return None
    artifact = names[0]
    stamp = entry / _STAMP
    with contextlib.suppress(OSError, ValueError):
        if json.loads(stamp.read_text()) == _files_state(artifact):
            return artifact
    if artifact_digest(artifact) == expected:
        _write_stamp(entry, artifact)
        return artifact
    return None


def _write_stamp(entry: Path, artifact: Path) -> None:
    (entry / _STAMP).write_text(json.dumps(_files_state(artifact)))


def _files_state(artifact: Path) -> list[list[object]]:
    files = [artifact] if artifact.is_file() else sorted(artifact.rglob("*"))
    return [
        [str(f.relative_to(artifact.parent)), st.st_size, st.st_mtime_ns, st.st_ino]
        for f in files
        if f.is_file()
        for st in (f.stat(),)
    ]
