"""Every console write: data to stdout in the chosen format, messages to stderr.

``table`` is for people: fitted to the terminal's width, bold headers only where colour
is on; ``json`` and ``yaml`` use the Python API's attribute names; ``plain`` is
tab-separated lines without a header, for ``cut``, ``read`` and ``$(shell ...)``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import Enum

from modelreg.entities import ModelVersion, RegisteredModel, history_details, ms_to_iso
from modelreg.structs import frozen_struct, replace

TYPE_CHECKING = False  # not `from typing import ...`: start-up (see modelreg.quick)
if TYPE_CHECKING:
    from typing import Any, TextIO


class Format(str, Enum):
    table = "table"
    json = "json"
    yaml = "yaml"
    plain = "plain"


@frozen_struct
class Column:
    header: str
    key: str
    kind: str = "text"  # key (never wrapped) | text | time | list | mapping | versions
    # Derives the value from the record when it is not one of its fields.
    getter: Callable[[Mapping[str, object]], object] | None = None
    # In a narrow terminal: how a long value is shortened (see `shorten`; a "key" column
    # never is), to how few cells, whether it is shortened before the other columns, and
    # whether it may be left out of the table.
    shorten: str = "end"
    min_width: int = 10
    give_way_first: bool = False
    optional: bool = False
    # Shown (last, in plain too) only when some record has a value: a rare field.
    when_present: bool = False

    def value(self, record: Mapping[str, object]) -> object:
        return self.getter(record) if self.getter else record.get(self.key)

    def least_width(self) -> int:
        return max(self.min_width, text_width(self.header))


def columns(*keys: str) -> tuple[Column, ...]:
    """Plain text columns headed by their keys."""
    return tuple(Column(key, key) for key in keys)


def _latest_version(record: Mapping[str, Any]) -> Any:
    versions = [item["version"] for item in record.get("latest_versions") or []]
    return max(versions) if versions else None


VERSION_COLUMNS = (
    Column("name", "name", "key"),
    Column("version", "version", "key"),
    Column("stage", "current_stage", "key"),
    Column("aliases", "aliases", "list"),
    # Shown by `describe`: in a narrow terminal, the table leaves out the creation time
    # first, then the run id, rather than fall back to one block of lines per version.
    Column("run_id", "run_id", shorten="middle", min_width=9, give_way_first=True, optional=True),
    Column("source", "source", shorten="path", min_width=12),
    Column("created", "creation_timestamp", "time", give_way_first=True, optional=True),
    # The MLflow 3 logged model a version was registered from.
    Column("model_id", "model_id", shorten="middle", optional=True, when_present=True),
)
MODEL_COLUMNS = (
    Column("name", "name", "key"),
    Column("latest", "latest_version", "key", getter=_latest_version),
    Column("aliases", "aliases", "mapping"),
    Column("tags", "tags", "mapping"),
    Column("description", "description"),
)


def _history_details(record: Mapping[str, Any]) -> str:
    parts = []
    if "from_stage" in record or "to_stage" in record:
        parts.append(f"{record.get('from_stage')} -> {record.get('to_stage')}")
    parts.extend(f"{key}={cell(value)}" for key, value in history_details(record))
    if record.get("comment"):
        parts.append(f"comment: {record['comment']}")
    return "; ".join(parts)


HISTORY_COLUMNS = (
    Column("time", "timestamp", "time", min_width=11, give_way_first=True),
    Column("user", "user_id", min_width=12, give_way_first=True),
    Column("version", "version"),
    Column("action", "action", "key"),
    Column("details", "details", getter=_history_details, min_width=20),
)


def _finding_status(record: Mapping[str, Any]) -> str:
    return "repaired" if record.get("repaired") else "problem"


FINDING_COLUMNS = (
    Column("path", "path", shorten="path", min_width=16),
    Column("status", "repaired", getter=_finding_status),
    Column("problem", "problem"),
    Column("fix", "fix"),
)


def emit(
    data: Mapping[str, object] | Sequence[Mapping[str, object]],
    fmt: Format,
    columns: Sequence[Column],
) -> None:
    """Print one record (a mapping) or a list of records in ``fmt``."""
    if fmt not in (Format.json, Format.yaml):
        columns = _present(data, columns)
    if fmt is Format.json:
        from modelreg import jsonio  # json only when asked: not on a table's start-up

        _write(jsonio.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    elif fmt is Format.yaml:
        from modelreg import yamlio

        _write(yamlio.dumps(data))
    elif fmt is Format.plain:
        records = [data] if isinstance(data, Mapping) else data
        _write("".join(_plain_line(record, columns) + "\n" for record in records))
    elif isinstance(data, Mapping):
        _card(data, columns)
    else:
        _table(data, columns)


def emit_selected(
    records: Sequence[Mapping[str, object]], fmt: Format, columns: Sequence[Column]
) -> None:
    """Exactly ``columns``, in their order, in every format (``--columns``): in json and
    yaml one object per record whose keys are the columns' headers, null where the record
    has no value."""
    rows = [{column.header: column.value(record) for column in columns} for record in records]
    emit(rows, fmt, [replace(column, key=column.header, getter=None) for column in columns])


def _present(
    data: Mapping[str, object] | Sequence[Mapping[str, object]], columns: Sequence[Column]
) -> list[Column]:
    """``columns`` without the ``when_present`` ones no record has a value for."""
    records = [data] if isinstance(data, Mapping) else data
    return [
        column
        for column in columns
        if not column.when_present or any(column.value(record) for record in records)
    ]


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


def cell(value: object, kind: str = "text") -> str:
    """One value as text: lists comma-joined, mappings as k=v, times as ISO."""
    if type(value) is str:  # the commonest, without the checks below (Mapping's is slow)
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "time" and isinstance(value, int):
        return ms_to_iso(value)
    if kind == "versions" and isinstance(value, list):
        return _versions_text(value)
    if isinstance(value, Mapping):
        return ",".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def dataset_line(name: str, dataset: object) -> str:
    """One data set of a version (its JSON shape) on one line, for people:
    ``train: data/train.csv sha256:... (8 bytes, local, git 1a2b3c4d5e6f)``."""
    if not isinstance(dataset, Mapping):
        return f"{name}: {cell(dataset)}"
    notes = []
    if dataset.get("size") is not None:
        notes.append(f"{dataset['size']} bytes")
    if dataset.get("source_type"):
        notes.append(str(dataset["source_type"]))
    if dataset.get("git_commit"):
        notes.append(f"git {_short(dataset['git_commit'])}")
    text = f"{name}: {dataset.get('source')} {dataset.get('digest') or '(no digest)'}"
    return text + (f" ({', '.join(notes)})" if notes else "")


def _versions_text(versions: Sequence[Any]) -> str:
    """A model's ``latest_versions``: ``3 (Production), 4 (None)``."""
    return ", ".join(
        f"{item.get('version')} ({item.get('current_stage')})"
        for item in versions
        if isinstance(item, Mapping)
    )


def _plain_line(record: Mapping[str, object], columns: Sequence[Column]) -> str:
    # Tabs and newlines inside values would break `cut` and `read`: flatten them.
    cells = (cell(column.value(record), column.kind) for column in columns)
    return "\t".join(text.replace("\t", " ").replace("\n", " ") for text in cells)


# -- tables and cards, for people -----------------------------------------------------------
#
# Drawn here rather than by Rich: a table must fit the terminal with its long values
# shortened (never folded into one-character columns), carry no trailing spaces, and carry
# no escape codes unless colour is on. Nothing is interpreted as markup.

_GAP = "  "
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"
# A table cell is one line: line breaks and tabs become spaces; other control characters
# (an escape sequence in a description) are shown escaped, never sent to the terminal.
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_ONE_LINE = str.maketrans({**_CONTROL, 0x09: " ", 0x0A: " ", 0x0D: " "})
_MULTI_LINE = str.maketrans({**_CONTROL, 0x09: " ", 0x0A: "\n", 0x0D: ""})


def colour(stream: TextIO) -> bool:
    """Escape codes only for a terminal, and never when $NO_COLOR is set and not empty
    (https://no-color.org) or $TERM is dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def terminal_width(stream: TextIO) -> int | None:
    """The width to fit: the terminal's ($COLUMNS first); into a pipe or a file, $COLUMNS
    when it is set, else none (rows are never cut for an imaginary terminal)."""
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    if tty:
        import shutil  # a terminal, for people: not on a pipe's start-up

        return max(shutil.get_terminal_size().columns, 1)
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def text_width(text: str) -> int:
    """How many terminal cells ``text`` takes (East Asian wide characters take two)."""
    return len(text) if text.isascii() else sum(_char_width(char) for char in text)


def _head(text: str, width: int) -> str:
    """The longest start of ``text`` that fits in ``width`` cells."""
    used = 0
    for index, char in enumerate(text):
        used += _char_width(char)
        if used > width:
            return text[:index]
    return text


def _tail(text: str, width: int) -> str:
    return _head(text[::-1], width)[::-1]


def shorten(text: str, width: int, how: str = "end") -> str:
    """``text`` in at most ``width`` cells, with an ellipsis where it was cut: at the end,
    in the middle (run ids: both ends stay recognisable), or before the last part of a
    path or URI (the file name stays whole when it fits)."""
    if text_width(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    room = width - 1
    if how == "end":
        return _head(text, room) + "…"
    tail_room = room - room // 2
    if how == "path":
        base = text.rstrip("/").rpartition("/")[2]
        tail_room = max(room - room // 4, min(text_width(base) + 1, room))
    head = _head(text, room - tail_room)
    return head + "…" + _tail(text, room - text_width(head))


def _fold(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells, broken at spaces where possible."""
    lines: list[str] = []
    while text_width(text) > width:
        head = _head(text, width) or text[0]
        space = head.rfind(" ")
        if space > len(head) // 2:
            head, text = head[:space], text[space + 1 :]
        else:
            text = text[len(head) :]
        lines.append(head.rstrip())
    lines.append(text)
    return lines


def _fit(
    natural: list[int], minimum: list[int], first: list[bool], width: int | None, gap: int
) -> list[int] | None:
    """Column widths that fit ``width``: one cap on the width of every column, half of it
    on the ``first`` columns (they give way twice as fast), none below its minimum; what
    the cap leaves goes to the columns closest to whole. None when even the minimums do
    not fit."""
    room = None if width is None else width - gap * (len(natural) - 1)
    if room is None or sum(natural) <= room:
        return natural
    if sum(minimum) > room:
        return None
    shares = [2 if yes else 1 for yes in first]

    def capped(level: int) -> list[int]:
        return [
            max(least, min(most, level // share))
            for least, most, share in zip(minimum, natural, shares, strict=True)
        ]

    low, high = 0, 2 * max(natural)  # the highest cap that still fits
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if sum(capped(middle)) <= room else (low, middle - 1)
    widths = capped(low)
    spare = room - sum(widths)
    for index in sorted(range(len(widths)), key=lambda i: natural[i] - widths[i]):
        grow = min(spare, natural[index] - widths[index])
        widths[index] += grow
        spare -= grow
    return widths


def _bold(text: str, on: bool) -> str:
    return f"{_BOLD}{text}{_RESET}" if on and text else text


def _table_lines(
    records: Sequence[Mapping[str, object]],
    columns: Sequence[Column],
    width: int | None,
    bold: bool,
) -> list[str]:
    """A header and one line per record; in a narrow terminal long values are shortened,
    then optional columns are left out, then each record becomes a block of lines."""
    rows = [
        [cell(column.value(record), column.kind).translate(_ONE_LINE) for column in columns]
        for record in records
    ]
    shown = list(range(len(columns)))
    while True:
        natural = [
            max(text_width(columns[i].header), *(text_width(row[i]) for row in rows)) for i in shown
        ]
        minimum = [
            size if columns[i].kind == "key" else min(size, columns[i].least_width())
            for i, size in zip(shown, natural, strict=True)
        ]
        first = [columns[i].give_way_first for i in shown]
        widths = _fit(natural, minimum, first, width, len(_GAP))
        if widths is not None:
            break
        optional = [i for i in shown if columns[i].optional]
        if not optional:
            blocks = [[(column.header, row[i]) for i, column in enumerate(columns)] for row in rows]
            return _blocks(blocks, width, bold)
        shown.remove(optional[-1])

    def line(cells: list[str], header: bool = False) -> str:
        parts = []
        for position, (i, size) in enumerate(zip(shown, widths, strict=True)):
            text = shorten(cells[i], size, columns[i].shorten)
            pad = "" if position == len(shown) - 1 else " " * (size - text_width(text))
            parts.append(_bold(text, header and bold) + pad)
        return _GAP.join(parts).rstrip()

    return [line([column.header for column in columns], header=True)] + [line(row) for row in rows]


def _blocks(blocks: list[list[tuple[str, str]]], width: int | None, bold: bool) -> list[str]:
    """Records as field/value blocks separated by an empty line."""
    lines: list[str] = []
    for block in blocks:
        if lines:
            lines.append("")
        lines.extend(_card_lines(block, width, bold))
    return lines


def _card_lines(fields: list[tuple[str, str]], width: int | None, bold: bool) -> list[str]:
    """Field names in the first column, values folded to the width beside them (or below
    them, indented, when the terminal is too narrow for both)."""
    names = max((text_width(name) for name, _ in fields), default=0)
    room = None if width is None else width - names - len(_GAP)
    below = room is not None and room < 20
    if below:
        room, indent = max((width or 0) - 2, 1), "  "
    else:
        indent = " " * (names + len(_GAP))
    lines: list[str] = []
    for name, value in fields:
        folded = [
            piece
            for part in value.translate(_MULTI_LINE).split("\n")
            for piece in (_fold(part, room) if room else [part])
        ]
        if below:
            lines.append(_bold(name, bold))
            lines.extend((indent + piece).rstrip() for piece in folded if piece)
            continue
        first = _bold(name, bold) + " " * (names - text_width(name)) + _GAP + folded[0]
        lines.append(first.rstrip())
        lines.extend((indent + piece).rstrip() for piece in folded[1:])
    return lines


def _print_lines(lines: list[str]) -> None:
    _write("".join(line + "\n" for line in lines))


def _table(records: Sequence[Mapping[str, object]], columns: Sequence[Column]) -> None:
    if not records:
        message("(nothing to show)")
        return
    _print_lines(_table_lines(records, columns, terminal_width(sys.stdout), colour(sys.stdout)))


def _card(record: Mapping[str, Any], columns: Sequence[Column]) -> None:
    """One record: every field, with its name."""
    kinds = {column.key: column.kind for column in columns}
    fields = []
    for key, value in record.items():
        if key == "latest_versions":
            text = _versions_text(value)
        elif key == "datasets" and isinstance(value, Mapping):
            text = "\n".join(dataset_line(name, item) for name, item in value.items())
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            text = "\n".join(cell(item) for item in value)
        else:
            kind = kinds.get(key, "time" if key.endswith("_timestamp") else "text")
            text = cell(value, kind)
        fields.append((key, text))
    _print_lines(_card_lines(fields, terminal_width(sys.stdout), colour(sys.stdout)))


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


# -- comparing versions: `modelreg diff` and `modelreg compare` ------------------------------


class ReportFormat(str, Enum):
    """The formats of a report that people also paste elsewhere: ``markdown`` is ready
    to post as a pull-request comment."""

    table = "table"
    json = "json"
    yaml = "yaml"
    plain = "plain"
    markdown = "markdown"


_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | int | None]) -> str:
    """One block character per value, low to high between the smallest and the largest
    (the middle one when they are all equal); a space where a value is missing."""
    present = [value for value in values if value is not None]
    if not present:
        return ""
    low, high = min(present), max(present)
    top = len(_SPARKS) - 1

    def spark(value: float | int | None) -> str:
        if value is None:
            return " "
        if high == low:
            return _SPARKS[top // 2]
        return _SPARKS[round((value - low) / (high - low) * top)]

    return "".join(spark(value) for value in values)


def markdown_cell(value: object) -> str:
    """A value inside a Markdown table or list: ``|`` escaped, line breaks as ``<br>``."""
    text = cell(value).replace("\\", "\\\\").replace("|", "\\|")
    return "<br>".join(part.strip("\r") for part in text.split("\n"))


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: int = 0) -> str:
    """A GitHub-flavoured Markdown table; the columns from index ``right`` on (numbers)
    are right-aligned (``right`` 0: none). Cells are given escaped (see markdown_cell)."""
    rules = ["---:" if right and index >= right else "---" for index in range(len(headers))]
    lines = [headers, rules, *rows]
    return "".join("| " + " | ".join(line) + " |\n" for line in lines)


def signed(value: int | float | None) -> str:
    """A delta with its sign (``+0.02``, ``-3``, ``0``); empty when unknown."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    return f"+{value}" if value > 0 else str(value)


def percent(value: float | None) -> str:
    """A relative delta as a signed percentage (``+2.20%``); empty when unknown."""
    if value is None:
        return ""
    return "0.00%" if value == 0 else f"{value * 100:+.2f}%"


def _diff_labels(record: Mapping[str, Any]) -> tuple[str, str]:
    a, b = record["a"], record["b"]
    if a["name"] == b["name"]:
        return f"version {a['version']}", f"version {b['version']}"
    return f"{a['name']} version {a['version']}", f"{b['name']} version {b['version']}"


def _title(record: Mapping[str, Any], arrow: str) -> str:
    a, b = record["a"], record["b"]
    one, other = _diff_labels(record)
    prefix = f"{a['name']}: " if a["name"] == b["name"] else ""
    return f"{prefix}{one} {arrow} {other}"


def _none(value: object) -> str:
    text = cell(value)
    return text if text else "(none)"


def _short(sha: object, size: int = 12) -> str:
    return sha[:size] if isinstance(sha, str) else "(none)"


def _pair_text(pair: Mapping[str, Any], arrow: str) -> str:
    if pair["same"]:
        return f"{cell(pair['a'])} (same)" if cell(pair["a"]) else "(none)"
    return f"{_none(pair['a'])} {arrow} {_none(pair['b'])}"


def _changes_lines(changes: Sequence[Mapping[str, Any]], arrow: str) -> list[str]:
    return [f"{c['key']}: {_none(c['a'])} {arrow} {_none(c['b'])}" for c in changes]


def _diff_fields(record: Mapping[str, Any], arrow: str) -> list[tuple[str, list[str], bool]]:
    """The differences besides the metrics: (field, its lines, whether it differs); a
    value inside a line may hold line breaks of its own (a description)."""
    lineage, artifact = record["lineage"], record["artifact"]
    fields = [
        ("params", _changes_lines(record["params"], arrow) or ["(same)"], bool(record["params"])),
        ("tags", _changes_lines(record["tags"], arrow) or ["(same)"], bool(record["tags"])),
    ]
    for key in ("stage", "aliases", "description"):
        fields.append((key, [_pair_text(record[key], arrow)], not record[key]["same"]))
    one, other = _short(lineage["a_commit"]), _short(lineage["b_commit"])
    if lineage["same_commit"]:
        lines = [f"{one} (same)" if lineage["a_commit"] else "(none)"]
    else:
        lines = [f"{one} {arrow} {other}"]
    if lineage["commits"] is not None and not lineage["same_commit"]:
        count = lineage["count"]
        lines.append(f"{count} commit{'' if count == 1 else 's'} in {one}..{other}")
        lines.extend(f"  {line}" for line in lineage["commits"])
        if count > len(lineage["commits"]):
            lines.append(f"  ... {count - len(lineage['commits'])} more")
    lines.extend(_changes_lines(lineage["others"], arrow))
    fields.append(("lineage", lines, not lineage["same_commit"] or bool(lineage["others"])))
    sizes = f"{_none(artifact['a_size'])} {arrow} {_none(artifact['b_size'])} bytes"
    if artifact["same"] is None:
        text = "unknown (no recorded sha256)"
    elif artifact["same"]:
        text = f"same (sha256 {_short(artifact['a_sha256'])}, {_none(artifact['a_size'])} bytes)"
    else:
        text = f"different: sha256 {_short(artifact['a_sha256'])} {arrow} "
        text += f"{_short(artifact['b_sha256'])}, size {sizes}"
    lines = [text]
    if artifact["a_source"] != artifact["b_source"]:
        lines.append(f"source: {artifact['a_source']} {arrow} {artifact['b_source']}")
    differs = artifact["same"] is False or artifact["a_source"] != artifact["b_source"]
    fields.append(("artifact", lines, differs))
    changed = record.get("datasets") or []
    lines = [
        f"{c['key']}: {_dataset_side(c['a'])} {arrow} {_dataset_side(c['b'])}" for c in changed
    ]
    if changed:  # versions without data sets keep the diff they always had
        fields.append(("datasets", lines, True))
    return fields


def _dataset_side(dataset: object) -> str:
    """One side of a data set's change in a diff: its digest, else its source."""
    if not isinstance(dataset, Mapping):
        return "(none)"
    digest = dataset.get("digest")
    return f"{dataset.get('source')} {digest}" if digest else f"{dataset.get('source')}"


# In the table and the Markdown, a metric only one version has says so in its delta.
_ADDED_OR_REMOVED = {"added": "(added)", "removed": "(removed)"}


def emit_diff(data: Mapping[str, object], fmt: ReportFormat) -> None:
    """``modelreg diff``: a :meth:`modelreg.compare.VersionDiff.to_dict` in ``fmt``."""
    record: Mapping[str, Any] = data
    if fmt in (ReportFormat.json, ReportFormat.yaml):
        emit(record, Format(fmt.value), ())
        return
    one, other = _diff_labels(record)
    metrics = [
        [
            metric["key"],
            cell(metric["a"]),
            cell(metric["b"]),
            signed(metric["delta"]) or _ADDED_OR_REMOVED.get(metric["change"], ""),
            percent(metric["relative"]),
        ]
        for metric in record["metrics"]
    ]
    if fmt is ReportFormat.plain:
        _write(_plain_diff(record))
    elif fmt is ReportFormat.markdown:
        rows = [[markdown_cell(item) for item in row] for row in metrics]
        text = f"### {markdown_cell(_title(record, '→'))}\n\n"
        headers = ["metric", markdown_cell(one), markdown_cell(other), "Δ", "Δ %"]
        text += markdown_table(headers, rows, right=1) if rows else "No metrics.\n"
        differing = [(name, value) for name, value, differs in _diff_fields(record, "→") if differs]
        text += "\n**Other differences**\n\n" if differing else "\nNo other differences.\n"
        for name, (first, *rest) in differing:
            text += f"- **{name}**: {markdown_cell(first)}\n"
            text += "".join(f"  - {markdown_cell(line.strip())}\n" for line in rest)
        _write(text)
    else:
        width, bold = terminal_width(sys.stdout), colour(sys.stdout)
        lines = [_title(record, "->"), ""]
        titles = ("metric", one, other, "delta", "relative")
        table = [{str(i): item for i, item in enumerate(row)} for row in metrics]
        if table:
            layout = [Column(header, str(i), "key") for i, header in enumerate(titles)]
            lines.extend(_table_lines(table, layout, width, bold))
        else:
            lines.append("(no metrics)")
        lines.append("")
        fields = [(name, "\n".join(lines)) for name, lines, _ in _diff_fields(record, "->")]
        lines.extend(_card_lines(fields, width, bold))
        _print_lines(lines)


def _plain_diff(record: Mapping[str, Any]) -> str:
    """Tab-separated: every metric (``metric KEY A B DELTA RELATIVE``), then what else
    differs (``param|tag|lineage|dataset KEY A B``, ``stage|aliases|description|commit|
    artifact_sha256|artifact_size|source - A B`` with an empty key)."""
    rows: list[list[object]] = [
        ["metric", m["key"], m["a"], m["b"], m["delta"], m["relative"]] for m in record["metrics"]
    ]
    for section, key in (("param", "params"), ("tag", "tags")):
        rows.extend([section, c["key"], c["a"], c["b"]] for c in record[key])
    for key in ("stage", "aliases", "description"):
        if not record[key]["same"]:
            rows.append([key, "", record[key]["a"], record[key]["b"]])
    lineage, artifact = record["lineage"], record["artifact"]
    if not lineage["same_commit"]:
        rows.append(["commit", "", lineage["a_commit"], lineage["b_commit"]])
    rows.extend(["lineage", c["key"], c["a"], c["b"]] for c in lineage["others"])
    for key in ("sha256", "size", "source"):
        if artifact[f"a_{key}"] != artifact[f"b_{key}"]:
            name = "source" if key == "source" else f"artifact_{key}"
            rows.append([name, "", artifact[f"a_{key}"], artifact[f"b_{key}"]])
    rows.extend(
        [
            "dataset",
            c["key"],
            *(None if c[side] is None else _dataset_side(c[side]) for side in "ab"),
        ]
        for c in record.get("datasets") or []
    )
    return "".join(
        "\t".join(cell(item).replace("\t", " ").replace("\n", " ") for item in row) + "\n"
        for row in rows
    )


def emit_comparison(data: Mapping[str, object], fmt: ReportFormat) -> None:
    """``modelreg compare``: ``{"name", "versions", "metrics": {KEY: [values]}}``; the
    table adds a sparkline per metric, the other formats give the numbers alone."""
    record: Mapping[str, Any] = data
    if fmt in (ReportFormat.json, ReportFormat.yaml):
        emit(record, Format(fmt.value), ())
        return
    versions = [str(version) for version in record["versions"]]
    rows = [[key, *(cell(value) for value in values)] for key, values in record["metrics"].items()]
    if fmt is ReportFormat.plain:
        _write("".join("\t".join(row) + "\n" for row in rows))
        return
    if fmt is ReportFormat.markdown:
        heading = f"### {markdown_cell(record['name'])}: metrics by version\n\n"
        body = [[markdown_cell(item) for item in row] for row in rows]
        _write(heading + (markdown_table(["metric", *versions], body, right=1) if body else ""))
        return
    if not rows:
        message("(no metrics)")
        return
    headers = ["metric", *versions, "trend"]
    trends = [sparkline(values) for values in record["metrics"].values()]
    table = [
        {str(i): item for i, item in enumerate([*row, trend])}
        for row, trend in zip(rows, trends, strict=True)
    ]
    layout = [Column("metric", "0", min_width=6)]
    layout += [Column(header, str(i), "key") for i, header in enumerate(headers) if i]
    _print_lines(_table_lines(table, layout, terminal_width(sys.stdout), colour(sys.stdout)))


@contextlib.contextmanager
def progress(
    description: str, total: int | None, *, in_bytes: bool = False
) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when stderr is a terminal (nothing in a pipe); yields the
    function to call with each amount of work done (bytes with ``in_bytes``, else items)."""
    if not sys.stderr.isatty():
        yield lambda _done: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    console = Console(stderr=True, markup=False, highlight=False)
    counts = (DownloadColumn(), TransferSpeedColumn()) if in_bytes else (MofNCompleteColumn(),)
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), *counts)
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.advance(task, done)
