"""The columns ``--columns`` chooses for ``list`` and ``search``: ``name,version,metrics.auc``.

A column is named as the JSON output names the field (``current_stage``,
``artifact_sha256``, ``latest_versions``), as the table heads it (``stage``, ``created``,
``latest``), or as a filter spells it (``version_number``, ``alias``, ``tags.team``,
``metrics.auc``, ``params.lr``: read as the filter language reads them). The name as given
is the column's header in every format, and its key in json and yaml.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from modelreg.entities import MODEL_FIELDS, VERSION_FIELDS
from modelreg.errors import FilterSyntaxError, InvalidInputError
from modelreg.filters import Kind, field_getter, field_type, format_field, parse_field
from modelreg.render import MODEL_COLUMNS, VERSION_COLUMNS, Column
from modelreg.structs import replace

__all__ = ["parse_columns", "valid_columns"]


def parse_columns(specs: Iterable[str], kind: Kind) -> tuple[Column, ...]:
    """The columns named by ``specs``, each a comma-separated list of names, in order.

    An unknown field is an :class:`~modelreg.errors.InvalidInputError` naming the valid
    ones; an unknown tag, metric or param key is a column like any other (another record
    may have it), empty where a record lacks it.
    """
    names = [name.strip() for spec in specs for name in spec.split(",")]
    names = [name for name in names if name]
    if not names:
        raise InvalidInputError(f"--columns names no column; valid columns: {_valid_text(kind)}")
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InvalidInputError(f"--columns names {', '.join(map(repr, twice))} twice")
    return tuple(_column(name, kind) for name in names)


def valid_columns(kind: Kind) -> list[str]:
    """The names of the fields, then the table's headers that are not field names."""
    fields = list(MODEL_FIELDS if kind == "model" else VERSION_FIELDS)
    headers = [column.header for column in _defaults(kind) if column.header not in fields]
    return fields + headers


def _column(name: str, kind: Kind) -> Column:
    for column in _defaults(kind):
        if name in (column.header, column.key):
            # asked for by name: never left out of a narrow table
            return replace(column, header=name, optional=False)
    if name in valid_columns(kind):
        shown = "versions" if name == "latest_versions" else "text"
        return Column(name, name, "time" if name.endswith("_timestamp") else shown)
    try:
        field = parse_field(name, kind)
    except FilterSyntaxError:
        if kind == "model" and (name in valid_columns("version") or _is_version_field(name)):
            raise InvalidInputError(
                f"column '{name}' is a field of versions, not of models; "
                f"valid columns: {_valid_text(kind)}"
            ) from None
        close = difflib.get_close_matches(name, valid_columns(kind), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InvalidInputError(
            f"unknown column '{name}'{hint}; valid columns: {_valid_text(kind)}"
        ) from None
    time = field_type(field) == "timestamp"
    return Column(name, format_field(field), "time" if time else "text", getter=field_getter(field))


def _is_version_field(name: str) -> bool:
    try:
        parse_field(name, "version")
    except FilterSyntaxError:
        return False
    return True


def _defaults(kind: Kind) -> tuple[Column, ...]:
    return MODEL_COLUMNS if kind == "model" else VERSION_COLUMNS


def _valid_text(kind: Kind) -> str:
    keys = "tags.<key>" if kind == "model" else "tags.<key>, metrics.<key>, params.<key>"
    return f"{', '.join(valid_columns(kind))}, {keys}"
