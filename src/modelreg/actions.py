"""The actions a history entry records (its ``action`` field), defined once.

Every entry in a ``history:`` list of model.yaml or a version file names what happened
with one of these words; the registry writes them, ``check`` and the promotion rules
read them, and ``import``/``export`` map them. They are part of the file format: never
rename one.
"""

from __future__ import annotations

# A registered model (model.yaml's history).
MODEL_CREATED = "model_created"
MODEL_RENAMED = "model_renamed"
DESCRIPTION_CHANGED = "description_changed"  # of a model or of a version
TAG_SET = "tag_set"  # of a model or of a version
TAG_DELETED = "tag_deleted"
ALIAS_SET = "alias_set"
ALIAS_DELETED = "alias_deleted"
VERSION_DELETED = "version_deleted"
IMPORTED = "imported"  # of a model or of a version

# A version (its file's history).
VERSION_REGISTERED = "version_registered"
STAGE_CHANGED = "stage_changed"
COMMENTED = "commented"
# A version given a new number (format 2: `check --repair`, a merge or a sync); the entry
# has from_version and to_version.
RENUMBERED = "renumbered"

# The approval workflow (a version's history).
REQUESTED = "transition_requested"
APPROVED = "approved"
REJECTED = "rejected"
CHECK_RUN = "check_run"
VALIDATION_FAILED = "validation_failed"

# Every action above, in the order defined (what `history --action` accepts). Gathered
# from the module's constants so that a new action cannot be left out.
ALL: tuple[str, ...] = tuple(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)
