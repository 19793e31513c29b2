"""The ``modelreg`` command: parse arguments, call one registry method, render the result.

Every error ends in :class:`_Funnel`, which turns it into one line on stderr and the
documented exit code.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from modelreg import quick, render
from modelreg._version import __version__
from modelreg.entities import ModelVersion, RegisteredModel
from modelreg.errors import InterruptedByUserError, InvalidInputError, RegistryError
from modelreg.names import validate_alias
from modelreg.refs import Ref, parse_ref, parse_ref_args
from modelreg.registry import Registry
from modelreg.render import HISTORY_COLUMNS, MODEL_COLUMNS, VERSION_COLUMNS, Format


class _State:
    registry_path: str | None = None
    show_traceback = False


class _Funnel(TyperGroup):
    """Turns every exception into one line on stderr and the documented exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RegistryError as exc:
            _fail(exc.message, exc.exit_code)
        except KeyboardInterrupt:
            _fail(InterruptedByUserError("interrupted").message, 130)
        except BrokenPipeError:
            # `modelreg list | head` closed the pipe: not an error of ours.
            sys.stderr.close()
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if type(exc).__module__.startswith(("typer", "click")):
                raise  # usage errors: Typer prints them and exits 2
            if _State.show_traceback:
                traceback.print_exc()
            _fail(
                f"internal error: {type(exc).__name__}: {exc} (run with --traceback to see where)",
                1,
            )


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
RefArgs = Annotated[
    list[str],
    typer.Argument(
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
) -> None:
    """A model registry that lives in a folder: versions, stages, aliases and lineage in
    YAML files you commit to git."""
    _State.registry_path = str(registry) if registry is not None else None
    _State.show_traceback = show_traceback


def _open() -> Registry:
    return Registry(_State.registry_path)


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
    fmt: FormatOption = Format.table,
) -> None:
    """Create a registry folder."""
    registry = Registry.init(path, stages=stage)
    render.message(f"Created a registry in {registry.root}")
    if fmt is not Format.table:
        render.emit({"path": str(registry.root.resolve())}, fmt, [render.Column("path", "path")])


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="The model's name.")],
    description: DescriptionOption = None,
    tag: TagOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Create a registered model."""
    model = _open().create_registered_model(
        name, tags=_key_values(tag, "tag"), description=description
    )
    render.message(f"Created model {model.name}")
    render.emit_entity(model, fmt)


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
    fmt: FormatOption = Format.table,
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
        render.message(
            f"{_label(mv)} already has this artifact (same source and sha256); "
            "not registering it again (use --allow-duplicate to force a new version)"
        )
    if result.created:
        if stage is not None:
            mv = registry.transition_model_version_stage(name, mv.version, stage)
        for each in alias or []:
            mv = registry.set_registered_model_alias(name, each, mv.version)
    render.emit_entity(mv, fmt)


@app.command("list")
def list_(
    name: Annotated[
        str | None, typer.Argument(help="A model: list its versions instead of the models.")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List the models, or the versions of one model."""
    from modelreg.errors import CorruptFileError

    registry = _open()
    # Corrupt files are skipped and named on stderr after the healthy data (exit 7).
    errors: list[CorruptFileError] = []
    if name is None:
        models = [model.to_dict() for model in registry.list_registered_models(errors=errors)]
        render.emit(models, fmt, MODEL_COLUMNS)
    else:
        versions = [mv.to_dict() for mv in registry.list_versions(name, errors=errors)]
        render.emit(versions, fmt, VERSION_COLUMNS)
    for err in errors:
        render.error(str(err))
    if errors:
        raise typer.Exit(CorruptFileError.exit_code)


@app.command()
def describe(ref: RefArgs, fmt: FormatOption = Format.table) -> None:
    """Show a model, or one version."""
    quick.describe(_State.registry_path, ref, fmt)


@app.command()
def tag(
    args: Annotated[
        list[str],
        typer.Argument(
            help="NAME [VERSION] KEY=VALUE...: the model or version, then tags.", show_default=False
        ),
    ],
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A tag key to remove (repeatable).")
    ] = None,
    fmt: FormatOption = Format.table,
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
    render.emit_entity(entity, fmt)


@app.command()
def update(
    ref: RefArgs,
    description: Annotated[str, typer.Option("--description", "-d", help="The new description.")],
    fmt: FormatOption = Format.table,
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
    render.emit_entity(entity, fmt)


def _transition(
    ref: Ref,
    stage: str,
    archive_existing: bool,
    comment: str | None,
    fmt: Format,
    force: bool = False,
) -> None:
    registry = _open()
    mv = registry.resolve_version(ref)
    before = mv.current_stage
    moved = registry.transition_model_version_stage(
        mv.name, mv.version, stage, archive_existing, comment=comment, force=force
    )
    forced = " (forced)" if force and moved.history[-1].get("forced") else ""
    render.message(f"{_label(moved)}: {before} -> {moved.current_stage}{forced}")
    render.emit_entity(moved, fmt)


def _ref_and_last(args: list[str], last: str) -> tuple[Ref, str]:
    """``NAME [VERSION] LAST``: a version reference followed by one more argument."""
    if len(args) < 2:
        raise InvalidInputError(f"expected NAME VERSION {last}")
    return _ref(args[:-1], allow_model=False), args[-1]


StageArgs = Annotated[
    list[str],
    typer.Argument(
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
    fmt: FormatOption = Format.table,
) -> None:
    """Move a version to another stage (the registry's rules must allow it)."""
    ref, stage = _ref_and_last(args, "STAGE")
    _transition(ref, stage, archive_existing, comment, fmt, force)


@app.command()
def promote(
    args: StageArgs,
    comment: CommentOption = None,
    fmt: FormatOption = Format.table,
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
    render.message(f"{_label(moved)}: {before} -> {moved.current_stage}")
    render.emit_entity(moved, fmt)


def _decision(args: list[str], comment: str | None, fmt: Format, action: str) -> None:
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
    render.emit_entity(updated, fmt)


@app.command()
def request(
    args: StageArgs, comment: CommentOption = None, fmt: FormatOption = Format.table
) -> None:
    """Ask for a version to be moved to a stage."""
    _decision(args, comment, fmt, "request")


@app.command()
def approve(
    args: StageArgs, comment: CommentOption = None, fmt: FormatOption = Format.table
) -> None:
    """Approve moving a version to a stage."""
    _decision(args, comment, fmt, "approve")


@app.command()
def reject(
    args: StageArgs, comment: CommentOption = None, fmt: FormatOption = Format.table
) -> None:
    """Reject moving a version to a stage."""
    _decision(args, comment, fmt, "reject")


@app.command()
def comment(
    args: Annotated[
        list[str],
        typer.Argument(help="NAME VERSION TEXT (or NAME@ALIAS TEXT).", show_default=False),
    ],
    fmt: FormatOption = Format.table,
) -> None:
    """Add a comment to a version's history."""
    ref, text = _ref_and_last(args, "TEXT")
    registry = _open()
    mv = registry.resolve_version(ref)
    updated = registry.comment_model_version(mv.name, mv.version, text)
    render.message(f"Commented on {_label(updated)}")
    render.emit_entity(updated, fmt)


@app.command()
def archive(
    ref: RefArgs,
    comment: Annotated[
        str | None, typer.Option("--comment", "-c", help="Why; recorded in the history.")
    ] = None,
    fmt: FormatOption = Format.table,
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
    fmt: FormatOption = Format.table,
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
        render.emit(record, fmt, [render.Column(key, key) for key in record])
        return
    if version is None:
        raise InvalidInputError("expected NAME ALIAS VERSION, or NAME ALIAS --delete")
    number = registry.resolve_version(parse_ref(name, version)).version
    mv = registry.set_registered_model_alias(name, alias_name, number, comment=comment)
    render.message(f"{name}@{alias_name} -> version {mv.version}")
    render.emit_entity(mv, fmt)


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
    fmt: FormatOption = Format.table,
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
    record: dict[str, Any] = {"name": entity.name}
    if isinstance(entity, ModelVersion):
        registry.delete_model_version(entity.name, entity.version)
        record["version"] = entity.version
    else:
        registry.delete_registered_model(entity.name)
        record["version"] = None
    render.message(f"Deleted {what}")
    record["deleted"] = True
    render.emit(record, fmt, [render.Column(key, key) for key in record])


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
    fmt: FormatOption = Format.table,
) -> None:
    """Verify the whole registry folder (exit 7 on problems); for CI and pre-commit."""
    from modelreg.check import check_registry
    from modelreg.errors import CheckFailedError
    from modelreg.store import find_root

    report = check_registry(find_root(_State.registry_path), repair=repair)
    if report.findings or fmt in (Format.json, Format.yaml):
        render.emit([finding.to_dict() for finding in report.findings], fmt, render.FINDING_COLUMNS)
    if report.repairs:
        render.message(f"Repaired {len(report.repairs)} problem(s) in {report.root}")
    if report.clean:
        render.message(f"No problems found in {report.root}")
        return
    problems = report.problems
    repairable = sum(finding.repairable for finding in problems)
    hint = f"; {repairable} can be repaired with `modelreg check --repair`" if repairable else ""
    raise CheckFailedError(f"{len(problems)} problem(s) found in {report.root}{hint}")


def run(args: list[str] | None = None) -> None:
    """Entry point: run the app with ``args`` (default: the command line)."""
    app(args=args, prog_name="modelreg")
