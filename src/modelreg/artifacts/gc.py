"""``modelreg gc``: remove from the artifact store what no kept version needs.

A version keeps its stored artifact unless the registry's ``retention:`` releases it, and
retention only ever releases an *archived* version that none of its rules keeps (the
newest ``keep_last`` versions of each model, a version an alias points at, a version in
one of ``keep_stages``). ``gc`` then removes every blob and folder manifest that no kept
version references — so a blob shared with a kept version always stays — and the
leftovers of interrupted uploads under ``tmp/``. Objects younger than the grace period
(an hour by default) stay too: a ``register`` running at the same time may have uploaded
its artifact and not yet written its version.

``gc`` sees the versions of this registry folder as checked out: run it where every
version that matters is (the main branch), not on a branch that lacks some.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from modelreg.artifacts.store import ArtifactStore, StoredObject
from modelreg.config import Retention
from modelreg.entities import ModelVersion

DEFAULT_GRACE_SECONDS = 3600.0


@dataclass
class GcResult:
    """What ``gc`` removes (or would, with ``--dry-run``), and why nothing else."""

    store: str
    removed: list[StoredObject] = field(default_factory=list)
    released: list[ModelVersion] = field(default_factory=list)
    kept: int = 0  # stored objects a kept version needs, or too young to judge

    @property
    def bytes(self) -> int:
        return sum(obj.size for obj in self.removed)


def released_versions(
    versions: Sequence[ModelVersion], retention: Retention | None
) -> list[ModelVersion]:
    """The versions whose stored artifacts ``retention`` lets go (none without one)."""
    if retention is None:
        return []
    newest: dict[str, list[int]] = {}
    for mv in versions:
        newest.setdefault(mv.name, []).append(mv.version)
    last = {
        name: set(sorted(numbers)[-retention.keep_last :]) if retention.keep_last else set()
        for name, numbers in newest.items()
    }
    return [
        mv
        for mv in versions
        if mv.current_stage == "Archived"
        and mv.current_stage not in retention.keep_stages
        and not (retention.keep_aliased and mv.aliases)
        and mv.version not in last[mv.name]
    ]


def collect(
    store: ArtifactStore,
    versions: Sequence[ModelVersion],
    retention: Retention | None,
    *,
    dry_run: bool,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
) -> GcResult:
    """Remove (unless ``dry_run``) what no kept version references."""
    released = released_versions(versions, retention)
    let_go = {(mv.name, mv.version) for mv in released}
    # By key, whatever store a version names: the keys are content addresses, so a kept
    # version's key is kept even when its URI spells this store another way (keeping too
    # much is safe; removing a kept version's bytes is not).
    needed: set[str] = set()
    for mv in versions:
        if mv.artifact_uri and (mv.name, mv.version) not in let_go:
            needed.update(store.keys_of(mv.artifact_uri))
    horizon = time.time() - grace_seconds
    result = GcResult(store.where.spelling, released=released)
    for prefix in ("trees", "blobs", "tmp"):
        for obj in store.objects(prefix):
            young = obj.modified is not None and obj.modified > horizon
            if obj.key in needed or young:
                result.kept += 1
            else:
                result.removed.append(obj)
    if not dry_run:
        # Manifests first: a folder never looks complete once one of its blobs is gone.
        store.remove([obj.key for obj in result.removed])
    return result
