"""Timestamps without datetime: ``iso_to_ms`` and ``ms_to_iso`` convert the form modelreg
writes (YYYY-MM-DDTHH:MM:SS.mmmZ) by arithmetic, so that a read command does not import
datetime. They must give what datetime gives, over datetime's whole range, and leave
every other form to datetime."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelreg.entities import iso_to_datetime, iso_to_ms, ms_to_iso

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FIRST_MS = (datetime(1, 1, 1, tzinfo=timezone.utc) - EPOCH) // timedelta(milliseconds=1)
LAST_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc) - EPOCH) // (
    timedelta(milliseconds=1)
)


def written(moment: datetime) -> str:
    """A timestamp as modelreg writes it, by datetime (its isoformat: strftime's %Y wrote
    year 999 as "999", which no ISO reader, datetime's included, reads back)."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@given(st.integers(FIRST_MS, LAST_MS))
def test_milliseconds_are_written_as_datetime_writes_them(ms: int) -> None:
    moment = EPOCH + timedelta(milliseconds=ms)  # exact: integers all the way
    assert ms_to_iso(ms) == written(moment)
    assert iso_to_ms(ms_to_iso(ms)) == ms


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_written_timestamps_are_read_as_datetime_reads_them(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=timezone.utc)
    text = written(moment)
    assert iso_to_ms(text) == (moment - EPOCH) // timedelta(milliseconds=1)
    if 1900 <= moment.year <= 2200:  # where a float's timestamp() holds milliseconds
        assert iso_to_ms(text) == round(iso_to_datetime(text).timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29T00:00:00.000Z", 1709164800000),  # a leap day
        ("2000-02-29T12:00:00.500Z", 951825600500),  # every 400 years a leap year
        ("1969-12-31T23:59:59.999Z", -1),
        ("2025-01-08T00:03:43Z", 1736294623000),  # other forms: datetime's
        ("2025-01-08", 1736294400000),
        ("2025-01-08T01:03:43.325+01:00", 1736294623325),
    ],
)
def test_forms_and_dates(text: str, expected: int) -> None:
    assert iso_to_ms(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1900-02-29T00:00:00.000Z",  # not a leap year
        "2025-02-29T00:00:00.000Z",
        "2025-04-31T00:00:00.000Z",
        "2025-13-01T00:00:00.000Z",
        "2025-01-01T24:00:00.000Z",
        "2025-01-01T23:60:00.000Z",
        "2025-01-01T23:59:60.000Z",  # a leap second: datetime has none
        "0000-01-01T00:00:00.000Z",
        "٢٠٢٥-01-01T00:00:00.000Z",  # digits, but not ASCII ones
        "2025-01-01T00:00:00.+00Z",
    ],
)
def test_what_datetime_refuses_is_refused(text: str) -> None:
    for _ in range(2):  # the second time, the day comes from what the first learnt
        with pytest.raises(ValueError):
            iso_to_ms(text)


def test_milliseconds_beyond_datetimes_range_are_refused() -> None:
    # Nothing is ever written that cannot be read back.
    for ms in (FIRST_MS - 1, LAST_MS + 1):
        with pytest.raises((ValueError, OverflowError)):
            ms_to_iso(ms)
