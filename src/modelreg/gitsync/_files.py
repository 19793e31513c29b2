"""Registry files as the gitsync modules work on them: parsed to plain dicts (which they
read and rewrite freely) and written back as :mod:`modelreg.yamlio` writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelreg import yamlio
from modelreg.errors import CorruptFileError

Doc = dict[str, Any]


def load(data: bytes, path: str) -> Doc:
    """One file's top-level mapping (CorruptFileError naming ``path`` otherwise)."""
    doc = yamlio.loads(data, Path(path))
    if not isinstance(doc, dict):
        raise CorruptFileError(Path(path), "expected a mapping of keys to values at the top")
    return doc


def dump(doc: object) -> bytes:
    """The bytes modelreg writes for ``doc`` (stable key order)."""
    return yamlio.dumps(doc).encode("utf-8")
