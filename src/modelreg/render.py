"""Every console write: data to stdout in the chosen format, messages to stderr.

``table`` is for people (Rich, imported only when a table is drawn); ``json`` and ``yaml``
use the Python API's attribute names; ``plain`` is tab-separated lines without a header,
for ``cut``, ``read`` and ``$(shell ...)``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from modelreg import jsonio
from modelreg.entities import ModelVersion, RegisteredModel, ms_to_iso


class Format(str, Enum):
    table = "table"
    json = "json"
    yaml = "yaml"
    plain = "plain"


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: str = "text"  # key (never wrapped) | text | time | list | mapping
    # Derives the value from the record when it is not one of its fields.
    getter: Callable[[Mapping[str, Any]], Any] | None = None

    def value(self, record: Mapping[str, Any]) -> Any:
        return self.getter(record) if self.getter else record.get(self.key)


def _latest_version(record: Mapping[str, Any]) -> Any:
    versions = [item["version"] for item in record.get("latest_versions") or []]
    return max(versions) if versions else None


VERSION_COLUMNS = (
    Column("name", "name", "key"),
    Column("version", "version", "key"),
    Column("stage", "current_stage", "key"),
    Column("aliases", "aliases", "list"),
    Column("run_id", "run_id"),
    Column("source", "source"),
    Column("created", "creation_timestamp", "time"),
)
MODEL_COLUMNS = (
    Column("name", "name", "key"),
    Column("latest", "latest_version", "key", getter=_latest_version),
    Column("aliases", "aliases", "mapping"),
    Column("tags", "tags", "mapping"),
    Column("description", "description"),
)
# Shown in their own columns, or (the artifact a decision was for) only in json/yaml.
_HISTORY_FIELDS = frozenset(
    {"timestamp", "user_id", "version", "action", "comment", "artifact_sha256"}
)


def _history_details(record: Mapping[str, Any]) -> str:
    parts = []
    if "from_stage" in record or "to_stage" in record:
        parts.append(f"{record.get('from_stage')} -> {record.get('to_stage')}")
    parts.extend(
        f"{key}={cell(value)}"
        for key, value in record.items()
        if key not in _HISTORY_FIELDS and key not in ("from_stage", "to_stage")
    )
    if record.get("comment"):
        parts.append(f"comment: {record['comment']}")
    return "; ".join(parts)


HISTORY_COLUMNS = (
    Column("time", "timestamp", "key"),
    Column("user", "user_id"),
    Column("version", "version"),
    Column("action", "action"),
    Column("details", "details", getter=_history_details),
)


def _finding_status(record: Mapping[str, Any]) -> str:
    return "repaired" if record.get("repaired") else "problem"


FINDING_COLUMNS = (
    Column("path", "path"),
    Column("status", "repaired", getter=_finding_status),
    Column("problem", "problem"),
    Column("fix", "fix"),
)


def emit(data: Any, fmt: Format, columns: Sequence[Column]) -> None:
    """Print one record (a mapping) or a list of records in ``fmt``."""
    if fmt is Format.json:
        _write(jsonio.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    elif fmt is Format.yaml:
        from modelreg import yamlio

        _write(yamlio.dumps(data))
    elif fmt is Format.plain:
        records = data if isinstance(data, list) else [data]
        _write("".join(_plain_line(record, columns) + "\n" for record in records))
    elif isinstance(data, list):
        _table(data, columns)
    else:
        _card(data, columns)


def emit_entity(entity: RegisteredModel | ModelVersion, fmt: Format) -> None:
    """A model or a version, with the columns of its kind."""
    columns = VERSION_COLUMNS if isinstance(entity, ModelVersion) else MODEL_COLUMNS
    emit(entity.to_dict(), fmt, columns)


def emit_text(line: str) -> None:
    """One line of data on stdout, whatever the format (``resolve``)."""
    _write(line + "\n")


def message(text: str) -> None:
    """What a write did, for people: stderr, so stdout stays data."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def warning(text: str) -> None:
    sys.stderr.write(f"warning: {text}\n")
    sys.stderr.flush()


def error(text: str) -> None:
    sys.stderr.write(f"error: {text}\n")
    sys.stderr.flush()


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def cell(value: Any, kind: str = "text") -> str:
    """One value as text: lists comma-joined, mappings as k=v, times as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "time" and isinstance(value, int):
        return ms_to_iso(value)
    if isinstance(value, Mapping):
        return ",".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def _plain_line(record: Mapping[str, Any], columns: Sequence[Column]) -> str:
    # Tabs and newlines inside values would break `cut` and `read`: flatten them.
    cells = (cell(column.value(record), column.kind) for column in columns)
    return "\t".join(text.replace("\t", " ").replace("\n", " ") for text in cells)


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    # markup and highlighting off: user data such as "[prod]" is never read as markup.
    # Into a file or a pipe, rows are never folded to an imaginary 80-column terminal.
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 1_000
    return Console(stderr=stderr, markup=False, highlight=False, soft_wrap=False, width=width)


def _table(records: list[Mapping[str, Any]], columns: Sequence[Column]) -> None:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        # Names, numbers and stages stay whole; long text (sources, descriptions) folds.
        table.add_column(column.header, overflow="fold", no_wrap=column.kind in ("key", "time"))
    for record in records:
        table.add_row(*(cell(column.value(record), column.kind) for column in columns))
    if not records:
        message("(nothing to show)")
        return
    _console().print(table)


def _card(record: Mapping[str, Any], columns: Sequence[Column]) -> None:
    """One record as a two-column table of every field."""
    from rich.table import Table

    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    kinds = {column.key: column.kind for column in columns}
    for key, value in record.items():
        if key == "latest_versions":
            text = ", ".join(f"{item['version']} ({item['current_stage']})" for item in value)
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            text = "\n".join(cell(item) for item in value)
        else:
            kind = kinds.get(key, "time" if key.endswith("_timestamp") else "text")
            text = cell(value, kind)
        table.add_row(key, text)
    _console().print(table)


# `modelreg hooks list` and `modelreg hooks log` / `hooks test`.
HOOK_COLUMNS = (
    Column("name", "name"),
    Column("kind", "kind"),
    Column("events", "events", "list"),
    Column("filter", "filter"),
    Column("target", "target"),
    Column("enabled", "enabled"),
    # Whether this machine runs them at all (`modelreg hooks trust`).
    Column("trusted", "trusted", getter=lambda record: "yes" if record.get("trusted") else "no"),
)
DELIVERY_COLUMNS = (
    Column("time", "time"),
    Column("hook", "hook"),
    Column("event", "event"),
    Column("status", "status"),
    Column("code", "code"),
    Column("ms", "duration_ms"),
    Column("delivery_id", "delivery_id"),
    Column("detail", "detail"),
)
