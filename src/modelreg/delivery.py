"""The three ways an event leaves the registry: a command, a webhook, an email.

Each function here takes one hook target and one event and returns an :class:`Outcome`; it
never raises for a delivery that fails (the caller reports it and moves on) and never
prints. Which hooks run, trust, and the delivery log live in :mod:`modelreg.hooks`.

Webhooks use MLflow's header scheme, so a receiver written for MLflow webhooks verifies
ours unchanged. Checked against MLflow 3.17.2, ``mlflow/webhooks/constants.py`` and
``mlflow/webhooks/delivery.py`` (``_generate_hmac_signature``, ``_send_webhook_request``):

- ``X-MLflow-Delivery-Id``: a UUID4 per delivery;
- ``X-MLflow-Timestamp``: Unix time in whole seconds, as a decimal string;
- ``X-MLflow-Signature``: ``v1,`` + base64(HMAC-SHA256(secret, signed content)), sent only
  when a secret is configured, where the signed content is the UTF-8 bytes of
  ``f"{delivery_id}.{timestamp}.{payload}"`` and ``payload`` is the exact request body;
- ``Content-Type: application/json``; retries on 429, 500, 502, 503 and 504 with
  exponential back-off (MLflow: urllib3 ``Retry(backoff_factor=1.0)``, Retry-After honoured).

Where we differ, on purpose: the delivery id is the event's, the same on every retry and
for every hook (Standard Webhooks: receivers deduplicate on it); the timestamp is taken
per attempt (a retry is signed afresh, so a receiver's replay window still works); the
body is modelreg's event JSON (``event``, ``delivery_id``, ``timestamp``, ``user``,
``data``, ``entity``), not MLflow's ``{entity, action, timestamp, data}`` envelope, because
the issue asks for the entity as the JSON output shows it; and a request that timed out is
not retried, because the receiver most likely got it and is still working on it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import os
import ssl
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from string import Template
from typing import Any

from modelreg import jsonio, process
from modelreg._version import __version__
from modelreg.docread import Document
from modelreg.events import Event
from modelreg.refs import artifact_location
from modelreg.sources import pinned_location

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
EVENT_HEADER = "X-Modelreg-Event"  # ours: lets a receiver route without parsing the body
SIGNATURE_VERSION = "v1"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF = 30.0
# What is kept of a response or of a command's output, for the log and `hooks test`.
MAX_RESPONSE_CHARS = 2000


@dataclass(frozen=True)
class Outcome:
    """How one delivery went: ``ok``, a one-line ``detail`` (the reason when it failed),
    the HTTP status or exit status in ``code``, and what the other side said."""

    ok: bool
    detail: str
    code: int | None = None
    response: str = ""
    attempts: int = 1


# -- targets (parsed from registry.yaml by modelreg.hooks) ------------------------------


@dataclass(frozen=True)
class CommandTarget:
    command: str | tuple[str, ...]  # a string runs through the shell, a list does not
    cwd: str | None = None  # relative to the registry folder
    timeout: float = 300.0


@dataclass(frozen=True)
class WebhookTarget:
    url: str | None = None
    url_env: str | None = None  # the URL is a secret too (Slack): read it from here
    secret_env: str | None = None
    payload: str = "json"  # json | slack
    message: str | None = None  # Slack text template
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 1.0


@dataclass(frozen=True)
class EmailTarget:
    smtp_host: str
    sender: str
    to: tuple[str, ...]
    smtp_port: int = 587
    starttls: bool = True
    implicit_tls: bool = False
    username_env: str | None = None
    password_env: str | None = None
    subject: str | None = None
    timeout: float = 30.0


Target = CommandTarget | WebhookTarget | EmailTarget


# -- what an event says, for people and for scripts ----------------------------------------


# The names a ``${name}`` template may use: the keys of :func:`event_fields`.
TEMPLATE_FIELDS = (
    "event",
    "delivery_id",
    "timestamp",
    "user",
    "name",
    "version",
    "uri",
    "stage",
    "from_stage",
    "to_stage",
    "alias",
    "tag_key",
    "tag_value",
    "source",
    "run_id",
    "summary",
)


def event_fields(event: Event) -> dict[str, str]:
    """The event's main fields as text: command hooks get them as ``MODELREG_*``
    environment variables, Slack and email templates as ``${name}``."""
    entity, data = event.entity, event.data
    version = entity.get("version") if is_version_event(event.type) else None
    name = str(entity.get("name") or "")
    fields = {
        "event": event.type,
        "delivery_id": event.delivery_id,
        "timestamp": event.timestamp,
        "user": event.user,
        "name": name,
        "version": "" if version is None else str(version),
        "uri": f"models:/{name}/{version}" if version is not None else f"models:/{name}",
        "stage": str(entity.get("current_stage") or "") if version is not None else "",
        "from_stage": str(data.get("from_stage") or ""),
        "to_stage": str(data.get("to_stage") or ""),
        "alias": str(data.get("alias") or ""),
        "tag_key": str(data.get("key") or ""),
        "tag_value": str(data.get("value") or ""),
        "source": str(entity.get("source") or ""),
        "run_id": str(entity.get("run_id") or ""),
    }
    fields["summary"] = summary(event, fields)
    return fields


def is_version_event(event_type: str) -> bool:
    """Whether the event's entity is a model version (else a registered model)."""
    return not event_type.startswith("registered_model")


def summary(event: Event, fields: Mapping[str, str] | None = None) -> str:
    """One line for people: ``churn version 3: Staging -> Production (by alice)``."""
    f = fields or event_fields(event)
    subject = f"{f['name']} version {f['version']}" if f["version"] else f"model {f['name']}"
    action = event.type.split(".", 1)[-1].replace("_", " ")
    if event.type.endswith("stage_changed"):
        action = f"{f['from_stage']} -> {f['to_stage']}"
        archived = event.data.get("archived_versions")
        if isinstance(archived, list) and archived:
            action += f" (archived version {', '.join(str(item) for item in archived)})"
    elif event.type.startswith("model_version_alias"):
        verb = "now points at" if event.type.endswith("created") else "removed from"
        subject, action = f"{f['name']}@{f['alias']}", f"{verb} version {f['version']}"
    elif "_tag." in event.type:
        action = f"tag {f['tag_key']}" + (f"={f['tag_value']}" if f["tag_value"] else "")
        action += " set" if event.type.endswith(".set") else " deleted"
    elif event.type.endswith("renamed"):
        action = f"renamed from {event.data.get('old_name')}"
    else:
        action = _workflow_action(event) or action
    return f"{subject}: {action} (by {f['user']})"


def _workflow_action(event: Event) -> str | None:
    """The approval workflow's events, in words."""
    data = event.data
    stage = data.get("stage")
    verbs = {
        "transition_requested": "move to {} requested",
        "approved": "move to {} approved",
        "rejected": "move to {} rejected",
    }
    action = event.type.split(".", 1)[-1]
    if action in verbs and stage:
        text = verbs[action].format(stage)
        return text + (f": {data['comment']}" if data.get("comment") else "")
    if action == "commented":
        return f"comment: {data.get('comment', '')}"
    if action == "check_completed":
        verdict = "passed" if data.get("passed") else "failed"
        return f"check {data.get('check')} {verdict}" + (f" for {stage}" if stage else "")
    return None


def render_template(
    template: str | None,
    event: Event,
    default: str,
    escape: Callable[[str], str] = str,
) -> str:
    """A ``${field}`` template filled from :func:`event_fields` (each value passed through
    ``escape``); unknown names stay as written. Without a template, ``default`` is used."""
    fields = {key: escape(value) for key, value in event_fields(event).items()}
    return Template(template).safe_substitute(fields) if template else default.format(**fields)


def unknown_placeholders(template: str) -> list[str]:
    """The ``$name`` / ``${name}`` placeholders of ``template`` that no event has (``$$``
    is a literal dollar sign)."""
    unknown: list[str] = []
    for match in Template.pattern.finditer(template):
        name = match.group("named") or match.group("braced")
        if name and name not in TEMPLATE_FIELDS and name not in unknown:
            unknown.append(name)
    return unknown


def _one_line(text: str) -> str:
    # A header cannot hold a line break, and a tag value may.
    return " ".join(text.split())


# -- signatures -----------------------------------------------------------------------------


def sign(secret: str, delivery_id: str, timestamp: str, payload: str) -> str:
    """MLflow's webhook signature: ``v1,`` + base64 HMAC-SHA256 of
    ``{delivery_id}.{timestamp}.{payload}`` keyed with the secret."""
    signed_content = f"{delivery_id}.{timestamp}.{payload}"
    digest = hmac.new(secret.encode("utf-8"), signed_content.encode("utf-8"), hashlib.sha256)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest.digest()).decode('ascii')}"


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """The receiving side: whether ``body`` with these headers was signed with ``secret``
    less than ``tolerance`` seconds ago (header names are matched ignoring case)."""
    lower = {key.lower(): value for key, value in headers.items()}
    delivery_id = lower.get(DELIVERY_ID_HEADER.lower())
    timestamp = lower.get(TIMESTAMP_HEADER.lower())
    signature = lower.get(SIGNATURE_HEADER.lower())
    if not (delivery_id and timestamp and signature and timestamp.isdigit()):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    expected = sign(secret, delivery_id, timestamp, body.decode("utf-8"))
    return hmac.compare_digest(expected.encode(), signature.encode())


# -- command hooks --------------------------------------------------------------------------


def run_command(
    target: CommandTarget, event: Event, root: Path, hook_name: str, *, test: bool = False
) -> Outcome:
    """Run the command with the event as JSON on stdin and its fields in ``MODELREG_*``
    (:func:`modelreg.process.run`: stopped with all it started after ``timeout``)."""
    env = command_environment(event, root, hook_name, test=test)
    cwd = (root / target.cwd) if target.cwd else root
    stdin = jsonio.dumps(event.to_dict(), ensure_ascii=False).encode("utf-8")
    try:
        finished = process.run(
            target.command, cwd=cwd, env=env, timeout=target.timeout, stdin=stdin
        )
    except OSError as exc:
        return Outcome(False, f"could not start {_show_command(target.command)}: {exc}")
    out, err = finished.stdout, finished.stderr
    output = _tail(out, err)
    if finished.exit_code is None:
        detail = f"did not finish within {target.timeout:g} s and was stopped"
        return Outcome(False, detail, response=output)
    if finished.exit_code != 0:
        last = _last_line(err) or _last_line(out)
        detail = f"exited with status {finished.exit_code}" + (f": {last}" if last else "")
        return Outcome(False, detail, finished.exit_code, output)
    return Outcome(True, "exited with status 0", 0, output)


def command_environment(
    event: Event, root: Path, hook_name: str, *, test: bool = False
) -> dict[str, str]:
    """The model vocabulary of :func:`modelreg.process.model_environment` (as checks get
    it), and the event's own: ``MODELREG_EVENT``, ``MODELREG_ALIAS``, ... Every variable
    is always set (empty when it does not apply), so a value never leaks in from the
    parent environment."""
    fields = event_fields(event)
    lineage = event.entity.get("lineage")
    # A version registered from another (a copy) names that version's artifact.
    pinned = pinned_location(lineage) if isinstance(lineage, dict) else None
    source = pinned or fields["source"]
    source = artifact_location(source, root) if source else ""
    return {
        **process.model_environment(
            name=fields["name"],
            version=fields["version"],
            current_stage=fields["stage"],
            from_stage=fields["from_stage"],
            to_stage=fields["to_stage"],
            source=source,  # absolute, as checks get it: the hook may run elsewhere
            run_id=fields["run_id"],
            registry=root,  # `modelreg resolve "$MODELREG_MODEL_URI"` finds this registry
        ),
        "MODELREG_STAGE": fields["stage"],  # a hook's old name for the current stage
        "MODELREG_EVENT": fields["event"],
        "MODELREG_DELIVERY_ID": fields["delivery_id"],
        "MODELREG_EVENT_TIMESTAMP": fields["timestamp"],
        "MODELREG_EVENT_USER": fields["user"],
        "MODELREG_ALIAS": fields["alias"],
        "MODELREG_TAG_KEY": fields["tag_key"],
        "MODELREG_TAG_VALUE": fields["tag_value"],
        "MODELREG_HOOK": hook_name,
        "MODELREG_TEST": "1" if test else "",
        # A change the hook makes fires no hooks: no loops.
        "MODELREG_NO_HOOKS": "1",
    }


def _show_command(command: str | tuple[str, ...]) -> str:
    return command if isinstance(command, str) else " ".join(command)


def _tail(*outputs: bytes | None) -> str:
    text = "".join((data or b"").decode("utf-8", "replace") for data in outputs)
    return text[-MAX_RESPONSE_CHARS:]


def _last_line(data: bytes | None) -> str:
    lines = [line for line in (data or b"").decode("utf-8", "replace").splitlines() if line]
    return lines[-1].strip()[:300] if lines else ""


# -- webhooks -----------------------------------------------------------------------------


class _UnsentError(Exception):
    """The request never reached the receiver (no connection): safe to retry."""


def post_webhook(target: WebhookTarget, event: Event) -> Outcome:
    """POST the event (signed when a secret is configured), retrying 429/5xx and failed
    connections with exponential back-off."""
    url = target.url or os.environ.get(target.url_env or "", "")
    if not url:
        return Outcome(False, f"environment variable {target.url_env} (url_env) is not set")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return Outcome(False, "the webhook URL must start with http:// or https://")
    secret = None
    if target.secret_env:
        secret = os.environ.get(target.secret_env)
        if not secret:
            # Never send unsigned what the receiver expects signed.
            return Outcome(
                False, f"environment variable {target.secret_env} (secret_env) is not set"
            )
    body = slack_payload(event, target.message) if target.payload == "slack" else event.to_dict()
    payload = jsonio.dumps(body)  # ASCII only: the signed string and the sent bytes agree
    attempts = target.retries + 1
    outcome = Outcome(False, "not attempted")
    for attempt in range(1, attempts + 1):
        outcome, delay = _attempt(url, payload, event, secret, target.timeout, attempt)
        if outcome.ok or delay is None or attempt == attempts:
            break
        time.sleep(min(MAX_BACKOFF, max(delay, target.backoff * 2 ** (attempt - 1))))
    return outcome


def slack_payload(event: Event, message: str | None) -> Document:
    """What a Slack incoming webhook (and Mattermost, Rocket.Chat, Teams' Slack mode)
    takes as is: ``{"text": ...}``."""
    return {"text": render_template(message, event, "modelreg: {summary}", _slack_escape)}


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions (<!channel>): registry data must not ping.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attempt(
    url: str, payload: str, event: Event, secret: str | None, timeout: float, attempt: int
) -> tuple[Outcome, float | None]:
    """One POST; returns the outcome and, when it is worth retrying, the minimum delay."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"modelreg/{__version__}",
        DELIVERY_ID_HEADER: event.delivery_id,
        TIMESTAMP_HEADER: timestamp,
        EVENT_HEADER: event.type,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, event.delivery_id, timestamp, payload)
    tries = f" after {attempt} attempt{'s' if attempt > 1 else ''}"
    try:
        status, text, retry_after = _post(url, payload.encode("utf-8"), headers, timeout)
    except _UnsentError as exc:
        return Outcome(False, f"could not connect: {exc}{tries}", attempts=attempt), 0.0
    except TimeoutError:
        detail = f"no response within {timeout:g} s (not retried: the receiver may have it)"
        return Outcome(False, detail, attempts=attempt), None
    except OSError as exc:
        return Outcome(False, f"connection failed: {exc}{tries}", attempts=attempt), 0.0
    if 200 <= status < 300:
        return Outcome(True, f"HTTP {status}", status, text, attempt), None
    detail = f"HTTP {status}" + (f": {_first_line(text)}" if text.strip() else "")
    if 300 <= status < 400:
        detail += " (redirects are not followed; configure the final URL)"
    outcome = Outcome(
        False, detail + (tries if status in RETRY_STATUSES else ""), status, text, attempt
    )
    return outcome, (retry_after if status in RETRY_STATUSES else None)


def _post(url: str, data: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str, float]:
    """POST and return (status, body text, Retry-After seconds or 0).

    Plain ``http.client``, not urllib: urllib re-capitalises header names
    (``X-Mlflow-Signature``), and a receiver that reads MLflow's exact spelling from a
    plain dict would not find them. A redirect is never followed: urllib would turn the
    signed POST into a GET without its body, sent where the configuration does not name."""
    # The scheme was checked to be http or https by post_webhook.
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "", parts.port
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    proxy = _proxy_for(parts.scheme, host)
    connection: http.client.HTTPConnection
    if proxy is None:
        connection = _connection(parts.scheme, host, port, timeout)
    else:
        proxy_parts = urllib.parse.urlsplit(proxy)
        proxy_headers = _proxy_authorization(proxy_parts)
        connection = _connection(
            proxy_parts.scheme or "http", proxy_parts.hostname or "", proxy_parts.port, timeout
        )
        if parts.scheme == "https":
            connection.set_tunnel(host, port, headers=proxy_headers)
        else:
            target = url  # a plain-HTTP proxy takes the absolute URL
            headers = {**headers, **proxy_headers}
    with contextlib.closing(connection):
        try:
            connection.connect()
        except OSError as exc:
            # Nothing was sent (refused, unknown host, TLS, connect timeout): safe to retry.
            raise _UnsentError(str(exc) or type(exc).__name__) from None
        try:
            connection.request("POST", target, body=data, headers=headers)
            response = connection.getresponse()
        except http.client.HTTPException as exc:
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from None
        with response:
            return (
                response.status,
                _read(response),
                _retry_after(response.getheader("Retry-After")),
            )


def _connection(
    scheme: str, host: str, port: int | None, timeout: float
) -> http.client.HTTPConnection:
    if scheme == "https":
        context = ssl.create_default_context()
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _proxy_for(scheme: str, host: str) -> str | None:
    """The proxy from the environment (``HTTPS_PROXY``, ``NO_PROXY``, ...) for this host;
    never one for loopback: a receiver on 127.0.0.1 is never sent through a proxy."""
    if host == "localhost" or _is_loopback(host) or urllib.request.proxy_bypass(host):
        return None
    proxy = urllib.request.getproxies().get(scheme)
    if proxy and "://" not in proxy:
        proxy = f"http://{proxy}"
    return proxy or None


def _proxy_authorization(proxy: urllib.parse.SplitResult) -> dict[str, str]:
    if proxy.username is None:
        return {}
    user = urllib.parse.unquote(proxy.username)
    password = urllib.parse.unquote(proxy.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Proxy-Authorization": f"Basic {token}"}


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read(response: Any) -> str:
    try:
        data = response.read(64 * 1024)
    except (OSError, ValueError):
        return ""
    return bytes(data).decode("utf-8", "replace")[:MAX_RESPONSE_CHARS]


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0  # an HTTP date: fall back to our own back-off


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200]


# -- email -----------------------------------------------------------------------------------


def send_email(target: EmailTarget, event: Event) -> Outcome:
    """Send the event by SMTP (STARTTLS or implicit TLS, login from the environment)."""
    import smtplib  # only the email hooks pay for it

    credentials = _credentials(target)
    if isinstance(credentials, Outcome):
        return credentials
    message = email_message(target, event)
    try:
        if target.implicit_tls:
            context = ssl.create_default_context()
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                target.smtp_host, target.smtp_port, timeout=target.timeout, context=context
            )
        else:
            server = smtplib.SMTP(target.smtp_host, target.smtp_port, timeout=target.timeout)
        with server:
            if target.starttls and not target.implicit_tls:
                server.starttls(context=ssl.create_default_context())
            if credentials:
                server.login(*credentials)
            refused = server.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(False, f"SMTP {target.smtp_host}:{target.smtp_port}: {_smtp_reason(exc)}")
    if refused:
        return Outcome(False, f"refused recipients: {', '.join(sorted(refused))}")
    count = len(target.to)
    return Outcome(True, f"sent to {count} recipient{'s' if count > 1 else ''}", 250)


def email_message(target: EmailTarget, event: Event) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = _one_line(
        render_template(target.subject, event, "[modelreg] {summary}", _one_line)
    )
    message["From"] = target.sender
    message["To"] = ", ".join(target.to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="modelreg.invalid")
    message[EVENT_HEADER] = event.type
    message["X-Modelreg-Delivery-Id"] = event.delivery_id
    fields = event_fields(event)
    lines = [fields["summary"], ""]
    lines += [f"{key}: {value}" for key, value in fields.items() if value and key != "summary"]
    lines += ["", "The event as JSON:", jsonio.dumps(event.to_dict(), indent=2, ensure_ascii=False)]
    message.set_content("\n".join(lines) + "\n")
    return message


def _credentials(target: EmailTarget) -> tuple[str, str] | Outcome | None:
    if not target.username_env:
        return None
    user = os.environ.get(target.username_env)
    password = os.environ.get(target.password_env or "")
    if not user or password is None:
        missing = target.username_env if not user else target.password_env
        return Outcome(False, f"environment variable {missing} is not set")
    return user, password


def _smtp_reason(exc: BaseException) -> str:
    import smtplib

    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"{exc.smtp_code} {text}"
    return str(exc) or type(exc).__name__
