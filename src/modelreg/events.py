"""Events: what a registry write tells the outside world once it is durable.

Event names follow MLflow's webhook events where MLflow has one
(``model_version.created``, ``model_version_alias.created``, ...); the others use the
same ``entity.action`` shape (``model_version.stage_changed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modelreg.docread import Document

REGISTERED_MODEL_CREATED = "registered_model.created"
REGISTERED_MODEL_RENAMED = "registered_model.renamed"
REGISTERED_MODEL_DELETED = "registered_model.deleted"
REGISTERED_MODEL_DESCRIPTION_CHANGED = "registered_model.description_changed"
REGISTERED_MODEL_TAG_SET = "registered_model_tag.set"
REGISTERED_MODEL_TAG_DELETED = "registered_model_tag.deleted"
MODEL_VERSION_CREATED = "model_version.created"
MODEL_VERSION_DELETED = "model_version.deleted"
MODEL_VERSION_STAGE_CHANGED = "model_version.stage_changed"
MODEL_VERSION_DESCRIPTION_CHANGED = "model_version.description_changed"
MODEL_VERSION_TAG_SET = "model_version_tag.set"
MODEL_VERSION_TAG_DELETED = "model_version_tag.deleted"
MODEL_VERSION_ALIAS_CREATED = "model_version_alias.created"
MODEL_VERSION_ALIAS_DELETED = "model_version_alias.deleted"
MODEL_VERSION_TRANSITION_REQUESTED = "model_version.transition_requested"
MODEL_VERSION_APPROVED = "model_version.approved"
MODEL_VERSION_REJECTED = "model_version.rejected"
MODEL_VERSION_COMMENTED = "model_version.commented"
MODEL_VERSION_CHECK_COMPLETED = "model_version.check_completed"

EVENT_TYPES = (
    REGISTERED_MODEL_CREATED,
    REGISTERED_MODEL_RENAMED,
    REGISTERED_MODEL_DELETED,
    REGISTERED_MODEL_DESCRIPTION_CHANGED,
    REGISTERED_MODEL_TAG_SET,
    REGISTERED_MODEL_TAG_DELETED,
    MODEL_VERSION_CREATED,
    MODEL_VERSION_DELETED,
    MODEL_VERSION_STAGE_CHANGED,
    MODEL_VERSION_DESCRIPTION_CHANGED,
    MODEL_VERSION_TAG_SET,
    MODEL_VERSION_TAG_DELETED,
    MODEL_VERSION_ALIAS_CREATED,
    MODEL_VERSION_ALIAS_DELETED,
    MODEL_VERSION_TRANSITION_REQUESTED,
    MODEL_VERSION_APPROVED,
    MODEL_VERSION_REJECTED,
    MODEL_VERSION_COMMENTED,
    MODEL_VERSION_CHECK_COMPLETED,
)


@dataclass(frozen=True)
class Event:
    """One change: its type, the entity as the JSON output shows it, who, when, and
    what changed (``data``: from/to stage, alias, tag key and value, ...)."""

    type: str
    entity: Document
    user: str
    timestamp: str
    data: Document = field(default_factory=dict)
    delivery_id: str = field(default_factory=lambda: _new_delivery_id())

    def to_dict(self) -> Document:
        return {
            "event": self.type,
            "delivery_id": self.delivery_id,
            "timestamp": self.timestamp,
            "user": self.user,
            "data": dict(self.data),
            "entity": self.entity,
        }


def _new_delivery_id() -> str:
    import uuid  # only writes make events: reads skip the import

    return str(uuid.uuid4())
