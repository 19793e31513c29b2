"""Typed reads of a parsed YAML document: the one place that knows how a field is checked
and how a wrong one is named.

Every registry file — a version, a model, ``registry.yaml`` with its ``rules:`` and
``hooks:`` — is a mapping of YAML values, and every reader of one asks the same questions:
is ``key`` there, is it text, a whole number, a list of stage names, a mapping of text?
A :class:`DocReader` answers them for one mapping and turns every wrong answer into a
:class:`~modelreg.errors.CorruptFileError` (exit 7) that names the file and the place in it.

A place is written one of two ways, as the files' messages always have been:

- a key path in quotes (the default): ``'rules.stages.Production.approvals' must be a
  whole number >= 0``, ``missing required key 'name'``;
- a labelled list item (``labelled=True``, the hooks): ``hooks[0] ('deploy').timeout:
  must be a number >= 0.001``, ``hooks[0].name: is required``.

Two more options describe the files modelreg writes itself (versions and models), where a
wrong value is shown (``'version' must be an integer, not 'two'``) and a null stands for
the field's default (``show_found``, ``null_is_default``). In the hand-written
``registry.yaml`` a null is a value like any other, refused where a value is needed.

Every version read uses it, so it imports nothing the read path does not load anyway.

It also names what a parsed document is, for every signature that passes one:
:data:`JSONValue`, the values :mod:`modelreg.yamlio` reads (it refuses any other tag) and
JSON can carry, and :data:`Document`, a file's top-level mapping of them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from pathlib import Path

from modelreg.errors import CorruptFileError

TYPE_CHECKING = False  # not `from typing import ...`: start-up (see modelreg.quick)
if TYPE_CHECKING:
    from typing import Final, TypeAlias

JSONValue: TypeAlias = (
    "bool | int | float | str | Sequence[JSONValue] | Mapping[str, JSONValue] | None"
)
"""A YAML or JSON value as modelreg reads and writes it. Its containers are read-only
(``Sequence``, ``Mapping``) so that a ``dict[str, str]`` or a ``list[int]`` is one too;
a value parsed from a file is built of ``list`` and ``dict``."""

Document: TypeAlias = "dict[str, JSONValue]"
"""A registry file's (or a JSON output's) top-level mapping."""


class Required(enum.Enum):
    """The type of :data:`REQUIRED`."""

    REQUIRED = "required"


REQUIRED: Final = Required.REQUIRED
"""The default of a field that must be present."""


def found(value: object) -> str:
    """A YAML value as a message shows it: ``null`` for None, else its repr."""
    return "null" if value is None else repr(value)


class DocReader:
    """Typed access to one mapping of the YAML document in ``path``, found at ``where``
    (a dotted key path such as ``rules.stages.Production``, or a label such as
    ``hooks[0] ('deploy')``; empty for the document itself)."""

    __slots__ = ("doc", "labelled", "null_is_default", "path", "show_found", "where")

    def __init__(
        self,
        doc: Mapping[str, JSONValue],
        path: Path | str,
        where: str = "",
        *,
        labelled: bool = False,
        show_found: bool = False,
        null_is_default: bool = False,
    ) -> None:
        self.doc = doc
        self.path = path
        self.where = where
        self.labelled = labelled
        self.show_found = show_found
        self.null_is_default = null_is_default

    @classmethod
    def of(
        cls,
        value: object,
        path: Path | str,
        where: str,
        *,
        problem: str = "must be a mapping",
        labelled: bool = False,
    ) -> DocReader:
        """A reader over ``value``, which must be a mapping (else ``problem`` at ``where``)."""
        reader = cls({}, path, where, labelled=labelled)
        if not isinstance(value, dict):
            raise reader.error("", problem)
        reader.doc = value
        return reader

    # -- places and errors ----------------------------------------------------------------

    def at(self, key: str) -> str:
        """The place of ``key`` in the file, e.g. ``rules.stages.Production.approvals``."""
        if not key:
            return self.where
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, problem: str) -> CorruptFileError:
        """``problem`` with ``key``'s place (``key`` empty: the place of this mapping)."""
        if self.labelled:
            return CorruptFileError(self.path, f"{self.at(key)}: {problem}")
        return CorruptFileError(self.path, f"'{self.at(key)}' {problem}")

    def missing(self, key: str) -> CorruptFileError:
        if self.labelled:
            return self.error(key, "is required")
        return CorruptFileError(self.path, f"missing required key '{self.at(key)}'")

    def wrong(self, key: str, value: object, problem: str) -> CorruptFileError:
        """``key`` holds ``value``, which is not what ``problem`` asks for."""
        return self.error(key, f"{problem}, not {found(value)}" if self.show_found else problem)

    def child(self, doc: Mapping[str, JSONValue], key: str) -> DocReader:
        """A reader of ``doc``, found at ``key`` of this mapping, with the same options."""
        return DocReader(
            doc,
            self.path,
            self.at(key),
            labelled=self.labelled,
            show_found=self.show_found,
            null_is_default=self.null_is_default,
        )

    # -- raw access -----------------------------------------------------------------------

    def __contains__(self, key: str) -> bool:
        return key in self.doc

    def get(self, key: str) -> JSONValue:
        """The value of ``key`` as parsed, None when absent (no check)."""
        return self.doc.get(key)

    def known_keys(self, known: Sequence[str]) -> None:
        """Refuse any key not in ``known`` (a typo would otherwise be silently ignored)."""
        for key in self.doc:
            if key not in known:
                raise CorruptFileError(
                    self.path,
                    f"unknown key '{self.at(str(key))}'; known keys are: {', '.join(known)}",
                )

    def _get(self, key: str, default: object) -> object:
        value = self.doc.get(key, REQUIRED)
        if value is REQUIRED or (
            value is None and self.null_is_default and default is not REQUIRED
        ):
            if default is REQUIRED:
                raise self.missing(key)
            return default
        return value

    # -- scalars --------------------------------------------------------------------------

    def text(
        self,
        key: str,
        default: str | Required = REQUIRED,
        *,
        nonblank: bool = False,
        problem: str | None = None,
    ) -> str:
        """A string (``nonblank``: with something besides white space)."""
        value = self._get(key, default)
        if isinstance(value, str) and (not nonblank or value.strip()):
            return value
        raise self.wrong(key, value, problem or _text_problem(nonblank))

    def optional_text(
        self,
        key: str,
        default: str | None = None,
        *,
        nonblank: bool = False,
        problem: str | None = None,
    ) -> str | None:
        """A string or null (absent: ``default``)."""
        value = self._get(key, default)
        if value is None or (isinstance(value, str) and (not nonblank or value.strip())):
            return value
        raise self.wrong(key, value, problem or _text_problem(nonblank))

    def integer(
        self,
        key: str,
        default: int | Required = REQUIRED,
        *,
        minimum: int | None = None,
        problem: str | None = None,
    ) -> int:
        """A whole number (true and false are not numbers), at least ``minimum``."""
        value = self._get(key, default)
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (minimum is None or value >= minimum)
        ):
            return value
        if problem is None:
            problem = (
                "must be an integer" if minimum is None else f"must be a whole number >= {minimum}"
            )
        raise self.wrong(key, value, problem)

    def optional_integer(self, key: str, *, problem: str | None = None) -> int | None:
        value = self._get(key, None)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise self.wrong(key, value, problem or "must be an integer")

    def number(
        self,
        key: str,
        default: float | Required = REQUIRED,
        *,
        minimum: float | None = None,
        above: float | None = None,
        problem: str | None = None,
    ) -> float:
        """An integer or a float, at least ``minimum`` / greater than ``above``."""
        value = self._get(key, default)
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and (minimum is None or value >= minimum)
            and (above is None or value > above)
        ):
            return float(value)
        if problem is None:
            if minimum is not None:
                problem = f"must be a number >= {minimum:g}"
            elif above is not None:
                problem = f"must be a number > {above:g}"
            else:
                problem = "must be a number"
        raise self.wrong(key, value, problem)

    def flag(self, key: str, default: bool | Required = REQUIRED) -> bool:
        value = self._get(key, default)
        if isinstance(value, bool):
            return value
        raise self.wrong(key, value, "must be true or false")

    # -- collections ----------------------------------------------------------------------

    def mapping(
        self, key: str, *, falsy_is_empty: bool = False, problem: str = "must be a mapping"
    ) -> dict[str, JSONValue]:
        """A mapping; absent or null is an empty one (``falsy_is_empty``: so is any empty
        value, ``[]`` or ``''`` — the ``rules:`` section has always read them so)."""
        return self._mapping(key, self.doc.get(key), falsy_is_empty, problem)

    def section(
        self, key: str, *, falsy_is_empty: bool = False, problem: str = "must be a mapping"
    ) -> DocReader:
        """A reader of the mapping at ``key`` (see :meth:`mapping`)."""
        return self.nested(key, self.doc.get(key), falsy_is_empty=falsy_is_empty, problem=problem)

    def nested(
        self,
        key: str,
        value: object,
        *,
        falsy_is_empty: bool = False,
        problem: str = "must be a mapping",
    ) -> DocReader:
        """A reader of ``value``, the mapping found at ``key`` of this one (for walking a
        mapping whose keys are data, such as stage or model names)."""
        return self.child(self._mapping(key, value, falsy_is_empty, problem), key)

    def _mapping(
        self, key: str, value: object, falsy_is_empty: bool, problem: str
    ) -> dict[str, JSONValue]:
        if value is None or (falsy_is_empty and not value):
            return {}
        if isinstance(value, dict):
            return value
        raise self.wrong(key, value, problem)

    def sequence(
        self, key: str, *, falsy_is_empty: bool = False, problem: str = "must be a list"
    ) -> list[JSONValue]:
        """A list; absent or null is an empty one (``falsy_is_empty`` as for mappings)."""
        value = self.doc.get(key)
        if value is None or (falsy_is_empty and not value):
            return []
        if isinstance(value, list):
            return value
        raise self.wrong(key, value, problem)

    def strings(
        self,
        key: str,
        default: list[str] | Required = REQUIRED,
        *,
        single: bool = False,
        nonblank: bool = False,
        problem: str | None = None,
    ) -> list[str]:
        """A list of strings (``single``: one string stands for a list of it;
        ``nonblank``: a list of at least one string, none of them blank)."""
        value = self._get(key, default)
        if single and isinstance(value, str):
            value = [value]
        if (
            isinstance(value, list)
            and (not nonblank or value)
            and all(isinstance(each, str) and (not nonblank or each.strip()) for each in value)
        ):
            return list(value)
        if problem is None:
            problem = (
                "must be a non-empty list of strings" if nonblank else "must be a list of strings"
            )
        raise self.wrong(key, value, problem)

    def text_mapping(self, key: str) -> dict[str, str]:
        """A mapping of text to text (a YAML number as a value must be quoted)."""
        result: dict[str, str] = {}
        for item_key, item in self.mapping(key).items():
            if not isinstance(item, str):
                raise self.wrong(f"{key}.{item_key}", item, "must be text (quote it)")
            result[str(item_key)] = item
        return result

    def number_mapping(self, key: str) -> dict[str, int | float]:
        """A mapping of text to numbers (true and false are not numbers)."""
        result: dict[str, int | float] = {}
        for item_key, item in self.mapping(key).items():
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise self.wrong(f"{key}.{item_key}", item, "must be a number")
            result[str(item_key)] = item
        return result

    # -- stages ---------------------------------------------------------------------------

    def stage_names(self, key: str, default: list[str] | Required = REQUIRED) -> list[str]:
        """A list of stage names: non-empty strings, none twice (in any case)."""
        value = self._get(key, default)
        if not isinstance(value, list) or not all(isinstance(each, str) and each for each in value):
            raise self.wrong(key, value, "must be a list of stage names")
        lowered = {each.lower() for each in value}
        if len(lowered) != len(value):
            raise self.error(key, "lists a stage twice")
        return list(value)

    def known_stage(self, key: str, name: object, stages: Sequence[str]) -> str:
        """``stages``' spelling of ``name`` (any case), found at ``key``."""
        if isinstance(name, str):
            for stage in stages:
                if stage.lower() == name.lower():
                    return stage
        raise self.error(key, f"names unknown stage {name!r}; the stages are: {', '.join(stages)}")


def _text_problem(nonblank: bool) -> str:
    return "must be a non-empty string" if nonblank else "must be text"
