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

import re
from collections.abc import Mapping

from modelreg.docread import DocReader, Document
from modelreg.errors import CorruptFileError, InvalidInputError
from modelreg.structs import frozen_struct

#: The fields of a data set besides its name, in the order files and JSON show them.
DATASET_FIELDS = ("source", "digest", "size", "git_commit", "source_type")
#: A data set's name: what ``--dataset NAME=...`` and ``datasets.NAME`` in a filter take.
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}")


@frozen_struct
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
    structs)."""
    if not isinstance(datasets, dict):
        return datasets
    return {
        name: dataset.as_tuple() if isinstance(dataset, Dataset) else dataset
        for name, dataset in datasets.items()
    }


def parse_spec(text: str) -> tuple[str, str]:
    """``NAME=PATH_OR_URI`` (the command line's ``--dataset``) as (name, path or URI)."""
    name, equals, spec = text.partition("=")
    if not equals or not spec.strip():
        raise InvalidInputError(
            f"invalid --dataset {text!r}: expected NAME=PATH_OR_URI, e.g. train=data/train.csv"
        )
    return validate_name(name.strip()), spec.strip()
