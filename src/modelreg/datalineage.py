"""Measuring the data sets a version is trained on (:mod:`modelreg.datasets` holds the
data model): a local file or folder hashed, a DVC-tracked path read from DVC's own files,
a URI taken as given; and the filter that finds the versions trained on a path, a URI or
a digest (``search --dataset``). Only writes, ``search --dataset`` and ``check
--artifacts`` import it: never the read path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from modelreg import yamlio
from modelreg.artifacts.local import git_toplevel, recorded_path
from modelreg.datasets import Dataset, validate_name
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.lineage import artifact_digest, git_exit_code, git_output
from modelreg.refs import local_artifact_path

# -- measuring what `register --dataset NAME=PATH_OR_URI` names -----------------------

_SHA256_FRAGMENT = "#sha256:"
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_MD5 = re.compile(r"[0-9a-fA-F]{32}(\.dir)?")


def resolve_all(datasets: Mapping[str, str | Dataset] | None, root: Path) -> dict[str, Dataset]:
    """The data sets a registration records: a ``Dataset`` as given, a str measured
    (:func:`measure`); names checked. Done before the registry is locked: hashing a
    large data set takes time."""
    found: dict[str, Dataset] = {}
    for name, given in (datasets or {}).items():
        validate_name(name)
        if isinstance(given, Dataset):
            if given.name != name:
                raise InvalidInputError(
                    f"data set {name!r} is given a Dataset named {given.name!r}: use the same name"
                )
            found[name] = _checked(given)
        elif isinstance(given, str):
            found[name] = measure(name, given, root)
        else:
            raise InvalidInputError(
                f"data set {name!r}: expected a path, a URI or a Dataset, not {given!r}"
            )
    return found


def _checked(dataset: Dataset) -> Dataset:
    if not isinstance(dataset.source, str) or not dataset.source:
        raise InvalidInputError(f"data set {dataset.name!r} needs a source")
    for key in ("digest", "git_commit", "source_type"):
        value = getattr(dataset, key)
        if value is not None and not isinstance(value, str):
            raise InvalidInputError(f"data set {dataset.name!r}: {key} must be text or None")
    size = dataset.size
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise InvalidInputError(f"data set {dataset.name!r}: size must be bytes or None")
    return dataset


def measure(name: str, spec: str, root: Path) -> Dataset:
    """The data set ``spec`` names, as a version records it (``root``: the registry).

    A local file or folder (relative to the working directory, as typed) is hashed
    (sha256, streaming; a folder as artifacts are) unless DVC tracks it: then the md5 and
    size DVC recorded in ``PATH.dvc`` or a ``dvc.lock`` are taken, without running DVC
    (the data need not be pulled). ``git_commit`` is HEAD when git tracks the file (or
    DVC's record of it) unchanged. A URI (``s3://``, ``https://``...) is never
    downloaded: its digest is the ``#sha256:<hex>`` given after it, else None."""
    local = local_artifact_path(spec)
    if local is None:
        return _remote(name, spec)
    absolute = _absolute(local)
    stored = recorded_path(absolute, root)
    dvc = dvc_record(absolute)
    if dvc is not None:
        digest, size, record = dvc
        return Dataset(name, stored, digest, size, _git_commit(record), "dvc")
    if not absolute.exists():
        raise _missing(spec, absolute)
    sha256, size = artifact_digest(absolute)
    return Dataset(name, stored, f"sha256:{sha256}", size, _git_commit(absolute), "local")


def _absolute(local: Path) -> Path:
    # Not resolved: DVC may link a data file into its cache, and the path is what counts.
    return Path(os.path.normpath(Path.cwd() / local))


def _missing(spec: str, absolute: Path) -> NotFoundError:
    return NotFoundError(
        f"no data set at {spec!r} (looked for {absolute}); give an existing file or "
        "folder, a DVC-tracked path, or a URI (s3://, https://, ...)"
    )


def _remote(name: str, spec: str) -> Dataset:
    uri, _, digest = spec.partition(_SHA256_FRAGMENT)
    if _SHA256_FRAGMENT in spec and not _HEX64.fullmatch(digest):
        raise InvalidInputError(
            f"data set {name!r}: expected 64 hex digits after '#sha256:', found {digest!r}"
        )
    scheme = uri.split(":", 1)[0].lower()
    return Dataset(name, uri, f"sha256:{digest.lower()}" if digest else None, None, None, scheme)


def local_digest(path: Path) -> str:
    """``sha256:<hex>`` of a local file or folder, as a data set records it."""
    return "sha256:" + artifact_digest(path)[0]


def _git_commit(path: Path) -> str | None:
    """HEAD of the git work tree ``path`` is in, when git tracks ``path`` and it is
    unchanged since (then that commit has these bytes); else None."""
    top = git_toplevel(path if path.is_dir() else path.parent)
    if top is None:
        return None
    where = ["--", str(path)]
    if git_exit_code(["ls-files", "--error-unmatch", *where], top) != 0:
        return None  # untracked (or ignored): no commit has it
    status = git_output(
        ["--no-optional-locks", "status", "--porcelain", "--untracked-files=all", *where], top
    )
    if status is None or status:
        return None  # modified, staged or partly untracked: HEAD is not what was used
    return git_output(["rev-parse", "HEAD"], top)


def dvc_record(path: Path) -> tuple[str, int | None, Path] | None:
    """What DVC recorded for the absolute ``path``: (``md5:<hex>``, size, the file that
    says so), from ``PATH.dvc`` or from the outputs of a ``dvc.lock`` in its folder or
    one above it (up to the DVC or git repository's top); None when DVC does not track
    it. DVC's files are read as YAML; DVC is not run."""
    own = path.with_name(path.name + ".dvc")
    if own.is_file():
        found = _matching_out(_dvc_outs(own, "outs"), own.parent, path)
        if found is not None:
            return (*found, own)
    for folder in path.parents:
        lock = folder / "dvc.lock"
        if lock.is_file():
            found = _matching_out(_dvc_outs(lock, "stages"), folder, path)
            if found is not None:
                return (*found, lock)
        if (folder / ".dvc").is_dir() or (folder / ".git").exists():
            return None
    return None


def _dvc_outs(file: Path, kind: str) -> list[Mapping[str, object]]:
    """The ``outs`` of a ``.dvc`` file (``kind="outs"``), or of every stage of a
    ``dvc.lock`` (``kind="stages"``; paths relative to the lock's folder, DVC's default
    working directory)."""
    doc = yamlio.load(file)
    if not isinstance(doc, dict):
        return []
    if kind == "outs":
        groups: list[object] = [doc.get("outs")]
    else:
        stages = doc.get("stages")
        found = stages.values() if isinstance(stages, dict) else []
        groups = [stage.get("outs") for stage in found if isinstance(stage, dict)]
    return [
        out for group in groups if isinstance(group, list) for out in group if isinstance(out, dict)
    ]


def _matching_out(
    outs: list[Mapping[str, object]], folder: Path, path: Path
) -> tuple[str, int | None] | None:
    for out in outs:
        where, md5, size = out.get("path"), out.get("md5"), out.get("size")
        if not isinstance(where, str) or os.path.normpath(folder / where) != str(path):
            continue
        if not isinstance(md5, str) or not _MD5.fullmatch(md5):
            return None  # tracked, but with no md5 recorded (yet): hash it ourselves
        recorded = size if isinstance(size, int) and not isinstance(size, bool) else None
        return f"md5:{md5.lower()}", recorded
    return None


# -- "which versions were trained on this?" (`search --dataset`) -----------------------

_DIGEST_RE = re.compile(
    r"(?:sha256:)?(?P<sha256>[0-9a-f]{64})|(?:md5:)?(?P<md5>[0-9a-f]{32}(?:\.dir)?)",
    re.IGNORECASE,
)
_PREFIXES = ("sha256:", "md5:", "mlflow:")


def search_filter(text: str) -> str:
    """The filter that finds the versions trained on ``text``: a digest (``sha256:<hex>``,
    ``md5:<hex>``, ``mlflow:...``, or bare hex: 64 digits are a sha256, 32 an md5), a
    URI (matched by source, or by the digest given with ``#sha256:``), or a local path,
    matched by its digest: its sha256 as modelreg hashes it, and DVC's md5 when DVC
    tracks it. A local path that is neither there nor tracked is NotFoundError."""
    spec = text.strip()
    if not spec:
        raise InvalidInputError("--dataset needs a path, a URI or a digest")
    match = _DIGEST_RE.fullmatch(spec)
    if match is not None:
        sha256 = match["sha256"]
        return _any_digest(
            [f"sha256:{sha256.lower()}" if sha256 else f"md5:{match['md5'].lower()}"]
        )
    if spec.startswith(_PREFIXES):
        return _any_digest([spec])
    if local_artifact_path(spec) is None:
        remote = _remote("search", spec)
        if remote.digest is not None:
            return _any_digest([remote.digest])
        return f"datasets.*.source = {_quoted(remote.source)}"
    absolute = _absolute(Path(spec))
    dvc = dvc_record(absolute)
    digests = [] if dvc is None else [dvc[0]]
    if absolute.exists():  # also the same bytes registered without DVC: their sha256
        digests.append(local_digest(absolute))
    elif dvc is None:
        raise _missing(spec, absolute)
    return _any_digest(digests)


def _any_digest(digests: list[str]) -> str:
    return f"datasets.* IN ({', '.join(_quoted(digest) for digest in digests)})"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
