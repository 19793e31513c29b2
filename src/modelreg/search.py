"""Searching records: filter, order, and page through the result.

:func:`search` is what ``search_model_versions`` and ``search_registered_models`` run over
the JSON shape of the entities (see :func:`modelreg.filters.evaluate`).

MLflow facts this module follows (MLflow 3.17.2: ``mlflow/store/model_registry/__init__.py``,
``sqlalchemy_store.py``, ``file_store.py``, ``mlflow/tracking/client.py``; checked by running
its SQLite and file stores):

- ``max_results`` defaults to 10,000 for versions and 100 for models, and may be at most
  200,000 and 1,000; a value below 1 or above the limit is refused with MLflow's message.
- Without ``order_by``, versions come ``last_updated_timestamp DESC, name ASC,
  version_number DESC`` and models ``name ASC``. Any order gets the tie-breakers
  ``name ASC`` (then ``version_number DESC`` for versions) unless it already names them,
  so the order is total. An order naming the same field twice is refused (SQL store).
- Names order by code point (SQLite's binary collation): ``Churn`` before ``churn``.

Prompts (MLflow 3's Prompt Registry: models and versions tagged
``mlflow.prompt.is_prompt = 'true'``) are left out unless the filter names that tag, as
MLflow's file store does (``add_prompt_filter_string``); see
:func:`modelreg.filters.mentions_prompt_tag`.

Beyond MLflow: any field can be ordered by (``metrics.accuracy DESC``, ``tags.team``, ...),
and a record missing the value sorts last in both directions. Paging is by *keyset*, not
by offset: the token holds the sort key of the last record returned, and the next page
starts strictly after it, so records registered between two pages never shift the pages
(every record that existed at the first page is returned exactly once, as long as its sort
key does not change meanwhile).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from modelreg.docread import Document
from modelreg.errors import FilterSyntaxError, InvalidInputError
from modelreg.filters import (
    Expr,
    Field,
    Kind,
    compile_filter,
    field_getter,
    field_type,
    format_field,
    is_prompt,
    mentions_prompt_tag,
    numeric_value,
    parse,
    parse_order_clause,
    to_string,
)
from modelreg.structs import frozen_struct

__all__ = [
    "MODEL_VERSIONS_DEFAULT_MAX_RESULTS",
    "MODEL_VERSIONS_DEFAULT_ORDER_BY",
    "MODEL_VERSIONS_MAX_RESULTS_THRESHOLD",
    "REGISTERED_MODELS_DEFAULT_MAX_RESULTS",
    "REGISTERED_MODELS_DEFAULT_ORDER_BY",
    "REGISTERED_MODELS_MAX_RESULTS_THRESHOLD",
    "OrderKey",
    "Page",
    "Query",
    "check_max_results",
    "default_max_results",
    "parse_order_by",
    "search",
]

MODEL_VERSIONS_DEFAULT_MAX_RESULTS = 10_000
MODEL_VERSIONS_MAX_RESULTS_THRESHOLD = 200_000
REGISTERED_MODELS_DEFAULT_MAX_RESULTS = 100
REGISTERED_MODELS_MAX_RESULTS_THRESHOLD = 1_000
MODEL_VERSIONS_DEFAULT_ORDER_BY = (
    "last_updated_timestamp DESC",
    "name ASC",
    "version_number DESC",
)
REGISTERED_MODELS_DEFAULT_ORDER_BY = ("name ASC",)

_T = TypeVar("_T")
_R = TypeVar("_R", bound=Mapping[str, object])
_TOKEN_VERSION = 1


class Page(list[_T]):
    """One page of search results: a list, plus ``token`` for the next page.

    ``token`` is None on the last page; otherwise pass it as ``page_token`` to the same
    search (same filter, order and kind) to get the next page.
    """

    def __init__(self, items: Iterable[_T] = (), token: str | None = None) -> None:
        super().__init__(items)
        self.token = token

    def __repr__(self) -> str:
        return f"Page({list.__repr__(self)}, token={self.token!r})"


@frozen_struct
class Query:
    """One search as MLflow's search methods take it (see :func:`search`): which records,
    in which order, how many, and from which page on."""

    filter_string: str | None = None
    max_results: int | None = None
    order_by: Sequence[str] | None = None
    page_token: str | None = None

    def page(self, records: Iterable[_R], kind: Kind) -> Page[_R]:
        """This query's page of ``records`` (of versions or of models, by ``kind``)."""
        return search(
            records, self.filter_string, self.order_by, self.max_results, self.page_token, kind
        )


@frozen_struct
class OrderKey:
    """One key of a sort order: a field and a direction."""

    field: Field
    ascending: bool = True

    def __str__(self) -> str:
        # the canonical clause, e.g. "metrics.accuracy DESC"; parses back to this key
        return f"{format_field(self.field)} {'ASC' if self.ascending else 'DESC'}"


def default_max_results(kind: Kind) -> int:
    """MLflow's default ``max_results`` for a search of versions or of models."""
    if kind == "model":
        return REGISTERED_MODELS_DEFAULT_MAX_RESULTS
    return MODEL_VERSIONS_DEFAULT_MAX_RESULTS


def check_max_results(max_results: int | None, kind: Kind) -> int:
    """The page size to use: the default for None, else a valid ``max_results``.

    Raises InvalidInputError with MLflow's messages for a value below 1 or above the limit.
    """
    if max_results is None:
        return default_max_results(kind)
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidInputError(
            f"Invalid value for max_results. It must be a positive integer, but got {max_results}"
        )
    limit = (
        REGISTERED_MODELS_MAX_RESULTS_THRESHOLD
        if kind == "model"
        else MODEL_VERSIONS_MAX_RESULTS_THRESHOLD
    )
    if max_results > limit:
        raise InvalidInputError(
            "Invalid value for request parameter max_results. It must be at most "
            f"{limit}, but got value {max_results}"
        )
    return max_results


def parse_order_by(clauses: Sequence[str] | None, kind: Kind = "version") -> list[OrderKey]:
    """The complete sort order for ``order_by`` clauses like ``"metrics.accuracy DESC"``.

    None or an empty list means MLflow's default order. The tie-breakers are appended, so
    the result is the total order :func:`search` uses. A bad clause raises
    :class:`~modelreg.errors.FilterSyntaxError` pointing into that clause.
    """
    if isinstance(clauses, str):  # a lone clause where a list belongs
        clauses = [clauses]
    if not clauses:
        clauses = (
            REGISTERED_MODELS_DEFAULT_ORDER_BY
            if kind == "model"
            else MODEL_VERSIONS_DEFAULT_ORDER_BY
        )
    keys: list[OrderKey] = []
    for clause in clauses:
        if not isinstance(clause, str):
            raise InvalidInputError(f"order_by clauses must be strings, not {clause!r}")
        field, ascending = parse_order_clause(clause, kind)
        if any(key.field == field for key in keys):
            start = len(clause) - len(clause.lstrip())
            raise FilterSyntaxError(
                f"order_by names '{format_field(field)}' twice",
                clause,
                (start, len(clause.rstrip())),
            )
        keys.append(OrderKey(field, ascending))
    return keys + _tie_breakers(keys, kind)


def _parse_filter(filter_string: str | None, kind: Kind) -> Expr | None:
    """The filter's AST, or None to match everything (MLflow: None, "" or only blanks)."""
    if filter_string is None:
        return None
    if not isinstance(filter_string, str):
        raise InvalidInputError(f"filter_string must be a string, not {filter_string!r}")
    return parse(filter_string, kind) if filter_string.strip() else None


def _tie_breakers(keys: list[OrderKey], kind: Kind) -> list[OrderKey]:
    # MLflow: name ASC, and for versions version DESC, unless the order names them.
    # (name, version) identifies a version and name a model, so the order is total.
    wanted = [OrderKey(Field("name"), True)]
    if kind == "version":
        wanted.append(OrderKey(Field("version"), False))
    named = {key.field for key in keys}
    return [key for key in wanted if key.field not in named]


def search(
    records: Iterable[_R],
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
    page_token: str | None = None,
    kind: Kind = "version",
) -> Page[_R]:
    """One page of the records that match ``filter_string``, in ``order_by`` order.

    ``records`` are the JSON shape of versions (``kind="version"``) or of registered models
    (see :func:`modelreg.filters.evaluate`); they must be unique by name (and version), as
    a registry's are. ``filter_string`` None or blank matches everything. ``max_results``
    None means MLflow's default for ``kind``. ``page_token`` is the ``token`` of the
    previous page of the same search; a token of another search, or a damaged one, raises
    InvalidInputError, and a bad filter or order raises FilterSyntaxError.
    """
    limit = check_max_results(max_results, kind)
    expr = _parse_filter(filter_string, kind)
    keys = parse_order_by(order_by, kind)
    columns = [_Column(key) for key in keys]
    after = None
    if page_token:
        after = _decode_token(page_token, _fingerprint(kind, expr, keys), columns)

    predicate = compile_filter(expr) if expr is not None else None
    # MLflow 3 leaves the Prompt Registry's prompts out unless the filter asks.
    prompts = mentions_prompt_tag(expr)

    def keep(record: _R) -> bool:
        return (prompts or not is_prompt(record)) and (predicate is None or predicate(record))

    # A registry's versions filter themselves on every core (catalog.VersionScan).
    matching: Callable[[Callable[[_R], bool]], list[_R]] | None
    matching = getattr(records, "matching", None)
    found = matching(keep) if matching is not None else [r for r in records if keep(r)]
    _sort(found, columns)
    start = 0 if after is None else _first_after(found, after, columns)
    page = found[start : start + limit]
    token = None
    if start + limit < len(found):
        query = _fingerprint(kind, expr, keys)
        token = _encode_token(query, [column.raw(page[-1]) for column in columns])
    return Page(page, token)


# ---------------------------------------------------------------------------------------
# Ordering
# ---------------------------------------------------------------------------------------

# The value of a record for one order key, as a page token stores it. None means missing;
# a param is (0, number) or (1, text), because it may hold either and numbers come first.
Raw = int | float | str | tuple[int, int | float | str] | None


def _sort(records: list[_R], columns: list[_Column]) -> None:
    """Sort in place by all columns.

    The first column decides nearly every place (the default order's is the time of the
    last change): one sort by it, and only the runs of records that tie on it are sorted
    by the others, one stable pass per column, the last column first. Each pass is a
    C-speed sort on a small key, and DESC is ``reverse=True`` (which keeps the sort
    stable), so text sorts descending without a Python-level comparison.
    """
    if not columns or len(records) < 2:
        return
    first, rest = columns[0], columns[1:]
    keys = [first.sort_part(record) for record in records]
    order = sorted(range(len(keys)), key=keys.__getitem__, reverse=not first.key.ascending)
    ordered = [records[at] for at in order]
    start = 0
    while rest and start < len(order):
        end = start + 1
        while end < len(order) and keys[order[end]] == keys[order[start]]:
            end += 1
        if end - start > 1:
            tied = ordered[start:end]
            for column in reversed(rest):
                tied.sort(key=column.sort_part, reverse=not column.key.ascending)
            ordered[start:end] = tied
        start = end
    records[:] = ordered


def _first_after(records: list[_R], after: list[Raw], columns: list[_Column]) -> int:
    """The index of the first record strictly after the raw key ``after`` (binary search)."""
    low, high = 0, len(records)
    while low < high:
        middle = (low + high) // 2
        mine = [column.raw(records[middle]) for column in columns]
        if _compare(mine, after, columns) > 0:
            high = middle
        else:
            low = middle + 1
    return low


def _compare(left: list[Raw], right: list[Raw], columns: list[_Column]) -> int:
    """-1, 0 or 1 as the raw key ``left`` comes before, with, or after ``right``."""
    for column, mine, theirs in zip(columns, left, right, strict=True):
        if mine is None or theirs is None:  # missing sorts last in both directions
            order = (mine is None) - (theirs is None)
        else:
            order = (mine > theirs) - (mine < theirs)  # type: ignore[operator]
            order = order if column.key.ascending else -order
        if order:
            return order
    return 0


class _Column:
    """How one order key reads a record: its raw value and its part of a sort key."""

    def __init__(self, key: OrderKey) -> None:
        self.key = key
        self.ftype = field_type(key.field)
        self.raw: Callable[[Mapping[str, Any]], Raw] = _raw_reader(key.field, self.ftype)
        self.sort_part = _sort_part_reader(key, self.ftype, self.raw)

    def valid(self, raw: object) -> bool:
        """Whether a raw value read back from a token has the right type."""
        if raw is None:
            return True
        if self.ftype == "param":
            return isinstance(raw, tuple) and len(raw) == 2 and _valid_param(raw)
        if self.ftype in ("number", "timestamp"):
            return _is_number(raw)
        return isinstance(raw, str)


def _sort_part_reader(
    key: OrderKey, ftype: str, raw: Callable[[Mapping[str, Any]], Raw]
) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    """The key of one sort pass: ``(flag, value)``, with missing values sorting last.

    Under ``reverse=True`` (DESC) the present values carry flag 1, so they come first;
    ascending they carry flag 0. Numbers and text are read inline, without going through
    ``raw``, because this runs once per record and column.
    """
    present = 0 if key.ascending else 1
    missing = (1 - present, 0)
    get = field_getter(key.field)
    if ftype in ("number", "timestamp"):

        def number_part(record: Mapping[str, Any]) -> tuple[int, Any]:
            value = get(record)
            if type(value) is int or (type(value) is float and value == value):  # not NaN
                return (present, value)
            return missing

        return number_part
    if ftype == "param":
        return lambda record: missing if (value := raw(record)) is None else (present, value)

    def text_part(record: Mapping[str, Any]) -> tuple[int, Any]:
        value = get(record)
        if value is None:
            return missing
        return (present, value if type(value) is str else str(value))

    return text_part


def _raw_reader(field: Field, ftype: str) -> Callable[[Mapping[str, Any]], Raw]:
    get = field_getter(field)
    if ftype in ("number", "timestamp"):
        return lambda record: _number_or_none(get(record))
    if ftype == "param":
        return lambda record: _param_raw(get(record))
    return lambda record: _text_or_none(get(record))


def _number_or_none(value: Any) -> int | float | None:
    # NaN has no place in an order: it sorts with the missing values
    if type(value) is int or (type(value) is float and not math.isnan(value)):
        return value
    return None


def _text_or_none(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def _param_raw(value: Any) -> Raw:
    if value is None:
        return None
    number = numeric_value(value)
    if number is not None and not math.isnan(number):
        return (0, number)
    return (1, value if isinstance(value, str) else str(value))


def _is_number(value: object) -> bool:
    return type(value) in (int, float)


def _valid_param(raw: tuple[Any, ...]) -> bool:
    rank, value = raw
    return (rank == 0 and _is_number(value)) or (rank == 1 and isinstance(value, str))


# ---------------------------------------------------------------------------------------
# Page tokens: base64 of JSON {v, q, after, c}
# ---------------------------------------------------------------------------------------


def _fingerprint(kind: Kind, expr: Expr | None, keys: list[OrderKey]) -> str:
    """What identifies a search: a token is only valid for the search that issued it."""
    canonical = [kind, "" if expr is None else to_string(expr), [str(key) for key in keys]]
    return _digest(canonical)


# Page tokens import what they need: a search of one page makes none.


def _digest(value: object) -> str:
    import hashlib
    import json

    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _encode_token(query: str, after: list[Raw]) -> str:
    import base64
    import json

    payload = {"v": _TOKEN_VERSION, "q": query, "after": after}
    # the checksum catches a damaged or hand-edited token (it is no secret: not a signature)
    payload["c"] = _digest([query, after])
    data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(data).decode("ascii")


def _decode_token(token: str, query: str, columns: list[_Column]) -> list[Raw]:
    """The raw key after which the page starts; InvalidInputError if it is not ours."""
    payload = _read_token(token)
    if payload.get("v") != _TOKEN_VERSION or "after" not in payload or "q" not in payload:
        raise InvalidInputError("invalid page token: it was not returned by a search")
    after = payload["after"]
    if payload.get("c") != _digest([payload["q"], after]):
        raise InvalidInputError("invalid page token: it has been modified")
    if payload["q"] != query:
        raise InvalidInputError(
            "invalid page token: it belongs to a search with another filter, order_by or "
            "kind; use the same filter_string and order_by as for the first page"
        )
    if not isinstance(after, list) or len(after) != len(columns):
        raise InvalidInputError("invalid page token: it was not returned by a search")
    raws: list[Raw] = [tuple(raw) if isinstance(raw, list) else raw for raw in after]
    if not all(column.valid(raw) for column, raw in zip(columns, raws, strict=True)):
        raise InvalidInputError("invalid page token: it was not returned by a search")
    return raws


def _read_token(token: str) -> Document:
    import base64
    import binascii
    import json

    if not isinstance(token, str):
        raise InvalidInputError(f"invalid page token: expected a string, not {token!r}")
    try:
        data = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
        payload = json.loads(data.decode("utf-8"))
    except (ValueError, binascii.Error):  # bad base64, bytes, UTF-8 or JSON
        raise InvalidInputError("invalid page token: could not decode it") from None
    if not isinstance(payload, dict):
        raise InvalidInputError("invalid page token: it was not returned by a search")
    return payload
