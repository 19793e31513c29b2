"""The ``hooks:`` list of ``registry.yaml``, parsed and checked: every problem is a
CorruptFileError (exit 7) that names the hook and the key."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from modelreg import delivery, jsonio
from modelreg import events as ev
from modelreg.delivery import CommandTarget, EmailTarget, Target, WebhookTarget
from modelreg.docread import DocReader, Document
from modelreg.errors import CorruptFileError, InvalidInputError, NotFoundError
from modelreg.store import CONFIG_FILE

if TYPE_CHECKING:
    from modelreg.filters import Expr

KINDS = ("command", "webhook", "email")
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

    def to_dict(self) -> Document:
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


def load(raw_config: Mapping[str, object], root: Path) -> HookConfig:
    """Parse ``raw_config["hooks"]`` of the registry at ``root``; CorruptFileError (exit 7)
    names the hook and the key for every problem."""
    path = root / CONFIG_FILE
    raw = raw_config.get("hooks") or []
    if not isinstance(raw, list):
        raise CorruptFileError(path, "'hooks' must be a list of hooks (each a mapping)")
    hooks: list[Hook] = []
    for index, item in enumerate(raw):
        hook = _parse_hook(_hook_reader(item, path, index))
        if any(other.name == hook.name for other in hooks):
            raise CorruptFileError(path, f"hooks[{index}]: a second hook named {hook.name!r}")
        hooks.append(hook)
    return HookConfig(tuple(hooks), digest(raw))


def digest(raw_hooks: object) -> str:
    """sha256 of the canonical JSON of the ``hooks:`` list: key order and YAML style do
    not change it; any change of content does."""
    canonical = jsonio.dumps(
        raw_hooks, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _hook_reader(item: object, path: Path, index: int) -> DocReader:
    """A reader of one hook mapping; every error names ``hooks[i] (name).key``."""
    where = f"hooks[{index}]"
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        where += f" ({item['name']!r})"
    return DocReader.of(
        item, path, where, problem="must be a mapping with name, kind, events, ...", labelled=True
    )


def _text(read: DocReader, key: str, default: str | None = None) -> str | None:
    return read.optional_text(key, default, nonblank=True)


def _required(read: DocReader, key: str) -> str:
    value = _text(read, key)
    if value is None:
        raise read.missing(key)
    return value


def _env_name(read: DocReader, key: str) -> str | None:
    value = _text(read, key)
    if value is not None and not _ENV_NAME.fullmatch(value):
        raise read.error(key, f"must name an environment variable, not {value!r}")
    return value


def _template(read: DocReader, key: str) -> str | None:
    """A ``${field}`` text: a placeholder no event fills is refused here, when the
    configuration is read, rather than sent as written."""
    value = _text(read, key)
    unknown = delivery.unknown_placeholders(value) if value else []
    if unknown:
        names = ", ".join(f"${{{name}}}" for name in unknown)
        raise read.error(
            key,
            f"unknown placeholder{'s' if len(unknown) > 1 else ''} {names}; known: "
            f"{', '.join(delivery.TEMPLATE_FIELDS)} (write $$ for a dollar sign)",
        )
    return value


def _strings(read: DocReader, key: str) -> tuple[str, ...]:
    return tuple(read.strings(key, [], single=True, nonblank=True))


def _parse_hook(read: DocReader) -> Hook:
    name = _required(read, "name")
    if not _NAME.fullmatch(name):
        raise read.error(
            "name", "letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    kind = _required(read, "kind")
    if kind not in KINDS:
        raise read.error("kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
    if "secret" in read.doc or "password" in read.doc:
        raise read.error(
            "secret" if "secret" in read.doc else "password",
            "secrets are never stored in the registry folder; name the environment variable "
            "that holds it (secret_env, password_env)",
        )
    known = _COMMON_KEYS + _KIND_KEYS[kind]
    for key in read.doc:
        if key not in known:
            raise read.error(str(key), f"unknown key; a {kind} hook takes: {', '.join(known)}")
    events = _parse_events(read)
    hook = Hook(
        name=name,
        kind=kind,
        events=events,
        target=_TARGET_PARSERS[kind](read),
        filter=_text(read, "filter"),
        description=_text(read, "description"),
        enabled=read.flag("enabled", True),
    )
    return replace(hook, compiled=_compile_filter(hook, read))


def _parse_events(read: DocReader) -> tuple[str, ...]:
    if "events" not in read.doc:
        raise read.error("events", "is required: the event types to deliver, e.g. ['*']")
    patterns = _strings(read, "events")
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(kind, pattern) for kind in ev.EVENT_TYPES):
            raise read.error(
                "events",
                f"{pattern!r} matches no event type; known types: {', '.join(ev.EVENT_TYPES)}",
            )
    return patterns


def _compile_filter(hook: Hook, read: DocReader) -> dict[str, Expr]:
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


def _command_target(read: DocReader) -> CommandTarget:
    value = read.doc.get("command")
    if isinstance(value, list):
        command: str | tuple[str, ...] = _strings(read, "command")
    else:
        command = _required(read, "command")
    cwd = _text(read, "cwd")
    return CommandTarget(command, cwd, read.number("timeout", 300.0, minimum=0.001))


def _webhook_target(read: DocReader) -> WebhookTarget:
    url, url_env = _text(read, "url"), _env_name(read, "url_env")
    if (url is None) == (url_env is None):
        raise read.error("url", "give exactly one of url and url_env")
    if url is not None and not url.startswith(("http://", "https://")):
        raise read.error("url", "must start with http:// or https://")
    payload = _text(read, "payload", "json")
    if payload not in ("json", "slack"):
        raise read.error("payload", f"must be json or slack, not {payload!r}")
    retries = read.number("retries", 3, minimum=0)
    if retries != int(retries) or retries > 10:
        raise read.error("retries", "must be a whole number from 0 to 10")
    return WebhookTarget(
        url=url,
        url_env=url_env,
        secret_env=_env_name(read, "secret_env"),
        payload=payload or "json",
        message=_template(read, "message"),
        timeout=read.number("timeout", 10.0, minimum=0.001),
        retries=int(retries),
        backoff=read.number("backoff", 1.0, minimum=0),
    )


def _email_target(read: DocReader) -> EmailTarget:
    implicit_tls = read.flag("ssl", False)
    starttls = read.flag("starttls", not implicit_tls)
    if implicit_tls and starttls:
        raise read.error("starttls", "ssl (implicit TLS) and starttls exclude each other")
    username_env = _env_name(read, "username_env")
    password_env = _env_name(read, "password_env")
    if (username_env is None) != (password_env is None):
        raise read.error("password_env", "username_env and password_env go together")
    if username_env and not (starttls or implicit_tls):
        raise read.error("starttls", "credentials would cross the network in clear text")
    port = read.number("smtp_port", 465 if implicit_tls else (587 if starttls else 25), minimum=1)
    return EmailTarget(
        smtp_host=_required(read, "smtp_host"),
        sender=_required(read, "from"),
        to=_strings(read, "to"),
        smtp_port=int(port),
        starttls=starttls,
        implicit_tls=implicit_tls,
        username_env=username_env,
        password_env=password_env,
        subject=_template(read, "subject"),
        timeout=read.number("timeout", 30.0, minimum=0.001),
    )


_TARGET_PARSERS: dict[str, Callable[[DocReader], Target]] = {
    "command": _command_target,
    "webhook": _webhook_target,
    "email": _email_target,
}
