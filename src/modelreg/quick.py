"""The read commands, answerable without Typer.

``resolve``, ``describe``, ``list`` and ``search`` are what Makefiles, scripts and CI call
in loops (``$(shell modelreg resolve ...)``), so their common forms are parsed here by
hand and run without importing Typer (a third of a read's start-up). Anything this
parser does not recognise — another option, ``--help``, a typo — goes to the full Typer
command line, which gives the usual help and errors. The commands are the same functions
either way: ``cli`` calls them too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from modelreg import funnel, render
from modelreg.errors import CorruptFileError, InvalidInputError
from modelreg.refs import parse_ref_args
from modelreg.render import MODEL_COLUMNS, VERSION_COLUMNS, Column, Format
from modelreg.structs import field, frozen_struct, struct

# Not `from typing import TYPE_CHECKING`: importing typing would cost every read command
# milliseconds of start-up (tests/test_quick.py names what reads must not import).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    from modelreg.entities import ModelVersion
    from modelreg.filters import Kind
    from modelreg.pointintime import PastView
    from modelreg.registry import Registry

    _Kind = Literal["flag", "value", "many"]  # no value; one value; one value, repeatable


def _open(registry_path: str | None) -> Registry:
    from modelreg.registry import Registry

    return Registry(registry_path, hooks=False)  # reads make no events


@contextlib.contextmanager
def _reading(registry_path: str | None, at: str | None) -> Iterator[Registry | PastView]:
    """The registry, or with ``at`` the registry as it was then (``--at``); what that
    shows as of now is noted on stderr after the output."""
    registry = _open(registry_path)
    if at is None:
        yield registry
        return
    with registry.as_of(at) as past:
        yield past
        for note in past.notes:
            render.message(f"note: {note}")


def resolve(
    registry_path: str | None,
    ref_args: list[str],
    fmt: Format | None,
    at: str | None = None,
    *,
    verify: bool = False,
) -> int:
    """Print where a version's artifact is (a model name means its newest version); with
    ``verify``, only once its bytes are checked against the recorded sha256 and size
    (not with ``at``: the artifact here is today's)."""
    if verify:
        if at is not None:
            raise InvalidInputError("--verify checks the artifact here and now: not with --at")
        registry = _open(registry_path)
        mv = registry.resolve_version(parse_ref_args(ref_args))
        return _print_location(mv, registry.verify_artifact(mv), fmt)
    with _reading(registry_path, at) as reading:
        mv = reading.resolve_version(parse_ref_args(ref_args))
        location = reading.artifact_location(mv)
        if at is None:
            _note_when_absent(mv, location)
        return _print_location(mv, location, fmt)


def _note_when_absent(mv: ModelVersion, location: str) -> None:
    """A local artifact that is not on this machine (a fresh clone, a CI runner) is still
    printed, exit 0, as MLflow's download URI would be; stderr says what to do about it."""
    path = Path(location)
    if not path.is_absolute() or path.exists() or path.is_symlink():
        return
    if mv.artifact_uri:
        remedy = f"`modelreg pull {mv.name}/{mv.version}` fetches it from the artifact store"
    else:
        remedy = "no copy of it is in an artifact store (`artifact_store:` in registry.yaml)"
    render.message(f"note: {location} is not on this machine; {remedy}")


def _print_location(mv: ModelVersion, location: str, fmt: Format | None) -> int:
    if fmt is None:
        render.emit_text(location)
        return 0
    record = {"name": mv.name, "version": mv.version, "source": mv.source, "location": location}
    render.emit(record, fmt, [render.Column(key, key) for key in record])
    return 0


def describe(
    registry_path: str | None, ref_args: list[str], fmt: Format, at: str | None = None
) -> int:
    """Show a model, or one version."""
    with _reading(registry_path, at) as registry:
        render.emit_entity(registry.resolve(parse_ref_args(ref_args)), fmt)
    return 0


def list_models_or_versions(
    registry_path: str | None,
    name: str | None,
    fmt: Format,
    *,
    columns: Sequence[str] | None = None,
    at: str | None = None,
) -> int:
    """The models, or the versions of one model (only ``columns``, when given: see
    :mod:`modelreg.columns`; as they were ``at`` a time or revision, when given); corrupt
    files are named after the healthy data and make the exit code 7."""
    kind: Kind = "model" if name is None else "version"
    chosen = _chosen_columns(columns, kind)
    errors: list[CorruptFileError] = []
    with _reading(registry_path, at) as registry:
        if name is None:
            records = [model.to_dict() for model in registry.list_registered_models(errors=errors)]
        else:
            records = [mv.to_dict() for mv in registry.list_versions(name, errors=errors)]
        _emit_records(records, fmt, kind, chosen)
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
    columns: Sequence[str] | None = None,
    dataset: str | None = None,
) -> int:
    """Search versions (or models), showing only ``columns`` when given; the next page's
    token goes to stderr. ``dataset`` (a path, URI or digest) keeps the versions trained
    on it (:func:`modelreg.datasets.search_filter`)."""
    from modelreg.entities import ModelVersion
    from modelreg.search import Query

    kind: Kind = "model" if models else "version"
    chosen = _chosen_columns(columns, kind)
    if dataset is not None:
        if models:
            raise InvalidInputError("--dataset searches versions: not with --models")
        from modelreg.datalineage import search_filter

        trained_on = search_filter(dataset)
        has_filter = filter_string is not None and filter_string.strip()
        filter_string = f"({filter_string}) AND {trained_on}" if has_filter else trained_on
    registry = _open(registry_path)
    errors: list[CorruptFileError] = []
    query = (filter_string or None, max_results, order_by or None, page_token)
    records: Sequence[Mapping[str, object]]
    if models:
        model_page = registry.search_registered_models(*query, errors=errors)
        records, token = [model.to_dict() for model in model_page], model_page.token
    else:
        # Printing needs no history: the records are used without building full entities,
        # and not copied (to_dict copies what it outputs). A table or lines show columns
        # that read the record's own keys, which to_dict outputs as they are.
        page = registry.search_version_records(Query(*query), errors=errors, shared=True)
        token = page.token
        if chosen is None and fmt in (Format.table, Format.plain):
            records = page
        else:
            records = [ModelVersion(**record).to_dict() for record in page]
    _emit_records(records, fmt, kind, chosen)
    if token:
        render.message(f"more results: continue with --page-token {token}")
    return _report_corrupt(errors)


def _chosen_columns(columns: Sequence[str] | None, kind: Kind) -> tuple[Column, ...] | None:
    """The columns ``--columns`` names, read before the registry so that a bad name is
    bad usage (exit 2) whatever the registry holds; None for the usual ones."""
    if not columns:
        return None
    from modelreg.columns import parse_columns  # the filter language: only when asked

    return parse_columns(columns, kind)


def _emit_records(
    records: Sequence[Mapping[str, object]],
    fmt: Format,
    kind: Kind,
    chosen: Sequence[Column] | None,
) -> None:
    if chosen is None:
        render.emit(records, fmt, MODEL_COLUMNS if kind == "model" else VERSION_COLUMNS)
    else:
        render.emit_selected(records, fmt, chosen)


def _report_corrupt(errors: list[CorruptFileError]) -> int:
    for err in errors:
        render.error(str(err))
    return CorruptFileError.exit_code if errors else 0


# -- the hand-written parser ------------------------------------------------------------
#
# Its option tables use the spellings and parameter names of the Typer app's commands;
# tests/test_frontends.py derives the Typer side from the app and proves they match.


@struct
class _Options:
    """The options of a fast command, named as the Typer command's parameters."""

    fmt: Format | None = None
    at: str | None = None
    models: bool = False
    order_by: list[str] = field(default_factory=list)
    max_results: int | None = None
    page_token: str | None = None
    columns: list[str] = field(default_factory=list)
    verify: bool = False
    dataset: str | None = None


@frozen_struct
class _Command:
    """How one fast command reads its arguments."""

    positional: tuple[int, int]  # how many positional arguments, at least and at most
    run: Callable[[str | None, list[str], _Options], int]
    options: Mapping[str, tuple[str, _Kind]]  # spelling -> (parameter name, kind)


# The global options the fast path takes; any other (--traceback, --strict-hooks,
# --version, --help) goes to Typer. --no-hooks changes nothing for a read (reads make no
# events).
_GLOBAL: Mapping[str, tuple[str, _Kind]] = {
    "--registry": ("registry", "value"),
    "-r": ("registry", "value"),
    "--no-hooks": ("no_hooks", "flag"),
}
_FORMAT: Mapping[str, tuple[str, _Kind]] = {"--format": ("fmt", "value"), "-f": ("fmt", "value")}
_COLUMNS: Mapping[str, tuple[str, _Kind]] = {
    "--columns": ("columns", "many"),
    "-C": ("columns", "many"),
}
_AT: Mapping[str, tuple[str, _Kind]] = {"--at": ("at", "value")}


def _run_resolve(root: str | None, args: list[str], opts: _Options) -> int:
    return resolve(root, args, opts.fmt, opts.at, verify=opts.verify)


def _run_describe(root: str | None, args: list[str], opts: _Options) -> int:
    return describe(root, args, opts.fmt or Format.table, opts.at)


def _run_list(root: str | None, args: list[str], opts: _Options) -> int:
    name = args[0] if args else None
    return list_models_or_versions(
        root, name, opts.fmt or Format.table, columns=opts.columns, at=opts.at
    )


def _run_search(root: str | None, args: list[str], opts: _Options) -> int:
    return search(
        root,
        args[0] if args else None,
        models=opts.models,
        order_by=opts.order_by or None,
        max_results=opts.max_results,
        page_token=opts.page_token,
        fmt=opts.fmt or Format.table,
        columns=opts.columns,
        dataset=opts.dataset,
    )


_COMMANDS: Mapping[str, _Command] = {
    "resolve": _Command((1, 2), _run_resolve, {**_FORMAT, **_AT, "--verify": ("verify", "flag")}),
    "describe": _Command((1, 2), _run_describe, {**_FORMAT, **_AT}),
    "list": _Command((0, 1), _run_list, {**_FORMAT, **_COLUMNS, **_AT}),
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
            "--dataset": ("dataset", "value"),
            **_COLUMNS,
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


def _parse(argv: list[str]) -> tuple[str | None, _Command, list[str], _Options] | None:
    registry_path: str | None = None
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        read = _read_option(_GLOBAL, rest)
        if read is None:
            return None
        name, _kind, value = read
        if name == "registry":
            registry_path = value
    if not rest or rest[0] not in _COMMANDS:
        return None
    command = _COMMANDS[rest.pop(0)]
    args: list[str] = []
    options = _Options()
    while rest:
        if not rest[0].startswith("-") or rest[0] == "-":
            args.append(rest.pop(0))
            continue
        read = _read_option(command.options, rest)
        if read is None:
            return None
        name, kind, value = read
        if value is None:
            setattr(options, name, True)
        elif not _store(options, name, kind, value):
            return None  # let Typer explain the valid values
    low, high = command.positional
    if not low <= len(args) <= high:
        return None
    return registry_path, command, args, options


def _read_option(
    table: Mapping[str, tuple[str, _Kind]], rest: list[str]
) -> tuple[str, _Kind, str | None] | None:
    """Take the option at the front of ``rest`` (and its value): its name, kind and value
    (None for a flag); None when Typer should read it. As in Typer, ``--name=value`` gives
    a value but a short option does not (``-f=json`` means the value ``=json``)."""
    item = rest.pop(0)
    spelling, has_value, inline = item.partition("=")
    if has_value and not spelling.startswith("--"):
        return None
    known = table.get(spelling)
    if known is None:
        return None
    name, kind = known
    if kind == "flag":
        return None if has_value else (name, kind, None)
    if has_value:
        return name, kind, inline
    return (name, kind, rest.pop(0)) if rest else None


def _store(options: _Options, name: str, kind: _Kind, text: str) -> bool:
    """Keep one option's value; False when ``text`` is not a valid value for it."""
    value: object = text
    try:
        if name == "fmt":
            value = Format(text)
        elif name == "max_results":
            value = int(text)
    except ValueError:
        return False
    if kind == "many":
        getattr(options, name).append(value)
    else:
        setattr(options, name, value)
    return True
