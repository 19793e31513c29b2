"""Choosing entries of a history: what ``modelreg history --since/--until/--action/--user``
shows (:meth:`modelreg.Registry.history`).

An entry's ``timestamp`` is ISO-8601 UTC with milliseconds (``entities.now_iso``). Times
are compared as aware datetimes in UTC; a naive datetime, given here or found in a
hand-edited file, means UTC. Both bounds are inclusive, and a date alone is its midnight
UTC (``--until 2026-11-02`` takes in all of November 1st).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta, timezone

from modelreg import actions as known
from modelreg.entities import HistoryEntry, iso_to_datetime
from modelreg.errors import InvalidInputError

__all__ = ["check_actions", "parse_time", "select", "time_ago"]

_AGO = re.compile(r"([0-9]+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """An aware UTC datetime from an ISO-8601 date or date-time (``2026-11-01``,
    ``2026-11-01T12:00Z``; naive means UTC) or from a time ago: ``30m``, ``12h``, ``7d``,
    ``2w`` before ``now`` (default: the current time). Bad text is an
    :class:`~modelreg.errors.InvalidInputError`."""
    ago = time_ago(text, now)
    if ago is not None:
        return ago
    try:
        return iso_to_datetime(text).astimezone(timezone.utc)
    except ValueError:
        raise InvalidInputError(
            f"not a time: {text!r}; expected an ISO-8601 date or date-time such as "
            "2026-11-01 or 2026-11-01T12:00Z, or a time ago such as 30m, 12h, 7d or 2w"
        ) from None


def time_ago(text: str, now: datetime | None = None) -> datetime | None:
    """The moment ``text`` (``30m``, ``12h``, ``7d``, ``2w``) before ``now`` (default: the
    current time), in UTC; None when ``text`` is not a time ago."""
    ago = _AGO.fullmatch(text.strip())
    if ago is None:
        return None
    count, unit = ago.groups()
    start = now or datetime.now(timezone.utc)
    return _utc(start) - timedelta(**{_UNITS[unit]: int(count)})


def check_actions(actions: Iterable[str]) -> None:
    """Refuse an action no history records, naming the ones there are."""
    unknown = [action for action in actions if action not in known.ALL]
    if unknown:
        raise InvalidInputError(
            f"unknown history action {', '.join(map(repr, unknown))}; "
            f"valid actions: {', '.join(known.ALL)}"
        )


def select(
    entries: Iterable[HistoryEntry],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actions: Collection[str] | None = None,
    users: Collection[str] | None = None,
) -> list[HistoryEntry]:
    """The entries recorded from ``since`` to ``until`` (both inclusive) with one of
    ``actions`` by one of ``users``; None (or empty) does not filter. With a time bound,
    an entry without a readable timestamp is left out."""
    if actions:
        check_actions(actions)
    low = None if since is None else _utc(since)
    high = None if until is None else _utc(until)
    chosen = []
    for entry in entries:
        if actions and entry.get("action") not in actions:
            continue
        if users and entry.get("user_id") not in users:
            continue
        if (low is not None or high is not None) and not _within(entry.get("timestamp"), low, high):
            continue
        chosen.append(entry)
    return chosen


def _within(stamp: object, low: datetime | None, high: datetime | None) -> bool:
    if not isinstance(stamp, str):
        return False
    try:
        moment = iso_to_datetime(stamp)
    except ValueError:
        return False
    return (low is None or low <= moment) and (high is None or moment <= high)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
