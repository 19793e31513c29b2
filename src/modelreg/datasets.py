"""The data sets a version was trained on: lineage from a model to its training data.

A version records each input data set under a name (``train``, ``eval``...) with its
source (a path as recorded — relative to the registry folder inside the project, as an
artifact source is — or a URI), a content digest, its size in bytes, the git commit it
was at and what kind of source it is. Digests carry their algorithm: ``sha256:<hex>``
for a file or folder modelreg hashed (or a digest given with ``URI#sha256:<hex>``),
``md5:<hex>`` (``md5:<hex>.dir`` for a folder) read from DVC, ``mlflow:<digest>`` for a
digest imported from MLflow as it was.

This module is on the read path (entities import it): nothing heavy at import time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from modelreg.docread import DocReader, Document
from modelreg.errors import CorruptFileError, InvalidInputError, NotFoundError

#: The fields of a data set besides its name, in the order files and JSON show them.
DATASET_FIELDS = ("source", "digest", "size", "git_commit", "source_type")
#: A data set's name: what ``--dataset NAME=...`` and ``datasets.NAME`` in a filter take.
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}")


@dataclass(frozen=True)
class Dataset:
    """One input data set of a version (see the module's docstring for the fields)."""

    name: str
    source: str
    digest: str | None = None
    size: int | None = None
    git_commit: str | None = None
    source_type: str | None = None

    def to_dict(self) -> Document:
        """The JSON/YAML shape, without the name (the key it is found under)."""
        return {
            "source": self.source,
            "digest": self.digest,
            "size": self.size,
            "git_commit": self.git_commit,
            "source_type": self.source_type,
        }

    def as_tuple(self) -> tuple[str, str | None, int | None, str | None, str | None]:
        """The fields besides the name, for the search cache (``Dataset(name, *t)``)."""
        return (self.source, self.digest, self.size, self.git_commit, self.source_type)


def validate_name(name: object) -> str:
    """``name`` if it is a valid data-set name, else InvalidInputError."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise InvalidInputError(
            f"invalid data set name {name!r}: use letters, digits, '_' and '-' "
            "(at most 100, not starting with '-'), e.g. train"
        )
    return name


def datasets_doc(datasets: Mapping[str, Dataset]) -> Document:
    """The ``datasets:`` mapping of a version file or of the JSON output, by name."""
    return {name: datasets[name].to_dict() for name in sorted(datasets)}


def read_datasets(read: DocReader) -> dict[str, Dataset]:
    """The ``datasets:`` mapping of a version file (absent or null: none)."""
    section = read.section("datasets")
    found: dict[str, Dataset] = {}
    for name, value in section.doc.items():
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise CorruptFileError(read.path, f"'datasets' has an invalid name {name!r}")
        entry = section.nested(name, value)
        entry.known_keys(DATASET_FIELDS)
        found[name] = Dataset(
            name=name,
            source=entry.text("source"),
            digest=entry.optional_text("digest"),
            size=entry.optional_integer("size"),
            git_commit=entry.optional_text("git_commit"),
            source_type=entry.optional_text("source_type"),
        )
    return found


def unpack(cached: Mapping[str, object]) -> dict[str, Dataset]:
    """Data sets from the search cache's form (:meth:`Dataset.as_tuple` by name)."""
    return {
        name: Dataset(name, *fields)
        for name, fields in cached.items()
        if isinstance(fields, (tuple, list))
    }


def pack(datasets: object) -> object:
    """The search cache's form of a version's data sets (marshal keeps tuples, not
    dataclasses)."""
    if not isinstance(datasets, dict):
        return datasets
    return {
        name: dataset.as_tuple() if isinstance(dataset, Dataset) else dataset
        for name, dataset in datasets.items()
    }


# -- measuring what `register --dataset NAME=PATH_OR_URI` names -----------------------

_SHA256_FRAGMENT = "#sha256:"
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_MD5 = re.compile(r"[0-9a-fA-F]{32}(\.dir)?")


def parse_spec(text: str) -> tuple[str, str]:
    """``NAME=PATH_OR_URI`` (the command line's ``--dataset``) as (name, path or URI)."""
    name, equals, spec = text.partition("=")
    if not equals or not spec.strip():
        raise InvalidInputError(
            f"invalid --dataset {text!r}: expected NAME=PATH_OR_URI, e.g. train=data/train.csv"
        )
    return validate_name(name.strip()), spec.strip()


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
    from modelreg.refs import local_artifact_path

    local = local_artifact_path(spec)
    if local is None:
        return _remote(name, spec)
    absolute = _absolute(local)
    from modelreg.artifacts.local import recorded_path

    stored = recorded_path(absolute, root)
    dvc = dvc_record(absolute)
    if dvc is not None:
        digest, size, record = dvc
        return Dataset(name, stored, digest, size, _git_commit(record), "dvc")
    if not absolute.exists():
        raise _missing(spec, absolute)
    from modelreg.lineage import artifact_digest

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
    from modelreg.lineage import artifact_digest

    return "sha256:" + artifact_digest(path)[0]


def _git_commit(path: Path) -> str | None:
    """HEAD of the git work tree ``path`` is in, when git tracks ``path`` and it is
    unchanged since (then that commit has these bytes); else None."""
    from modelreg.artifacts.local import git_toplevel
    from modelreg.lineage import _git, git_exit_code

    top = git_toplevel(path if path.is_dir() else path.parent)
    if top is None:
        return None
    where = ["--", str(path)]
    if git_exit_code(["ls-files", "--error-unmatch", *where], top) != 0:
        return None  # untracked (or ignored): no commit has it
    status = _git(
        ["--no-optional-locks", "status", "--porcelain", "--untracked-files=all", *where], top
    )
    if status is None or status:
        return None  # modified, staged or partly untracked: HEAD is not what was used
    return _git(["rev-parse", "HEAD"], top)


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
    from modelreg import yamlio

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
    from modelreg.refs import local_artifact_path

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
