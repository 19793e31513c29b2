"""Moving versions between stages: ``transition``, ``promote``, the approvals (``request``,
``approve``, ``reject``), ``comment`` and ``archive``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from modelreg import render
from modelreg.cli import common
from modelreg.cli.common import (
    CommentFileOption,
    CommentOption,
    PushOption,
    RefArgs,
    WriteFormatOption,
)
from modelreg.cli.core import Session, app, session
from modelreg.refs import Ref
from modelreg.render import Format


def _transition(
    session: Session,
    ref: Ref,
    stage: str,
    archive_existing: bool,
    comment: str | None,
    fmt: Format | None,
    force: bool = False,
) -> None:
    registry = session.open()
    mv = registry.resolve_version(ref)
    before = mv.current_stage
    result = registry.transition(
        mv.name, mv.version, stage, archive_existing, comment=comment, force=force
    )
    moved = result.version
    forced = " (forced)" if force and moved.history[-1].get("forced") else ""
    if moved.current_stage == before:
        render.message(f"{common.label(moved)} is already in {before}")
    else:
        archived = [str(other.version) for other in result.archived]
        also = f" (archived {', '.join(archived)})" if archived else ""
        render.message(f"{common.label(moved)}: {before} -> {moved.current_stage}{forced}{also}")
    common.show(moved, fmt)


StageArgs = Annotated[
    list[str],
    common.words("REF STAGE", "NAME VERSION STAGE (or NAME@ALIAS STAGE, models:/NAME/N STAGE)."),
]


@app.command()
def transition(
    ctx: typer.Context,
    args: StageArgs,
    archive_existing: Annotated[
        bool,
        typer.Option("--archive-existing", help="Archive the other versions in the target stage."),
    ] = False,
    comment: CommentOption = None,
    comment_file: CommentFileOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Bypass the registry's rules (only where rules.allow_force is true; "
            "needs --comment, recorded as forced).",
        ),
    ] = False,
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Move a version to another stage (the registry's rules must allow it)."""
    ref, stage = common.ref_and_last(args, "STAGE")
    comment = common.text(comment, comment_file, "--comment")
    _transition(session(ctx), ref, stage, archive_existing, comment, fmt, force)


@app.command()
def promote(
    ctx: typer.Context,
    args: StageArgs,
    comment: CommentOption = None,
    comment_file: CommentFileOption = None,
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Run the target stage's validation checks, then transition if the rules allow it.

    On failure the version is tagged (validation=failed by default), the reasons are
    recorded in its history, and the command exits 5."""
    ref, stage = common.ref_and_last(args, "STAGE")
    comment = common.text(comment, comment_file, "--comment")
    registry = session(ctx).open()
    mv = registry.resolve_version(ref)
    before = mv.current_stage
    moved, results = registry.promote(
        mv.name, mv.version, stage, comment=comment, on_output=lambda line: render.message(line)
    )
    for result in results:
        render.message(f"check {result.name}: passed in {result.seconds:.1f} s")
    if moved.current_stage == before:
        render.message(f"{common.label(moved)} is already in {before}; no check was run")
    else:
        render.message(f"{common.label(moved)}: {before} -> {moved.current_stage}")
    common.show(moved, fmt)


def _decision(
    session: Session, args: list[str], comment: str | None, fmt: Format | None, action: str
) -> None:
    ref, stage = common.ref_and_last(args, "STAGE")
    registry = session.open()
    mv = registry.resolve_version(ref)
    record = {
        "request": registry.request_transition,
        "approve": registry.approve_transition,
        "reject": registry.reject_transition,
    }[action]
    updated = record(mv.name, mv.version, stage, comment)
    verb = {"request": "Requested", "approve": "Approved", "reject": "Rejected"}[action]
    render.message(f"{verb}: {common.label(updated)} -> {registry.config.canonical_stage(stage)}")
    common.show(updated, fmt)


def _decision_command(action: str, summary: str) -> Callable[..., None]:
    """The command ``action`` (request, approve or reject), which ``_decision`` records."""

    def command(
        ctx: typer.Context,
        args: StageArgs,
        comment: CommentOption = None,
        comment_file: CommentFileOption = None,
        fmt: WriteFormatOption = None,
        push: PushOption = False,
    ) -> None:
        comment = common.text(comment, comment_file, "--comment")
        _decision(session(ctx), args, comment, fmt, action)

    command.__doc__ = summary
    return command


for _action, _summary in (
    ("request", "Ask for a version to be moved to a stage."),
    ("approve", "Approve moving a version to a stage."),
    ("reject", "Reject moving a version to a stage."),
):
    app.command(_action)(_decision_command(_action, _summary))


@app.command()
def comment(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        common.words(
            "REF [TEXT]", "NAME VERSION TEXT (or NAME@ALIAS TEXT); no TEXT with --comment-file."
        ),
    ],
    comment_file: CommentFileOption = None,
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Add a comment to a version's history."""
    if comment_file is None:
        ref, text = common.ref_and_last(args, "TEXT")
    else:
        ref, text = common.ref(args, allow_model=False), common.read_text(comment_file)
    registry = session(ctx).open()
    mv = registry.resolve_version(ref)
    updated = registry.comment_model_version(mv.name, mv.version, text)
    render.message(f"Commented on {common.label(updated)}")
    common.show(updated, fmt)


@app.command()
def archive(
    ctx: typer.Context,
    ref: RefArgs,
    comment: CommentOption = None,
    comment_file: CommentFileOption = None,
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Move a version to Archived."""
    comment = common.text(comment, comment_file, "--comment")
    _transition(session(ctx), common.ref(ref, allow_model=False), "Archived", False, comment, fmt)
