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
    # The same change has the same id whoever announces it — the write that made it,
    # `sync` once it is published, `changes --deliver` in CI — so a receiver, and
    # `sync`, can tell a change that was already announced.
    delivery_id: str = ""

    def __post_init__(self) -> None:
        if not self.delivery_id:
            object.__setattr__(self, "delivery_id", _change_id(self))

    def to_dict(self) -> Document:
        return {
            "event": self.type,
            "delivery_id": self.delivery_id,
            "timestamp": self.timestamp,
            "user": self.user,
            "data": dict(self.data),
            "entity": self.entity,
        }


def _change_id(event: Event) -> str:
    import uuid  # only writes make events: reads skip the import

    from modelreg import jsonio

    what = [
        event.type,
        event.entity.get("name"),
        event.entity.get("version"),
        event.timestamp,
        event.user,
        event.data,
    ]
    text = jsonio.dumps(what, sort_keys=True, default=str)
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"modelreg:event:{text}"))
