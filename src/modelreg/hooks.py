"""Notifications: the ``hooks:`` of ``registry.yaml``, who hears about which events.

Every registry write publishes its events once it is durable (``Registry.subscribers``);
:func:`attach` subscribes a :class:`Dispatcher` that runs the matching hooks — a command,
a webhook, an email (:mod:`modelreg.delivery`) — after the change is committed. A hook
never undoes a change: a failed delivery is a result, reported and logged, never an
exception out of the write.

``registry.yaml``::

    hooks:
      - name: deploy                      # unique; [A-Za-z0-9_.-]
        kind: command                     # command | webhook | email
        events: [model_version.stage_changed]   # event types; * wildcards allowed
        filter: "stage = 'Production'"    # optional, the filter language
        command: make deploy              # a string runs in the shell; a list does not
        cwd: ..                           # optional, relative to the registry folder
        timeout: 600

Filters are evaluated against the event's entity as the JSON output shows it: a version
record (``kind="version"`` of :mod:`modelreg.filters`) for ``model_version*`` events, a
model record (``kind="model"``) for ``registered_model*`` events. A filter that names a
field only versions have (``stage``, ``metrics.x``) does not match model events.

Trust: a folder arrives by ``git clone``, so its hooks run on a machine only once someone
there trusted this exact hook configuration (``modelreg hooks trust``: the sha256 of the
canonical ``hooks:`` list, stored per registry path outside the folder, in
``$MODELREG_TRUST_DIR/trusted.json`` or ``~/.config/modelreg/trusted.json``), or when
``$MODELREG_TRUST_HOOKS=1``. Any change to the hooks needs trust again. Webhooks and emails
need trust too: they send registry data and read secrets from the environment.

Deliveries are logged as JSON lines in the registry's git-ignored ``.cache/hooks.log``.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelreg import delivery, jsonio
from modelreg import events as ev
from modelreg.delivery import CommandTarget, EmailTarget, Outcome, Target, WebhookTarget
from modelreg.entities import ModelVersion, RegisteredModel, iso_to_ms, now_iso
from modelreg.errors import CorruptFileError, InvalidInputError, NotFoundError, RegistryError
from modelreg.store import CONFIG_FILE, atomic_write

if TYPE_CHECKING:
    from modelreg.filters import Expr
    from modelreg.registry import Registry

KINDS = ("command", "webhook", "email")
TRUST_ENV = "MODELREG_TRUST_HOOKS"
NO_HOOKS_ENV = "MODELREG_NO_HOOKS"
TRUST_DIR_ENV = "MODELREG_TRUST_DIR"
LOG_FILE = Path(".cache") / "hooks.log"
# The log is a cache: past this size it is rotated to hooks.log.1 (one generation kept).
MAX_LOG_BYTES = 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMMON_KEYS = ("name", "kind", "events", "filter", "description", "enabled")
_KIND_KEYS = {
    "command": ("command", "cwd", "timeout"),
    "webhook": (
        "url", "url_env", "secret_env", "payload", "message", "timeout", "retries", "backoff",
    ),
    "email": (
        "smtp_host", "smtp_port", "starttls", "ssl", "username_env", "password_env",
        "from", "to", "subject", "timeout",
    ),
}  # fmt: skip


class HookDeliveryError(RegistryError):
    """A hook could not deliver an event and ``--strict-hooks`` was given (exit 8).

    The change itself was made and is kept: this code tells a script not to retry it."""

    exit_code = 8


class HooksNotTrustedError(RegistryError):
    """``hooks test`` on a hook configuration this machine has not trusted (exit 5)."""

    exit_code = 5


# -- the configuration --------------------------------------------------------------------


@dataclass(frozen=True)
class Hook:
    """One entry of ``hooks:``."""

    name: str
    kind: str
    events: tuple[str, ...]
    target: Target
    filter: str | None = None
    description: str | None = None
    enabled: bool = True
    # The filter parsed for each kind of record it applies to ("version", "model").
    compiled: Mapping[str, Expr] = field(default_factory=dict, compare=False, repr=False)

    def wants(self, event_type: str) -> bool:
        return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in self.events)

    def matches(self, event: ev.Event) -> bool:
        """Whether this hook hears about ``event``: its type, then its filter."""
        if not self.enabled or not self.wants(event.type):
            return False
        if self.filter is None:
            return True
        expr = self.compiled.get(_record_kind(event.type))
        if expr is None:
            return False  # the filter names fields this kind of record does not have
        from modelreg.filters import evaluate

        return evaluate(expr, event.entity)

    def concrete_events(self) -> list[str]:
        return [kind for kind in ev.EVENT_TYPES if self.wants(kind)]

    def target_text(self) -> str:
        """Where the hook delivers, for people (URLs from the environment stay hidden)."""
        target = self.target
        if isinstance(target, CommandTarget):
            command = target.command
            return command if isinstance(command, str) else " ".join(command)
        if isinstance(target, WebhookTarget):
            where = target.url or f"${target.url_env}"
            return where + (" (slack)" if target.payload == "slack" else "")
        return f"{', '.join(target.to)} via {target.smtp_host}:{target.smtp_port}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "events": list(self.events),
            "filter": self.filter,
            "target": self.target_text(),
            "enabled": self.enabled,
            "description": self.description,
        }


@dataclass(frozen=True)
class HookConfig:
    """The parsed ``hooks:`` list and the digest that trust is given to."""

    hooks: tuple[Hook, ...]
    digest: str

    def get(self, name: str) -> Hook:
        for hook in self.hooks:
            if hook.name == name:
                return hook
        known = ", ".join(hook.name for hook in self.hooks) or "none"
        raise NotFoundError(f"no hook named {name!r} in {CONFIG_FILE} (hooks: {known})")


def load(raw_config: Mapping[str, Any], root: Path) -> HookConfig:
    """Parse ``raw_config["hooks"]`` of the registry at ``root``; CorruptFileError (exit 7)
    names the hook and the key for every problem."""
    path = root / CONFIG_FILE
    raw = raw_config.get("hooks") or []
    if not isinstance(raw, list):
        raise CorruptFileError(path, "'hooks' must be a list of hooks (each a mapping)")
    hooks: list[Hook] = []
    for index, item in enumerate(raw):
        hook = _parse_hook(_Reader(item, path, index))
        if any(other.name == hook.name for other in hooks):
            raise CorruptFileError(path, f"hooks[{index}]: a second hook named {hook.name!r}")
        hooks.append(hook)
    return HookConfig(tuple(hooks), digest(raw))


def digest(raw_hooks: Any) -> str:
    """sha256 of the canonical JSON of the ``hooks:`` list: key order and YAML style do
    not change it; any change of content does."""
    canonical = jsonio.dumps(
        raw_hooks, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Reader:
    """Typed access to one hook mapping; every error names ``hooks[i] (name).key``."""

    def __init__(self, item: Any, path: Path, index: int) -> None:
        self.path = path
        self.label = f"hooks[{index}]"
        if not isinstance(item, dict):
            raise self.error("", "must be a mapping with name, kind, events, ...")
        self.item: dict[str, Any] = item
        if isinstance(item.get("name"), str):
            self.label += f" ({item['name']!r})"

    def error(self, key: str, problem: str) -> CorruptFileError:
        return CorruptFileError(self.path, f"{self.label}{'.' + key if key else ''}: {problem}")

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.item.get(key, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self.error(key, "must be a non-empty string")
        return value

    def required(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.error(key, "is required")
        return value

    def env_name(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not _ENV_NAME.fullmatch(value):
            raise self.error(key, f"must name an environment variable, not {value!r}")
        return value

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        value = self.item.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            raise self.error(key, f"must be a number >= {minimum:g}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.item.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.item.get(key)
        if isinstance(value, str):
            value = [value]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(each, str) and each.strip() for each in value)
        ):
            raise self.error(key, "must be a non-empty list of strings")
        return tuple(value)


def _parse_hook(read: _Reader) -> Hook:
    name = read.required("name")
    if not _NAME.fullmatch(name):
        raise read.error(
            "name", "letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    kind = read.required("kind")
    if kind not in KINDS:
        raise read.error("kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
    if "secret" in read.item or "password" in read.item:
        raise read.error(
            "secret" if "secret" in read.item else "password",
            "secrets are never stored in the registry folder; name the environment variable "
            "that holds it (secret_env, password_env)",
        )
    known = _COMMON_KEYS + _KIND_KEYS[kind]
    for key in read.item:
        if key not in known:
            raise read.error(str(key), f"unknown key; a {kind} hook takes: {', '.join(known)}")
    events = _parse_events(read)
    hook = Hook(
        name=name,
        kind=kind,
        events=events,
        target=_TARGET_PARSERS[kind](read),
        filter=read.text("filter"),
        description=read.text("description"),
        enabled=read.flag("enabled", True),
    )
    return replace(hook, compiled=_compile_filter(hook, read))


def _parse_events(read: _Reader) -> tuple[str, ...]:
    if "events" not in read.item:
        raise read.error("events", "is required: the event types to deliver, e.g. ['*']")
    patterns = read.strings("events")
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(kind, pattern) for kind in ev.EVENT_TYPES):
            raise read.error(
                "events",
                f"{pattern!r} matches no event type; known types: {', '.join(ev.EVENT_TYPES)}",
            )
    return patterns


def _compile_filter(hook: Hook, read: _Reader) -> dict[str, Expr]:
    """Parse the filter for each kind of record the hook's events carry.

    It must parse for at least one of them; where it names fields the other kind lacks,
    it simply does not match those events."""
    if hook.filter is None:
        return {}
    from modelreg.filters import parse

    kinds = sorted({_record_kind(kind) for kind in hook.concrete_events()}, reverse=True)
    compiled: dict[str, Expr] = {}
    first_error: InvalidInputError | None = None
    for kind in kinds:  # "version" first: its error is the one people mean
        try:
            compiled[kind] = parse(hook.filter, kind)  # type: ignore[arg-type]
        except InvalidInputError as exc:
            first_error = first_error or exc
    if not compiled and first_error is not None:
        raise read.error("filter", str(first_error))
    return compiled


def _record_kind(event_type: str) -> str:
    return "version" if delivery.is_version_event(event_type) else "model"


def _command_target(read: _Reader) -> CommandTarget:
    value = read.item.get("command")
    if isinstance(value, list):
        command: str | tuple[str, ...] = read.strings("command")
    else:
        command = read.required("command")
    cwd = read.text("cwd")
    return CommandTarget(command, cwd, read.number("timeout", 300.0, minimum=0.001))


def _webhook_target(read: _Reader) -> WebhookTarget:
    url, url_env = read.text("url"), read.env_name("url_env")
    if (url is None) == (url_env is None):
        raise read.error("url", "give exactly one of url and url_env")
    if url is not None and not url.startswith(("http://", "https://")):
        raise read.error("url", "must start with http:// or https://")
    payload = read.text("payload", "json")
    if payload not in ("json", "slack"):
        raise read.error("payload", f"must be json or slack, not {payload!r}")
    retries = read.number("retries", 3)
    if retries != int(retries) or retries > 10:
        raise read.error("retries", "must be a whole number from 0 to 10")
    return WebhookTarget(
        url=url,
        url_env=url_env,
        secret_env=read.env_name("secret_env"),
        payload=payload or "json",
        message=read.text("message"),
        timeout=read.number("timeout", 10.0, minimum=0.001),
        retries=int(retries),
        backoff=read.number("backoff", 1.0),
    )


def _email_target(read: _Reader) -> EmailTarget:
    implicit_tls = read.flag("ssl", False)
    starttls = read.flag("starttls", not implicit_tls)
    if implicit_tls and starttls:
        raise read.error("starttls", "ssl (implicit TLS) and starttls exclude each other")
    username_env = read.env_name("username_env")
    password_env = read.env_name("password_env")
    if (username_env is None) != (password_env is None):
        raise read.error("password_env", "username_env and password_env go together")
    if username_env and not (starttls or implicit_tls):
        raise read.error("starttls", "credentials would cross the network in clear text")
    port = read.number("smtp_port", 465 if implicit_tls else (587 if starttls else 25), minimum=1)
    return EmailTarget(
        smtp_host=read.required("smtp_host"),
        sender=read.required("from"),
        to=read.strings("to"),
        smtp_port=int(port),
        starttls=starttls,
        implicit_tls=implicit_tls,
        username_env=username_env,
        password_env=password_env,
        subject=read.text("subject"),
        timeout=read.number("timeout", 30.0, minimum=0.001),
    )


_TARGET_PARSERS: dict[str, Callable[[_Reader], Target]] = {
    "command": _command_target,
    "webhook": _webhook_target,
    "email": _email_target,
}


# -- trust ----------------------------------------------------------------------------------


def trust_file() -> Path:
    """Where trust is remembered: outside every registry folder, per user."""
    explicit = os.environ.get(TRUST_DIR_ENV)
    if explicit:
        return Path(explicit) / "trusted.json"
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "modelreg" / "trusted.json"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "modelreg" / "trusted.json"


def trusted_by_environment() -> bool:
    return os.environ.get(TRUST_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def disabled_by_environment() -> bool:
    return os.environ.get(NO_HOOKS_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def is_trusted(root: Path, config: HookConfig) -> bool:
    """Whether this machine trusts exactly this hook configuration of this registry."""
    if trusted_by_environment():
        return True
    try:
        entry = _read_trust(strict=False).get(_registry_key(root))
    except CorruptFileError:
        return False
    return isinstance(entry, dict) and entry.get("sha256") == config.digest


def trust(root: Path, config: HookConfig, user: str | None = None) -> Path:
    """Remember that this machine trusts this hook configuration; returns the trust file."""
    entries = _read_trust(strict=True)
    entries[_registry_key(root)] = {
        "sha256": config.digest,
        "hooks": [hook.name for hook in config.hooks],
        "trusted_at": now_iso(),
        "user": user,
    }
    return _write_trust(entries)


def revoke(root: Path) -> bool:
    """Forget the trust given to this registry's hooks; False when there was none."""
    entries = _read_trust(strict=True)
    if entries.pop(_registry_key(root), None) is None:
        return False
    _write_trust(entries)
    return True


def _registry_key(root: Path) -> str:
    return str(root.resolve())


def _read_trust(*, strict: bool) -> dict[str, Any]:
    path = trust_file()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        if strict:
            raise CorruptFileError(
                path, f"cannot be read as JSON ({exc}); fix or delete it"
            ) from None
        return {}
    registries = doc.get("registries") if isinstance(doc, dict) else None
    if not isinstance(registries, dict):
        if strict:
            raise CorruptFileError(path, "expected {'registries': {...}}; fix or delete it")
        return {}
    return registries


def _write_trust(entries: dict[str, Any]) -> Path:
    path = trust_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"version": 1, "registries": dict(sorted(entries.items()))}
    atomic_write(path, (jsonio.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


# -- delivery and the log ----------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryResult:
    """One hook, one event: what happened (``delivered``, ``failed`` or ``skipped``)."""

    hook: str
    kind: str
    event: str
    delivery_id: str
    status: str
    detail: str
    code: int | None = None
    response: str = ""
    attempts: int = 1
    duration_ms: int = 0
    time: str = ""
    test: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "delivered"

    def to_dict(self) -> dict[str, Any]:
        record = {
            "time": self.time,
            "hook": self.hook,
            "kind": self.kind,
            "event": self.event,
            "delivery_id": self.delivery_id,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            "attempts": self.attempts,
            "duration_ms": self.duration_ms,
            "response": self.response,
        }
        if self.test:
            record["test"] = True
        return record


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


def append_log(root: Path, result: DeliveryResult) -> None:
    """Append one line to ``.cache/hooks.log``; a log that cannot be written never fails
    the delivery it records."""
    cache = root / LOG_FILE.parent
    # A cloned folder may carry a `.cache` symlink: never write through it.
    if cache.is_symlink() or (root / LOG_FILE).is_symlink():
        return
    line = jsonio.dumps(result.to_dict(), ensure_ascii=False) + "\n"
    with contextlib.suppress(OSError):
        cache.mkdir(exist_ok=True)
        path = root / LOG_FILE
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_size > MAX_LOG_BYTES:
                path.replace(path.with_name(path.name + ".1"))
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o666)
        try:
            os.write(fd, line.encode("utf-8"))  # one write: concurrent appends do not mix
        finally:
            os.close(fd)


def read_log(
    root: Path, *, limit: int | None = 20, hook: str | None = None
) -> list[dict[str, Any]]:
    """The newest deliveries, oldest first (``limit`` None: all that are kept)."""
    records: list[dict[str, Any]] = []
    for path in (root / f"{LOG_FILE}.1", root / LOG_FILE):
        if path.is_symlink():
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and (hook is None or record.get("hook") == hook):
                    records.append(record)
    return records if limit is None else records[-limit:] if limit > 0 else []


# -- the dispatcher --------------------------------------------------------------------------


ResultCallback = Callable[[DeliveryResult], None]
UntrustedCallback = Callable[[list[str]], None]


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
    registry: Registry,
    *,
    on_result: ResultCallback | None = None,
    on_untrusted: UntrustedCallback | None = None,
) -> Dispatcher | None:
    """Subscribe the registry's hooks to its events; None when it has none or when
    ``$MODELREG_NO_HOOKS`` is set. The hook configuration is checked here, before any
    change is made (CorruptFileError names the bad key)."""
    if disabled_by_environment() or not registry.config.raw.get("hooks"):
        return None
    config = load(registry.config.raw, registry.root)
    if not config.hooks:
        return None
    dispatcher = Dispatcher(registry.root, config, on_result=on_result, on_untrusted=on_untrusted)
    registry.subscribers.append(dispatcher)
    return dispatcher


def untrusted_notice(names: list[str]) -> str:
    """The one line that says which hooks were skipped and how to trust them."""
    listed = ", ".join(repr(name) for name in names)
    return (
        f"skipped hook{'s' if len(names) > 1 else ''} {listed}: this registry's hook "
        "configuration is not trusted on this machine; review it with `modelreg hooks list`, "
        f"then run `modelreg hooks trust` (or set {TRUST_ENV}=1)"
    )


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


def send_test(registry: Registry, name: str, event_type: str | None = None) -> DeliveryResult:
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
