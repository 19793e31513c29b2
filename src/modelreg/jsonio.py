"""Every JSON modelreg writes is strict RFC 8259.

Python's ``json`` writes ``NaN`` and ``Infinity``, which no strict parser (``jq``,
JavaScript's ``JSON.parse``, Go) accepts. modelreg refuses non-finite metrics and params
at input, but a registry file may still hold one (a hand edit, an old import): such a
value is written as the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``, and
``allow_nan=False`` makes any value that slips past this an error instead of bad output.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from typing import Unpack  # Python 3.11; only read by type checkers


def strict(value: object) -> object:
    """``value`` with every non-finite float replaced by its name as a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(item) for item in value]
    return value


class DumpOptions(TypedDict, total=False):
    """The options of ``json.dumps`` that modelreg uses."""

    indent: int | None
    ensure_ascii: bool
    sort_keys: bool
    separators: tuple[str, str] | None
    default: Callable[[object], object] | None


def dumps(value: object, **options: Unpack[DumpOptions]) -> str:
    """``json.dumps`` of ``value`` in strict JSON (see the module's docstring)."""
    return json.dumps(strict(value), allow_nan=False, **options)


def is_finite_number(value: object) -> bool:
    """A number that JSON can carry: not NaN, not infinite (1e999 is infinite)."""
    return not isinstance(value, float) or math.isfinite(value)
