"""Notifications against real endpoints: an HTTP receiver and an SMTP server started on
127.0.0.1 by the test, and command hooks run as real subprocesses. Nothing is mocked."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import os
import shutil
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from _safety import finishes_within
from modelreg import CorruptFileError, Registry, hooks, yamlio
from modelreg.cli import app
from modelreg.delivery import sign, verify

NAME = "churn-predictor"
# A made-up secret for the test receiver, and the variable that carries it.
SECRET = "s3cr3t-for-tests"  # noqa: S105
SECRET_ENV = "TEST_HOOK_SECRET"  # noqa: S105

# -- a real HTTP receiver -----------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver(ThreadingHTTPServer):
    """Records every POST; answers with the scripted statuses (the last one repeats), or
    never answers at all when ``hang``."""

    daemon_threads = True

    def __init__(self, statuses: list[int], hang: bool, retry_after: str | None) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.statuses = list(statuses)
        self.hang = hang
        self.retry_after = retry_after
        self.received: list[Received] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def events(self) -> list[str]:
        return [item.json()["event"] for item in self.received]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append(Received(self.path, dict(self.headers.items()), body))
        if self.server.hang:
            self.server.release.wait(10)
            return
        status = self.server.next_status()
        self.send_response(status)
        if self.server.retry_after is not None and status == 429:
            self.send_header("Retry-After", self.server.retry_after)
        reply = b"ok" if status < 300 else f"status {status}".encode()
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output clean


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(
        statuses: list[int] | None = None, hang: bool = False, retry_after: str | None = None
    ) -> Receiver:
        server = Receiver(statuses or [200], hang, retry_after)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.release.set()
        server.shutdown()
        server.server_close()


def mlflow_signature_ok(secret: str, item: Received) -> bool:
    """The receiving side, written from MLflow's scheme and nothing of ours:
    v1,base64(HMAC-SHA256(secret, "{delivery_id}.{timestamp}.{body}"))."""
    headers = {key.lower(): value for key, value in item.headers.items()}
    signed = (
        f"{headers['x-mlflow-delivery-id']}.{headers['x-mlflow-timestamp']}.".encode() + item.body
    )
    expected = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest())
    return hmac.compare_digest(b"v1," + expected, headers["x-mlflow-signature"].encode())


# -- a real SMTP server ------------------------------------------------------------------


class SMTPServer(socketserver.ThreadingTCPServer):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, refuse: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.refuse = refuse  # a recipient answered with 550
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _SMTPHandler(socketserver.StreamRequestHandler):
    server: SMTPServer

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode().rstrip("\r\n")
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-localhost")
                self.reply("250 8BITMIME")
            elif verb == "HELO" or verb in ("NOOP", "RSET"):
                self.reply("250 OK")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].strip().split()[0].strip("<>")
                self.reply("250 OK")
            elif verb == "RCPT":
                recipient = command.split(":", 1)[1].strip().strip("<>")
                if recipient == self.server.refuse:
                    self.reply("550 no such user")
                    continue
                recipients.append(recipient)
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                self.server.messages.append((sender, recipients, self.read_data()))
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")

    def read_data(self) -> email.message.EmailMessage:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        message = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        return message


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., SMTPServer]]:
    started: list[SMTPServer] = []

    def start(refuse: str | None = None) -> SMTPServer:
        server = SMTPServer(refuse)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


# -- registries with hooks --------------------------------------------------------------


def set_hooks(root: Path, hook_list: Any) -> None:
    path = root / "registry.yaml"
    doc = yamlio.loads(path.read_bytes(), path)
    doc["hooks"] = hook_list
    path.write_text(yamlio.dumps(doc))


def webhook(url: str, **options: Any) -> dict[str, Any]:
    return {"name": "web", "kind": "webhook", "events": ["*"], "url": url, **options}


def python_command(code: str, **options: Any) -> dict[str, Any]:
    """A command hook that runs ``code`` in a real Python subprocess (no shell)."""
    return {
        "name": "cmd",
        "kind": "command",
        "events": ["*"],
        "command": [sys.executable, "-c", code],
        **options,
    }


def marker_hook(marker: Path, **options: Any) -> dict[str, Any]:
    write = f"pathlib.Path({str(marker)!r}).write_text(os.environ['MODELREG_EVENT'])"
    return python_command(f"import pathlib, os; {write}", **options)


class Watched:
    """A registry opened with its hooks attached, and what the dispatcher reported."""

    def __init__(self, root: Path) -> None:
        self.registry = Registry(root, hooks=False)
        self.untrusted: list[list[str]] = []
        dispatcher = hooks.attach(self.registry, on_untrusted=self.untrusted.append)
        assert dispatcher is not None
        self.dispatcher = dispatcher

    @property
    def results(self) -> list[hooks.DeliveryResult]:
        return self.dispatcher.results


def open_trusted(root: Path) -> Watched:
    registry = Registry(root)
    hooks.trust(root, hooks.load(registry.config.raw, root))
    return Watched(root)


@pytest.fixture
def signing_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET


# -- webhooks ----------------------------------------------------------------------------


def test_a_session_delivers_every_event_once_signed_with_the_entity(
    registry: Registry, receiver: Callable[..., Receiver], signing_secret: str
) -> None:
    server = receiver()
    set_hooks(registry.root, [webhook(server.url, secret_env=SECRET_ENV)])
    watched = open_trusted(registry.root)
    reg = watched.registry

    reg.register(NAME, "s3://models/churn/1", create_model=True)
    reg.transition_model_version_stage(NAME, 1, "Production")
    reg.set_registered_model_alias(NAME, "champion", 1)
    in_production = reg.get_model_version(NAME, 1).to_dict()
    reg.delete_model_version(NAME, 1)
    reg.delete_registered_model(NAME)

    assert server.events() == [
        "registered_model.created",
        "model_version.created",
        "model_version.stage_changed",
        "model_version_alias.created",
        "model_version_alias.deleted",
        "model_version.deleted",
        "registered_model.deleted",
    ]
    ids = [item.json()["delivery_id"] for item in server.received]
    assert len(set(ids)) == len(ids)
    for item in server.received:
        headers = {key.lower(): value for key, value in item.headers.items()}
        assert mlflow_signature_ok(signing_secret, item)
        assert headers["x-mlflow-delivery-id"] == item.json()["delivery_id"]
        assert abs(int(headers["x-mlflow-timestamp"]) - time.time()) < 60
        assert headers["content-type"] == "application/json"
        assert headers["x-modelreg-event"] == item.json()["event"]
        assert not mlflow_signature_ok("another secret", item)
    stage_changed = server.received[2].json()
    assert stage_changed["data"] == {
        "from_stage": "None",
        "to_stage": "Production",
        "archived_versions": [],
    }
    assert stage_changed["user"] == "tester@example.com"
    alias_set = server.received[3].json()
    assert alias_set["entity"] == in_production
    assert alias_set["data"] == {"alias": "champion"}
    assert all(result.ok for result in watched.results)


def test_the_body_is_the_signed_text_and_our_verify_agrees(
    registry: Registry, receiver: Callable[..., Receiver], signing_secret: str
) -> None:
    server = receiver()
    set_hooks(registry.root, [webhook(server.url, secret_env=SECRET_ENV)])
    open_trusted(registry.root).registry.create_registered_model(NAME, description="é ü")
    (item,) = server.received
    assert verify(signing_secret, item.headers, item.body)
    assert not verify(signing_secret, item.headers, item.body + b" ")
    assert not verify(signing_secret, item.headers, item.body, now=time.time() + 3600)
    assert item.json()["entity"]["description"] == "é ü"
    headers = {key.lower(): value for key, value in item.headers.items()}
    assert headers["x-mlflow-signature"] == sign(
        signing_secret,
        headers["x-mlflow-delivery-id"],
        headers["x-mlflow-timestamp"],
        item.body.decode(),
    )


class RawReceiver(socketserver.ThreadingTCPServer):
    """An HTTP endpoint that keeps the exact bytes of each request (head and body) and
    answers 200: what a receiver sees, before any library normalises header names."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RawHandler)
        self.requests: list[bytes] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _RawHandler(socketserver.StreamRequestHandler):
    server: RawReceiver

    def handle(self) -> None:
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = self.rfile.readline()
            if not line:
                return
            head += line
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        self.server.requests.append(head + self.rfile.read(length))
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


@pytest.fixture
def raw_receiver() -> Iterator[RawReceiver]:
    server = RawReceiver()
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def readme_receiver() -> Callable[[dict[str, str], bytes], bool]:
    """The `verified(headers, body)` function of the README, as a user copies it."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Verifying the signature on the receiving side", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - the README's own example
    verified: Callable[[dict[str, str], bytes], bool] = namespace["verified"]
    return verified


def test_headers_are_sent_spelled_exactly_as_mlflow_sends_them(
    registry: Registry,
    raw_receiver: RawReceiver,
    signing_secret: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """issue 12 #20: urllib sent `X-Mlflow-Signature`; a receiver given the headers as a
    plain dict (API Gateway, `dict(request.headers)`) looked up `X-MLflow-...` and failed."""
    url = f"http://127.0.0.1:{raw_receiver.port}/hook"
    set_hooks(registry.root, [webhook(url, secret_env=SECRET_ENV)])
    open_trusted(registry.root).registry.create_registered_model(NAME)
    (raw,) = raw_receiver.requests
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.decode("ascii").split("\r\n")
    assert lines[0] == "POST /hook HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    for name in ("X-MLflow-Delivery-Id", "X-MLflow-Timestamp", "X-MLflow-Signature"):
        assert name in headers, lines
    assert headers["Content-Type"] == "application/json"
    assert headers["X-MLflow-Delivery-Id"] == json.loads(body)["delivery_id"]
    monkeypatch.setenv("HOOK_SECRET", signing_secret)
    assert readme_receiver()(headers, body) is True
    assert readme_receiver()({**headers, "X-MLflow-Signature": "v1,AAAA"}, body) is False


def test_a_proxy_from_the_environment_is_used_except_for_loopback(
    registry: Registry, raw_receiver: RawReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{raw_receiver.port}")
    set_hooks(registry.root, [webhook("http://receiver.invalid/hook")])
    watched = open_trusted(registry.root)
    watched.registry.create_registered_model(NAME)
    assert watched.results[0].status == "delivered", watched.results[0].detail
    (raw,) = raw_receiver.requests
    assert raw.startswith(b"POST http://receiver.invalid/hook HTTP/1.1\r\n")
    assert b"\r\nX-MLflow-Delivery-Id: " in raw


def test_no_secret_means_no_signature_header(
    registry: Registry, receiver: Callable[..., Receiver]
) -> None:
    server = receiver()
    set_hooks(registry.root, [webhook(server.url)])
    open_trusted(registry.root).registry.create_registered_model(NAME)
    (item,) = server.received
    assert "x-mlflow-signature" not in {key.lower() for key in item.headers}
    assert "x-mlflow-delivery-id" in {key.lower() for key in item.headers}


def test_a_configured_secret_missing_from_the_environment_sends_nothing(
    registry: Registry, receiver: Callable[..., Receiver]
) -> None:
    server = receiver()
    unset = "NOT_SET_ANYWHERE"
    set_hooks(registry.root, [webhook(server.url, secret_env=unset)])
    watched = open_trusted(registry.root)
    watched.registry.create_registered_model(NAME)
    assert server.received == []
    (result,) = watched.results
    assert result.status == "failed"
    assert "NOT_SET_ANYWHERE" in result.detail
    assert watched.registry.get_registered_model(NAME).name == NAME  # the change is kept


def test_retries_on_500_then_succeeds_with_the_same_delivery_id(
    registry: Registry, receiver: Callable[..., Receiver], signing_secret: str
) -> None:
    server = receiver([500, 502, 200])
    set_hooks(registry.root, [webhook(server.url, secret_env=SECRET_ENV, backoff=0.01)])
    watched = open_trusted(registry.root)
    watched.registry.create_registered_model(NAME)
    assert len(server.received) == 3
    assert len({item.json()["delivery_id"] for item in server.received}) == 1
    assert all(mlflow_signature_ok(signing_secret, item) for item in server.received)
    (result,) = watched.results
    assert (result.status, result.code, result.attempts, result.response) == (
        "delivered",
        200,
        3,
        "ok",
    )


def test_honours_retry_after_on_429(registry: Registry, receiver: Callable[..., Receiver]) -> None:
    server = receiver([429, 200], retry_after="0.3")
    set_hooks(registry.root, [webhook(server.url, backoff=0.01)])
    watched = open_trusted(registry.root)
    started = time.monotonic()
    watched.registry.create_registered_model(NAME)
    assert time.monotonic() - started >= 0.3
    assert len(server.received) == 2
    assert watched.results[0].ok


def test_gives_up_after_the_retries(registry: Registry, receiver: Callable[..., Receiver]) -> None:
    server = receiver([503])
    set_hooks(registry.root, [webhook(server.url, retries=2, backoff=0.01)])
    watched = open_trusted(registry.root)
    watched.registry.create_registered_model(NAME)
    assert len(server.received) == 3
    (result,) = watched.results
    assert result.status == "failed"
    assert result.detail == "HTTP 503: status 503 after 3 attempts"


def test_a_client_error_is_not_retried(
    registry: Registry, receiver: Callable[..., Receiver]
) -> None:
    server = receiver([400])
    set_hooks(registry.root, [webhook(server.url, backoff=0.01)])
    watched = open_trusted(registry.root)
    watched.registry.create_registered_model(NAME)
    assert len(server.received) == 1
    assert watched.results[0].detail == "HTTP 400: status 400"


def test_times_out_on_a_server_that_never_answers_and_does_not_resend(
    registry: Registry, receiver: Callable[..., Receiver]
) -> None:
    server = receiver(hang=True)
    set_hooks(registry.root, [webhook(server.url, timeout=0.3, backoff=0.01)])
    watched = open_trusted(registry.root)
    # The server never answers: without the 0.3 s timeout the write would never return.
    finishes_within(60, lambda: watched.registry.create_registered_model(NAME))
    assert len(server.received) == 1
    (result,) = watched.results
    assert result.status == "failed"
    assert result.detail.startswith("no response within 0.3 s")


def test_a_refused_connection_is_retried_then_reported(registry: Registry) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    set_hooks(registry.root, [webhook(f"http://127.0.0.1:{port}/", retries=1, backoff=0.01)])
    watched = open_trusted(registry.root)
    watched.registry.create_registered_model(NAME)
    (result,) = watched.results
    assert result.status == "failed"
    assert result.detail.startswith("could not connect")
    assert result.attempts == 2


def test_slack_payload_works_with_an_incoming_webhook_url(
    registry: Registry, receiver: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = receiver()
    monkeypatch.setenv("SLACK_URL", server.url)
    hook = {
        "name": "slack",
        "kind": "webhook",
        "events": ["model_version.stage_changed"],
        "filter": "stage = 'Production'",
        "url_env": "SLACK_URL",
        "payload": "slack",
    }
    set_hooks(registry.root, [hook, {**hook, "name": "custom", "message": "${uri} is live"}])
    reg = open_trusted(registry.root).registry
    reg.register(NAME, "s3://m/1", create_model=True)
    reg.transition_model_version_stage(NAME, 1, "Staging")
    reg.transition_model_version_stage(NAME, 1, "Production")
    summary = f"{NAME} version 1: Staging -&gt; Production (by tester@example.com)"
    assert [item.json() for item in server.received] == [
        {"text": f"modelreg: {summary}"},  # Slack shows &gt; as >
        {"text": f"models:/{NAME}/1 is live"},
    ]


def test_slack_text_escapes_registry_data(
    registry: Registry, receiver: Callable[..., Receiver]
) -> None:
    server = receiver()
    set_hooks(registry.root, [webhook(server.url, payload="slack", events=["*_tag.set"])])
    reg = open_trusted(registry.root).registry
    reg.create_registered_model(NAME)
    reg.set_registered_model_tag(NAME, "note", "<!channel> R&D")
    (item,) = server.received
    assert item.json() == {
        "text": f"modelreg: model {NAME}: tag note=&lt;!channel&gt; R&amp;D set "
        "(by tester@example.com)"
    }


def test_filter_selects_production_and_archiving_is_its_own_event(
    registry: Registry, receiver: Callable[..., Receiver]
) -> None:
    server = receiver()
    hook = webhook(server.url, events=["model_version.*"], filter="stage = 'Production'")
    set_hooks(registry.root, [hook])
    reg = open_trusted(registry.root).registry
    for number in (1, 2):
        reg.register(NAME, f"s3://m/{number}", create_model=True)
    reg.transition_model_version_stage(NAME, 1, "Production")
    reg.transition_model_version_stage(NAME, 2, "Staging")
    reg.transition_model_version_stage(NAME, 2, "Production", archive_existing_versions=True)
    bodies = [item.json() for item in server.received]
    assert [(body["entity"]["version"], body["data"]["to_stage"]) for body in bodies] == [
        (1, "Production"),
        (2, "Production"),
    ]
    assert bodies[1]["data"]["archived_versions"] == [1]


def test_a_version_only_filter_does_not_match_model_events(
    registry: Registry, receiver: Callable[..., Receiver]
) -> None:
    server = receiver()
    hooks_config = [
        webhook(server.url, filter="stage = 'None'"),
        webhook(server.url, name="team", filter="tags.team = 'fraud'"),
    ]
    set_hooks(registry.root, hooks_config)
    reg = open_trusted(registry.root).registry
    reg.create_registered_model(NAME, tags={"team": "fraud"})
    reg.create_model_version(NAME, "s3://m/1")
    assert server.events() == [
        "registered_model.created",  # the `team` hook: model tags match
        "model_version.created",  # the `stage` hook; the version has no team tag
    ]


# -- email ------------------------------------------------------------------------------


def email_hook(port: int, **options: Any) -> dict[str, Any]:
    return {
        "name": "mail",
        "kind": "email",
        "events": ["model_version.stage_changed"],
        "filter": "stage = 'Production'",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "starttls": False,
        "from": "modelreg@example.com",
        "to": ["ml-team@example.com", "owner@example.com"],
        **options,
    }


def test_email_alert_through_smtp(
    registry: Registry, smtp_server: Callable[..., SMTPServer]
) -> None:
    server = smtp_server()
    set_hooks(registry.root, [email_hook(server.port)])
    watched = open_trusted(registry.root)
    reg = watched.registry
    reg.register(NAME, "s3://m/1", create_model=True)
    reg.transition_model_version_stage(NAME, 1, "Production")
    (sent,) = server.messages
    sender, recipients, message = sent
    assert sender == "modelreg@example.com"
    assert recipients == ["ml-team@example.com", "owner@example.com"]
    assert message["Subject"] == (
        f"[modelreg] {NAME} version 1: None -> Production (by tester@example.com)"
    )
    assert message["X-Modelreg-Event"] == "model_version.stage_changed"
    body = message.get_content()
    event = json.loads(body[body.index("{") :])
    assert event["delivery_id"] == message["X-Modelreg-Delivery-Id"]
    assert event["entity"]["current_stage"] == "Production"
    (result,) = watched.results
    assert (result.status, result.detail) == ("delivered", "sent to 2 recipients")


def test_email_subject_template_and_refused_recipient(
    registry: Registry, smtp_server: Callable[..., SMTPServer]
) -> None:
    server = smtp_server(refuse="owner@example.com")
    set_hooks(registry.root, [email_hook(server.port, subject="${name} v${version} in ${stage}")])
    watched = open_trusted(registry.root)
    watched.registry.register(NAME, "s3://m/1", create_model=True)
    watched.registry.transition_model_version_stage(NAME, 1, "Production")
    (sent,) = server.messages
    assert sent[2]["Subject"] == f"{NAME} v1 in Production"
    (result,) = watched.results
    assert result.status == "failed"
    assert result.detail == "refused recipients: owner@example.com"


def test_an_email_subject_stays_on_one_line(
    registry: Registry, smtp_server: Callable[..., SMTPServer]
) -> None:
    server = smtp_server()
    hook = email_hook(server.port, events=["registered_model_tag.set"], filter=None)
    set_hooks(registry.root, [hook])
    reg = open_trusted(registry.root).registry
    reg.create_registered_model(NAME)
    reg.set_registered_model_tag(NAME, "note", "two\nlines")
    (sent,) = server.messages
    assert sent[2]["Subject"] == (
        f"[modelreg] model {NAME}: tag note=two lines set (by tester@example.com)"
    )


def test_email_to_a_server_that_is_not_there_fails_cleanly(registry: Registry) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    set_hooks(registry.root, [email_hook(port, events=["*"], filter=None)])
    watched = open_trusted(registry.root)
    watched.registry.create_registered_model(NAME)
    (result,) = watched.results
    assert result.status == "failed"
    assert result.detail.startswith(f"SMTP 127.0.0.1:{port}: ")


# -- command hooks ----------------------------------------------------------------------


def test_command_gets_the_event_on_stdin_and_its_fields_in_the_environment(
    registry: Registry, tmp_path: Path
) -> None:
    out = tmp_path / "out.json"
    code = (
        "import json, os, sys, pathlib\n"
        "env = {k: v for k, v in os.environ.items() if k.startswith('MODELREG_')}\n"
        f"pathlib.Path({str(out)!r}).write_text(json.dumps("
        "{'stdin': json.load(sys.stdin), 'env': env, 'cwd': os.getcwd()}))\n"
    )
    set_hooks(registry.root, [python_command(code, events=["model_version.stage_changed"])])
    reg = open_trusted(registry.root).registry
    reg.register(NAME, "s3://m/1", create_model=True)
    reg.transition_model_version_stage(NAME, 1, "Production", comment="ship it")
    seen = json.loads(out.read_text())
    assert seen["stdin"]["event"] == "model_version.stage_changed"
    assert seen["stdin"]["entity"] == reg.get_model_version(NAME, 1).to_dict()
    env = seen["env"]
    assert env["MODELREG_EVENT"] == "model_version.stage_changed"
    assert env["MODELREG_DELIVERY_ID"] == seen["stdin"]["delivery_id"]
    assert (env["MODELREG_MODEL_NAME"], env["MODELREG_MODEL_VERSION"]) == (NAME, "1")
    assert env["MODELREG_MODEL_URI"] == f"models:/{NAME}/1"
    assert (env["MODELREG_FROM_STAGE"], env["MODELREG_TO_STAGE"]) == ("None", "Production")
    assert env["MODELREG_STAGE"] == "Production"
    assert env["MODELREG_ALIAS"] == ""
    assert env["MODELREG_HOOK"] == "cmd"
    assert env["MODELREG_NO_HOOKS"] == "1"  # what the hook changes fires no hooks
    assert Path(env["MODELREG_REGISTRY"]) == registry.root.resolve()
    assert Path(seen["cwd"]) == registry.root.resolve()


def test_a_command_gets_the_artifact_s_absolute_location_wherever_it_runs(
    registry: Registry, tmp_path: Path
) -> None:
    """issue 12 #17: MODELREG_SOURCE was the recorded source (`../model.pkl`, relative to
    the registry folder), wrong for a hook run with `cwd: ..`; checks got it absolute."""
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"weights")
    seen = tmp_path / "seen.txt"
    code = (
        f"import os, pathlib; pathlib.Path({str(seen)!r}).write_text(os.environ['MODELREG_SOURCE'])"
    )
    set_hooks(registry.root, [python_command(code, events=["model_version.created"], cwd="..")])
    reg = open_trusted(registry.root).registry
    mv = reg.register(NAME, str(artifact), create_model=True).version
    assert not Path(mv.source).is_absolute()  # recorded relative to the registry folder
    assert Path(seen.read_text()) == artifact.resolve()
    assert seen.read_text() == reg.artifact_location(mv)  # what a check gets
    reg.register(NAME, "s3://bucket/m/2")
    assert seen.read_text() == "s3://bucket/m/2"  # a URI as recorded


@pytest.mark.skipif(os.name != "posix", reason="a POSIX shell command line")
def test_a_command_string_runs_in_the_shell_in_cwd(registry: Registry, tmp_path: Path) -> None:
    hook = {
        "name": "make",
        "kind": "command",
        "events": ["model_version_alias.created"],
        "command": 'echo "$MODELREG_MODEL_NAME@$MODELREG_ALIAS=$MODELREG_MODEL_VERSION" > out.txt',
        "cwd": "..",
    }
    set_hooks(registry.root, [hook])
    reg = open_trusted(registry.root).registry
    reg.register(NAME, "s3://m/1", create_model=True)
    reg.set_registered_model_alias(NAME, "champion", 1)
    assert (registry.root.parent / "out.txt").read_text() == f"{NAME}@champion=1\n"


def test_a_failing_command_is_reported_and_the_change_is_kept(registry: Registry) -> None:
    code = "import sys; print('deploying'); print('boom: no cluster', file=sys.stderr); sys.exit(3)"
    set_hooks(registry.root, [python_command(code)])
    watched = open_trusted(registry.root)
    watched.registry.create_registered_model(NAME)
    (result,) = watched.results
    assert (result.status, result.code) == ("failed", 3)
    assert result.detail == "exited with status 3: boom: no cluster"
    assert "deploying" in result.response
    assert watched.registry.get_registered_model(NAME).name == NAME


def test_a_command_that_runs_too_long_is_stopped(registry: Registry) -> None:
    # Ten minutes of sleep: were the 0.5 s timeout not enforced, finishes_within would fail.
    set_hooks(registry.root, [python_command("import time; time.sleep(600)", timeout=0.5)])
    watched = open_trusted(registry.root)
    finishes_within(60, lambda: watched.registry.create_registered_model(NAME))
    assert watched.results[0].detail == "did not finish within 0.5 s and was stopped"


def test_a_command_that_does_not_exist(registry: Registry, tmp_path: Path) -> None:
    hook = {**python_command(""), "command": [str(tmp_path / "no-such-program")]}
    set_hooks(registry.root, [hook])
    watched = open_trusted(registry.root)
    watched.registry.create_registered_model(NAME)
    assert watched.results[0].detail.startswith("could not start")


# -- trust ------------------------------------------------------------------------------


def test_nothing_runs_from_an_untrusted_configuration(
    registry: Registry, tmp_path: Path, receiver: Callable[..., Receiver]
) -> None:
    server = receiver()
    marker = tmp_path / "marker"
    set_hooks(registry.root, [marker_hook(marker), webhook(server.url)])
    watched = Watched(registry.root)
    watched.registry.create_registered_model(NAME)
    watched.registry.create_model_version(NAME, "s3://m/1")
    assert not marker.exists()
    assert server.received == []
    assert watched.untrusted == [["cmd", "web"]]  # told once
    assert {result.status for result in watched.results} == {"skipped"}


def test_trust_is_for_this_exact_configuration_of_this_registry(
    registry: Registry, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    set_hooks(registry.root, [marker_hook(marker)])
    config = hooks.load(Registry(registry.root).config.raw, registry.root)
    hooks.trust(registry.root, config)
    Watched(registry.root).registry.create_registered_model(NAME)
    assert marker.read_text() == "registered_model.created"

    # The same hooks in a copy of the folder are another registry: not trusted.
    marker.unlink()
    copy = tmp_path / "copy"
    shutil.copytree(registry.root, copy)
    Watched(copy).registry.create_registered_model("other")
    assert not marker.exists()

    # Any change to the hooks needs trust again.
    set_hooks(registry.root, [marker_hook(marker, timeout=60)])
    watched = Watched(registry.root)
    watched.registry.create_registered_model("third")
    assert not marker.exists()
    assert watched.untrusted == [["cmd"]]


def test_trust_from_the_environment(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "marker"
    set_hooks(registry.root, [marker_hook(marker)])
    monkeypatch.setenv("MODELREG_TRUST_HOOKS", "0")
    Watched(registry.root).registry.create_registered_model(NAME)
    assert not marker.exists()
    monkeypatch.setenv("MODELREG_TRUST_HOOKS", "1")
    Watched(registry.root).registry.create_registered_model("other")
    assert marker.exists()


def test_revoking_trust(registry: Registry, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    set_hooks(registry.root, [marker_hook(marker)])
    open_trusted(registry.root)
    assert hooks.revoke(registry.root) is True
    assert hooks.revoke(registry.root) is False
    Watched(registry.root).registry.create_registered_model(NAME)
    assert not marker.exists()


def test_trust_is_stored_outside_the_folder(registry: Registry, tmp_path: Path) -> None:
    set_hooks(registry.root, [marker_hook(tmp_path / "marker")])
    open_trusted(registry.root)
    stored = json.loads(hooks.trust_file().read_text())
    entry = stored["registries"][str(registry.root.resolve())]
    assert entry["hooks"] == ["cmd"]
    assert len(entry["sha256"]) == 64
    assert not hooks.trust_file().is_relative_to(registry.root)


def test_the_digest_ignores_key_order_and_sees_every_change() -> None:
    hook = {"name": "a", "kind": "command", "events": ["*"], "command": "true"}
    reordered = dict(reversed(list(hook.items())))
    assert hooks.digest([hook]) == hooks.digest([reordered])
    assert hooks.digest([hook]) != hooks.digest([{**hook, "command": "true "}])


def test_no_hooks_from_the_environment(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_hooks(registry.root, [marker_hook(tmp_path / "marker")])
    monkeypatch.setenv("MODELREG_NO_HOOKS", "1")
    assert hooks.attach(Registry(registry.root)) is None
    monkeypatch.setenv("MODELREG_NO_HOOKS", "0")
    assert hooks.attach(Registry(registry.root)) is not None


# -- the configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hook", "problem"),
    [
        ({"kind": "command", "events": ["*"], "command": "x"}, "hooks[0].name: is required"),
        (
            {"name": "a", "kind": "sms", "events": ["*"]},
            "hooks[0] ('a').kind: must be one of command, webhook, email, not 'sms'",
        ),
        (
            {"name": "a", "kind": "command", "command": "x"},
            "hooks[0] ('a').events: is required",
        ),
        (
            {"name": "a", "kind": "command", "events": ["model_version.promoted"], "command": "x"},
            "hooks[0] ('a').events: 'model_version.promoted' matches no event type",
        ),
        (
            {"name": "a", "kind": "command", "events": ["*"], "command": "x", "comand": "y"},
            "hooks[0] ('a').comand: unknown key; a command hook takes: ",
        ),
        (
            {"name": "a", "kind": "webhook", "events": ["*"], "url": "http://x", "secret": "s"},
            "hooks[0] ('a').secret: secrets are never stored in the registry folder",
        ),
        (
            {"name": "a", "kind": "webhook", "events": ["*"], "url": "ftp://x"},
            "hooks[0] ('a').url: must start with http:// or https://",
        ),
        (
            {"name": "a", "kind": "webhook", "events": ["*"]},
            "hooks[0] ('a').url: give exactly one of url and url_env",
        ),
        (
            {"name": "a", "kind": "webhook", "events": ["*"], "url": "http://x", "timeout": "5"},
            "hooks[0] ('a').timeout: must be a number >= 0.001",
        ),
        (
            {"name": "a", "kind": "webhook", "events": ["*"], "url": "http://x", "payload": "xml"},
            "hooks[0] ('a').payload: must be json or slack, not 'xml'",
        ),
        (
            {
                "name": "a",
                "kind": "email",
                "events": ["*"],
                "smtp_host": "h",
                "from": "f@x",
                "to": ["t@x"],
                "starttls": False,
                "username_env": "U",
                "password_env": "P",
            },
            "hooks[0] ('a').starttls: credentials would cross the network in clear text",
        ),
        (
            {"name": "a", "kind": "command", "events": ["*"], "command": "x", "filter": "stge = 1"},
            "hooks[0] ('a').filter: unknown field 'stge'",
        ),
    ],
)
def test_configuration_errors_name_the_hook_and_the_key(
    registry: Registry, hook: dict[str, Any], problem: str
) -> None:
    set_hooks(registry.root, [hook])
    with pytest.raises(CorruptFileError) as caught:
        hooks.attach(Registry(registry.root))
    assert caught.value.path == registry.root / "registry.yaml"
    assert caught.value.problem.startswith(problem), caught.value.problem


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("make deploy", "'hooks' must be a list of hooks (each a mapping)"),
        (["make deploy"], "hooks[0]: must be a mapping with name, kind, events, ..."),
    ],
)
def test_hooks_is_a_list_of_mappings(registry: Registry, raw: Any, problem: str) -> None:
    set_hooks(registry.root, raw)
    with pytest.raises(CorruptFileError) as caught:
        hooks.attach(Registry(registry.root))
    assert caught.value.problem == problem


@pytest.mark.parametrize(
    ("hook", "problem"),
    [
        (
            {**webhook("http://127.0.0.1:9/"), "payload": "slack", "message": "${nam} is ${stage}"},
            "hooks[0] ('web').message: unknown placeholder ${nam}; known: event, delivery_id,",
        ),
        (
            {**webhook("http://127.0.0.1:9/"), "message": "$model v${verison} by ${user}"},
            "hooks[0] ('web').message: unknown placeholders ${model}, ${verison}; known: ",
        ),
        (
            email_hook(25, subject="[models] ${summry}"),
            "hooks[0] ('mail').subject: unknown placeholder ${summry}; known: ",
        ),
    ],
)
def test_an_unknown_placeholder_is_refused_when_the_configuration_is_read(
    registry: Registry, cli: Callable[..., Result], hook: dict[str, Any], problem: str
) -> None:
    """issue 12 #16: `${nam}` used to reach Slack or the subject line as written."""
    set_hooks(registry.root, [hook])
    with pytest.raises(CorruptFileError) as caught:
        Registry(registry.root)
    assert caught.value.problem.startswith(problem), caught.value.problem
    result = cli("create", NAME)
    assert result.exit_code == 7
    assert problem in result.stderr
    assert Registry(registry.root, hooks=False).list_registered_models() == []
    assert cli("check").exit_code == 7  # `modelreg check` finds it too


def test_known_placeholders_and_a_literal_dollar_are_accepted(
    registry: Registry, receiver: Callable[..., Receiver]
) -> None:
    server = receiver()
    message = "$$5 bonus: ${name} v$version by ${user} (${summary})"
    set_hooks(registry.root, [webhook(server.url, payload="slack", message=message)])
    open_trusted(registry.root).registry.create_registered_model(NAME)
    (item,) = server.received
    assert item.json()["text"].startswith(f"$5 bonus: {NAME} v by tester@example.com (")


def test_the_template_fields_are_the_fields_of_an_event() -> None:
    from modelreg.delivery import TEMPLATE_FIELDS, event_fields

    event = hooks.sample_event("model_version.stage_changed", "someone")
    assert tuple(event_fields(event)) == TEMPLATE_FIELDS


def test_two_hooks_with_one_name(registry: Registry) -> None:
    hook = {"name": "a", "kind": "command", "events": ["*"], "command": "x"}
    set_hooks(registry.root, [hook, hook])
    with pytest.raises(CorruptFileError, match=r"hooks\[1\]: a second hook named 'a'"):
        hooks.attach(Registry(registry.root))


def test_a_filter_error_points_at_the_bad_part(registry: Registry) -> None:
    hook = {"name": "a", "kind": "command", "events": ["*"], "command": "x"}
    set_hooks(registry.root, [{**hook, "filter": "stage = 'Production' AND"}])
    with pytest.raises(CorruptFileError) as caught:
        hooks.attach(Registry(registry.root))
    assert "stage = 'Production' AND\n" in caught.value.problem
    assert caught.value.problem.splitlines()[-1].strip().startswith("^")


# -- the delivery log ---------------------------------------------------------------------


def test_deliveries_are_logged_in_the_git_ignored_cache(
    registry: Registry, receiver: Callable[..., Receiver]
) -> None:
    server = receiver([500, 200])
    set_hooks(registry.root, [webhook(server.url, backoff=0.01)])
    open_trusted(registry.root).registry.create_registered_model(NAME)
    (entry,) = hooks.read_log(registry.root)
    assert entry["hook"] == "web"
    assert entry["event"] == "registered_model.created"
    assert (entry["status"], entry["code"], entry["attempts"]) == ("delivered", 200, 2)
    assert ".cache/" in (registry.root / ".gitignore").read_text().splitlines()
    assert (registry.root / ".cache" / "hooks.log").is_file()


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_the_log_is_never_written_through_a_symlink(registry: Registry, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (registry.root / ".cache").symlink_to(victim)
    set_hooks(registry.root, [marker_hook(tmp_path / "marker")])
    open_trusted(registry.root).registry.create_registered_model(NAME)
    assert (tmp_path / "marker").exists()
    assert list(victim.iterdir()) == []


# -- the command line -----------------------------------------------------------------------


@pytest.fixture
def cli(registry: Registry) -> Callable[..., Result]:
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, ["--registry", str(registry.root), *args], env=env)

    return invoke


def test_cli_untrusted_hooks_are_skipped_with_a_notice(
    cli: Callable[..., Result], registry: Registry, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    set_hooks(registry.root, [marker_hook(marker)])
    result = cli("create", NAME)
    assert result.exit_code == 0, result.stderr
    assert not marker.exists()
    notices = [line for line in result.stderr.splitlines() if "not trusted" in line]
    assert notices == [
        "warning: skipped hook 'cmd': this registry's hook configuration is not trusted on "
        "this machine; review it with `modelreg hooks list`, then run `modelreg hooks trust` "
        "(or set MODELREG_TRUST_HOOKS=1)"
    ]


def test_cli_trust_then_run_then_change_needs_trust_again(
    cli: Callable[..., Result], registry: Registry, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    set_hooks(registry.root, [marker_hook(marker)])
    listed = cli("hooks", "list")
    assert "not trusted on this machine" in listed.stderr
    trusted = cli("hooks", "trust")
    assert trusted.exit_code == 0, trusted.stderr
    assert "Trusted these 1 hook(s)" in trusted.stderr
    assert "trusted on this machine (hooks sha256" in cli("hooks", "list").stderr

    assert cli("create", NAME).exit_code == 0
    assert marker.read_text() == "registered_model.created"

    marker.unlink()
    set_hooks(registry.root, [marker_hook(marker, description="changed")])
    result = cli("create", "second")
    assert result.exit_code == 0
    assert not marker.exists()
    assert "not trusted" in result.stderr


def test_cli_failed_delivery_exits_0_and_strict_hooks_exits_8(
    cli: Callable[..., Result], registry: Registry
) -> None:
    set_hooks(registry.root, [python_command("import sys; sys.exit('no cluster')")])
    assert cli("hooks", "trust").exit_code == 0

    lenient = cli("create", NAME)
    assert lenient.exit_code == 0
    assert (
        "warning: hook 'cmd' failed for registered_model.created: exited with status 1: no cluster"
    ) in lenient.stderr.splitlines()

    strict = cli("--strict-hooks", "create", "second", "--format", "json")
    assert strict.exit_code == 8
    assert json.loads(strict.stdout)["name"] == "second"  # the change was made and shown
    lines = strict.stderr.splitlines()
    assert "error: hook 'cmd' failed for registered_model.created: " in lines[0]
    assert lines[-1] == (
        "error: 1 hook delivery did not happen (--strict-hooks); "
        "the change itself was made and is kept"
    )
    assert Registry(registry.root).get_registered_model("second").name == "second"


def test_cli_strict_hooks_counts_untrusted_hooks_as_not_delivered(
    cli: Callable[..., Result], registry: Registry, tmp_path: Path
) -> None:
    set_hooks(registry.root, [marker_hook(tmp_path / "marker")])
    result = cli("--strict-hooks", "create", NAME)
    assert result.exit_code == 8
    assert result.stderr.startswith("error: skipped hook 'cmd'")


def test_cli_no_hooks_option_and_environment(
    cli: Callable[..., Result], registry: Registry, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    set_hooks(registry.root, [marker_hook(marker)])
    assert cli("hooks", "trust").exit_code == 0
    quiet = cli("--no-hooks", "create", NAME)
    assert quiet.exit_code == 0
    assert "hook" not in quiet.stderr
    assert cli("create", "second", env={"MODELREG_NO_HOOKS": "1"}).exit_code == 0
    assert not marker.exists()
    assert cli("create", "third").exit_code == 0
    assert marker.exists()


def test_cli_hooks_test_sends_a_sample_event_and_shows_the_result(
    cli: Callable[..., Result],
    registry: Registry,
    receiver: Callable[..., Receiver],
    signing_secret: str,
) -> None:
    server = receiver()
    hook = webhook(server.url, events=["model_version.stage_changed"], secret_env=SECRET_ENV)
    set_hooks(registry.root, [hook])

    untrusted = cli("hooks", "test", "web")
    assert untrusted.exit_code == 5
    assert "modelreg hooks trust" in untrusted.stderr
    assert server.received == []

    assert cli("hooks", "trust").exit_code == 0
    result = cli("hooks", "test", "web", "--format", "json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert (shown["status"], shown["code"], shown["response"]) == ("delivered", 200, "ok")
    assert isinstance(shown["duration_ms"], int)
    (item,) = server.received
    assert mlflow_signature_ok(signing_secret, item)
    body = item.json()
    assert body["event"] == "model_version.stage_changed"
    assert body["data"]["test"] is True
    assert body["delivery_id"] == shown["delivery_id"]

    other = cli("hooks", "test", "web", "--event", "model_version_alias.created", "-f", "json")
    assert json.loads(other.stdout)["event"] == "model_version_alias.created"
    assert cli("hooks", "test", "web", "--event", "nope").exit_code == 2
    assert cli("hooks", "test", "missing").exit_code == 3


def test_cli_hooks_test_failure_exits_8(
    cli: Callable[..., Result], registry: Registry, receiver: Callable[..., Receiver]
) -> None:
    server = receiver([404])
    set_hooks(registry.root, [webhook(server.url)])
    cli("hooks", "trust")
    result = cli("hooks", "test", "web")
    assert result.exit_code == 8
    assert result.stderr.splitlines()[-1] == "error: hook 'web' failed: HTTP 404: status 404"


def test_cli_hooks_list_and_log(
    cli: Callable[..., Result], registry: Registry, receiver: Callable[..., Receiver]
) -> None:
    server = receiver()
    set_hooks(registry.root, [webhook(server.url, filter="name = 'x'")])
    listed = cli("hooks", "list", "--format", "json")
    assert json.loads(listed.stdout) == [
        {
            "name": "web",
            "kind": "webhook",
            "events": ["*"],
            "filter": "name = 'x'",
            "target": server.url,
            "enabled": True,
            "description": None,
            "trusted": False,
        }
    ]
    cli("create", "x")  # untrusted: logged as skipped
    cli("hooks", "trust")
    cli("create", "y")  # filtered out
    cli("tag", "x", "team=fraud")
    log = json.loads(cli("hooks", "log", "--format", "json").stdout)
    assert [(entry["event"], entry["status"]) for entry in log] == [
        ("registered_model.created", "skipped"),
        ("registered_model_tag.set", "delivered"),
    ]
    assert len(json.loads(cli("hooks", "log", "-n", "1", "--format", "json").stdout)) == 1
    assert json.loads(cli("hooks", "log", "--hook", "other", "-f", "json").stdout) == []


def test_cli_hooks_list_says_plainly_whether_this_machine_runs_them(
    cli: Callable[..., Result], registry: Registry
) -> None:
    """issue 12 #15: `enabled true` alone read as "this hook runs" on a machine that has
    not trusted it; the list shows trust in its own column, and stderr says how to trust."""
    set_hooks(
        registry.root, [{"name": "deploy", "kind": "command", "events": ["*"], "command": "true"}]
    )

    def row(result: Result) -> dict[str, str]:
        # The last two columns (the empty filter column before them has no text).
        header, line = result.stdout.splitlines()
        return dict(zip(header.split()[-2:], line.split()[-2:], strict=True))

    untrusted = cli("hooks", "list")
    assert untrusted.exit_code == 0, untrusted.stderr
    assert (row(untrusted)["enabled"], row(untrusted)["trusted"]) == ("true", "no")
    assert "run `modelreg hooks trust`" in untrusted.stderr
    plain = cli("hooks", "list", "--format", "plain").stdout
    assert plain.rstrip("\n").split("\t")[-2:] == ["true", "no"]
    assert json.loads(cli("hooks", "list", "-f", "json").stdout)[0]["trusted"] is False

    assert cli("hooks", "trust").exit_code == 0
    trusted = cli("hooks", "list")
    assert row(trusted)["trusted"] == "yes"
    assert "hooks trust`" not in trusted.stderr
    assert json.loads(cli("hooks", "list", "-f", "json").stdout)[0]["trusted"] is True
    assert row(cli("hooks", "list", env={"MODELREG_TRUST_HOOKS": "1"}))["trusted"] == "yes"


def test_cli_an_invalid_hook_configuration_changes_nothing(
    cli: Callable[..., Result], registry: Registry
) -> None:
    set_hooks(registry.root, [{"name": "a", "kind": "command", "events": ["*"]}])
    result = cli("create", NAME)
    assert result.exit_code == 7
    assert result.stderr.strip().endswith("hooks[0] ('a').command: is required")
    assert Registry(registry.root, hooks=False).list_registered_models() == []


def test_scripted_session_with_the_installed_command(
    registry: Registry,
    run_cli: Any,
    receiver: Callable[..., Receiver],
    smtp_server: Callable[..., SMTPServer],
    tmp_path: Path,
) -> None:
    """What a user's shell session does, through real `modelreg` processes."""
    server = receiver()
    mail = smtp_server()
    marker = tmp_path / "deployed"
    set_hooks(
        registry.root,
        [
            webhook(server.url, secret_env=SECRET_ENV),
            email_hook(mail.port),
            marker_hook(marker, name="deploy", events=["model_version.stage_changed"]),
        ],
    )
    env = {"MODELREG_REGISTRY": str(registry.root), SECRET_ENV: SECRET}
    before = run_cli("register", NAME, "s3://m/1", env=env)
    assert before.returncode == 0
    assert "not trusted" in before.stderr
    assert server.received == [] and mail.messages == [] and not marker.exists()

    steps = [
        ("hooks", "trust"),
        ("register", NAME, "s3://m/2"),
        ("transition", NAME, "2", "Production"),
        ("alias", NAME, "champion", "2"),
        ("delete", NAME, "2", "--yes"),
    ]
    for step in steps:
        done = run_cli(*step, env=env)
        assert done.returncode == 0, (step, done.stderr)
        assert "warning" not in done.stderr, done.stderr
    assert server.events() == [
        "model_version.created",
        "model_version.stage_changed",
        "model_version_alias.created",
        "model_version_alias.deleted",
        "model_version.deleted",
    ]
    assert all(mlflow_signature_ok(SECRET, item) for item in server.received)
    assert len(mail.messages) == 1
    assert marker.read_text() == "model_version.stage_changed"


def test_the_python_api_notifies_once_when_trusted(tmp_path: Path) -> None:
    root = Registry.init(tmp_path / "registry").root
    marker = tmp_path / "events"
    append = f"open({str(marker)!r}, 'a').write(os.environ['MODELREG_EVENT'] + chr(10))"
    set_hooks(root, [python_command(f"import os; {append}")])
    hooks.trust(root, hooks.load(Registry(root, hooks=False).config.raw, root))
    registry = Registry(root)  # hooks attached by default, as the CLI does
    registry.register_model("runs:/abc/model", NAME)
    assert marker.read_text().splitlines() == [
        "registered_model.created",
        "model_version.created",
    ]


def test_the_python_api_warns_and_runs_nothing_when_untrusted(tmp_path: Path) -> None:
    root = Registry.init(tmp_path / "registry").root
    marker = tmp_path / "marker"
    set_hooks(root, [marker_hook(marker)])
    registry = Registry(root)
    with pytest.warns(UserWarning, match="modelreg hooks trust"):
        registry.create_registered_model(NAME)
    assert not marker.exists()
