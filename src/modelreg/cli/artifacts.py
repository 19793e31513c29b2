"""Artifacts that travel: ``pull`` and ``gc``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelreg import render
from modelreg.cli import common
from modelreg.cli.common import RefArgs
from modelreg.cli.core import app, session


@app.command()
def pull(
    ctx: typer.Context,
    ref: RefArgs,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Put the artifact in this folder (default: the cache, $MODELREG_CACHE).",
        ),
    ] = None,
) -> None:
    """Download a version's artifact, verify its sha256 and size, print its local path."""
    registry = session(ctx).open()
    mv = registry.resolve_version(common.ref(ref))
    size = mv.artifact_size if mv.artifact_uri else None
    with render.progress(f"{mv.name} {mv.version}", size, in_bytes=True) as advance:
        pulled = registry.pull_artifact(mv, output, progress=advance)
    if pulled.downloaded:
        render.message(f"Pulled {common.label(mv)} ({mv.artifact_size} bytes, sha256 verified)")
    elif not pulled.verified:
        render.message(f"note: {common.label(mv)} records no sha256: not verified")
    render.emit_text(str(pulled.path))


@app.command()
def gc(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="List what would be removed; remove nothing.")
    ] = False,
    grace: Annotated[
        float,
        typer.Option(
            "--grace",
            help="Keep stored objects younger than this many seconds (an upload of a "
            "register running now may not have its version written yet).",
            min=0,
        ),
    ] = 3600.0,
) -> None:
    """Remove stored artifacts no kept version references (retention: in registry.yaml)."""
    result = session(ctx).open().collect_garbage(dry_run=dry_run, grace_seconds=grace)
    for mv in result.released:
        render.message(f"released by retention: {common.label(mv)}")
    for obj in result.removed:
        render.emit_text(f"{obj.key}\t{obj.size}")
    verb = "Would remove" if dry_run else "Removed"
    render.message(
        f"{verb} {len(result.removed)} object(s), {result.bytes} bytes, from {result.store}; "
        f"kept {result.kept}"
    )
