"""The read commands, answerable without Typer.

``resolve``, ``describe``, ``list`` and ``search`` are what Makefiles, scripts and CI call
in loops (``$(shell modelreg resolve ...)``), so their common forms are parsed here by
hand and run without importing Typer (a third of a read's start-up). Anything this
parser does not recognise — another option, ``--help``, a typo — goes to the full Typer
command line, which gives the usual help and errors. The commands are the same functions
either way: ``cli`` calls them too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modelreg import funnel, render
from modelreg.errors import CorruptFileError
from modelreg.refs import parse_ref_args
from modelreg.render import MODEL_COLUMNS, VERSION_COLUMNS, Format


def _open(registry_path: str | None) -> Any:
    from modelreg.registry import Registry

    return Registry(registry_path, hooks=False)  # reads make no events


def resolve(registry_path: str | None, ref_args: list[str], fmt: Format | None) -> int:
    """Print where a version's artifact is (a model name means its newest version)."""
    registry = _open(registry_path)
    mv = registry.resolve_version(parse_ref_args(ref_args))
    location = registry.artifact_location(mv)
    if fmt is None:
        render.emit_text(location)
        return 0
    record = {"name": mv.name, "version": mv.version, "source": mv.source, "location": location}
    render.emit(record, fmt, [render.Column(key, key) for key in record])
    return 0


def describe(registry_path: str | None, ref_args: list[str], fmt: Format) -> int:
    """Show a model, or one version."""
    render.emit_entity(_open(registry_path).resolve(parse_ref_args(ref_args)), fmt)
    return 0


def list_models_or_versions(registry_path: str | None, name: str | None, fmt: Format) -> int:
    """The models, or the versions of one model; corrupt files are named after the
    healthy data and make the exit code 7."""
    registry = _open(registry_path)
    errors: list[CorruptFileError] = []
    if name is None:
        models = [model.to_dict() for model in registry.list_registered_models(errors=errors)]
        render.emit(models, fmt, MODEL_COLUMNS)
    else:
        versions = [mv.to_dict() for mv in registry.list_versions(name, errors=errors)]
        render.emit(versions, fmt, VERSION_COLUMNS)
    return _report_corrupt(errors)


def search(
    registry_path: str | None,
    filter_string: str | None,
    *,
    models: bool,
    order_by: list[str] | None,
    max_results: int | None,
    page_token: str | None,
    fmt: Format,
) -> int:
    """Search versions (or models); the next page's token goes to stderr."""
    from modelreg.entities import ModelVersion

    registry = _open(registry_path)
    errors: list[CorruptFileError] = []
    query = (filter_string or None, max_results, order_by or None, page_token)
    if models:
        page = registry.search_registered_models(*query, errors=errors)
        records = [model.to_dict() for model in page]
    else:
        # Printing needs no history: the records are used without building full entities.
        page = registry.search_version_records(*query, errors=errors)
        records = [ModelVersion(**record).to_dict() for record in page]
    render.emit(records, fmt, MODEL_COLUMNS if models else VERSION_COLUMNS)
    if page.token:
        render.message(f"more results: continue with --page-token {page.token}")
    return _report_corrupt(errors)


def _report_corrupt(errors: list[CorruptFileError]) -> int:
    for err in errors:
        render.error(str(err))
    return CorruptFileError.exit_code if errors else 0


# -- the hand-written parser ------------------------------------------------------------


@dataclass
class _Command:
    """How one fast command reads its arguments."""

    positional: tuple[int, int]  # how many positional arguments, at least and at most
    run: Callable[[str | None, list[str], dict[str, Any]], int]
    # option spelling -> (name, kind): "value" takes the next argument, "flag" takes none,
    # "many" takes the next argument and may repeat.
    options: dict[str, tuple[str, str]] = field(default_factory=dict)


_FORMAT = {"--format": ("format", "value"), "-f": ("format", "value")}


def _run_resolve(root: str | None, args: list[str], opts: dict[str, Any]) -> int:
    return resolve(root, args, opts.get("format"))


def _run_describe(root: str | None, args: list[str], opts: dict[str, Any]) -> int:
    return describe(root, args, opts.get("format", Format.table))


def _run_list(root: str | None, args: list[str], opts: dict[str, Any]) -> int:
    return list_models_or_versions(
        root, args[0] if args else None, opts.get("format", Format.table)
    )


def _run_search(root: str | None, args: list[str], opts: dict[str, Any]) -> int:
    return search(
        root,
        args[0] if args else None,
        models=bool(opts.get("models")),
        order_by=opts.get("order_by"),
        max_results=opts.get("max_results"),
        page_token=opts.get("page_token"),
        fmt=opts.get("format", Format.table),
    )


_COMMANDS = {
    "resolve": _Command((1, 2), _run_resolve, _FORMAT),
    "describe": _Command((1, 2), _run_describe, _FORMAT),
    "list": _Command((0, 1), _run_list, _FORMAT),
    "search": _Command(
        (0, 1),
        _run_search,
        {
            **_FORMAT,
            "--models": ("models", "flag"),
            "--order-by": ("order_by", "many"),
            "-o": ("order_by", "many"),
            "--max-results": ("max_results", "value"),
            "-n": ("max_results", "value"),
            "--page-token": ("page_token", "value"),
        },
    ),
}


def try_run(argv: list[str]) -> int | None:
    """Run ``argv`` here if it is a plain read command; None means "use Typer"."""
    parsed = _parse(argv)
    if parsed is None:
        return None
    registry_path, command, args, options = parsed
    try:
        return command.run(registry_path, args, options)
    except (Exception, KeyboardInterrupt) as exc:  # the same funnel as the Typer app's
        return funnel.report(exc)


def _parse(argv: list[str]) -> tuple[str | None, _Command, list[str], dict[str, Any]] | None:
    registry_path: str | None = None
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ("--registry", "-r") and rest:
            registry_path = rest.pop(0)
        elif option.startswith("--registry="):
            registry_path = option.partition("=")[2]
        elif option != "--no-hooks":  # reads make no events: the option changes nothing
            return None
    if not rest or rest[0] not in _COMMANDS:
        return None
    command = _COMMANDS[rest.pop(0)]
    args: list[str] = []
    options: dict[str, Any] = {}
    while rest:
        item = rest.pop(0)
        spelling, has_value, inline = item.partition("=")
        if item.startswith("-") and item != "-":
            known = command.options.get(spelling if has_value else item)
            if known is None:
                return None
            name, kind = known
            if kind == "flag":
                if has_value:
                    return None
                options[name] = True
                continue
            if not has_value and not rest:
                return None
            value = _convert(name, inline if has_value else rest.pop(0))
            if value is None:
                return None  # let Typer explain the valid values
            if kind == "many":
                options.setdefault(name, []).append(value)
            else:
                options[name] = value
        else:
            args.append(item)
    low, high = command.positional
    if not low <= len(args) <= high:
        return None
    return registry_path, command, args, options


def _convert(name: str, text: str) -> Any:
    if name == "format":
        try:
            return Format(text)
        except ValueError:
            return None
    if name == "max_results":
        try:
            return int(text)
        except ValueError:
            return None
    return text
