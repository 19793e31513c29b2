"""Commands answered without Typer.

``resolve`` and ``describe`` are what Makefiles and scripts call in loops
(``$(shell modelreg resolve ...)``), so their common forms are parsed here by hand and
run without importing Typer (about 35 ms of start-up). Anything this parser does not
recognise — another option, ``--help``, a typo — goes to the full Typer command line,
which gives the usual help and errors. The commands themselves are the same functions
either way.
"""

from __future__ import annotations

from modelreg import render
from modelreg.errors import RegistryError
from modelreg.refs import parse_ref_args
from modelreg.render import Format

_FAST_COMMANDS = ("resolve", "describe")


def resolve(registry_path: str | None, ref_args: list[str], fmt: Format | None) -> None:
    """Print where a version's artifact is (a model name means its newest version)."""
    from modelreg.registry import Registry

    registry = Registry(registry_path, hooks=False)
    mv = registry.resolve_version(parse_ref_args(ref_args))
    location = registry.artifact_location(mv)
    if fmt is None:
        render.emit_text(location)
        return
    record = {"name": mv.name, "version": mv.version, "source": mv.source, "location": location}
    render.emit(record, fmt, [render.Column(key, key) for key in record])


def describe(registry_path: str | None, ref_args: list[str], fmt: Format) -> None:
    """Show a model, or one version."""
    from modelreg.registry import Registry

    render.emit_entity(Registry(registry_path, hooks=False).resolve(parse_ref_args(ref_args)), fmt)


def try_run(argv: list[str]) -> int | None:
    """Run ``argv`` here if it is a plain resolve/describe; None means "use Typer"."""
    parsed = _parse(argv)
    if parsed is None:
        return None
    registry_path, command, ref_args, fmt = parsed
    try:
        if command == "resolve":
            resolve(registry_path, ref_args, fmt)
        else:
            describe(registry_path, ref_args, fmt or Format.table)
    except RegistryError as exc:
        render.error(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        render.error("interrupted")
        return 130
    return 0


def _parse(argv: list[str]) -> tuple[str | None, str, list[str], Format | None] | None:
    registry_path: str | None = None
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ("--registry", "-r") and rest:
            registry_path = rest.pop(0)
        elif option.startswith("--registry="):
            registry_path = option.partition("=")[2]
        else:
            return None
    if not rest or rest[0] not in _FAST_COMMANDS:
        return None
    command = rest.pop(0)
    fmt: Format | None = None
    ref_args: list[str] = []
    while rest:
        item = rest.pop(0)
        if item in ("--format", "-f") and rest:
            value = rest.pop(0)
        elif item.startswith("--format="):
            value = item.partition("=")[2]
        elif item.startswith("-") and item != "-":
            return None
        else:
            ref_args.append(item)
            continue
        try:
            fmt = Format(value)
        except ValueError:
            return None  # let Typer explain the valid choices
    if not 1 <= len(ref_args) <= 2:
        return None
    return registry_path, command, ref_args, fmt
