"""The delivery log: one JSON line per delivery (and per skipped one) in the registry's
git-ignored ``.cache/hooks.log``, rotated past 1 MB (one generation kept)."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelreg import jsonio
from modelreg.docread import Document
from modelreg.events import Event

LOG_FILE = Path(".cache") / "hooks.log"
# The log is a cache: past this size it is rotated to hooks.log.1 (one generation kept).
MAX_LOG_BYTES = 1024 * 1024


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

    def to_dict(self) -> Document:
        record: Document = {
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


def read_log(root: Path, *, limit: int | None = 20, hook: str | None = None) -> list[Document]:
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


def unheard(events: list[Event], root: Path) -> list[Event]:
    """``events`` but those the log holds a delivery of: one change has one delivery id
    whoever announces it (:class:`modelreg.events.Event`), so a change the hooks heard
    when it was written is not announced again when ``sync`` publishes it."""
    heard = {record.get("delivery_id") for record in read_log(root, limit=None)}
    return [event for event in events if event.delivery_id not in heard]
