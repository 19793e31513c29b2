"""Validation of every name that becomes a path or a key: checked before any path is built."""

from __future__ import annotations

import re

from modelreg.errors import InvalidInputError

MAX_NAME_LENGTH = 128
MAX_ALIAS_LENGTH = 255
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 8000

# Letters, digits, '.', '_', '-', starting with a letter or digit: safe as a folder name on
# Linux, macOS and Windows, and never '.', '..', absolute or containing a separator.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
# MLflow's alias rule.
_ALIAS_RE = re.compile(r"[A-Za-z0-9_-]+\Z")
_RESERVED_ALIAS_RE = re.compile(r"(latest|v\d+)\Z", re.IGNORECASE)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

# Windows refuses these as file names, with or without an extension ("nul.txt").
_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{i}" for i in range(1, 10)]
    + [f"lpt{i}" for i in range(1, 10)]
)


def validate_model_name(name: str) -> str:
    """Return ``name`` if it can be a model (folder) name, else raise InvalidInputError."""
    if not isinstance(name, str) or not name:
        raise InvalidInputError("invalid model name: the name is empty")
    shown = repr(name) if _CONTROL_RE.search(name) else f"'{name}'"
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"invalid model name {shown[:60]}...: longer than {MAX_NAME_LENGTH} characters"
        )
    if not _NAME_RE.match(name):
        raise InvalidInputError(
            f"invalid model name {shown}: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    if name.endswith("."):
        raise InvalidInputError(f"invalid model name {shown}: it may not end with '.'")
    if name.split(".", 1)[0].lower() in _WINDOWS_RESERVED:
        raise InvalidInputError(f"invalid model name {shown}: it is a reserved name on Windows")
    return name


def is_valid_model_name(name: str) -> bool:
    """Whether :func:`validate_model_name` accepts ``name``."""
    try:
        validate_model_name(name)
    except InvalidInputError:
        return False
    return True


def validate_alias(alias: str) -> str:
    """Return ``alias`` if MLflow's alias rules allow it, else raise InvalidInputError."""
    if not isinstance(alias, str) or not alias:
        raise InvalidInputError("invalid alias: the alias is empty")
    if len(alias) > MAX_ALIAS_LENGTH or not _ALIAS_RE.match(alias):
        raise InvalidInputError(
            f"invalid alias {alias!r}: use letters, digits, '_' and '-' "
            f"(at most {MAX_ALIAS_LENGTH} characters)"
        )
    if _RESERVED_ALIAS_RE.match(alias):
        raise InvalidInputError(
            f"invalid alias {alias!r}: 'latest' and 'v<number>' are reserved for model URIs"
        )
    return alias


def validate_tag_key(key: str) -> str:
    """Return ``key`` if it can be a tag key, else raise InvalidInputError (None included:
    MLflow's "missing value for required parameter 'key'")."""
    if key is None:
        raise InvalidInputError("invalid tag: missing value for the required parameter 'key'")
    if not isinstance(key, str) or not key.strip():
        raise InvalidInputError("invalid tag: the key is empty")
    if len(key) > MAX_TAG_KEY_LENGTH or _CONTROL_RE.search(key):
        raise InvalidInputError(
            f"invalid tag key {key[:60]!r}: at most {MAX_TAG_KEY_LENGTH} characters, "
            "no control characters"
        )
    return key


def validate_tag(key: str, value: object) -> tuple[str, str]:
    """Check a tag key and value; values are stored as text, like MLflow's."""
    validate_tag_key(key)
    text = "" if value is None else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidInputError(
            f"invalid value for tag {key!r}: longer than {MAX_TAG_VALUE_LENGTH} characters"
        )
    return key, text
