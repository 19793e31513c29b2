"""``registry.yaml``: the registry's format version, its stages and its settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelreg.errors import CorruptFileError, InvalidInputError

FORMAT_VERSION = 1
DEFAULT_STAGES = ("None", "Staging", "Production", "Archived")
DEFAULT_LOCK_TIMEOUT = 10.0
# MLflow allows archive_existing_versions only when entering these two stages.
ARCHIVING_STAGES = ("Staging", "Production")
KNOWN_KEYS = ("modelreg", "stages", "exclusive_stages", "lock_timeout", "rules", "hooks")


@dataclass(frozen=True)
class Config:
    stages: tuple[str, ...] = DEFAULT_STAGES
    # Stages that may hold at most one version per model; `check` enforces it.
    exclusive_stages: tuple[str, ...] = ()
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def canonical_stage(self, stage: str) -> str:
        """The registry's spelling of ``stage`` (input is case-insensitive)."""
        for known in self.stages:
            if known.lower() == str(stage).strip().lower():
                return known
        raise InvalidInputError(
            f"unknown stage {stage!r}; this registry's stages are: {', '.join(self.stages)}"
        )

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"modelreg": FORMAT_VERSION, "stages": list(self.stages)}
        if self.exclusive_stages:
            doc["exclusive_stages"] = list(self.exclusive_stages)
        doc["lock_timeout"] = self.lock_timeout
        return doc


def parse_config(doc: dict[str, Any], path: Path) -> Config:
    """Check ``registry.yaml``; every problem names the key."""
    version = doc.get("modelreg", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise CorruptFileError(
            path, f"'modelreg' is format version {version!r}; this modelreg reads version 1"
        )
    for key in doc:
        if key not in KNOWN_KEYS:
            raise CorruptFileError(
                path, f"unknown key '{key}'; known keys are: {', '.join(KNOWN_KEYS)}"
            )
    stages = _stage_list(doc.get("stages", list(DEFAULT_STAGES)), path, "stages")
    if "None" not in stages:
        raise CorruptFileError(path, "'stages' must include 'None', the stage of new versions")
    exclusive = _stage_list(doc.get("exclusive_stages", []), path, "exclusive_stages")
    for stage in exclusive:
        if stage not in stages:
            raise CorruptFileError(path, f"'exclusive_stages' names unknown stage {stage!r}")
    timeout = doc.get("lock_timeout", DEFAULT_LOCK_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise CorruptFileError(path, "'lock_timeout' must be a number of seconds >= 0")
    return Config(tuple(stages), tuple(exclusive), float(timeout), raw=doc)


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


def _stage_list(value: Any, path: Path, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise CorruptFileError(path, f"'{key}' must be a list of stage names")
    lowered = [item.lower() for item in value]
    if len(set(lowered)) != len(lowered):
        raise CorruptFileError(path, f"'{key}' lists a stage twice")
    return list(value)
