"""The dispatcher: a registry subscriber that runs the hooks matching each event once the
change is durable, and ``hooks test``'s example events. This package never imports the
registry (the registry imports it, one direction): what it needs of one is
:class:`Subscribable`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from modelreg import delivery
from modelreg import events as ev
from modelreg.config import Config
from modelreg.delivery import CommandTarget, Outcome, WebhookTarget
from modelreg.entities import ModelVersion, RegisteredModel, iso_to_ms, now_iso
from modelreg.errors import HooksNotTrustedError, InvalidInputError
from modelreg.hooks.config import Hook, HookConfig, load
from modelreg.hooks.log import DeliveryResult, append_log
from modelreg.hooks.trust import disabled_by_environment, is_trusted, untrusted_notice

ResultCallback = Callable[[DeliveryResult], None]
UntrustedCallback = Callable[[list[str]], None]


class Subscribable(Protocol):
    """What the hooks need of an open registry (``modelreg.registry.Registry`` is one)."""

    @property
    def root(self) -> Path: ...

    @property
    def config(self) -> Config: ...

    @property
    def user(self) -> str: ...

    @property
    def subscribers(self) -> list[Callable[[ev.Event], None]]: ...


def deliver(hook: Hook, event: ev.Event, root: Path, *, test: bool = False) -> DeliveryResult:
    """Deliver one event through one hook (trust is the caller's business); never raises
    for a delivery that fails."""
    started, stamp = time.monotonic(), now_iso()
    try:
        outcome = _send(hook, event, root, test)
    except Exception as exc:  # a bug in a transport must not turn into a failed write
        outcome = Outcome(False, f"internal error: {type(exc).__name__}: {exc}")
    return DeliveryResult(
        hook=hook.name,
        kind=hook.kind,
        event=event.type,
        delivery_id=event.delivery_id,
        status="delivered" if outcome.ok else "failed",
        detail=outcome.detail,
        code=outcome.code,
        response=outcome.response,
        attempts=outcome.attempts,
        duration_ms=round((time.monotonic() - started) * 1000),
        time=stamp,
        test=test,
    )


def _send(hook: Hook, event: ev.Event, root: Path, test: bool) -> Outcome:
    target = hook.target
    if isinstance(target, CommandTarget):
        return delivery.run_command(target, event, root, hook.name, test=test)
    if isinstance(target, WebhookTarget):
        return delivery.post_webhook(target, event)
    return delivery.send_email(target, event)


class Dispatcher:
    """A registry subscriber: runs the hooks that match each event, once it is durable.

    ``on_result`` hears every delivery (and every skipped one); ``on_untrusted`` is told
    once which hooks were skipped because this machine has not trusted the configuration.
    """

    def __init__(
        self,
        root: Path,
        config: HookConfig,
        *,
        on_result: ResultCallback | None = None,
        on_untrusted: UntrustedCallback | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.results: list[DeliveryResult] = []
        self._on_result = on_result
        self._on_untrusted = on_untrusted
        self._trusted: bool | None = None
        self._told_untrusted = False

    @property
    def failures(self) -> list[DeliveryResult]:
        """Deliveries that did not happen: failed ones and untrusted, skipped ones."""
        return [result for result in self.results if not result.ok]

    @property
    def trusted(self) -> bool:
        if self._trusted is None:
            self._trusted = is_trusted(self.root, self.config)
        return self._trusted

    def __call__(self, event: ev.Event) -> None:
        matching = [hook for hook in self.config.hooks if self._matches(hook, event)]
        if not matching:
            return
        if not self.trusted:
            self._skip(matching, event)
            return
        for hook in matching:
            self._record(deliver(hook, event, self.root))

    def _matches(self, hook: Hook, event: ev.Event) -> bool:
        # Called from inside a registry write: an exception here would report a change
        # that was made as an error, so a filter that cannot be evaluated is a failure.
        try:
            return hook.matches(event)
        except Exception as exc:
            detail = f"filter could not be evaluated: {type(exc).__name__}: {exc}"
            self._record(_not_sent(hook, event, "failed", detail))
            return False

    def _skip(self, hooks: list[Hook], event: ev.Event) -> None:
        for hook in hooks:
            detail = "not trusted on this machine (modelreg hooks trust)"
            self._record(_not_sent(hook, event, "skipped", detail))
        if not self._told_untrusted and self._on_untrusted is not None:
            self._told_untrusted = True
            self._on_untrusted([hook.name for hook in hooks])

    def _record(self, result: DeliveryResult) -> None:
        self.results.append(result)
        append_log(self.root, result)
        if self._on_result is not None:
            self._on_result(result)


def _not_sent(hook: Hook, event: ev.Event, status: str, detail: str) -> DeliveryResult:
    return DeliveryResult(
        hook=hook.name,
        kind=hook.kind,
        event=event.type,
        delivery_id=event.delivery_id,
        status=status,
        detail=detail,
        time=now_iso(),
    )


def attach(
    registry: Subscribable,
    *,
    on_result: ResultCallback | None = None,
    on_untrusted: UntrustedCallback | None = None,
) -> Dispatcher | None:
    """Subscribe the registry's hooks to its events; None when it has none or when
    ``$MODELREG_NO_HOOKS`` is set. The hook configuration is checked here, before any
    change is made (CorruptFileError names the bad key).

    The one place hooks are wired: ``Registry(path, hooks=True)`` calls it for Python
    code and the command line alike (each with its own ``on_result``/``on_untrusted``)."""
    if disabled_by_environment() or not registry.config.raw.get("hooks"):
        return None
    config = load(registry.config.raw, registry.root)
    if not config.hooks:
        return None
    dispatcher = Dispatcher(registry.root, config, on_result=on_result, on_untrusted=on_untrusted)
    registry.subscribers.append(dispatcher)
    return dispatcher


# -- `hooks test` ----------------------------------------------------------------------------


def sample_event(event_type: str, user: str) -> ev.Event:
    """An example event of ``event_type`` (marked ``"test": true`` in its data)."""
    if event_type not in ev.EVENT_TYPES:
        raise InvalidInputError(
            f"unknown event type {event_type!r}; known types: {', '.join(ev.EVENT_TYPES)}"
        )
    stamp = now_iso()
    ms = iso_to_ms(stamp)
    data: dict[str, Any] = {"test": True}
    if delivery.is_version_event(event_type):
        version = ModelVersion(
            name="example-model",
            version=1,
            creation_timestamp=ms,
            last_updated_timestamp=ms,
            current_stage="Production",
            description="An example model version",
            user_id=user,
            source="s3://models/example-model/1",
            run_id="0123456789abcdef",
            tags={"team": "example"},
            aliases=["champion"],
            metrics={"accuracy": 0.93},
        )
        entity = version.to_dict()
    else:
        entity = RegisteredModel(
            name="example-model",
            creation_timestamp=ms,
            last_updated_timestamp=ms,
            description="An example registered model",
            user_id=user,
            tags={"team": "example"},
        ).to_dict()
    data.update(_SAMPLE_DATA.get(event_type, {}))
    return ev.Event(type=event_type, entity=entity, user=user, timestamp=stamp, data=data)


_SAMPLE_DATA: dict[str, dict[str, Any]] = {
    ev.MODEL_VERSION_STAGE_CHANGED: {
        "from_stage": "Staging",
        "to_stage": "Production",
        "archived_versions": [],
    },
    ev.MODEL_VERSION_ALIAS_CREATED: {"alias": "champion"},
    ev.MODEL_VERSION_ALIAS_DELETED: {"alias": "champion"},
    ev.MODEL_VERSION_TAG_SET: {"key": "team", "value": "example"},
    ev.MODEL_VERSION_TAG_DELETED: {"key": "team"},
    ev.REGISTERED_MODEL_TAG_SET: {"key": "team", "value": "example"},
    ev.REGISTERED_MODEL_TAG_DELETED: {"key": "team"},
    ev.REGISTERED_MODEL_RENAMED: {"old_name": "example-model-old"},
    ev.MODEL_VERSION_TRANSITION_REQUESTED: {"stage": "Production", "comment": "ready"},
    ev.MODEL_VERSION_APPROVED: {"stage": "Production", "comment": "looks good"},
    ev.MODEL_VERSION_REJECTED: {"stage": "Production", "comment": "not yet"},
    ev.MODEL_VERSION_COMMENTED: {"comment": "an example comment"},
    ev.MODEL_VERSION_CHECK_COMPLETED: {
        "stage": "Production",
        "check": "accuracy",
        "passed": True,
        "exit_code": 0,
        "seconds": 1.5,
        "metrics": {"accuracy": 0.93},
    },
}


def send_test(registry: Subscribable, name: str, event_type: str | None = None) -> DeliveryResult:
    """Send an example event through one hook, whatever its filter; logged as a test.

    Refused (HooksNotTrustedError) unless this machine trusts the configuration: a test
    runs the same command and sends to the same address as a real delivery."""
    config = load(registry.config.raw, registry.root)
    hook = config.get(name)
    if not is_trusted(registry.root, config):
        raise HooksNotTrustedError(
            untrusted_notice([hook.name]).replace("skipped", "not testing", 1)
        )
    wanted = event_type or (hook.concrete_events() or [ev.MODEL_VERSION_CREATED])[0]
    result = deliver(hook, sample_event(wanted, registry.user), registry.root, test=True)
    append_log(registry.root, result)
    return result
