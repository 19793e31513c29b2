"""The ``modelreg`` command: parse arguments, call one registry method, render the result.

Every error ends in :class:`_Funnel`, which turns it into one line on stderr and the
documented exit code.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

# Typer 0.28 (pinned in pyproject.toml) carries its own copy of Click.
from typer._click.exceptions import MissingParameter, NoSuchOption
from typer.core import TyperArgument, TyperCommand, TyperGroup

from modelreg import funnel, quick, render
from modelreg._version import __version__
from modelreg.entities import ModelVersion, RegisteredModel
from modelreg.errors import (
    HookDeliveryError,
    InvalidInputError,
)
from modelreg.names import validate_alias
from modelreg.refs import Ref, parse_ref, parse_ref_args
from modelreg.registry import Registry
from modelreg.render import HISTORY_COLUMNS, Format


class _State:
    registry_path: str | None = None
    show_traceback = False
    no_hooks = False
    strict_hooks = False
    # Deliveries that did not happen in this command (failed, or skipped as untrusted).
    hook_failures: list[Any] = []  # noqa: RUF012  # reset by _main for every command


class _Funnel(TyperGroup):
    """Turns every exception into one line on stderr and the documented exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            result = super().invoke(ctx)
            _finish_hooks()
            return result
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if type(exc).__module__.startswith(("typer", "click")):
                raise  # usage errors: Typer prints them and exits 2
            code = funnel.report(exc, show_traceback=_State.show_traceback)
        except KeyboardInterrupt as exc:
            code = funnel.report(exc)
        raise typer.Exit(code) from None


class _Command(TyperCommand):
    """Shows arguments as ``NAME``, ``[NAME]``, ``REF`` (Typer writes ``{name}``), and says
    how to give a value that starts with '-' when one was read as options."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument) and param.metavar is None:
                many = "..." if param.nargs != 1 else ""
                param.metavar = (param.name or "").upper() + many

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                metavar = param.make_metavar(ctx)  # as given: without Typer's {...}
                optional = not param.required and not metavar.startswith("[")
                pieces.append(f"[{metavar}]" if optional else metavar)
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        given = list(args)  # parsing consumes ``args``
        try:
            return super().parse_args(ctx, args)
        except (MissingParameter, NoSuchOption) as exc:
            missing_argument = isinstance(exc, MissingParameter) and isinstance(
                exc.param, TyperArgument
            )
            at = self._dashed_value(given)
            if at is not None and (missing_argument or isinstance(exc, NoSuchOption)):
                fixed = shlex.join([*given[:at], "--", *given[at:]])
                hint = (
                    f"'{given[at]}' was read as options; to give a value that starts with "
                    f"'-', put '--' before it: {ctx.command_path} {fixed}"
                )
                exc.message = f"{exc.message} ({hint})" if exc.message else hint
            raise

    def _dashed_value(self, args: list[str]) -> int | None:
        """Where the first word before ``--`` that looks like a value starting with '-'
        (``-dash``), not one of this command's options, is in ``args``."""
        options = {opt for param in self.params for opt in getattr(param, "opts", [])}
        for at, word in enumerate(args):
            if word == "--":
                return None
            if word.startswith("-") and not word.startswith("--") and word not in options:
                return at if len(word) > 2 else None
        return None


def _fail(text: str, code: int) -> NoReturn:
    render.error(text)
    raise typer.Exit(code)


app = typer.Typer(
    cls=_Funnel,
    name="modelreg",
    help="A model registry that lives in a folder.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

FormatOption = Annotated[
    Format,
    typer.Option("--format", "-f", help="Output format: table, json, yaml or plain."),
]
# A write says what it did in one line on stderr; its record goes to stdout only when a
# --format asks for it, so `$(modelreg register ... --format plain | cut -f2)` still works.
WriteFormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        help="Also print the record on stdout: table, json, yaml or plain "
        "(default: only a line on stderr saying what was done).",
        show_default=False,
    ),
]
RefArgs = Annotated[
    list[str],
    typer.Argument(
        metavar="REF",
        help="NAME, NAME VERSION (a number, 'latest', a stage or @ALIAS), NAME@ALIAS, "
        "or a models:/ URI.",
        show_default=False,
    ),
]
TagOption = Annotated[
    list[str] | None, typer.Option("--tag", "-t", help="A tag KEY=VALUE (repeatable).")
]
DescriptionOption = Annotated[
    str | None, typer.Option("--description", "-d", help="A description.")
]


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"modelreg {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    registry: Annotated[
        Path | None,
        typer.Option(
            "--registry",
            "-r",
            help="The registry folder (default: $MODELREG_REGISTRY, else the nearest "
            "folder with a registry.yaml at or above the working directory).",
            show_default=False,
        ),
    ] = None,
    show_traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the full traceback of internal errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    no_hooks: Annotated[
        bool,
        typer.Option(
            "--no-hooks",
            help="Deliver no notifications for this command (also: $MODELREG_NO_HOOKS=1).",
        ),
    ] = False,
    strict_hooks: Annotated[
        bool,
        typer.Option(
            "--strict-hooks",
            help="Exit 8 when a hook could not deliver (failed, or skipped as untrusted); "
            "the change itself is made and kept either way.",
        ),
    ] = False,
) -> None:
    """A model registry that lives in a folder: versions, stages, aliases and lineage in
    YAML files you commit to git."""
    _State.registry_path = str(registry) if registry is not None else None
    _State.show_traceback = show_traceback
    _State.no_hooks = no_hooks
    _State.strict_hooks = strict_hooks
    _State.hook_failures = []


def _open() -> Registry:
    """The registry, with its hooks subscribed to its events (unless --no-hooks)."""
    return Registry(
        _State.registry_path,
        hooks=not _State.no_hooks,
        on_hook_result=_hook_result,
        on_hooks_untrusted=_hooks_untrusted,
    )


def _hook_result(result: Any) -> None:
    """A failed delivery is one line on stderr naming the hook; the change stays made."""
    if not result.ok:
        _State.hook_failures.append(result)
    if result.status != "failed":
        return
    line = f"hook '{result.hook}' failed for {result.event}: {result.detail}"
    (render.error if _State.strict_hooks else render.warning)(line)


def _hooks_untrusted(names: list[str]) -> None:
    from modelreg.hooks import untrusted_notice

    (render.error if _State.strict_hooks else render.warning)(untrusted_notice(names))


def _finish_hooks() -> None:
    """With --strict-hooks, a delivery that did not happen fails the command (exit 8),
    after the change it made."""
    if not _State.strict_hooks:
        return
    failures = _State.hook_failures
    if failures:
        count = len(failures)
        raise HookDeliveryError(
            f"{count} hook deliver{'y' if count == 1 else 'ies'} did not happen "
            "(--strict-hooks); the change itself was made and is kept"
        )


def _key_values(items: list[str] | None, what: str, numbers: bool = False) -> dict[str, Any]:
    """``K=V`` arguments as a dict; with ``numbers`` values that look numeric become numbers."""
    result: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"invalid {what} {item!r}: expected KEY=VALUE")
        result[key] = _number(value) if numbers else value
    return result


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _metrics(items: list[str] | None) -> dict[str, int | float]:
    values = _key_values(items, "metric", numbers=True)
    for key, value in values.items():
        if isinstance(value, str):
            raise InvalidInputError(f"metric {key!r} must be a number, not {value!r}")
    return values


def _ref(args: list[str], *, allow_model: bool = True) -> Ref:
    return parse_ref_args(args, allow_model=allow_model)


def _split_ref_and_rest(args: list[str], rest_is: str) -> tuple[Ref, list[str]]:
    """``NAME [VERSION] ITEM...`` where items contain ``=``: the ref, then the items."""
    ref_args = [args[0]] if args else []
    rest = args[1:]
    if rest and "=" not in rest[0] and rest_is == "tags":
        ref_args.append(rest.pop(0))
    return _ref(ref_args), rest


def _show(entity: RegisteredModel | ModelVersion, fmt: Format | None) -> None:
    """A write's record, when a --format asked for it."""
    if fmt is not None:
        render.emit_entity(entity, fmt)


def _show_record(record: Any, fmt: Format | None, columns: Any) -> None:
    if fmt is not None:
        render.emit(record, fmt, columns)


def _label(mv: ModelVersion) -> str:
    return f"{mv.name} version {mv.version}"


# -- commands ----------------------------------------------------------------------------


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Folder to create the registry in.")] = Path(),
    stage: Annotated[
        list[str] | None,
        typer.Option(
            "--stage",
            help="A stage of this registry (repeatable; default: "
            "None, Staging, Production, Archived).",
        ),
    ] = None,
    fmt: WriteFormatOption = None,
) -> None:
    """Create a registry folder."""
    registry = Registry.init(path, stages=stage)
    render.message(f"Created a registry in {registry.root}")
    _show_record({"path": str(registry.root.resolve())}, fmt, [render.Column("path", "path")])


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="The model's name.")],
    description: DescriptionOption = None,
    tag: TagOption = None,
    fmt: WriteFormatOption = None,
) -> None:
    """Create a registered model."""
    model = _open().create_registered_model(
        name, tags=_key_values(tag, "tag"), description=description
    )
    render.message(f"Created model {model.name}")
    _show(model, fmt)


@app.command()
def register(
    name: Annotated[str, typer.Argument(help="The model's name (created if it is new).")],
    source: Annotated[str, typer.Argument(help="Path or URI of the model artifact.")],
    run_id: Annotated[str | None, typer.Option("--run-id", help="The training run's id.")] = None,
    run_link: Annotated[
        str | None, typer.Option("--run-link", help="A link to the training run.")
    ] = None,
    description: DescriptionOption = None,
    tag: TagOption = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="A metric KEY=NUMBER (repeatable).")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="A parameter KEY=VALUE (repeatable).")
    ] = None,
    alias: Annotated[
        list[str] | None, typer.Option("--alias", "-a", help="Point this alias at the new version.")
    ] = None,
    stage: Annotated[
        str | None, typer.Option("--stage", "-s", help="Move the new version to this stage.")
    ] = None,
    allow_duplicate: Annotated[
        bool,
        typer.Option(
            "--allow-duplicate",
            help="Register even when the newest version already has this exact artifact.",
        ),
    ] = False,
    fmt: WriteFormatOption = None,
) -> None:
    """Register a new version of a model."""
    registry = _open()
    # A bad --stage or --alias must be refused before the version is written.
    if stage is not None:
        registry.config.canonical_stage(stage)
    for each in alias or []:
        validate_alias(each)
    result = registry.register(
        name,
        source,
        run_id=run_id,
        run_link=run_link,
        description=description,
        tags=_key_values(tag, "tag"),
        metrics=_metrics(metric),
        params=_key_values(param, "param", numbers=True),
        allow_duplicate=allow_duplicate,
        create_model=True,
    )
    mv = result.version
    if result.created:
        render.message(f"Registered {_label(mv)}")
    else:
        same = "same source and sha256" if mv.artifact_sha256 else "same source and run id"
        render.message(
            f"{_label(mv)} already has this artifact ({same}); "
            "not registering it again (use --allow-duplicate to force a new version)"
        )
    # Also for an existing version: re-running the same `register --alias candidate`
    # leaves the registry as the command line describes it.
    if stage is not None:
        mv = registry.transition_model_version_stage(name, mv.version, stage)
    for each in alias or []:
        mv = registry.set_registered_model_alias(name, each, mv.version)
    _show(mv, fmt)


@app.command("list")
def list_(
    name: Annotated[
        str | None, typer.Argument(help="A model: list its versions instead of the models.")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List the models, or the versions of one model."""
    _exit_with(quick.list_models_or_versions(_State.registry_path, name, fmt))


def _exit_with(code: int) -> None:
    if code:
        raise typer.Exit(code)


@app.command()
def search(
    filter_string: Annotated[
        str | None,
        typer.Argument(
            metavar="[FILTER]",
            help="A filter expression, e.g. \"tags.team = 'growth' AND metrics.accuracy >= 0.9\" "
            "(default: everything).",
            show_default=False,
        ),
    ] = None,
    models: Annotated[
        bool, typer.Option("--models", help="Search registered models instead of versions.")
    ] = False,
    order_by: Annotated[
        list[str] | None,
        typer.Option(
            "--order-by", "-o", help="KEY [ASC|DESC] (repeatable), e.g. 'metrics.f1 DESC'."
        ),
    ] = None,
    max_results: Annotated[
        int | None,
        typer.Option(
            "--max-results",
            "-n",
            help="At most N results (MLflow's defaults: 10000 versions, 100 models).",
        ),
    ] = None,
    page_token: Annotated[
        str | None, typer.Option("--page-token", help="Continue from a previous page.")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Search versions (or models) with the filter language; the next page's token goes
    to stderr."""
    code = quick.search(
        _State.registry_path,
        filter_string,
        models=models,
        order_by=order_by,
        max_results=max_results,
        page_token=page_token,
        fmt=fmt,
    )
    _exit_with(code)


@app.command()
def describe(ref: RefArgs, fmt: FormatOption = Format.table) -> None:
    """Show a model, or one version."""
    quick.describe(_State.registry_path, ref, fmt)


@app.command()
def tag(
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="REF KEY=VALUE...",
            help="NAME [VERSION] KEY=VALUE...: the model or version, then tags.",
            show_default=False,
        ),
    ],
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A tag key to remove (repeatable).")
    ] = None,
    fmt: WriteFormatOption = None,
) -> None:
    """Set or remove tags of a model or of a version."""
    ref, items = _split_ref_and_rest(args, "tags")
    tags = _key_values(items, "tag")
    if not tags and not remove:
        raise InvalidInputError("nothing to do: give KEY=VALUE tags or --remove KEY")
    registry = _open()
    entity: RegisteredModel | ModelVersion
    if ref.is_model:
        entity = registry.set_registered_model_tags(ref.name, tags, remove or [])
        entity = registry.get_registered_model(ref.name)
        render.message(f"Updated the tags of model {ref.name}")
    else:
        mv = registry.resolve_version(ref)
        entity = registry.set_model_version_tags(mv.name, mv.version, tags, remove or [])
        render.message(f"Updated the tags of {_label(entity)}")
    _show(entity, fmt)


@app.command()
def update(
    ref: RefArgs,
    description: Annotated[str, typer.Option("--description", "-d", help="The new description.")],
    fmt: WriteFormatOption = None,
) -> None:
    """Change the description of a model or of a version."""
    registry = _open()
    target = _ref(ref)
    entity: RegisteredModel | ModelVersion
    if target.is_model:
        entity = registry.update_registered_model(target.name, description)
        render.message(f"Updated the description of model {target.name}")
    else:
        mv = registry.resolve_version(target)
        entity = registry.update_model_version(mv.name, mv.version, description)
        render.message(f"Updated the description of {_label(entity)}")
    _show(entity, fmt)


def _transition(
    ref: Ref,
    stage: str,
    archive_existing: bool,
    comment: str | None,
    fmt: Format | None,
    force: bool = False,
) -> None:
    registry = _open()
    mv = registry.resolve_version(ref)
    before = mv.current_stage
    moved = registry.transition_model_version_stage(
        mv.name, mv.version, stage, archive_existing, comment=comment, force=force
    )
    forced = " (forced)" if force and moved.history[-1].get("forced") else ""
    if moved.current_stage == before:
        render.message(f"{_label(moved)} is already in {before}")
    else:
        archived = _archived_by(registry, moved)
        also = f" (archived {', '.join(map(str, archived))})" if archived else ""
        render.message(f"{_label(moved)}: {before} -> {moved.current_stage}{forced}{also}")
    _show(moved, fmt)


def _archived_by(registry: Registry, moved: ModelVersion) -> list[int]:
    """The versions this transition archived (they record it, with the same time)."""
    entered = moved.history[-1]
    return [
        other.version
        for other in registry.list_versions(moved.name)
        if other.history
        and other.history[-1].get("archived_by") == moved.version
        and other.history[-1].get("timestamp") == entered.get("timestamp")
    ]


def _ref_and_last(args: list[str], last: str) -> tuple[Ref, str]:
    """``NAME [VERSION] LAST``: a version reference followed by one more argument."""
    if len(args) < 2:
        raise InvalidInputError(f"expected NAME VERSION {last}")
    return _ref(args[:-1], allow_model=False), args[-1]


StageArgs = Annotated[
    list[str],
    typer.Argument(
        metavar="REF STAGE",
        help="NAME VERSION STAGE (or NAME@ALIAS STAGE, models:/NAME/N STAGE).",
        show_default=False,
    ),
]
CommentOption = Annotated[
    str | None, typer.Option("--comment", "-c", help="Why; recorded in the history.")
]


@app.command()
def transition(
    args: StageArgs,
    archive_existing: Annotated[
        bool,
        typer.Option("--archive-existing", help="Archive the other versions in the target stage."),
    ] = False,
    comment: CommentOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Bypass the registry's rules (only where rules.allow_force is true; "
            "needs --comment, recorded as forced).",
        ),
    ] = False,
    fmt: WriteFormatOption = None,
) -> None:
    """Move a version to another stage (the registry's rules must allow it)."""
    ref, stage = _ref_and_last(args, "STAGE")
    _transition(ref, stage, archive_existing, comment, fmt, force)


@app.command()
def promote(
    args: StageArgs,
    comment: CommentOption = None,
    fmt: WriteFormatOption = None,
) -> None:
    """Run the target stage's validation checks, then transition if the rules allow it.

    On failure the version is tagged (validation=failed by default), the reasons are
    recorded in its history, and the command exits 5."""
    ref, stage = _ref_and_last(args, "STAGE")
    registry = _open()
    mv = registry.resolve_version(ref)
    before = mv.current_stage
    moved, results = registry.promote(
        mv.name, mv.version, stage, comment=comment, on_output=lambda line: render.message(line)
    )
    for result in results:
        render.message(f"check {result.name}: passed in {result.seconds:.1f} s")
    if moved.current_stage == before:
        render.message(f"{_label(moved)} is already in {before}; no check was run")
    else:
        render.message(f"{_label(moved)}: {before} -> {moved.current_stage}")
    _show(moved, fmt)


def _decision(args: list[str], comment: str | None, fmt: Format | None, action: str) -> None:
    ref, stage = _ref_and_last(args, "STAGE")
    registry = _open()
    mv = registry.resolve_version(ref)
    record = {
        "request": registry.request_transition,
        "approve": registry.approve_transition,
        "reject": registry.reject_transition,
    }[action]
    updated = record(mv.name, mv.version, stage, comment)
    verb = {"request": "Requested", "approve": "Approved", "reject": "Rejected"}[action]
    render.message(f"{verb}: {_label(updated)} -> {registry.config.canonical_stage(stage)}")
    _show(updated, fmt)


@app.command()
def request(args: StageArgs, comment: CommentOption = None, fmt: WriteFormatOption = None) -> None:
    """Ask for a version to be moved to a stage."""
    _decision(args, comment, fmt, "request")


@app.command()
def approve(args: StageArgs, comment: CommentOption = None, fmt: WriteFormatOption = None) -> None:
    """Approve moving a version to a stage."""
    _decision(args, comment, fmt, "approve")


@app.command()
def reject(args: StageArgs, comment: CommentOption = None, fmt: WriteFormatOption = None) -> None:
    """Reject moving a version to a stage."""
    _decision(args, comment, fmt, "reject")


@app.command()
def comment(
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="REF TEXT", help="NAME VERSION TEXT (or NAME@ALIAS TEXT).", show_default=False
        ),
    ],
    fmt: WriteFormatOption = None,
) -> None:
    """Add a comment to a version's history."""
    ref, text = _ref_and_last(args, "TEXT")
    registry = _open()
    mv = registry.resolve_version(ref)
    updated = registry.comment_model_version(mv.name, mv.version, text)
    render.message(f"Commented on {_label(updated)}")
    _show(updated, fmt)


@app.command()
def archive(
    ref: RefArgs,
    comment: Annotated[
        str | None, typer.Option("--comment", "-c", help="Why; recorded in the history.")
    ] = None,
    fmt: WriteFormatOption = None,
) -> None:
    """Move a version to Archived."""
    _transition(_ref(ref, allow_model=False), "Archived", False, comment, fmt)


@app.command()
def alias(
    name: Annotated[str, typer.Argument(help="The model.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="The alias.")],
    version: Annotated[str | None, typer.Argument(help="The version the alias points at.")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the alias.")] = False,
    comment: Annotated[
        str | None, typer.Option("--comment", "-c", help="Why; recorded in the history.")
    ] = None,
    fmt: WriteFormatOption = None,
) -> None:
    """Point an alias at a version, or delete it."""
    registry = _open()
    if delete:
        if version is not None:
            raise InvalidInputError("give either VERSION or --delete, not both")
        target = registry.get_model_version_by_alias(name, alias_name)
        registry.delete_registered_model_alias(name, alias_name)
        render.message(f"Deleted alias {alias_name} of model {name} (was version {target.version})")
        record = {"name": name, "alias": alias_name, "version": target.version}
        _show_record(record, fmt, [render.Column(key, key) for key in record])
        return
    if version is None:
        raise InvalidInputError("expected NAME ALIAS VERSION, or NAME ALIAS --delete")
    number = registry.resolve_version(parse_ref(name, version)).version
    mv = registry.set_registered_model_alias(name, alias_name, number, comment=comment)
    render.message(f"{name}@{alias_name} -> version {mv.version}")
    _show(mv, fmt)


@app.command()
def resolve(
    ref: RefArgs,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="Output format (default: the location alone)."),
    ] = None,
) -> None:
    """Print where a version's artifact is (a model name means its newest version)."""
    quick.resolve(_State.registry_path, ref, fmt)


@app.command()
def history(ref: RefArgs, fmt: FormatOption = Format.table) -> None:
    """Show stage changes, alias moves, tag and description changes, oldest first."""
    render.emit(_open().history(_ref(ref)), fmt, HISTORY_COLUMNS)


@app.command()
def delete(
    ref: RefArgs,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    fmt: WriteFormatOption = None,
) -> None:
    """Delete a version, or a whole model with all its versions."""
    registry = _open()
    target = _ref(ref)
    entity = registry.resolve(target)
    what = (
        f"model {entity.name} and all its versions"
        if isinstance(entity, RegisteredModel)
        else _label(entity)
    )
    if not yes:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise InvalidInputError(f"refusing to delete {what} without --yes (not at a terminal)")
        if not typer.confirm(f"Delete {what}?", default=False, err=True):
            render.message("Nothing deleted")
            raise typer.Exit(0)
    if isinstance(entity, ModelVersion):
        registry.delete_model_version(entity.name, entity.version)
    else:
        registry.delete_registered_model(entity.name)
    render.message(f"Deleted {what}")
    # The deleted record as it was: the same fields and plain columns as `describe`.
    _show(entity, fmt)


@app.command()
def check(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Also fix what can be fixed without losing data: temporary files of "
            "interrupted writes, interrupted deletes, derived data. Never deletes a version.",
        ),
    ] = False,
    rules: Annotated[
        bool,
        typer.Option(
            "--rules",
            help="Also verify that every version's stage is backed by its history under "
            "the promotion rules (catches hand-edited promotions).",
        ),
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Verify the whole registry folder (exit 7 on problems); for CI and pre-commit."""
    from modelreg.check import check_registry
    from modelreg.errors import CheckFailedError
    from modelreg.store import find_root

    report = check_registry(find_root(_State.registry_path), repair=repair, rules=rules)
    if report.findings or fmt in (Format.json, Format.yaml):
        render.emit([finding.to_dict() for finding in report.findings], fmt, render.FINDING_COLUMNS)
    if report.repairs:
        render.message(f"Repaired {len(report.repairs)} problem(s) in {report.root}")
    if report.clean:
        remain = "remain" if report.repairs else "found"
        render.message(f"No problems {remain} in {report.root}")
        return
    problems = report.problems
    repairable = sum(finding.repairable for finding in problems)
    hint = f"; {repairable} can be repaired with `modelreg check --repair`" if repairable else ""
    raise CheckFailedError(f"{len(problems)} problem(s) found in {report.root}{hint}")


# -- hooks (notifications) ------------------------------------------------------------------

hooks_app = typer.Typer(
    help="Notifications: the hooks of registry.yaml (commands, webhooks, emails).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(hooks_app, name="hooks")


def _hook_config() -> tuple[Registry, Any]:
    from modelreg import hooks

    registry = Registry(_State.registry_path, hooks=False)  # these commands change nothing
    return registry, hooks.load(registry.config.raw, registry.root)


def _trust_state(registry: Registry, config: Any) -> str:
    from modelreg import hooks

    if not config.hooks:
        return f"{registry.root / 'registry.yaml'} has no hooks"
    if hooks.trusted_by_environment():
        return f"these hooks run: ${hooks.TRUST_ENV} is set"
    if hooks.is_trusted(registry.root, config):
        return f"trusted on this machine (hooks sha256 {config.digest[:12]})"
    return (
        "not trusted on this machine: these hooks do not run here until you review them "
        f"and run `modelreg hooks trust` (or set {hooks.TRUST_ENV}=1 where the folder is yours)"
    )


@hooks_app.command("list")
def hooks_list(fmt: FormatOption = Format.table) -> None:
    """List the hooks and whether this machine trusts them."""
    from modelreg import hooks

    registry, config = _hook_config()
    trusted = hooks.is_trusted(registry.root, config)
    if config.hooks or fmt is not Format.table:
        listed = [{**hook.to_dict(), "trusted": trusted} for hook in config.hooks]
        render.emit(listed, fmt, render.HOOK_COLUMNS)
    render.message(_trust_state(registry, config))


@hooks_app.command("trust")
def hooks_trust(
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Stop trusting this registry's hooks.")
    ] = False,
    fmt: WriteFormatOption = None,
) -> None:
    """Let this exact hook configuration run on this machine (again after any change)."""
    from modelreg import hooks

    registry, config = _hook_config()
    if revoke:
        removed = hooks.revoke(registry.root)
        render.message(
            f"This machine no longer trusts the hooks of {registry.root}"
            if removed
            else f"This machine did not trust the hooks of {registry.root}"
        )
        return
    if not config.hooks:
        render.message(_trust_state(registry, config) + "; nothing to trust")
        return
    path = hooks.trust(registry.root, config, registry.user)
    listed = [{**hook.to_dict(), "trusted": True} for hook in config.hooks]
    _show_record(listed, fmt, render.HOOK_COLUMNS)
    render.message(
        f"Trusted these {len(config.hooks)} hook(s) of {registry.root} on this machine "
        f"(sha256 {config.digest[:12]}, remembered in {path}); any change to them needs "
        "`modelreg hooks trust` again"
    )


@hooks_app.command("test")
def hooks_test(
    name: Annotated[str, typer.Argument(help="The hook's name.")],
    event: Annotated[
        str | None,
        typer.Option("--event", "-e", help="The event type to send (default: the hook's first)."),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Send an example event through one hook and show what happened."""
    from modelreg import hooks

    registry, _config = _hook_config()
    result = hooks.send_test(registry, name, event)
    render.emit(result.to_dict(), fmt, render.DELIVERY_COLUMNS)
    if not result.ok:
        raise HookDeliveryError(f"hook '{name}' failed: {result.detail}")
    render.message(f"hook '{name}' delivered {result.event} in {result.duration_ms} ms")


@hooks_app.command("log")
def hooks_log(
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Show the newest N deliveries (0: all kept).")
    ] = 20,
    hook: Annotated[
        str | None, typer.Option("--hook", help="Only the deliveries of this hook.")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Show recent deliveries (from the registry's git-ignored .cache/hooks.log)."""
    from modelreg import hooks
    from modelreg.store import find_root

    if limit < 0:
        raise InvalidInputError("--limit must be 0 or more")
    records = hooks.read_log(find_root(_State.registry_path), limit=limit or None, hook=hook)
    render.emit(records, fmt, render.DELIVERY_COLUMNS)


# -- moving to and from MLflow ----------------------------------------------------------------

import_app = typer.Typer(
    help="Import models from MLflow: an mlruns file store, or any MLflow registry.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
export_app = typer.Typer(
    help="Export models to MLflow.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

TrackingUriOption = Annotated[
    str,
    typer.Option(
        "--tracking-uri",
        envvar="MLFLOW_TRACKING_URI",
        metavar="URI",
        help="MLflow's tracking URI: http(s)://HOST:PORT, sqlite:///PATH, postgresql://..., "
        "or anything MLflow's client accepts (default: $MLFLOW_TRACKING_URI).",
        show_default=False,
    ),
]
RegistryUriOption = Annotated[
    str | None,
    typer.Option(
        "--registry-uri",
        envvar="MLFLOW_REGISTRY_URI",
        metavar="URI",
        help="MLflow's registry URI when it is not the tracking URI "
        "(default: $MLFLOW_REGISTRY_URI).",
        show_default=False,
    ),
]
MlflowModelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        "-m",
        metavar="NAME",
        help="Only this MLflow model (repeatable; default: every model).",
    ),
]
RenameOption = Annotated[
    list[str] | None,
    typer.Option(
        "--rename",
        metavar="OLD=NEW",
        help="Import the MLflow model OLD as NEW (OLD=NEW, repeatable).",
        show_default=False,
    ),
]
SkipInvalidOption = Annotated[
    bool,
    typer.Option(
        "--skip-invalid-names",
        help="Skip models whose MLflow name cannot be a folder name, instead of importing "
        "them under the proposed name.",
    ),
]
ReplaceOption = Annotated[
    bool,
    typer.Option(
        "--replace",
        help="Where a model or version already here differs from MLflow's, let MLflow's win "
        "(default: report it and leave the model alone).",
    ),
]
DryRunOption = Annotated[
    bool,
    typer.Option("--dry-run", help="Read and report what would be imported; write nothing."),
]


def _summary_count(key: str) -> render.Column:
    return render.Column(key, key, getter=lambda record: len(record.get(key) or []))


SUMMARY_COLUMNS = (
    render.Column("action", "action"),
    render.Column("models", "models"),
    render.Column("versions", "versions"),
    render.Column("unchanged", "unchanged"),
    render.Column("replaced", "replaced"),
    _summary_count("skipped"),
    _summary_count("renamed"),
    _summary_count("remapped"),
    _summary_count("failed"),
)


def _moving(run_it: Any, summary: Any, fmt: Format | None) -> None:
    """Run an import or export with a progress bar; end with its summary, also when
    interrupted (Ctrl-C: exit 130, and running it again finishes the job)."""
    from modelreg import mlflow_io

    try:
        with mlflow_io.progress_reporter(render.warning) as reporter:
            run_it(reporter, summary)
    except KeyboardInterrupt:
        summary.interrupted = True
        _report_summary(summary, fmt)
        raise
    _report_summary(summary, fmt)
    error = summary.error()
    if error is not None:
        raise error


def _report_summary(summary: Any, fmt: Format | None) -> None:
    record = summary.to_dict()
    done = "would be " if summary.dry_run else ""
    verb = "imported" if summary.action == "import" else "exported"
    models, versions = record["models"], record["versions"]
    render.message(
        f"{models} model{'' if models == 1 else 's'}, "
        f"{versions} version{'' if versions == 1 else 's'} {done}{verb} "
        f"({record['unchanged']} already there, {len(record['skipped'])} skipped, "
        f"{len(record['renamed'])} renamed)"
        + (" before the interruption; run it again to finish" if summary.interrupted else "")
    )
    _show_record(record, fmt, SUMMARY_COLUMNS)


def _import(
    source: Any,
    model: list[str] | None,
    rename: list[str] | None,
    skip_invalid_names: bool,
    replace: bool,
    dry_run: bool,
    fmt: Format | None,
) -> None:
    from modelreg import mlflow_io

    registry = _open()
    renames = _key_values(rename, "--rename")
    summary = mlflow_io.Summary("import", source.origin, str(registry.root))

    def run_it(reporter: Any, summary: Any) -> None:
        mlflow_io.import_models(
            registry,
            source,
            models=model or (),
            renames=renames,
            skip_invalid_names=skip_invalid_names,
            replace=replace,
            dry_run=dry_run,
            reporter=reporter,
            summary=summary,
        )

    _moving(run_it, summary, fmt)


@import_app.command("mlruns")
def import_mlruns(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
            help="The mlruns folder of MLflow's file store (or its models folder).",
        ),
    ],
    model: MlflowModelOption = None,
    rename: RenameOption = None,
    skip_invalid_names: SkipInvalidOption = False,
    replace: ReplaceOption = False,
    dry_run: DryRunOption = False,
    fmt: WriteFormatOption = None,
) -> None:
    """Import the models of an MLflow file store (mlruns), read without MLflow."""
    from modelreg import mlflow_io

    source = mlflow_io.MlrunsSource(path)
    _import(source, model, rename, skip_invalid_names, replace, dry_run, fmt)


@import_app.command("mlflow")
def import_mlflow(
    tracking_uri: TrackingUriOption,
    registry_uri: RegistryUriOption = None,
    model: MlflowModelOption = None,
    rename: RenameOption = None,
    skip_invalid_names: SkipInvalidOption = False,
    replace: ReplaceOption = False,
    dry_run: DryRunOption = False,
    fmt: WriteFormatOption = None,
) -> None:
    """Import the models of a live MLflow (server or database) through MLflow's client."""
    from modelreg import mlflow_io

    source = mlflow_io.open_mlflow(tracking_uri, registry_uri)
    _import(source, model, rename, skip_invalid_names, replace, dry_run, fmt)


@export_app.command("mlflow")
def export_mlflow(
    tracking_uri: TrackingUriOption,
    registry_uri: RegistryUriOption = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            metavar="NAME",
            help="Only this model of the registry (repeatable; default: every model).",
        ),
    ] = None,
    fmt: WriteFormatOption = None,
) -> None:
    """Export models to MLflow: versions in order, then stages, aliases, tags, descriptions."""
    from modelreg import mlflow_io

    registry = _open()
    target = mlflow_io.redact_uri(registry_uri or tracking_uri)
    summary = mlflow_io.Summary("export", str(registry.root), target)

    def run_it(reporter: Any, summary: Any) -> None:
        mlflow_io.export_models(
            registry,
            tracking_uri,
            registry_uri=registry_uri,
            models=model or (),
            reporter=reporter,
            summary=summary,
        )

    _moving(run_it, summary, fmt)


# Every command, also those of the sub-apps, is a _Command (uppercase metavars, the hint
# for values that start with '-').
for _typer in [app, hooks_app, import_app, export_app]:
    for _info in _typer.registered_commands:
        _info.cls = _Command


def run(args: list[str] | None = None) -> None:
    """Entry point: run the app with ``args`` (default: the command line)."""
    app(args=args, prog_name="modelreg")
