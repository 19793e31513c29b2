"""Write sessions: every change to a registry is one :class:`Change`.

``with writer.change() as change:`` takes the registry's lock; inside, the caller
re-reads what it changes (``change.catalog``), mutates it, records history entries and
events stamped with the one time of this change, and saves the files. When the block
ends the lock is released, and only then are the events published to the subscribers:
a slow or failing subscriber never holds up other writers and never undoes the change.
An exception inside the block publishes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TypeAlias

from modelreg import actions, workflow
from modelreg import events as ev
from modelreg.catalog import Catalog
from modelreg.config import Config
from modelreg.docread import JSONValue
from modelreg.entities import HistoryEntry, ModelVersion, RegisteredModel, iso_to_ms
from modelreg.errors import NotFoundError

Clock: TypeAlias = Callable[[], str]
"""The time of a change, as ISO-8601 UTC with milliseconds (``entities.now_iso``)."""

Subscriber: TypeAlias = Callable[[ev.Event], None]

# The values a history entry or an event may carry besides its action (None is left out).
Field: TypeAlias = JSONValue


class Writer:
    """Opens the write sessions of one registry."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        user: Callable[[], str],
        clock: Clock,
        subscribers: Callable[[], list[Subscriber]],
    ) -> None:
        self.catalog = catalog
        self._user = user
        self.clock = clock
        self._subscribers = subscribers

    @property
    def user(self) -> str:
        return self._user()

    @contextlib.contextmanager
    def change(self) -> Iterator[Change]:
        """Hold the lock for one change; publish its events once it is durable."""
        change = Change(self)
        with self.catalog.store.lock():
            yield change
        for event in change.events:
            for subscriber in self._subscribers():
                subscriber(event)


class Change:
    """One change under the lock: its time, its history entries, its events."""

    def __init__(self, writer: Writer) -> None:
        self.catalog = writer.catalog
        self._writer = writer
        self._stamp: str | None = None
        self.events: list[ev.Event] = []

    @property
    def stamp(self) -> str:
        """The time of this change (read from the clock once, when first needed)."""
        if self._stamp is None:
            self._stamp = self._writer.clock()
        return self._stamp

    @property
    def user(self) -> str:
        return self._writer.user

    def entry(self, action: str, **fields: Field) -> HistoryEntry:
        """A history entry of this change (fields that are None are left out)."""
        entry: HistoryEntry = {"timestamp": self.stamp, "user_id": self.user, "action": action}
        entry.update({key: value for key, value in fields.items() if value is not None})
        return entry

    def emit(self, kind: str, entity: RegisteredModel | ModelVersion, **data: Field) -> None:
        """Publish an event about ``entity`` (as it is now) once the change is durable."""
        self.events.append(
            ev.Event(
                type=kind,
                entity=entity.to_dict(),
                user=self.user,
                timestamp=self.stamp,
                data={key: value for key, value in data.items() if value is not None},
            )
        )

    def touch(self, entity: RegisteredModel | ModelVersion) -> None:
        entity.last_updated_timestamp = iso_to_ms(self.stamp)

    def describe(self, entity: RegisteredModel | ModelVersion, description: str | None) -> bool:
        """Give ``entity`` a new description (None: keep it); whether it changed."""
        if description is None or description == entity.description:
            return False
        entity.description = description
        self.touch(entity)
        entity.history.append(self.entry(actions.DESCRIPTION_CHANGED))
        return True

    def new_model(self, name: str, description: str | None = None) -> RegisteredModel:
        """A model created now by this change's user, with its ``model_created`` entry."""
        ms = iso_to_ms(self.stamp)
        return RegisteredModel(
            name=name,
            creation_timestamp=ms,
            last_updated_timestamp=ms,
            description=description,
            user_id=self.user,
            history=[self.entry(actions.MODEL_CREATED)],
        )

    def create_model(self, model: RegisteredModel) -> None:
        """Write a new model's folder and model.yaml (its name already checked free)."""
        self.catalog.store.ensure_model_dirs(model.name)
        self.catalog.save_model(model)
        self.emit(ev.REGISTERED_MODEL_CREATED, model)

    def set_stage(self, mv: ModelVersion, stage: str, comment: str | None, **extra: Field) -> None:
        mv.history.append(
            self.entry(
                actions.STAGE_CHANGED,
                from_stage=mv.current_stage,
                to_stage=stage,
                comment=comment,
                **extra,
            )
        )
        mv.current_stage = stage
        self.touch(mv)

    def tag(
        self,
        entity: RegisteredModel | ModelVersion,
        tags: Mapping[str, str],
        remove: Iterable[str] = (),
        *,
        owner: str,
    ) -> bool:
        """Set and remove tags of ``entity``, each change recorded in its history and as
        an event; touches ``entity`` when anything changed, and says whether it did. A
        key to remove that is not there is NotFoundError, naming ``owner``."""
        changes: list[tuple[str, str | None]] = []
        for key in remove:
            if key not in entity.tags:
                raise NotFoundError(f"{owner} has no tag {key!r}")
            del entity.tags[key]
            entity.history.append(self.entry(actions.TAG_DELETED, key=key))
            changes.append((key, None))
        for key, value in tags.items():
            if entity.tags.get(key) != value:
                entity.tags[key] = value
                entity.history.append(self.entry(actions.TAG_SET, key=key, value=value))
                changes.append((key, value))
        if not changes:
            return False
        self.touch(entity)
        model_level = isinstance(entity, RegisteredModel)
        for key, new in changes:
            if new is None:
                deleted = (
                    ev.REGISTERED_MODEL_TAG_DELETED if model_level else ev.MODEL_VERSION_TAG_DELETED
                )
                self.emit(deleted, entity, key=key)
            else:
                set_ = ev.REGISTERED_MODEL_TAG_SET if model_level else ev.MODEL_VERSION_TAG_SET
                self.emit(set_, entity, key=key, value=new)
        return True


class Room:
    """One part of a registry's work (its models, its versions, promotion, import), with
    what every part uses: the writer (and its catalog), the registry's config, its
    rules (parsed when first needed) and its folder."""

    def __init__(
        self, writer: Writer, config: Config, rules: Callable[[], workflow.Rules], root: Path
    ) -> None:
        self._writer = writer
        self._catalog = writer.catalog
        self._config = config
        self._rules = rules
        self._root = root
