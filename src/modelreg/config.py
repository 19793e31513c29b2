"""``registry.yaml``: the registry's format version, its stages and its settings."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from modelreg.docread import DocReader, Document
from modelreg.errors import CorruptFileError, InvalidInputError
from modelreg.structs import field, frozen_struct

TYPE_CHECKING = False  # not `from typing import ...`: start-up (see modelreg.quick)
if TYPE_CHECKING:
    from typing import Any

# The newest format this modelreg reads and writes; new registries get it. Format 1 (no
# `modelreg` key, or 1) keeps aliases, deletes and a counter in model.yaml; format 2 splits
# them into files of their own so that plain git merges of unrelated changes never conflict
# (see layout.py). `modelreg check --repair` upgrades 1 to 2.
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
DEFAULT_STAGES = ("None", "Staging", "Production", "Archived")
DEFAULT_LOCK_TIMEOUT = 10.0
# MLflow allows archive_existing_versions only when entering these two stages.
ARCHIVING_STAGES = ("Staging", "Production")
KNOWN_KEYS = (
    "modelreg",
    "stages",
    "exclusive_stages",
    "lock_timeout",
    "rules",
    "hooks",
    "artifact_store",
    "retention",
)


@frozen_struct
class Retention:
    """``retention:``: which versions keep their stored artifacts when ``gc`` runs. Only
    archived versions can lose them, and only when none of these keeps them."""

    keep_last: int = 0  # the newest N versions of each model
    keep_aliased: bool = True  # a version an alias points at
    keep_stages: tuple[str, ...] = ("Staging", "Production")


# Read by `check --provenance` (modelreg.provenance), at the trusted revision.
PROVENANCE_KEYS = ("identities", "require_signed", "allowed_signers")


@frozen_struct
class Config:
    stages: tuple[str, ...] = DEFAULT_STAGES
    # The registry's file format (1 or 2; see FORMAT_VERSION). 1 is what a registry.yaml
    # without the key means; `init` writes FORMAT_VERSION.
    format: int = 1
    # Stages that may hold at most one version per model; `check` enforces it.
    exclusive_stages: tuple[str, ...] = ()
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    raw: Document = field(default_factory=dict, compare=False)
    # Where `register` uploads artifacts: a folder (relative to the registry folder) or an
    # fsspec URL (s3://, gs://, az://, file://); None: artifacts are not uploaded.
    artifact_store: str | None = None
    # None: `gc` releases no version's artifact, only blobs no version references.
    retention: Retention | None = None

    def canonical_stage(self, stage: str) -> str:
        """The registry's spelling of ``stage`` (input is case-insensitive)."""
        for known in self.stages:
            if known.lower() == str(stage).strip().lower():
                return known
        raise InvalidInputError(
            f"unknown stage {stage!r}; this registry's stages are: {', '.join(self.stages)}"
        )

    def to_doc(self) -> Document:
        doc: dict[str, Any] = {"modelreg": self.format, "stages": list(self.stages)}
        if self.exclusive_stages:
            doc["exclusive_stages"] = list(self.exclusive_stages)
        doc["lock_timeout"] = self.lock_timeout
        return doc


def new_config(path: Path, stages: Sequence[str] | None, file_format: int) -> Config:
    """The settings of a new registry (``path``: its registry.yaml, named by errors)."""
    names = tuple(stages) if stages else DEFAULT_STAGES
    # "Only one version should be in Production per model": new registries say so.
    exclusive = tuple(s for s in ("Production",) if s in names and file_format >= 2)
    config = Config(stages=names, format=file_format, exclusive_stages=exclusive)
    if stages or file_format != FORMAT_VERSION:
        parse_config(config.to_doc(), path)
    return config


def parse_config(doc: Document, path: Path) -> Config:
    """Check ``registry.yaml``; every problem names the key."""
    version = doc.get("modelreg", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version not in READABLE_FORMATS:
        raise CorruptFileError(
            path,
            f"'modelreg' is format version {version!r}; this modelreg reads versions "
            + " and ".join(map(str, READABLE_FORMATS)),
        )
    read = DocReader(doc, path)
    read.known_keys(KNOWN_KEYS + PROVENANCE_KEYS)
    stages = read.stage_names("stages", list(DEFAULT_STAGES))
    if "None" not in stages:
        raise read.error("stages", "must include 'None', the stage of new versions")
    exclusive = read.stage_names("exclusive_stages", [])
    for stage in exclusive:
        if stage not in stages:
            raise read.error("exclusive_stages", f"names unknown stage {stage!r}")
    timeout = read.number(
        "lock_timeout", DEFAULT_LOCK_TIMEOUT, minimum=0, problem="must be a number of seconds >= 0"
    )
    store = read.optional_text("artifact_store", nonblank=True)
    retention = None
    if read.get("retention") is not None:
        section = read.section("retention")
        section.known_keys(("keep_last", "keep_aliased", "keep_stages"))
        default = [stage for stage in ARCHIVING_STAGES if stage in stages]
        kept = section.stage_names("keep_stages", default)
        retention = Retention(
            keep_last=section.integer("keep_last", 0, minimum=0),
            keep_aliased=section.flag("keep_aliased", True),
            keep_stages=tuple(section.known_stage("keep_stages", each, stages) for each in kept),
        )
    return Config(
        tuple(stages),
        version,
        tuple(exclusive),
        timeout,
        raw=doc,
        artifact_store=store,
        retention=retention,
    )


def effective_lock_timeout(config: Config) -> float:
    """``$MODELREG_LOCK_TIMEOUT`` wins over the registry's setting."""
    text = os.environ.get("MODELREG_LOCK_TIMEOUT")
    if not text:
        return config.lock_timeout
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(
            f"MODELREG_LOCK_TIMEOUT must be a number of seconds, not {text!r}"
        ) from None
    if value < 0:
        raise InvalidInputError("MODELREG_LOCK_TIMEOUT must be >= 0")
    return value
