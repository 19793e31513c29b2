"""The checks of values a caller gives the registry: version numbers, metrics, params,
and how a value is shown in a message."""

from __future__ import annotations

from collections.abc import Mapping

from modelreg.docread import JSONValue
from modelreg.errors import InvalidInputError


def version_number(version: int | str) -> int:
    """A version number given as an int or as text (``"3"``); InvalidInputError unless
    it is a positive integer."""
    if isinstance(version, bool):
        raise InvalidInputError(f"invalid version {version!r}: expected a positive integer")
    if isinstance(version, int):
        number = version
    else:
        text = str(version).strip()
        if not text.isdigit():
            raise InvalidInputError(f"invalid version {version!r}: expected a positive integer")
        number = int(text)
    if number < 1:
        raise InvalidInputError(f"invalid version {version!r}: expected a positive integer")
    return number


def checked_metrics(values: Mapping[str, object]) -> dict[str, int | float]:
    """Metrics: every value a finite int or float (not a bool)."""
    kind = "metric"
    result: dict[str, int | float] = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInputError(f"{kind} {key!r} must be a number, not {value!r}")
        _check_finite(value, kind, key)
        result[str(key)] = value
    return result


def checked_params(values: Mapping[str, JSONValue]) -> dict[str, JSONValue]:
    """Parameters are text or numbers; a number must be finite, like a metric."""
    for key, value in values.items():
        _check_finite(value, "param", key)
    return {str(key): value for key, value in values.items()}


def _check_finite(value: object, kind: str, key: object) -> None:
    # NaN and infinity (also 1e999, which overflows) have no JSON form: refused here so
    # that every JSON modelreg writes stays strict (see jsonio).
    from modelreg.jsonio import is_finite_number

    if not is_finite_number(value):
        raise InvalidInputError(
            f"{kind} {key!r} must be a finite number, not {value!r} "
            "(NaN and infinity cannot be stored)"
        )


def shown(value: object) -> str:
    """``value`` as a message shows it: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
