"""References to models and versions: ``NAME [VERSION|latest|STAGE|@ALIAS]`` and
``models:/`` URIs, parsed into one small value the registry resolves."""

from __future__ import annotations

import os
from pathlib import Path

from modelreg.errors import InvalidInputError
from modelreg.names import validate_model_name
from modelreg.structs import frozen_struct


@frozen_struct
class Ref:
    """A model (``selector`` None) or one of its versions.

    ``selector`` is a version number (int), ``"latest"``, a stage name, or ``"@alias"``.
    """

    name: str
    selector: int | str | None = None

    @property
    def is_model(self) -> bool:
        return self.selector is None

    def __str__(self) -> str:
        if self.selector is None:
            return self.name
        if isinstance(self.selector, str) and self.selector.startswith("@"):
            return f"{self.name}{self.selector}"
        return f"{self.name} {self.selector}"


def parse_selector(text: str) -> int | str:
    """A version number, 'latest', '@alias' or a stage name."""
    text = text.strip()
    if not text:
        raise InvalidInputError("empty version: give a number, 'latest', a stage or @ALIAS")
    if text.isdigit():
        return int(text)
    if text.lower() == "latest":
        return "latest"
    if text.startswith("@"):
        if len(text) == 1:
            raise InvalidInputError("empty alias after '@': give NAME@ALIAS")
        return text
    return text  # a stage; checked against the registry's stages when resolved


def parse_uri(uri: str) -> Ref:
    """``models:/NAME/VERSION``, ``models:/NAME/STAGE``, ``models:/NAME/latest``,
    ``models:/NAME@ALIAS``."""
    body = uri.removeprefix("models:/").lstrip("/")
    if not body:
        raise InvalidInputError(f"invalid model URI {uri!r}: no model name")
    if "/" in body:
        name, _, selector = body.partition("/")
        if "/" in selector or not selector:
            raise InvalidInputError(
                f"invalid model URI {uri!r}: expected models:/NAME/VERSION, "
                "models:/NAME/STAGE, models:/NAME/latest or models:/NAME@ALIAS"
            )
        return Ref(validate_model_name(name), parse_selector(selector))
    if "@" in body:
        name, _, alias = body.partition("@")
        if not alias:
            raise InvalidInputError(f"invalid model URI {uri!r}: empty alias after '@'")
        return Ref(validate_model_name(name), f"@{alias}")
    return Ref(validate_model_name(body))


def parse_ref(name: str, version: str | None = None) -> Ref:
    """A CLI reference: ``NAME``, ``NAME VERSION``, ``NAME@ALIAS`` or one ``models:/`` URI."""
    if name.startswith("models:/"):
        if version is not None:
            raise InvalidInputError(
                f"a models:/ URI already names the version; unexpected {version!r}"
            )
        return parse_uri(name)
    if "@" in name and version is None:
        model, _, alias = name.partition("@")
        if not alias.strip():
            raise InvalidInputError(f"invalid reference {name!r}: empty alias after '@'")
        return Ref(validate_model_name(model), f"@{alias}")
    selector = parse_selector(version) if version is not None else None
    return Ref(validate_model_name(name), selector)


def as_ref(ref: object) -> Ref:
    """A reference given to the Python API: a :class:`Ref`, or one string as the command
    line takes it (``NAME``, ``NAME@ALIAS``, ``models:/NAME/VERSION``...)."""
    if isinstance(ref, Ref):
        return ref
    if isinstance(ref, str):
        return parse_ref(ref)
    raise InvalidInputError(
        f"expected a reference (NAME, NAME@ALIAS or models:/NAME/VERSION), "
        f"not {type(ref).__name__} {ref!r}"
    )


def parse_ref_args(args: list[str], *, allow_model: bool = True) -> Ref:
    """A reference given as one or two command-line arguments."""
    if not args or len(args) > 2:
        raise InvalidInputError(
            "expected a reference: NAME, NAME VERSION, NAME@ALIAS or models:/NAME/VERSION"
        )
    ref = parse_ref(args[0], args[1] if len(args) == 2 else None)
    if ref.is_model and not allow_model:
        raise InvalidInputError(
            f"'{ref.name}' names a model; this command needs a version: "
            f"{ref.name} VERSION, {ref.name}@ALIAS or models:/{ref.name}/VERSION"
        )
    return ref


def parse_ref_pair(args: list[str]) -> tuple[Ref, Ref]:
    """Two references given one after the other (``modelreg diff``): each is ``NAME``,
    ``NAME VERSION``, ``NAME@ALIAS`` or a ``models:/`` URI; ``NAME V1 V2`` with two version
    numbers means two versions of one model."""

    def whole(arg: str) -> bool:  # a reference by itself, never followed by a version
        return arg.startswith("models:/") or "@" in arg

    if len(args) == 3 and not any(map(whole, args)) and args[1].isdigit() and args[2].isdigit():
        return parse_ref(args[0], args[1]), parse_ref(args[0], args[2])
    if len(args) == 2:
        split = 1
    elif len(args) == 3:
        split = 1 if whole(args[0]) or not (whole(args[2]) or args[1].isdigit()) else 2
    elif len(args) == 4:
        split = 2
    else:
        raise InvalidInputError(
            "expected two references, e.g. churn@champion churn 7, churn 3 churn 7 or churn 3 7"
        )
    first, second = args[:split], args[split:]
    for part in (first, second):
        if len(part) == 2 and whole(part[0]):
            raise InvalidInputError(
                f"cannot tell the two references apart in {' '.join(args)!r}: "
                "give each as NAME VERSION, NAME@ALIAS or models:/NAME/VERSION"
            )
    return parse_ref_args(first), parse_ref_args(second)


def local_artifact_path(source: str) -> Path | None:
    """The local path a source names, or None for a remote URI (s3://, runs:/, ...)."""
    if source.startswith("file://"):
        return Path(source.removeprefix("file://"))
    if "://" in source or (":" in source.split("/", 1)[0] and len(source.split(":")[0]) > 1):
        return None
    return Path(source)


def artifact_location(source: str, root: Path) -> str:
    """Where an artifact is, for a program to use: an absolute path for a local source (a
    relative one is relative to the registry folder ``root``), else the URI as recorded."""
    local = local_artifact_path(source)
    if local is None:
        return source
    return str(local) if local.is_absolute() else os.path.normpath(root.resolve() / local)
