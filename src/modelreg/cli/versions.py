"""Pointing at, locating, tracing and removing versions: ``alias``, ``resolve``,
``history``, ``delete``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from modelreg import quick, render
from modelreg.cli import common
from modelreg.cli.common import (
    AtOption,
    CommentFileOption,
    CommentOption,
    FormatOption,
    PushOption,
    RefArgs,
    WriteFormatOption,
)
from modelreg.cli.core import app, session
from modelreg.entities import ModelVersion, RegisteredModel
from modelreg.errors import InvalidInputError
from modelreg.history import parse_time
from modelreg.refs import parse_ref
from modelreg.render import HISTORY_COLUMNS, Format


@app.command()
def alias(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The model.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="The alias.")],
    version: Annotated[str | None, typer.Argument(help="The version the alias points at.")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the alias.")] = False,
    comment: CommentOption = None,
    comment_file: CommentFileOption = None,
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Point an alias at a version, or delete it."""
    comment = common.text(comment, comment_file, "--comment")
    registry = session(ctx).open()
    if delete:
        if version is not None:
            raise InvalidInputError("give either VERSION or --delete, not both")
        target = registry.get_model_version_by_alias(name, alias_name)
        registry.delete_registered_model_alias(name, alias_name)
        render.message(f"Deleted alias {alias_name} of model {name} (was version {target.version})")
        record = {"name": name, "alias": alias_name, "version": target.version}
        common.show_record(record, fmt, [render.Column(key, key) for key in record])
        return
    if version is None:
        raise InvalidInputError("expected NAME ALIAS VERSION, or NAME ALIAS --delete")
    number = registry.resolve_version(parse_ref(name, version)).version
    mv = registry.set_registered_model_alias(name, alias_name, number, comment=comment)
    render.message(f"{name}@{alias_name} -> version {mv.version}")
    common.show(mv, fmt)


@app.command()
def resolve(
    ctx: typer.Context,
    ref: RefArgs,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="Output format (default: the location alone)."),
    ] = None,
    at: AtOption = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Check the local artifact against its recorded sha256 and size first "
            "(exit 7 when it changed, 3 when it is not here).",
        ),
    ] = False,
) -> None:
    """Print where a version's artifact is (a model name means its newest version)."""
    quick.resolve(session(ctx).registry_path, ref, fmt, at, verify=verify)


_TIME_HELP = (
    "an ISO-8601 date or date-time (2026-11-01, 2026-11-01T12:00Z; naive means UTC) "
    "or a time ago (30m, 12h, 7d, 2w)"
)


@app.command()
def history(
    ctx: typer.Context,
    ref: RefArgs,
    since: Annotated[
        str | None,
        typer.Option("--since", help=f"Only entries at or after this time: {_TIME_HELP}."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help=f"Only entries at or before this time: {_TIME_HELP}."),
    ] = None,
    action: Annotated[
        list[str] | None,
        typer.Option(
            "--action",
            help="Only entries of this action (repeatable), e.g. stage_changed, alias_set.",
        ),
    ] = None,
    user: Annotated[
        list[str] | None,
        typer.Option("--user", help="Only entries by this user_id (repeatable)."),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Show stage changes, alias moves, tag and description changes, oldest first."""
    start = None if since is None else parse_time(since)
    end = None if until is None else parse_time(until)
    registry = session(ctx).open()
    entries = registry.history(common.ref(ref), since=start, until=end, actions=action, users=user)
    render.emit(entries, fmt, HISTORY_COLUMNS)


@app.command()
def delete(
    ctx: typer.Context,
    ref: RefArgs,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Delete a version, or a whole model with all its versions."""
    registry = session(ctx).open()
    target = common.ref(ref)
    entity = registry.resolve(target)
    what = (
        f"model {entity.name} and all its versions"
        if isinstance(entity, RegisteredModel)
        else common.label(entity)
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
    common.show(entity, fmt)
