"""The filter language: ``name = 'churn' AND metrics.accuracy >= 0.9``.

A superset of MLflow's ``search_model_versions`` / ``search_registered_models`` syntax.
Text goes through a context-sensitive tokenizer (a regex rule table, the parser asks for
the token it expects) and a recursive-descent parser with one ``_parse_<rule>`` function
per grammar rule, whose docstring is that rule. The result is a typed AST of frozen
structs (:mod:`modelreg.structs`); :func:`compile_filter` turns it into one closure that
tests a record.

Semantics, and where they come from (MLflow facts verified against MLflow 3.17.2,
``mlflow/utils/search_utils.py`` and ``mlflow/store/model_registry/sqlalchemy_store.py``,
by running both its SQLite and its file store on the same data):

- Keywords (AND, OR, NOT, IN, IS, NULL, LIKE, ILIKE) ignore case; field names do not
  (MLflow refuses ``NAME = 'x'`` with "Invalid attribute key 'NAME'").
- Strings are 'single-' or "double-quoted". A backslash is an ordinary character, as in
  MLflow. A quote inside a string is written twice (``'it''s'``): SQL's escape. MLflow has
  no escape at all (its ``'it''s'`` looks for the text ``it''s``); this is the one place
  where the same MLflow string means something else here, on purpose.
- LIKE matches the whole text, ``%`` is any run of characters (newlines too), ``_`` is one
  character, and there is no escape character: what MLflow's SQLite store (it sets
  ``PRAGMA case_sensitive_like``) and its file store do. LIKE is case-sensitive, ILIKE is not.
- A missing tag, metric or param, and a None ``run_id`` / ``description`` / ``user_id`` /
  ``run_link``, never satisfies a comparison, not even ``!=``, ``NOT IN`` or ``NOT LIKE``
  (MLflow: the SQL store joins on the tag row, the file store returns False for None).
  ``IS NULL`` finds them. ``NOT`` in front of a condition is plain boolean negation, so
  ``NOT tags.team = 'a'`` *does* match a version without a ``team`` tag.
- ``alias`` is a set: ``alias = 'x'`` and ``alias IN``/``LIKE`` hold when some alias
  matches; ``!=``, ``NOT IN`` and ``NOT LIKE`` are their negations (no alias matches), and
  ``alias IS NULL`` means no alias at all.
- Numbers compare as numbers; a quoted number is a number where a number is expected
  (MLflow accepts ``version_number = '3'``). Timestamps take epoch milliseconds or an ISO
  date / date-time (``'2026-01-01'`` is midnight UTC, naive times are UTC).
- Stages compare ignoring case (``stage = 'production'`` matches ``Production``).
- Params compare as numbers when both the param and the literal are numeric (``"0.01"``
  equals ``0.01`` and ``'1e-2'``) and as text otherwise; ``<``/``>`` on a param need a
  numeric literal and never match a param that is not numeric.
- A comparison that cannot make sense is a :class:`~modelreg.errors.FilterSyntaxError`
  when the filter is parsed, never an empty result: ``name > 'a'``, ``tags.x = 3``
  (MLflow: "Expected a quoted string value for tag"), ``metrics.acc LIKE 'x'``.
- Extensions over MLflow: OR, NOT, parentheses, IS [NOT] NULL everywhere, IN on every
  field, ordering comparisons on numbers, and the fields MLflow does not search
  (``stage``, ``alias``, ``metrics.``, ``params.``, timestamps, ...).
- Deliberate differences: MLflow accepts a dangling ``AND`` at the end of a filter; here it
  is an error. MLflow hides prompts (``mlflow.prompt.is_prompt``) from searches; a registry
  here has no prompts, so no tag is special.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from modelreg.errors import FilterSyntaxError, InvalidInputError
from modelreg.structs import frozen_struct, replace

if TYPE_CHECKING:
    from datetime import timezone

__all__ = [
    "MAX_DEPTH",
    "And",
    "Comparison",
    "Condition",
    "Expr",
    "Field",
    "InList",
    "IsNull",
    "Kind",
    "Like",
    "Not",
    "Or",
    "Predicate",
    "Value",
    "compile_filter",
    "evaluate",
    "field_getter",
    "field_type",
    "format_field",
    "matches",
    "numeric_value",
    "parse",
    "parse_field",
    "parse_order_clause",
    "to_string",
]

Kind: TypeAlias = Literal["version", "model"]
Value: TypeAlias = str | int | float
ComparisonOp: TypeAlias = Literal["=", "!=", "<", "<=", ">", ">="]
Record: TypeAlias = Mapping[str, object]
Predicate: TypeAlias = Callable[[Record], bool]

#: Parentheses and NOTs nest at most this deep, so no input can exhaust the stack.
MAX_DEPTH = 100

#: MLflow 3's Prompt Registry keeps prompts as registered models (and versions) with this
#: tag set to 'true'; searches leave them out unless the filter names the tag.
PROMPT_TAG = "mlflow.prompt.is_prompt"

# ---------------------------------------------------------------------------------------
# The AST
# ---------------------------------------------------------------------------------------


@frozen_struct
class Field:
    """A field of a record: an attribute (``key`` is None) or one tag, metric or param.

    ``name`` is canonical: the synonyms of the language (``version_number``, ``stage``,
    ``source_path``, ``tag``, ``metric``, ``param``) are resolved by the parser.
    """

    name: str
    key: str | None = None


@frozen_struct
class Comparison:
    """``field op value``; ``==`` and ``<>`` are stored as ``=`` and ``!=``."""

    field: Field
    op: ComparisonOp
    value: Value


@frozen_struct
class InList:
    """``field [NOT] IN (value, ...)``."""

    field: Field
    values: tuple[Value, ...]
    negated: bool = False


@frozen_struct
class Like:
    """``field [NOT] LIKE pattern`` or, with ``case_insensitive``, ``ILIKE``."""

    field: Field
    pattern: str
    case_insensitive: bool = False
    negated: bool = False


@frozen_struct
class IsNull:
    """``field IS [NOT] NULL``."""

    field: Field
    negated: bool = False


@frozen_struct
class Not:
    """``NOT operand``."""

    operand: Expr


@frozen_struct
class And:
    """``a AND b AND ...`` (two or more operands)."""

    operands: tuple[Expr, ...]


@frozen_struct
class Or:
    """``a OR b OR ...`` (two or more operands)."""

    operands: tuple[Expr, ...]


Condition: TypeAlias = Comparison | InList | Like | IsNull
Expr: TypeAlias = Comparison | InList | Like | IsNull | Not | And | Or

# ---------------------------------------------------------------------------------------
# The fields
# ---------------------------------------------------------------------------------------

_BOTH = frozenset({"version", "model"})
_VERSION = frozenset({"version"})

# canonical attribute -> (value type, kinds of record that have it)
_ATTRIBUTES: dict[str, tuple[str, frozenset[str]]] = {
    "name": ("text", _BOTH),
    "version": ("number", _VERSION),
    "current_stage": ("stage", _VERSION),
    "run_id": ("text", _VERSION),
    "run_link": ("text", _VERSION),
    "model_id": ("text", _VERSION),
    "source": ("text", _VERSION),
    "description": ("text", _BOTH),
    "user_id": ("text", _BOTH),
    "status": ("text", _VERSION),
    "alias": ("alias", _BOTH),
    "creation_timestamp": ("timestamp", _BOTH),
    "last_updated_timestamp": ("timestamp", _BOTH),
}
# MLflow's spellings of the same attributes
_SYNONYMS = {"version_number": "version", "stage": "current_stage", "source_path": "source"}
# prefix -> canonical collection
_COLLECTIONS = {
    "tags": "tags",
    "tag": "tags",
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
}
# canonical collection -> (value type, kinds of record that have it)
_COLLECTION_TYPES: dict[str, tuple[str, frozenset[str]]] = {
    "tags": ("tag", _BOTH),
    "metrics": ("number", _VERSION),
    "params": ("param", _VERSION),
}
# MLflow accepts ``attribute.name`` for ``name`` in registry searches
_ATTRIBUTE_PREFIX = "attribute"

_VERSION_FIELDS_HELP = (
    "name, version, version_number, stage, current_stage, run_id, run_link, model_id, source, "
    "source_path, description, user_id, status, alias, creation_timestamp, "
    "last_updated_timestamp, tags.<key>, metrics.<key>, params.<key>, datasets.<name>[.<field>]"
)
# ``datasets.<name>[.<field>]``: a data set a version was trained on (modelreg.datasets);
# ``*`` for the name means any of its data sets, and no field means the digest.
_DATASETS = "datasets"
_DATASET_ATTRIBUTES = ("source", "digest", "size", "git_commit", "source_type")
_ANY_DATASET = "*"
_MODEL_FIELDS_HELP = (
    "name, description, user_id, alias, creation_timestamp, last_updated_timestamp, tags.<key>"
)
_FIELD_WORDS = [*_ATTRIBUTES, *_SYNONYMS, *_COLLECTIONS, _DATASETS]
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "ASC", "DESC"})


def field_type(field: Field) -> str:
    """The value type of a field: text, stage, number, timestamp, alias, tag or param."""
    return _field_entry(field)[0]


def _field_kinds(field: Field) -> frozenset[str]:
    return _field_entry(field)[1]


def _field_entry(field: Field) -> tuple[str, frozenset[str]]:
    if field.name == _DATASETS and field.key is not None:
        return ("number" if _dataset_key(field.key)[1] == "size" else "text"), _VERSION
    entry = (_ATTRIBUTES if field.key is None else _COLLECTION_TYPES).get(field.name)
    if entry is None:  # only a Field built by hand can get here
        raise InvalidInputError(f"unknown field {field!r}")
    return entry


def _fields_help(kind: Kind) -> str:
    return _VERSION_FIELDS_HELP if kind == "version" else _MODEL_FIELDS_HELP


# ---------------------------------------------------------------------------------------
# The tokenizer
# ---------------------------------------------------------------------------------------

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER_RE = re.compile(_NUMBER)
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")
_BARE_KEY = r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*"
_BARE_KEY_RE = re.compile(_BARE_KEY)


def _keyword(word: str) -> re.Pattern[str]:
    return re.compile(rf"{word}\b", re.IGNORECASE)


_RULES: dict[str, re.Pattern[str]] = {
    "LEFT_PARENTHESIS": re.compile(r"\("),
    "RIGHT_PARENTHESIS": re.compile(r"\)"),
    "COMMA": re.compile(r","),
    "DOT": re.compile(r"\."),
    "OP": re.compile(r"<>|<=|>=|==|!=|=|<|>"),
    "AND": _keyword("and"),
    "OR": _keyword("or"),
    "NOT": _keyword("not"),
    "IN": _keyword("in"),
    "IS": _keyword("is"),
    "NULL": _keyword("null"),
    "LIKE": _keyword("like"),
    "ILIKE": _keyword("ilike"),
    "ASC": _keyword("asc"),
    "DESC": _keyword("desc"),
    "IDENTIFIER": re.compile(r"[A-Za-z_][A-Za-z0-9_]*"),
    "BARE_KEY": _BARE_KEY_RE,
    "BACKTICKED": re.compile(r"`(?:[^`]|``)*`"),
    # modelreg.datasets.NAME_RE, or * for any data set
    "DATASET_NAME": re.compile(r"\*|[A-Za-z0-9_][A-Za-z0-9_-]*"),
    "DOUBLE_QUOTED": re.compile(r'"(?:[^"]|"")*"'),
    "SINGLE_QUOTED": re.compile(r"'(?:[^']|'')*'"),
    # a number ends where a word would go on: ``3abc`` is not a number followed by abc
    "NUMBER": re.compile(_NUMBER + r"(?![A-Za-z0-9_.])"),
    # order_by only: MLflow's name for a registered model's last_updated_timestamp
    "MODEL_TIMESTAMP": re.compile(r"timestamp\b"),
}
_WHITESPACE = re.compile(r"\s*")
# what the user sees as "the next token" in an error message
_ANY_TOKEN = re.compile(
    r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|[A-Za-z0-9_.+-]+|<>|[<>!=]=?|\S"""
)


@frozen_struct
class Token:
    """One token: its rule name, its text and where it starts in the source."""

    name: str
    text: str
    start: int

    @property
    def end(self) -> int:
        """Where the token ends in the source (exclusive)."""
        return self.start + len(self.text)


class Tokenizer:
    """Context-sensitive tokens: the parser checks for the token it expects next.

    Whitespace between tokens is skipped unless the check says otherwise (a key follows
    its ``tags.`` with no space in between).
    """

    def __init__(
        self,
        source: str,
        rules: Mapping[str, re.Pattern[str]] = _RULES,
        *,
        what: str = "filter",
    ) -> None:
        self.source = source
        self.rules = rules
        self.what = what  # what the source is, for "found the end of the ..."
        self.position = 0
        self.next_token: Token | None = None

    def check(self, name: str, *, skip_whitespace: bool = True) -> bool:
        """Whether the next token is ``name``; if so it is loaded for :meth:`read`."""
        if skip_whitespace:
            self.skip_whitespace()
        match = self.rules[name].match(self.source, self.position)
        self.next_token = None if match is None else Token(name, match[0], self.position)
        return match is not None

    def expect(self, name: str, *, expected: str) -> Token:
        """Read the next token, which must be ``name``; else "expected ..., found ..."."""
        if not self.check(name):
            raise self.unexpected(expected)
        return self.read()

    def read(self) -> Token:
        """Consume the token loaded by the last successful :meth:`check`."""
        token = self.next_token
        if token is None:  # a parser bug, not a user error
            raise RuntimeError("read() without a successful check()")
        self.position = token.end
        self.next_token = None
        return token

    def skip_whitespace(self) -> None:
        """Move past any whitespace."""
        match = _WHITESPACE.match(self.source, self.position)
        if match is not None:
            self.position = match.end()

    def at_end(self) -> bool:
        """Whether only whitespace is left."""
        self.skip_whitespace()
        return self.position >= len(self.source)

    def upcoming(self) -> tuple[str, tuple[int, int]]:
        """A description of the next token and its span, for error messages."""
        if self.at_end():
            end = len(self.source)
            return f"the end of the {self.what}", (end, end + 1)
        match = _ANY_TOKEN.match(self.source, self.position)
        text = match[0] if match else self.source[self.position]
        shown = text if text[0] in "'\"`" else f"'{text}'"
        return shown, (self.position, self.position + len(text))

    def unexpected(self, expected: str) -> FilterSyntaxError:
        """The error "expected X, found Y", pointing at the next token."""
        found, span = self.upcoming()
        return self.error(f"expected {expected}, found {found}", span)

    def error(self, reason: str, span: tuple[int, int]) -> FilterSyntaxError:
        """A FilterSyntaxError about ``span`` of the source (for the caller to raise)."""
        return FilterSyntaxError(reason, self.source, span)


# ---------------------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------------------


def mentions_prompt_tag(expr: Expr | None) -> bool:
    """Whether ``expr`` names ``tags.`mlflow.prompt.is_prompt``` anywhere: then a search
    returns prompts as the filter decides, else it leaves them out (MLflow 3)."""
    if expr is None:
        return False
    if isinstance(expr, Not):
        return mentions_prompt_tag(expr.operand)
    if isinstance(expr, (And, Or)):
        return any(mentions_prompt_tag(operand) for operand in expr.operands)
    return expr.field == _PROMPT_FIELD


def is_prompt(record: Record) -> bool:
    """Whether a record (a model or a version) is a prompt of MLflow's Prompt Registry."""
    return _prompt_tag_of(record) == "true"


def names_required(expr: Expr | None) -> frozenset[str] | None:
    """The model names a record must have to match ``expr``, when the filter pins them
    (``name = 'x'``, ``name IN (...)``, or such a condition under AND); None when any
    name may match. Lets a search read only those models' folders."""
    if isinstance(expr, Comparison):
        pinned = expr.field == Field("name") and expr.op == "="
        return frozenset([str(expr.value)]) if pinned else None
    if isinstance(expr, InList):
        pinned = expr.field == Field("name") and not expr.negated
        return frozenset(str(value) for value in expr.values) if pinned else None
    if isinstance(expr, And):
        found = [names for names in map(names_required, expr.operands) if names is not None]
        return frozenset.intersection(*found) if found else None
    if isinstance(expr, Or):
        every = [names_required(operand) for operand in expr.operands]
        if any(names is None for names in every):
            return None
        return frozenset().union(*(names for names in every if names is not None))
    return None


# The version fields a version file holds as written, with every tag but the prompt tag:
# text that a file without the text cannot have (no default stands in for it, and the
# model's folder or files supply none).
_FILE_TEXT_FIELDS = frozenset(
    {"run_id", "run_link", "model_id", "source", "description", "user_id"}
)


class FilePrefilter:
    """A test of a version file's bytes that refuses only files whose version cannot
    match a filter (see :func:`file_prefilter`): the texts (``needles``) the filter
    requires, and how it combines them (``could_match``, given which ones a file holds).
    Which ones a file holds can be kept by its identity, so that a search repeated is
    decided without reading the file again."""

    __slots__ = ("could_match", "needles")

    def __init__(
        self, needles: frozenset[bytes], could_match: Callable[[Mapping[bytes, bool]], bool]
    ) -> None:
        self.needles = needles
        self.could_match = could_match

    def held(self, data: bytes) -> dict[bytes, bool] | None:
        """Which needles ``data`` holds; None when it must be parsed whatever it holds:
        a backslash may be a double-quoted escape, which writes a character otherwise."""
        if b"\\" in data:
            return None
        return {needle: needle in data for needle in self.needles}

    def refuses(self, held: Mapping[bytes, bool] | None) -> bool:
        """Whether a file that holds ``held`` of the needles cannot match (False when
        ``held`` does not say for every needle)."""
        return held is not None and self.needles <= held.keys() and not self.could_match(held)


def file_prefilter(expr: Expr | None) -> FilePrefilter | None:
    """What a version file's bytes must hold for its version to match ``expr``; None when
    the filter asks for no such text. Lets the first search after a clone parse only the
    files that hold the text it looks for, as ``git grep`` reads only the files that
    hold its words.

    A text the filter requires exactly (``tags.team = 'growth'``, ``run_id IN (...)``, a
    literal run of a LIKE pattern) is in the bytes of any file whose version has it, as
    long as it holds no white space (YAML folds line breaks into spaces) and no ``'``
    (doubled in single quotes): YAML reads every other character as written, but in
    double-quoted escapes, which :meth:`FilePrefilter.held` leaves to the parser. Tags and
    these attributes must be text in a version file (``DocReader.text_mapping``,
    ``optional_text``), so a number written in another form never stands for one."""
    needed = _bytes_needed(expr)
    if needed is None:
        return None
    needles, could_match = needed
    return FilePrefilter(needles, could_match)


_Needed: TypeAlias = tuple[frozenset[bytes], Callable[[Mapping[bytes, bool]], bool]]


def _bytes_needed(expr: Expr | None) -> _Needed | None:
    if isinstance(expr, And):
        parts = [part for part in map(_bytes_needed, expr.operands) if part is not None]
        if not parts:
            return None
        every = [test for _, test in parts]
        return _union(parts), lambda held: all(test(held) for test in every)
    if isinstance(expr, Or):
        either = [_bytes_needed(operand) for operand in expr.operands]
        known = [part for part in either if part is not None]
        if len(known) < len(either):
            return None
        tests = [test for _, test in known]
        return _union(known), lambda held: any(test(held) for test in tests)
    if not isinstance(expr, (Comparison, InList, Like)) or not _in_file_as_text(expr.field):
        return None
    if isinstance(expr, Comparison):
        texts: tuple[Value, ...] = (expr.value,) if expr.op == "=" else ()
    elif isinstance(expr, InList):
        texts = () if expr.negated else expr.values
    elif expr.negated or expr.case_insensitive:
        texts = ()
    else:  # the longest literal run of the pattern: every match holds it
        texts = (max(re.split("[%_]", expr.pattern), key=len),)
    words = [text for text in texts if isinstance(text, str) and _verbatim(text)]
    if not words or len(words) < len(texts):
        return None
    needles = frozenset(word.encode() for word in words)
    return needles, lambda held: any(held[needle] for needle in needles)


def _union(parts: list[_Needed]) -> frozenset[bytes]:
    return frozenset().union(*(needles for needles, _ in parts))


def _in_file_as_text(field: Field) -> bool:
    if field == _PROMPT_FIELD:  # a version without the tag matches `= 'false'` (MLflow)
        return False
    return field.name == "tags" or (field.key is None and field.name in _FILE_TEXT_FIELDS)


def _verbatim(text: str) -> bool:
    """Whether YAML writes ``text`` as itself in any style (see :func:`file_prefilter`)."""
    return text != "" and "'" not in text and not any(map(str.isspace, text))


def parse(text: str, kind: Kind = "version") -> Expr:
    """Parse a filter for model versions (``kind="version"``) or registered models.

    Raises :class:`~modelreg.errors.FilterSyntaxError` for anything that is not a valid
    filter, including empty text: "match everything" is the caller's ``None`` or ``""``
    (see :func:`matches` and :func:`modelreg.search.search`), not an expression.
    """
    _check_kind(kind)
    tokenizer = Tokenizer(text)
    if tokenizer.at_end():
        raise tokenizer.error(
            "empty filter: expected a condition such as name = 'my-model'", (0, max(1, len(text)))
        )
    expr = _parse_or_expr(tokenizer, kind, 0)
    if not tokenizer.at_end():
        raise tokenizer.unexpected("AND, OR or the end of the filter")
    return expr


def _parse_or_expr(tokenizer: Tokenizer, kind: Kind, depth: int) -> Expr:
    """or_expr := and_expr ( OR and_expr )*"""
    operands = [_parse_and_expr(tokenizer, kind, depth)]
    while tokenizer.check("OR"):
        tokenizer.read()
        operands.append(_parse_and_expr(tokenizer, kind, depth))
    return operands[0] if len(operands) == 1 else Or(tuple(operands))


def _parse_and_expr(tokenizer: Tokenizer, kind: Kind, depth: int) -> Expr:
    """and_expr := not_expr ( AND not_expr )*"""
    operands = [_parse_not_expr(tokenizer, kind, depth)]
    while tokenizer.check("AND"):
        tokenizer.read()
        operands.append(_parse_not_expr(tokenizer, kind, depth))
    return operands[0] if len(operands) == 1 else And(tuple(operands))


def _parse_not_expr(tokenizer: Tokenizer, kind: Kind, depth: int) -> Expr:
    """not_expr := NOT not_expr | atom"""
    if tokenizer.check("NOT"):
        token = tokenizer.read()
        _check_depth(tokenizer, token, depth)
        return Not(_parse_not_expr(tokenizer, kind, depth + 1))
    return _parse_atom(tokenizer, kind, depth)


def _parse_atom(tokenizer: Tokenizer, kind: Kind, depth: int) -> Expr:
    """atom := "(" expr ")" | comparison"""
    if not tokenizer.check("LEFT_PARENTHESIS"):
        return _parse_comparison(tokenizer, kind)
    opening = tokenizer.read()
    _check_depth(tokenizer, opening, depth)
    expr = _parse_or_expr(tokenizer, kind, depth + 1)
    if tokenizer.check("RIGHT_PARENTHESIS"):
        tokenizer.read()
        return expr
    if tokenizer.at_end():
        raise tokenizer.error(
            "expected ')' to close the '(' opened here", (opening.start, opening.end)
        )
    raise tokenizer.unexpected("AND, OR or ')'")


def _check_depth(tokenizer: Tokenizer, token: Token, depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise tokenizer.error(
            f"filter nested too deeply: more than {MAX_DEPTH} levels of parentheses and NOT",
            (token.start, token.end),
        )


def _parse_comparison(tokenizer: Tokenizer, kind: Kind) -> Condition:
    """comparison := field op value
    | field [NOT] IN "(" value ("," value)* ")"
    | field IS [NOT] NULL
    | field [NOT] (LIKE | ILIKE) string
    """
    field, field_span = _parse_field(tokenizer, kind)
    label = tokenizer.source[field_span[0] : field_span[1]]
    node: Condition
    value_spans: list[tuple[int, int]] = []
    if tokenizer.check("IS"):
        start = tokenizer.read().start
        negated = tokenizer.check("NOT")
        if negated:
            tokenizer.read()
        end = tokenizer.expect("NULL", expected="NULL or NOT NULL after IS").end
        node, operator_span = IsNull(field, negated), (start, end)
    elif tokenizer.check("OP"):
        op = tokenizer.read()
        value, span = _parse_value(tokenizer)
        value_spans.append(span)
        node, operator_span = Comparison(field, _canonical_op(op.text), value), (op.start, op.end)
    else:
        node, operator_span = _parse_in_or_like(tokenizer, field, label, value_spans)
    _check_condition(tokenizer, node, label, operator_span, value_spans)
    return node


def _parse_in_or_like(
    tokenizer: Tokenizer, field: Field, label: str, value_spans: list[tuple[int, int]]
) -> tuple[Condition, tuple[int, int]]:
    """The ``[NOT] IN (...)`` and ``[NOT] (LIKE | ILIKE) string`` forms of a comparison.

    Returns the condition and the span of its operator (``NOT IN``, ``LIKE``, ...).
    """
    negated = tokenizer.check("NOT")
    start = tokenizer.read().start if negated else None
    if tokenizer.check("IN"):
        keyword = tokenizer.read()
        opening = tokenizer.expect("LEFT_PARENTHESIS", expected="'(' after IN")
        values = _parse_value_list(tokenizer, opening, value_spans)
        span = (keyword.start if start is None else start, keyword.end)
        return InList(field, values, negated), span
    for rule in ("LIKE", "ILIKE"):
        if tokenizer.check(rule):
            keyword = tokenizer.read()
            pattern, value_span = _parse_value(tokenizer, f"a quoted pattern after {rule}")
            if not isinstance(pattern, str):
                raise tokenizer.error(f"expected a quoted pattern after {rule}", value_span)
            value_spans.append(value_span)
            span = (keyword.start if start is None else start, keyword.end)
            return Like(field, pattern, rule == "ILIKE", negated), span
    if negated:
        raise tokenizer.unexpected("IN, LIKE or ILIKE after NOT")
    raise tokenizer.unexpected(
        f"an operator after '{label}': =, !=, <, <=, >, >=, [NOT] IN, [NOT] LIKE, "
        "[NOT] ILIKE or IS [NOT] NULL"
    )


def _parse_value_list(
    tokenizer: Tokenizer, opening: Token, value_spans: list[tuple[int, int]]
) -> tuple[Value, ...]:
    """value_list := value ("," value)* [","] ")"   (the "(" is already read)

    The optional trailing comma is MLflow's: it reads the list with Python's
    ``ast.literal_eval``, so ``name IN ('a',)`` is valid there.
    """
    if tokenizer.check("RIGHT_PARENTHESIS"):
        closing = tokenizer.read()
        raise tokenizer.error(
            "empty IN list: expected at least one value", (opening.start, closing.end)
        )
    values: list[Value] = []
    while True:
        value, span = _parse_value(tokenizer)
        values.append(value)
        value_spans.append(span)
        if tokenizer.check("COMMA"):
            tokenizer.read()
            if not tokenizer.check("RIGHT_PARENTHESIS"):
                continue
        if tokenizer.check("RIGHT_PARENTHESIS"):
            tokenizer.read()
            return tuple(values)
        if tokenizer.at_end():
            raise tokenizer.error(
                "expected ')' to close the '(' opened here", (opening.start, opening.end)
            )
        raise tokenizer.unexpected("',' or ')' in the IN list")


def _parse_value(
    tokenizer: Tokenizer, expected: str = "a value: a 'quoted string' or a number"
) -> tuple[Value, tuple[int, int]]:
    """value := 'single-quoted' | "double-quoted" | number"""
    for rule, quote in (("SINGLE_QUOTED", "'"), ("DOUBLE_QUOTED", '"')):
        if tokenizer.check(rule):
            token = tokenizer.read()
            return token.text[1:-1].replace(quote * 2, quote), (token.start, token.end)
    if tokenizer.check("NUMBER"):
        token = tokenizer.read()
        number = _to_number(token.text)
        if number is None:
            raise tokenizer.error("number out of range", (token.start, token.end))
        return number, (token.start, token.end)
    _raise_if_unterminated(tokenizer, "'\"", "string")
    raise tokenizer.unexpected(expected)


def _raise_if_unterminated(tokenizer: Tokenizer, quotes: str, what: str) -> None:
    tokenizer.skip_whitespace()
    source, start = tokenizer.source, tokenizer.position
    if start < len(source) and source[start] in quotes:
        raise tokenizer.error(
            f"unterminated {what}: expected a closing {source[start]}", (start, len(source))
        )


def _canonical_op(text: str) -> ComparisonOp:
    canonical = {"==": "=", "<>": "!="}.get(text, text)
    for op in ("=", "!=", "<", "<=", ">", ">="):
        if canonical == op:
            return op
    raise RuntimeError(f"unknown operator {text!r}")  # the OP rule matches only the above


def _parse_field(tokenizer: Tokenizer, kind: Kind) -> tuple[Field, tuple[int, int]]:
    """field := name | version | version_number | stage | current_stage | run_id
    | source | source_path | description | user_id | status | alias
    | creation_timestamp | last_updated_timestamp
    | (tags | tag | metrics | metric | params | param) "." key

    Also ``run_link``, ``model_id`` and MLflow's ``attribute.<name>`` spelling of an
    attribute.
    """
    expected = f"a field name, one of: {_fields_help(kind)}"
    if not tokenizer.check("IDENTIFIER"):
        raise tokenizer.unexpected(expected)
    token = tokenizer.read()
    word, start = token.text, token.start
    if word.upper() in _KEYWORDS:
        raise tokenizer.error(f"expected {expected}, found '{word}'", (start, token.end))
    if word in _COLLECTIONS:
        _expect_dot(tokenizer, f"'.' and a key after '{word}', as in {word}.my_key")
        field = Field(_COLLECTIONS[word], _parse_key(tokenizer))
    elif word == _DATASETS:
        field = Field(_DATASETS, _parse_dataset_key(tokenizer))
    elif word == _ATTRIBUTE_PREFIX:
        _expect_dot(tokenizer, "'.' and a field name after 'attribute', as in attribute.name")
        if not tokenizer.check("IDENTIFIER", skip_whitespace=False):
            raise tokenizer.unexpected(
                f"a field name after 'attribute.', one of: {_fields_help(kind)}"
            )
        name_token = tokenizer.read()
        field = _attribute_field(
            tokenizer, name_token.text, (name_token.start, name_token.end), kind
        )
    else:
        field = _attribute_field(tokenizer, word, (start, tokenizer.position), kind)
    span = (start, tokenizer.position)
    if kind not in _field_kinds(field):
        label = tokenizer.source[start : tokenizer.position]
        raise tokenizer.error(
            f"field '{label}' is only available when searching model versions; "
            f"valid fields for models: {_MODEL_FIELDS_HELP}",
            span,
        )
    return field, span


def _expect_dot(tokenizer: Tokenizer, expected: str) -> None:
    if not tokenizer.check("DOT", skip_whitespace=False):
        raise tokenizer.unexpected(expected)
    tokenizer.read()


def _attribute_field(tokenizer: Tokenizer, word: str, span: tuple[int, int], kind: Kind) -> Field:
    name = _SYNONYMS.get(word, word)
    if name in _ATTRIBUTES:
        return Field(name)
    import difflib  # only for this message: its import costs every search

    close = difflib.get_close_matches(word, _FIELD_WORDS, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise tokenizer.error(f"unknown field '{word}'{hint}; valid fields: {_fields_help(kind)}", span)


def _parse_dataset_key(tokenizer: Tokenizer) -> str:
    """dataset_key := (name | "*") ["." (source | digest | size | git_commit | source_type)]
    (after ``datasets``)"""
    _expect_dot(tokenizer, "'.' and a data set's name after 'datasets', as in datasets.train")
    if not tokenizer.check("DATASET_NAME", skip_whitespace=False):
        raise tokenizer.unexpected("a data set's name (or * for any) after 'datasets.'")
    name = tokenizer.read().text
    if not tokenizer.check("DOT", skip_whitespace=False):
        return name
    tokenizer.read()
    expected = f"a field of a data set: {', '.join(_DATASET_ATTRIBUTES)}"
    if not tokenizer.check("IDENTIFIER", skip_whitespace=False):
        raise tokenizer.unexpected(expected)
    token = tokenizer.read()
    if token.text not in _DATASET_ATTRIBUTES:
        raise tokenizer.error(
            f"expected {expected}, found '{token.text}'", (token.start, token.end)
        )
    return f"{name}.{token.text}"


def _dataset_key(key: str) -> tuple[str, str | None]:
    """A ``datasets.`` field's key as (name or *, field or None)."""
    name, _, attribute = key.partition(".")
    return name, attribute or None


def _parse_key(tokenizer: Tokenizer) -> str:
    """key := identifier | `back-ticked` | "double-quoted" """
    for rule, quote in (("BACKTICKED", "`"), ("DOUBLE_QUOTED", '"')):
        if tokenizer.check(rule, skip_whitespace=False):
            token = tokenizer.read()
            key = token.text[1:-1].replace(quote * 2, quote)
            if not key:
                raise tokenizer.error("empty key", (token.start, token.end))
            return key
    if tokenizer.check("BARE_KEY", skip_whitespace=False):
        return tokenizer.read().text
    source, start = tokenizer.source, tokenizer.position
    if start < len(source) and source[start] in '`"':
        raise tokenizer.error(
            f"unterminated quoted key: expected a closing {source[start]}", (start, len(source))
        )
    raise tokenizer.unexpected('a key: a name, a `back-ticked` key or a "double-quoted" key')


def parse_field(text: str, kind: Kind = "version") -> Field:
    """Parse a text that is one field name, as a filter spells it (``stage``,
    ``metrics.auc``, ``tags.`my key```): what ``--columns`` names."""
    _check_kind(kind)
    tokenizer = Tokenizer(text, what="field")
    field, _ = _parse_field(tokenizer, kind)
    if not tokenizer.at_end():
        raise tokenizer.unexpected("the end of the field name")
    return field


def parse_order_clause(text: str, kind: Kind = "version") -> tuple[Field, bool]:
    """Parse one order_by clause into ``(field, ascending)``.

    order_clause := field [ASC | DESC]

    MLflow compatibility: ``ASC``/``DESC`` ignore case, the key may be back-ticked or
    double-quoted as a whole (MLflow strips those quotes with ``shlex``), and for
    registered models ``timestamp`` means ``last_updated_timestamp`` (MLflow's SQL store
    maps both to ``last_updated_time``). ``alias`` cannot be ordered by: a version can
    carry several aliases.
    """
    _check_kind(kind)
    tokenizer = Tokenizer(text, what="order_by clause")
    field, span = _parse_order_field(tokenizer, kind)
    if field.name == _DATASETS and _dataset_key(field.key or "")[0] == _ANY_DATASET:
        raise tokenizer.error(
            "cannot order by 'datasets.*': a version can have several data sets", span
        )
    if field.name == "alias":
        raise tokenizer.error(
            "cannot order by 'alias': a version or model can carry several aliases", span
        )
    ascending = True
    if tokenizer.check("DESC"):
        tokenizer.read()
        ascending = False
    elif tokenizer.check("ASC"):
        tokenizer.read()
    if not tokenizer.at_end():
        raise tokenizer.unexpected("ASC, DESC or the end of the order_by clause")
    return field, ascending


def _parse_order_field(tokenizer: Tokenizer, kind: Kind) -> tuple[Field, tuple[int, int]]:
    """order_field := field | `field` | "field"   (and ``timestamp`` for models)"""
    for rule, quote in (("BACKTICKED", "`"), ("DOUBLE_QUOTED", '"')):
        if tokenizer.check(rule):
            token = tokenizer.read()
            span = (token.start, token.end)
            inner = Tokenizer(token.text[1:-1].replace(quote * 2, quote), what="quoted key")
            try:
                field, _ = _parse_unquoted_order_field(inner, kind)
                if not inner.at_end():
                    raise inner.unexpected(f"the closing {quote}")
            except FilterSyntaxError as problem:  # point at the quoted key in the clause
                raise tokenizer.error(problem.reason, span) from None
            return field, span
    return _parse_unquoted_order_field(tokenizer, kind)


def _parse_unquoted_order_field(tokenizer: Tokenizer, kind: Kind) -> tuple[Field, tuple[int, int]]:
    if kind == "model" and tokenizer.check("MODEL_TIMESTAMP"):
        token = tokenizer.read()
        return Field("last_updated_timestamp"), (token.start, token.end)
    return _parse_field(tokenizer, kind)


# ---------------------------------------------------------------------------------------
# Semantics: every condition compiles to a closure over a record
# ---------------------------------------------------------------------------------------

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TEXT_OPS_HINT = "text takes =, !=, IN, LIKE, ILIKE and IS NULL"
_NUMBER_OPS_HINT = "numbers take =, !=, <, <=, >, >=, IN and IS NULL"
_ISO_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?)?",
    re.IGNORECASE,
)


class _ConditionError(Exception):
    """A condition that cannot make sense; ``part`` says which part to blame.

    ``part`` is "op" or "value" (then ``index`` is the position in an IN list).
    """

    def __init__(self, reason: str, part: Literal["op", "value"], index: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.part = part
        self.index = index


def _check_condition(
    tokenizer: Tokenizer,
    node: Condition,
    label: str,
    operator_span: tuple[int, int],
    value_spans: list[tuple[int, int]],
) -> None:
    """Compile the condition once, so that nonsense is reported with its span."""
    try:
        _compile_condition(node, label)
    except _ConditionError as problem:
        span = operator_span if problem.part == "op" else value_spans[problem.index]
        raise tokenizer.error(problem.reason, span) from None


@functools.lru_cache(maxsize=256)
def compile_filter(expr: Expr) -> Predicate:
    """Compile an AST into one predicate over records (plain dicts, see :func:`evaluate`).

    Regexes, sets and converted literals are built here, once, not per record. Raises
    :class:`~modelreg.errors.InvalidInputError` for an AST built by hand that the parser
    would have refused.
    """
    if isinstance(expr, Not):
        inner = compile_filter(expr.operand)
        return lambda record: not inner(record)
    if isinstance(expr, (And, Or)):
        return _combine([compile_filter(operand) for operand in expr.operands], expr)
    try:
        return _compile_condition(expr, format_field(expr.field))
    except _ConditionError as problem:
        raise InvalidInputError(problem.reason) from None


def _combine(predicates: list[Predicate], expr: And | Or) -> Predicate:
    want_all = isinstance(expr, And)
    if len(predicates) == 2:  # the common case, without a loop
        first, second = predicates
        if want_all:
            return lambda record: first(record) and second(record)
        return lambda record: first(record) or second(record)
    if want_all:
        return lambda record: all(predicate(record) for predicate in predicates)
    return lambda record: any(predicate(record) for predicate in predicates)


def evaluate(expr: Expr, record: Record) -> bool:
    """Whether ``record`` satisfies ``expr``.

    Records are the JSON shape of the entities: for a version ``name``, ``version``,
    ``current_stage``, ``source``, ``run_id``, ``tags`` (dict), ``aliases`` (list),
    ``metrics`` (dict), ``params`` (dict), timestamps in epoch milliseconds, ...; for a
    model ``name``, ``description``, ``tags``, ``aliases`` (dict alias -> version), ....
    A key that is absent counts as missing (None).
    """
    return compile_filter(expr)(record)


def matches(text: str | None, record: Record, kind: Kind = "version") -> bool:
    """Whether ``record`` satisfies the filter ``text``; None or blank text matches all."""
    if text is None or not text.strip():
        return True
    return evaluate(parse(text, kind), record)


def _compile_condition(node: Condition, label: str) -> Predicate:
    if node.field.name == _DATASETS:
        return _compile_dataset(node, label)
    ftype = field_type(node.field)
    if node.field == _PROMPT_FIELD and isinstance(node, Comparison):
        # MLflow: a model without the prompt tag is not a prompt, so it satisfies exactly
        # `= 'false'` and `!= 'true'` (every other comparison of a missing tag fails).
        test = _compile_text(node, _prompt_tag_of, f"tag '{label}'", folded=False)
        if (node.op, node.value) in (("=", "false"), ("!=", "true")):
            return lambda record: _prompt_tag_of(record) is None or test(record)
        return test
    if ftype in ("text", "tag", "stage"):
        what = f"tag '{label}'" if ftype == "tag" else f"text field '{label}'"
        return _compile_text(node, _text_getter(node.field), what, folded=ftype == "stage")
    if ftype == "alias":
        return _compile_alias(node, f"text field '{label}'")
    if ftype == "param":
        return _compile_param(node, field_getter(node.field), f"param '{label}'")
    get = _number_getter(node.field)
    if ftype == "timestamp":
        return _compile_number(node, get, f"timestamp field '{label}'", _timestamp_literal)
    return _compile_number(node, get, f"numeric field '{label}'", _number_literal)


def _compile_dataset(node: Condition, label: str) -> Predicate:
    """``datasets.NAME[.FIELD]``: NAME's FIELD (its digest when none is named); ``IS
    NULL`` without a field asks whether the version has the data set at all. With ``*``
    for NAME the positive forms hold when some data set matches, and ``!=``, ``NOT IN``
    and ``NOT LIKE`` are their negation (no data set matches), as for aliases."""
    name, attribute = _dataset_key(node.field.key or "")
    part = attribute or "digest"
    if attribute is None and isinstance(node, IsNull):
        if name == _ANY_DATASET:
            present: Predicate = lambda record: bool(_datasets_of(record))  # noqa: E731
        else:
            get_one = _dataset_getter(name)
            present = lambda record: get_one(record) is not None  # noqa: E731
        return present if node.negated else lambda record: not present(record)
    if name != _ANY_DATASET:
        get_dataset = _dataset_getter(name)
        return _compile_dataset_part(node, lambda r: _dataset_part(get_dataset(r), part), label)
    negated = node.op == "!=" if isinstance(node, Comparison) else getattr(node, "negated", False)
    positive = _positive(node) if negated and not isinstance(node, IsNull) else node
    test = _compile_dataset_part(positive, lambda d: _dataset_part(d, part), label)

    def some(record: Record) -> bool:
        # the test reads each data set as it reads a record: through _dataset_part
        return any(test(dataset) for dataset in _datasets_of(record))

    return (lambda record: not some(record)) if positive is not node else some


def _positive(node: Condition) -> Condition:
    """A negated condition without its negation (``!=`` as ``=``, ``NOT IN`` as ``IN``)."""
    if isinstance(node, Comparison):
        return Comparison(node.field, "=", node.value)
    if isinstance(node, (InList, Like)):
        return replace(node, negated=False)
    return node


def _compile_dataset_part(node: Condition, get: Callable[[Any], Any], label: str) -> Predicate:
    if field_type(node.field) == "number":
        return _compile_number(node, _numeric(get), f"numeric field '{label}'", _number_literal)
    return _compile_text(node, _textual(get), f"text field '{label}'", folded=False)


def _numeric(get: Callable[[Any], Any]) -> Callable[[Any], int | float | None]:
    def number(record: Any) -> int | float | None:
        value = get(record)
        return value if type(value) is int or type(value) is float else None

    return number


def _textual(get: Callable[[Any], Any]) -> Callable[[Any], str | None]:
    def text(record: Any) -> str | None:
        value = get(record)
        return value if value is None or type(value) is str else str(value)

    return text


def _datasets_of(record: Record) -> list[Any]:
    """A record's data sets: ``Dataset`` objects (search records) or their JSON."""
    found = record.get(_DATASETS)
    return list(found.values()) if isinstance(found, dict) else []


def _dataset_getter(name: str) -> Callable[[Record], object]:
    def get(record: Record) -> object:
        found = record.get(_DATASETS)
        return found.get(name) if isinstance(found, dict) else None

    return get


def _dataset_part(dataset: object, part: str) -> object:
    if dataset is None:
        return None
    if isinstance(dataset, Mapping):
        return dataset.get(part)
    return getattr(dataset, part, None)


def _compile_text(
    node: Condition, get: Callable[[Record], str | None], what: str, *, folded: bool
) -> Predicate:
    if folded:  # stages compare ignoring case: fold both sides
        get = _folded(get)
    if isinstance(node, IsNull):
        return _null_test(get, node.negated)
    if isinstance(node, Like):
        regex = _like_regex(node.pattern, node.case_insensitive or folded)
        return _like_test(get, regex, node.negated)
    if isinstance(node, InList):
        wanted = frozenset(
            _fold(_text_literal(value, what, i), folded) for i, value in enumerate(node.values)
        )
        if node.negated:
            return lambda record: (x := get(record)) is not None and x not in wanted
        return lambda record: get(record) in wanted
    if node.op not in ("=", "!="):
        raise _ConditionError(f"cannot compare {what} with '{node.op}'; {_TEXT_OPS_HINT}", "op")
    value = _fold(_text_literal(node.value, what, 0), folded)
    if node.op == "=":
        return lambda record: get(record) == value
    # MLflow: a missing tag or a None run_id does not match != (nor NOT IN, NOT LIKE)
    return lambda record: (x := get(record)) is not None and x != value


def _compile_alias(node: Condition, what: str) -> Predicate:
    # Aliases are a set: the positive forms ask "does some alias match?", and the negated
    # forms (!=, NOT IN, NOT LIKE, IS NOT NULL) are exactly their negation.
    if isinstance(node, IsNull):
        some = _aliases_test(lambda aliases: True)
        return some if node.negated else lambda record: not some(record)
    if isinstance(node, Like):
        regex = _like_regex(node.pattern, node.case_insensitive)
        test = _aliases_test(lambda aliases: any(regex.fullmatch(a) for a in aliases))
    elif isinstance(node, InList):
        wanted = frozenset(_text_literal(v, what, i) for i, v in enumerate(node.values))
        test = _aliases_test(lambda aliases: not wanted.isdisjoint(aliases))
    elif node.op in ("=", "!="):
        value = _text_literal(node.value, what, 0)
        test = _aliases_test(lambda aliases: value in aliases)
    else:
        raise _ConditionError(f"cannot compare {what} with '{node.op}'; {_TEXT_OPS_HINT}", "op")
    negated = node.op == "!=" if isinstance(node, Comparison) else node.negated
    return (lambda record: not test(record)) if negated else test


def _aliases_test(test: Callable[[Collection[str]], bool]) -> Predicate:
    """A predicate on a record's aliases; a record without any never passes."""
    get_aliases = field_getter(Field("alias"))

    def check(record: Record) -> bool:
        # a list for versions, a dict alias -> version for models: both test membership
        aliases = get_aliases(record)
        return test(aliases) if isinstance(aliases, (list, dict)) and aliases else False

    return check


def _compile_number(
    node: Condition,
    get: Callable[[Record], int | float | None],
    what: str,
    convert: Callable[[Value, str, int], int | float],
) -> Predicate:
    if isinstance(node, IsNull):
        return _null_test(get, node.negated)
    if isinstance(node, Like):
        keyword = ("NOT " if node.negated else "") + ("ILIKE" if node.case_insensitive else "LIKE")
        raise _ConditionError(f"cannot use {keyword} on {what}; {_NUMBER_OPS_HINT}", "op")
    if isinstance(node, InList):
        wanted = frozenset(convert(v, what, i) for i, v in enumerate(node.values))
        if node.negated:
            return lambda record: (x := get(record)) is not None and x not in wanted
        return lambda record: get(record) in wanted
    value = convert(node.value, what, 0)
    compare = _ORDERING[node.op]
    return lambda record: (x := get(record)) is not None and compare(x, value)


def _compile_param(node: Condition, get: Callable[[Record], Any], what: str) -> Predicate:
    # Params are text in MLflow but often hold numbers: when both sides are numeric they
    # compare as numbers ("0.01" = 0.01 = '1e-2'), otherwise as text.
    if isinstance(node, IsNull):
        return _null_test(get, node.negated)
    if isinstance(node, Like):
        regex = _like_regex(node.pattern, node.case_insensitive)
        return _like_test(lambda record: _param_text(get(record)), regex, node.negated)
    if isinstance(node, (InList, Comparison)) and (
        isinstance(node, InList) or node.op in ("=", "!=")
    ):
        negated = node.negated if isinstance(node, InList) else node.op == "!="
        equals = _param_equality([_param_literal(v) for v in _values(node)])
        return lambda record: (x := get(record)) is not None and equals(x) != negated
    number, _ = _param_literal(node.value)
    if number is None:
        shown = _format_value(node.value)
        raise _ConditionError(f"'{node.op}' on {what} needs a number, found {shown}", "value")
    compare = _ORDERING[node.op]
    return lambda record: (n := numeric_value(get(record))) is not None and compare(n, number)


def _param_equality(literals: list[tuple[int | float | None, str]]) -> Callable[[Any], bool]:
    """Whether a (present) param value equals one of the literals."""
    if len(literals) == 1:  # the common case, without a generator per record
        number, text = literals[0]
        return lambda value: _param_equals(value, number, text)
    return lambda value: any(_param_equals(value, number, text) for number, text in literals)


def _values(node: InList | Comparison) -> tuple[Value, ...]:
    return node.values if isinstance(node, InList) else (node.value,)


def _null_test(get: Callable[[Record], Any], negated: bool) -> Predicate:
    if negated:
        return lambda record: get(record) is not None
    return lambda record: get(record) is None


def _like_test(
    get: Callable[[Record], str | None], regex: re.Pattern[str], negated: bool
) -> Predicate:
    if negated:
        return lambda record: (x := get(record)) is not None and regex.fullmatch(x) is None
    return lambda record: (x := get(record)) is not None and regex.fullmatch(x) is not None


def _like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """SQL LIKE as a regex: ``%`` any run, ``_`` one character, everything else literal.

    As in MLflow's file store (``_convert_like_pattern_to_regex``) and its SQLite store:
    no escape character, so a backslash is just a backslash. Unlike the file store, ``%``
    also matches newlines, as SQL's does.
    """
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


# -- getters: a record's value of a field, or None when it is missing ----------------


def _folded(get: Callable[[Record], str | None]) -> Callable[[Record], str | None]:
    def folded(record: Record) -> str | None:
        value = get(record)
        return None if value is None else value.casefold()

    return folded


def field_getter(field: Field) -> Callable[[Record], object]:
    """A function giving the raw value of ``field`` in a record, None when it lacks it
    (``datasets.*.FIELD``: the list of every data set's value)."""
    if field.name == _DATASETS and field.key is not None:
        name, attribute = _dataset_key(field.key)
        part = attribute or "digest"
        if name == _ANY_DATASET:
            return lambda record: [_dataset_part(d, part) for d in _datasets_of(record)] or None
        get_dataset = _dataset_getter(name)
        return lambda record: _dataset_part(get_dataset(record), part)
    if field.key is None:
        # a C-level call: it runs once per record in every search
        return operator.methodcaller("get", "aliases" if field.name == "alias" else field.name)
    collection, key = field.name, field.key

    def get(record: Record) -> object:
        entries = record.get(collection)
        return entries.get(key) if isinstance(entries, dict) else None

    return get


def _text_getter(field: Field) -> Callable[[Record], str | None]:
    raw = field_getter(field)

    def get(record: Record) -> str | None:
        value = raw(record)
        # a hand-edited file may hold a number where text belongs; compare its text
        return value if value is None or type(value) is str else str(value)

    return get


_PROMPT_FIELD = Field("tags", PROMPT_TAG)
_prompt_tag_of = _text_getter(_PROMPT_FIELD)


def _number_getter(field: Field) -> Callable[[Record], int | float | None]:
    raw = field_getter(field)

    def get(record: Record) -> int | float | None:
        value = raw(record)
        # bool is an int subclass, but True is no number of anything: type() excludes it
        return value if type(value) is int or type(value) is float else None

    return get


# -- literals -------------------------------------------------------------------------


def _fold(text: str, folded: bool) -> str:
    return text.casefold() if folded else text


def _text_literal(value: Value, what: str, index: int) -> str:
    if isinstance(value, str):
        return value
    raise _ConditionError(
        f"expected a quoted string for {what}, found {_format_value(value)}", "value", index
    )


def _number_literal(value: Value, what: str, index: int) -> int | float:
    number = value if not isinstance(value, str) else _to_number(value.strip())
    if number is None:
        raise _ConditionError(
            f"expected a number for {what}, found {_format_value(value)}", "value", index
        )
    return number


def _timestamp_literal(value: Value, what: str, index: int) -> int | float:
    if not isinstance(value, str):
        return value
    number = _to_number(value.strip())
    if number is not None:
        return number
    millis = _iso_to_millis(value.strip())
    if millis is None:
        raise _ConditionError(
            f"expected epoch milliseconds or an ISO date such as '2026-01-01' or "
            f"'2026-01-01T10:00:00Z' for {what}, found {_format_value(value)}",
            "value",
            index,
        )
    return millis


def _iso_to_millis(text: str) -> int | None:
    """Epoch milliseconds of an ISO date or date-time (naive means UTC), or None."""
    match = _ISO_RE.fullmatch(text)
    if match is None:
        return None
    # Imported here: only a filter with a date needs it, and it costs every search 3 ms.
    from datetime import datetime, timedelta, timezone

    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "").ljust(6, "0")),
            tzinfo=_zone(zone),
        )
    except ValueError:  # month 13, 25 o'clock, an offset of a day or more
        return None
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (moment - epoch) // timedelta(milliseconds=1)


def _zone(text: str | None) -> timezone:
    from datetime import timedelta, timezone

    if text is None or text.upper() == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    offset = timedelta(hours=int(text[1:3]), minutes=int(text[4:6]))
    return timezone(sign * offset)


def _to_number(text: str) -> int | float | None:
    """The number a literal spells, or None (not a number, or not finite)."""
    if not _NUMBER_RE.fullmatch(text):
        return None
    try:
        if _INTEGER_RE.fullmatch(text):
            return int(text)
        value = float(text)
    except ValueError:  # Python refuses to convert integers of thousands of digits
        return None
    return value if math.isfinite(value) else None


def _param_literal(value: Value) -> tuple[int | float | None, str]:
    if isinstance(value, str):
        return _to_number(value.strip()), value
    return value, _format_value(value)


def numeric_value(value: object) -> int | float | None:
    """The number a value holds: an int or float, or text that spells one; else None."""
    if type(value) is int or type(value) is float:
        return value
    if type(value) is str:
        return _text_number(value)
    return None


@functools.lru_cache(maxsize=4096)
def _text_number(text: str) -> int | float | None:
    # params repeat the same few texts ("0.01", "adam") across many versions: parse once
    return _to_number(text.strip())


def _param_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _param_equals(value: Any, number: int | float | None, text: str) -> bool:
    mine = numeric_value(value)
    if mine is not None or number is not None:
        return mine == number
    return _param_text(value) == text


# ---------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------


def to_string(expr: Expr) -> str:
    """The canonical text of an expression: ``parse(to_string(e)) == e``.

    Canonical means: keywords in capitals, canonical field names (``version``,
    ``current_stage``, ``source``, ``tags.``, ``metrics.``, ``params.``), ``=`` and ``!=``,
    strings in single quotes, keys bare when they can be, and parentheses only where the
    structure needs them.
    """
    if isinstance(expr, Or):
        return " OR ".join(_child(operand, Or) for operand in expr.operands)
    if isinstance(expr, And):
        return " AND ".join(_child(operand, And) for operand in expr.operands)
    if isinstance(expr, Not):
        return "NOT " + _child(expr.operand, Not)
    field = format_field(expr.field)
    negation = "NOT " if getattr(expr, "negated", False) else ""
    if isinstance(expr, Comparison):
        return f"{field} {expr.op} {_format_value(expr.value)}"
    if isinstance(expr, InList):
        values = ", ".join(_format_value(value) for value in expr.values)
        return f"{field} {negation}IN ({values})"
    if isinstance(expr, Like):
        keyword = "ILIKE" if expr.case_insensitive else "LIKE"
        return f"{field} {negation}{keyword} {_format_value(expr.pattern)}"
    return f"{field} IS {negation}NULL"


def _child(expr: Expr, parent: type[Expr]) -> str:
    # An operand needs parentheses when it binds no tighter than its parent: OR inside
    # AND or NOT, AND inside NOT, and the same operator nested in itself (keeping the
    # tree's shape, so that printing and parsing round-trip exactly).
    needs = isinstance(expr, Or) or (isinstance(expr, And) and parent is not Or)
    text = to_string(expr)
    return f"({text})" if needs else text


def format_field(field: Field) -> str:
    """The canonical text of a field: ``name``, ``version``, ``tags.team``, ``tags.`my key```."""
    if field.key is None:
        return field.name
    if field.name == _DATASETS:  # names and fields are bare words (or *)
        return f"{field.name}.{field.key}"
    return f"{field.name}.{_format_key(field.key)}"


def _format_key(key: str) -> str:
    if _BARE_KEY_RE.fullmatch(key):
        return key
    return "`" + key.replace("`", "``") + "`"


def _format_value(value: Value) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _check_kind(kind: str) -> None:
    if kind not in ("version", "model"):
        raise ValueError(f"kind must be 'version' or 'model', not {kind!r}")
