"""Every YAML read and write goes through :func:`load` / :func:`loads` and :func:`dumps`.

Reading is hardened against hostile files: the document is built from libyaml's event
stream by hand, so anchors and aliases (alias bombs), merge keys, duplicate keys, explicit
tags, absurd nesting, huge files, binary data and git conflict markers are refused with an
error that names the file, before any of it can cost time or memory. Files in exactly the
shape :func:`dumps` writes, nearly all of a registry, are read by a faster line reader
that leaves everything else to libyaml (see "the fast path" below).

Writing is deterministic: block style, the caller's key order, no anchors, no line folding,
a newline at the end; the same data always gives the same bytes.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from pathlib import Path

from modelreg.docread import JSONValue
from modelreg.errors import CorruptFileError

TYPE_CHECKING = False  # not `from typing import ...`: start-up (see modelreg.quick)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar

    import yaml

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32
# A 4 MB file of tiny values ("[1,1,1,...]") would take seconds to build. Registry files
# stay far below this many parser events: a model.yaml with 10,000 history entries (1.4 MB)
# has 140,000.
MAX_VALUES = 250_000

_CONFLICT_MARKER = re.compile(rb"^(<{7}|={7}|>{7})(?: |$)", re.MULTILINE)
_STANDARD_TAGS = frozenset(
    {"tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
)


class _InvalidYamlError(Exception):
    """Raised inside the builder; turned into CorruptFileError with the file's path."""


@functools.cache
def _pyyaml() -> Any:
    """PyYAML, imported when first needed: the read commands mostly meet files the fast
    path reads without it, and importing it costs about 12 ms of every start-up."""
    import yaml

    return yaml


def load(path: Path, max_bytes: int = MAX_FILE_BYTES) -> JSONValue:
    """Read and parse one YAML file, refusing anything hostile (a missing file too)."""
    try:
        data, _ = read_file(path, max_bytes)
    except FileNotFoundError as exc:
        raise CorruptFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    return loads(data, path)


def read_file(
    path: Path | str, max_bytes: int = MAX_FILE_BYTES, *, follow_symlinks: bool = True
) -> tuple[bytes, os.stat_result]:
    """The bytes of a small regular file and the ``fstat`` of the very file they came
    from. FileNotFoundError when it is missing; CorruptFileError (which names the file)
    for a folder, a pipe, a device, a symlink when not followed, or a file too large."""
    # O_NONBLOCK: a FIFO named like a registry file must not hang the open.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if not follow_symlinks and Path(path).is_symlink():
            raise CorruptFileError(path, "is a symlink; refusing to follow it") from None
        raise CorruptFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    file_stat = os.fstat(fd)
    if not stat.S_ISREG(file_stat.st_mode):
        os.close(fd)  # before fdopen, which refuses a folder with IsADirectoryError
        if stat.S_ISDIR(file_stat.st_mode):
            raise CorruptFileError(path, "expected a file, found a folder")
        raise CorruptFileError(path, "not a regular file (a pipe, socket or device)")
    try:
        data = _read_at_most(fd, file_stat.st_size, max_bytes + 1)
    except OSError as exc:
        raise CorruptFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise CorruptFileError(path, f"file is larger than {max_bytes // (1024 * 1024)} MB")
    return data, file_stat


def _read_at_most(fd: int, size: int, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``fd``, whose ``fstat`` said ``size``. One read asks for
    what fstat said plus one, then reads on until the end (the file may have grown): a
    single read of ``limit`` bytes would allocate 4 MB for every 1 KB file, a fifth of
    the time a first read after a clone spends on a version file."""
    chunks = []
    total = 0
    want = min(size + 1, limit)
    while total < limit:
        chunk = os.read(fd, min(max(want, 1), limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        # A full read: the file grew since fstat, read on in larger pieces. A short one
        # is the end, which a read of one byte confirms (without allocating more).
        want = 1 << 16 if len(chunk) == want else 1
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def loads(data: bytes, path: Path | str) -> JSONValue:
    """Parse YAML bytes; ``path`` is only used to name the file in errors."""
    if b"\x00" in data:
        raise CorruptFileError(path, "binary data (NUL bytes), not a YAML file")
    # The regular expression costs 15 µs a file; looking for the markers costs 2.
    marker = None
    if b"<<<<<<<" in data or b"=======" in data or b">>>>>>>" in data:
        marker = _CONFLICT_MARKER.search(data)
    if marker:
        line = data.count(b"\n", 0, marker.start()) + 1
        raise CorruptFileError(
            path, f"git conflict marker on line {line}: resolve the merge conflict first"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(path, f"not UTF-8 text (byte {exc.start})") from None
    try:
        return _read_canonical(text)
    except _NotCanonicalError:
        pass  # anything else is read by libyaml, below
    yaml = _pyyaml()
    try:
        return _build(text)
    except _InvalidYamlError as exc:
        raise CorruptFileError(path, str(exc)) from None
    except yaml.YAMLError as exc:
        raise CorruptFileError(path, f"invalid YAML: {_one_line(exc)}") from None
    except RecursionError:  # only reachable with the pure-Python parser
        raise CorruptFileError(path, f"nested deeper than {MAX_DEPTH} levels") from None


def dumps(data: object) -> str:
    """Serialize ``data`` deterministically (block style, given key order, no anchors)."""
    text: str = _pyyaml().dump(
        data,
        Dumper=_dumper(),
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
    )
    return text


@functools.cache
def _dumper() -> Any:
    """libyaml's safe dumper, with modelreg's choices."""
    yaml = _pyyaml()

    class NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
        # Timestamps are kept as text on reading, so they need no quotes on writing:
        # `created: 2026-11-28T19:00:00.000Z` reads better in a diff than a quoted string.
        yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
            first: [entry for entry in entries if entry[0] != "tag:yaml.org,2002:timestamp"]
            for first, entries in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
        }

        # Two equal lists in one document must be written twice, never as &anchor/*alias.
        def ignore_aliases(self, data: Any) -> bool:
            return True

    NoAliasDumper.add_representer(str, _represent_str)
    return NoAliasDumper


def _represent_str(dumper: Any, value: str) -> Any:
    # Multi-line descriptions read (and diff) best as literal blocks.
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _one_line(exc: yaml.YAMLError) -> str:
    return " ".join(str(exc).split())


def _build(text: str) -> JSONValue:
    """Build Python data from the event stream; one document, no anchors, bounded depth
    and size."""
    yaml = _pyyaml()
    parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    # Exact classes, scalars first: a hostile file of MAX_VALUES tiny values must be
    # refused in well under a second, and the chain of isinstance tests cost a third of it.
    scalar_event = yaml.ScalarEvent
    starts = {yaml.SequenceStartEvent: list, yaml.MappingStartEvent: dict}
    ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    stack: list[tuple[Any, list[Any]]] = []  # (container, pending mapping key holder)
    result: JSONValue = None
    documents = 0
    for count, event in enumerate(yaml.parse(text, Loader=parser)):
        if count > MAX_VALUES:
            raise _InvalidYamlError(f"more than {MAX_VALUES:,} values: not a registry file")
        kind = type(event)
        if kind is scalar_event:
            if event.anchor is not None:
                raise _InvalidYamlError("YAML anchors (&name) are not allowed in registry files")
            value = _scalar(event)
            if not stack:
                result = value
            else:
                _add(stack[-1], value, event)
        elif kind in starts:
            if event.anchor is not None:
                raise _InvalidYamlError("YAML anchors (&name) are not allowed in registry files")
            _check_tag(event)
            if len(stack) >= MAX_DEPTH:
                raise _InvalidYamlError(f"nested deeper than {MAX_DEPTH} levels")
            stack.append((starts[kind](), []))
        elif kind in ends:
            done, _ = stack.pop()
            if not stack:
                result = done
            else:
                _add(stack[-1], done, event)
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _InvalidYamlError("more than one YAML document in the file")
        elif kind is yaml.AliasEvent:
            raise _InvalidYamlError("YAML aliases (*name) are not allowed in registry files")
    return result


def _add(frame: tuple[Any, list[Any]], value: Any, event: Any) -> None:
    container, pending_key = frame
    if isinstance(container, list):
        container.append(value)
        return
    if not pending_key:
        if isinstance(value, (dict, list)):
            raise _InvalidYamlError(f"a mapping key must be a scalar (line {_line(event)})")
        if value == "<<" and isinstance(event, _pyyaml().ScalarEvent) and event.implicit[0]:
            raise _InvalidYamlError(f"YAML merge keys (<<) are not allowed (line {_line(event)})")
        if value in container:
            raise _InvalidYamlError(f"duplicate key {value!r} (line {_line(event)})")
        pending_key.append(value)
        return
    container[pending_key.pop()] = value


def _line(event: Any) -> int:
    return int(event.start_mark.line) + 1 if event.start_mark is not None else 0


def _check_tag(event: Any) -> None:
    tag = event.tag
    if tag is not None and tag not in ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"):
        raise _InvalidYamlError(f"explicit YAML tag {tag!r} is not allowed (line {_line(event)})")


def _scalar(event: Any) -> Any:
    """Resolve a scalar like the safe loader, but keep timestamps as text."""
    value: str = event.value
    tag = event.tag
    if tag is None or tag == "!":
        if not event.implicit[0]:  # quoted: always a string
            return value
        known = _plain_values.get(value, _MISSING)  # resolved by _plain as here
        if known is not _MISSING:
            return known
        tag = _implicit_tag(value)
    elif tag not in _STANDARD_TAGS:
        raise _InvalidYamlError(f"explicit YAML tag {tag!r} is not allowed (line {_line(event)})")
    try:
        return _CONSTRUCT.get(tag, str)(value)
    except ValueError:
        raise _InvalidYamlError(f"{value!r} is not a valid {tag.rsplit(':', 1)[-1]}") from None


def _int(value: str) -> int:
    # Nearly always plain decimal digits, which need none of the YAML 1.1 forms below.
    if value.isdigit() and (value[0] != "0" or len(value) == 1):
        return int(value)
    # YAML 1.1 ints may carry '_' separators, signs, 0x/0o/0b prefixes.
    text = value.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if text.startswith("0x"):
        return sign * int(text[2:], 16)
    if text.startswith("0b"):
        return sign * int(text[2:], 2)
    if text.startswith("0o"):
        return sign * int(text[2:], 8)
    if len(text) > 1 and text.startswith("0") and text.isdigit():
        return sign * int(text, 8)
    if ":" in text:
        raise ValueError(value)  # sexagesimal: nobody means it in a registry
    return sign * int(text)


def _float(value: str) -> float:
    text = value.replace("_", "").lower()
    if text in (".inf", "+.inf"):
        return float("inf")
    if text == "-.inf":
        return float("-inf")
    if text == ".nan":
        return float("nan")
    return float(text)


_CONSTRUCT: dict[str, Any] = {
    "tag:yaml.org,2002:null": lambda _value: None,
    "tag:yaml.org,2002:bool": lambda value: value.lower() in ("yes", "true", "on", "y"),
    "tag:yaml.org,2002:int": _int,
    "tag:yaml.org,2002:float": _float,
    "tag:yaml.org,2002:str": str,
}


# YAML 1.1's implicit types of plain scalars, as PyYAML resolves them (its resolver.py),
# for both readers, so that the fast one needs no PyYAML; tests/test_yamlio.py holds them
# to PyYAML's own resolver. Timestamps and the rest stay text.
_IMPLICIT_TYPES = (
    ("tag:yaml.org,2002:null", r"~|null|Null|NULL"),
    (
        "tag:yaml.org,2002:bool",
        r"yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
    ),
    (
        "tag:yaml.org,2002:int",
        r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
    ),
    (
        "tag:yaml.org,2002:float",
        r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
    ),
)
_TYPED_FIRST = frozenset("~nNyYtTfFoO-+0123456789.")  # what those can start with
_DIGITS = frozenset("0123456789")
_NUMBER_CHARACTERS = "0123456789_:.eE+-"
# The four in one expression, tried in their order (a full match of an earlier
# alternative wins, as in the loop over them): one match a scalar instead of four, and
# one compilation in a process instead of five (1.3 ms of a `resolve`).
_IMPLICIT_TYPE = re.compile(
    "|".join(f"(?P<t{number}>{pattern})" for number, (_, pattern) in enumerate(_IMPLICIT_TYPES))
)
_TAG_OF_GROUP = {f"t{number}": tag for number, (tag, _) in enumerate(_IMPLICIT_TYPES)}


def _implicit_tag(text: str) -> str:
    """The type of a plain (unquoted) scalar."""
    if not text:
        return "tag:yaml.org,2002:null"  # `key:` with nothing after it
    first = text[0]
    if first in _TYPED_FIRST:
        if text.isdigit() and text.isascii() and (first != "0" or len(text) == 1):
            return "tag:yaml.org,2002:int"  # the commonest, without the expression
        prefixed = first == "0" and text[1:2] in ("x", "b", "o")
        if first in _DIGITS and not prefixed and text.strip(_NUMBER_CHARACTERS):
            # A number that starts with a digit holds only these, but for the letter of
            # 0x/0b/0o (and the hex digits after 0x): a time, an id, a path is text.
            return "tag:yaml.org,2002:str"
        found = _IMPLICIT_TYPE.fullmatch(text)
        if found is not None:
            return _TAG_OF_GROUP[found.lastgroup or ""]
    return "tag:yaml.org,2002:str"


# -- the fast path: files as dumps() writes them ----------------------------------------
#
# Nearly every file a registry holds was written by dumps(): block style, one scalar per
# line, two-space indents. Building those from libyaml's events costs about 200 µs a
# file, most of a first read after a clone; reading that one shape line by line costs a
# fraction. _read_canonical gives up on anything else (comments, flow collections,
# anchors, tags, blank lines, escapes, folded or indented scalars, tabs, unusual
# characters, duplicate keys, ...), which _build then reads or refuses with its message.
# It must never accept a text that _build would read differently or refuse:
# tests/test_yamlio.py compares the two on generated and on mutated documents.


class _NotCanonicalError(Exception):
    """Not in the shape dumps() writes: read it with libyaml instead."""


# Every line holds at most a key and a scalar, so a file this short stays well below the
# MAX_VALUES parser events that _build allows.
_MAX_CANONICAL_LINES = MAX_VALUES // 4
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@` ")
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_SINGLE_QUOTED_KEY = re.compile(r"'((?:[^']|'')*)':(?: |$)")
_DOUBLE_QUOTED = re.compile(r'"([^"\\]*)"')  # without escapes
_LITERAL_HEADERS = {"|": "clip", "|-": "strip", "|+": "keep"}
_plain_values: dict[str, Any] = {}  # keys and common values repeat across files
# Keys apart: the values' many unique texts (times, ids) would flush them out, and a
# key is also checked for being a merge key (see _entry).
_plain_keys: dict[str, Any] = {}
_MISSING = object()


def _read_canonical(text: str) -> JSONValue:
    # Besides \n, only printable characters: no tab, no other line break (\r, \x85,
    # \u2028, \u2029), no control or format character (the byte order mark), no
    # surrogate or unassigned code point; and no non-breaking or other odd space.
    if not text.endswith("\n") or not text.replace("\n", " ").isprintable():
        raise _NotCanonicalError
    shapes = _shapes.get(text.count("\n"))
    if shapes:
        for shape in shapes:
            found = shape.pattern.fullmatch(text)
            if found is not None:
                try:
                    built: JSONValue = shape.build(found.groups())
                    return built
                except _NotCanonicalError:
                    break  # a value the lines below read otherwise, or decline
    lines = text.split("\n")
    lines.pop()  # after the final newline
    if not lines or len(lines) > _MAX_CANONICAL_LINES:
        raise _NotCanonicalError
    reader = _CanonicalReader(lines)
    first = lines[0]
    if first.startswith("- "):
        value: JSONValue = reader.sequence(0, 1)
    else:
        value = reader.mapping(0, 1, None)
    if reader.position != len(lines):
        raise _NotCanonicalError
    if reader.learnable and len(lines) <= _MAX_SHAPE_LINES:
        _learn(lines, reader.cuts, value)
    return value


class _CanonicalReader:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.position = 0
        # Where each line's scalar value begins, -1 on a line without one (see _learn).
        self.cuts = [-1] * len(lines)
        self.learnable = True  # no literal block (whose lines a shape cannot hold)

    def mapping(self, indent: int, depth: int, first: str | None) -> dict[Any, Any]:
        """The entries at ``indent``; ``first`` is an entry that began on a ``- `` line.

        Most of a first read after a clone is spent here, so the common entry, ``key:
        value`` with a plain key seen before and a value seen before, is read inline;
        everything else goes through _entry and _scalar_text."""
        if depth > MAX_DEPTH:
            raise _NotCanonicalError
        lines = self.lines
        count = len(lines)
        keys = _plain_keys
        values = _plain_values
        cuts = self.cuts
        result: dict[Any, Any] = {}
        content = first
        while True:
            if content is None:
                if self.position == count:
                    break
                line = lines[self.position]
                content = line.lstrip(" ")
                found = len(line) - len(content)
                if found != indent:
                    if found < indent:
                        break
                    raise _NotCanonicalError
                self.position += 1
            colon = content.find(": ")
            key = keys.get(content[:colon], _MISSING) if colon > 0 else _MISSING
            if key is _MISSING:
                key, rest = _entry(content)
            else:
                rest = content[colon + 2 :] or None
            if key in result:
                raise _NotCanonicalError  # _build names the duplicate
            if rest is None:
                result[key] = self.nested(indent, depth)
            elif rest in _LITERAL_HEADERS:
                result[key] = self.literal(indent, _LITERAL_HEADERS[rest])
            else:
                value = values.get(rest, _MISSING)
                result[key] = _scalar_text(rest) if value is _MISSING else value
                cuts[self.position - 1] = indent + len(content) - len(rest)
            content = None
        return result

    def sequence(self, indent: int, depth: int) -> list[Any]:
        if depth > MAX_DEPTH:
            raise _NotCanonicalError
        lines = self.lines
        items: list[Any] = []
        while self.position < len(lines):
            line = lines[self.position]
            if not line.startswith("- ", indent) or line[:indent].strip(" "):
                break
            self.position += 1
            content = line[indent + 2 :]
            if _is_entry(content):
                items.append(self.mapping(indent + 2, depth + 1, content))
            else:
                items.append(_scalar_text(content))
                self.cuts[self.position - 1] = indent + 2
        return items

    def nested(self, indent: int, depth: int) -> Any:
        """The value of a ``key:`` line: a block on the lines that follow."""
        if self.position == len(self.lines):
            raise _NotCanonicalError  # null in YAML, but dumps() writes "null"
        line = self.lines[self.position]
        content = line.lstrip(" ")
        found = len(line) - len(content)
        if content.startswith("- ") and found >= indent:
            return self.sequence(found, depth + 1)
        if found > indent and not content.startswith("-"):
            return self.mapping(found, depth + 1, None)
        raise _NotCanonicalError

    def literal(self, indent: int, chomping: str) -> str:
        """A ``|`` block scalar: the lines indented deeper than ``indent``."""
        self.learnable = False
        lines = self.lines
        body: list[str] = []
        block_indent = 0
        while self.position < len(lines):
            line = lines[self.position]
            if not line:
                if not body:
                    raise _NotCanonicalError  # leading blank lines: dumps() never writes them
                body.append("")
                self.position += 1
                continue
            content = line.lstrip(" ")
            if not content:
                raise _NotCanonicalError  # a line of spaces only
            found = len(line) - len(content)
            if not body:
                if found <= indent:
                    break
                block_indent = found
            elif found < block_indent:
                break
            body.append(line[block_indent:])
            self.position += 1
        if not body:
            raise _NotCanonicalError
        blank = 0
        while body[-1] == "":
            body.pop()
            blank += 1
        text = "\n".join(body)
        if chomping == "strip":
            return text
        return text + "\n" * (1 + blank if chomping == "keep" else 1)


def _is_entry(content: str) -> bool:
    if content.startswith("'"):
        return _SINGLE_QUOTED_KEY.match(content) is not None
    return ": " in content or content.endswith(":")


def _entry(content: str) -> tuple[Any, str | None]:
    """A mapping entry's key, and the rest of its line (None when nothing follows)."""
    if content.startswith("'"):
        quoted = _SINGLE_QUOTED_KEY.match(content)
        if quoted is None:
            raise _NotCanonicalError
        key: Any = quoted.group(1).replace("''", "'")
        rest = content[quoted.end() :]
    else:
        colon = content.find(": ")
        if colon == -1:
            if not content.endswith(":"):
                raise _NotCanonicalError
            colon = len(content) - 1
        key_text = content[:colon]
        if key_text == "<<" or len(key_text) > 1000:  # a merge key; not a simple key
            raise _NotCanonicalError
        key = _plain(key_text)
        if colon < len(content) - 1 and len(_plain_keys) < 4096:
            _plain_keys[key_text] = key  # read inline by mapping() next time (`key: `)
        rest = content[colon + 2 :]
    return key, rest or None


def _scalar_text(text: str) -> Any:
    if not text:
        raise _NotCanonicalError  # "- " alone: null in YAML, but dumps() writes "null"
    first = text[0]
    if first == "'":
        quoted = _SINGLE_QUOTED.fullmatch(text)
        if quoted is None:
            raise _NotCanonicalError
        return quoted.group(1).replace("''", "'")
    if first == '"':
        quoted = _DOUBLE_QUOTED.fullmatch(text)
        if quoted is None:
            raise _NotCanonicalError
        return quoted.group(1)
    if text == "{}":
        return {}
    if text == "[]":
        return []
    return _plain(text)


def _plain(text: str) -> Any:
    """A plain (unquoted) scalar, resolved as _scalar does."""
    value = _plain_values.get(text, _MISSING)
    if value is not _MISSING:
        return value
    if (
        not text
        or (text[0] in _INDICATORS and not (text[0] == "-" and text[1:2] not in ("", " ")))
        or text.startswith(("...", "---"))
        or ": " in text
        or " #" in text
        or text.endswith((":", " "))
    ):
        raise _NotCanonicalError
    try:
        value = _CONSTRUCT[_implicit_tag(text)](text)
    except ValueError:
        raise _NotCanonicalError from None  # _build says what is wrong
    if len(_plain_values) >= 8192:
        _plain_values.clear()
    _plain_values[text] = value
    return value


# -- shapes: files that differ only in their values ---------------------------------------
#
# The files of one kind that one program wrote hold the same keys, in the same order and
# on the same lines: the versions of a model differ in their values. A file's shape is
# its lines with the values cut out. A shape read twice is learnt: one regular expression
# that matches its literal parts and captures each value, and one generated function that
# builds the containers around the values. A file of a learnt shape is then read by one
# match, in C, and one call, without a loop over its lines: a version file in less than
# half the time. Each value is read as the line reader reads it (_value_of), so a value
# that would change the structure (``|``, ``a: b``, ``- x``) is declined by the same
# checks; then the line reader reads the file, as it reads any other.

_MAX_SHAPE_LINES = 256  # longer files (a model's long history) rarely repeat a shape
_MAX_SHAPES = 64
_MAX_SHAPES_OF_A_LENGTH = 8
_shapes: dict[int, list[_Shape]] = {}  # by number of lines, most recently learnt first
_sightings: dict[tuple[str, ...], int] = {}


class _Shape:
    __slots__ = ("build", "pattern")

    def __init__(self, pattern: re.Pattern[str], build: Callable[[tuple[str, ...]], Any]):
        self.pattern = pattern
        self.build = build


def _learn(lines: list[str], cuts: list[int], value: JSONValue) -> None:
    """Count a sighting of the shape of ``lines`` (read into ``value``); at the second,
    learn it."""
    # \0 marks a cut: no canonical text holds it, so no whole line looks like a prefix.
    shape = tuple(
        line if cut < 0 else line[:cut] + "\0" for line, cut in zip(lines, cuts, strict=True)
    )
    seen = _sightings.get(shape, 0)
    if seen == 0:
        if len(_sightings) >= 256:  # each holds a file's lines: a few KB
            _sightings.clear()
        _sightings[shape] = 1
        return
    if seen > 1 or sum(map(len, _shapes.values())) >= _MAX_SHAPES:
        return
    _sightings[shape] = 2  # learnt (or not learnable): never again
    build = _builder(value, sum(cut >= 0 for cut in cuts))
    if build is None:
        return
    pattern = "".join(
        re.escape(line) + "\n" if cut < 0 else re.escape(line[:cut]) + "([^\n]+)\n"
        for line, cut in zip(lines, cuts, strict=True)
    )
    same_length = _shapes.setdefault(len(lines), [])
    same_length.insert(0, _Shape(re.compile(pattern), build))
    # A file of no learnt shape is matched against every shape of its length first.
    del same_length[_MAX_SHAPES_OF_A_LENGTH:]


def _builder(value: JSONValue, values: int) -> Callable[[tuple[str, ...]], Any] | None:
    """A function of the captured value texts that builds data shaped like ``value``
    (its keys, its containers), or None when ``value`` does not hold ``values`` scalars
    (an empty ``{}``/``[]`` counts as one: it is written on its key's line)."""
    keys: list[Any] = []
    leaves = 0

    def source(node: Any) -> str:
        nonlocal leaves
        if isinstance(node, dict) and node:
            entries = []
            for key, item in node.items():
                keys.append(key)
                entries.append(f"K[{len(keys) - 1}]: {source(item)}")
            return "{" + ", ".join(entries) + "}"
        if isinstance(node, list) and node:
            return "[" + ", ".join(source(item) for item in node) + "]"
        leaves += 1
        return f"V(g[{leaves - 1}])"

    body = source(value)
    if leaves != values:
        return None
    # Only numbers and names go into the source; the keys are passed as data.
    namespace: dict[str, Any] = {"K": tuple(keys), "V": _value_of}
    exec(f"def build(g):\n    return {body}\n", namespace)  # noqa: S102 - source made above
    build: Callable[[tuple[str, ...]], Any] = namespace["build"]
    return build


def _value_of(text: str) -> Any:
    """A value as the line reader reads it after ``key: `` or ``- ``."""
    value = _plain_values.get(text, _MISSING)
    return _scalar_text(text) if value is _MISSING else value


def limit_problem(doc: object, data: bytes) -> str | None:
    """Why :func:`load` would refuse ``data``, the :func:`dumps` of ``doc``: which
    limit it breaks (size, nesting, values), or None. Writers call it first, so that no
    write makes a file that readers refuse."""
    if len(data) > MAX_FILE_BYTES:
        return (
            f"{len(data):,} bytes, more than the {MAX_FILE_BYTES // (1024 * 1024)} MB "
            f"({MAX_FILE_BYTES:,} bytes) a registry file may hold"
        )
    # Counted as _build counts parser events: stream and document start and end, a
    # start and an end per collection, one per key and per scalar.
    events = 4
    deepest = 0
    pending: list[tuple[Any, int]] = [(doc, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            events += 2 + len(value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, (list, tuple)):
            events += 2
            pending.extend((item, depth + 1) for item in value)
        else:
            events += 1
            continue
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        return f"nested {deepest} levels deep, more than the {MAX_DEPTH} a registry file may be"
    if events > MAX_VALUES + 1:
        return f"{events - 1:,} values, more than the {MAX_VALUES:,} a registry file may hold"
    return None
