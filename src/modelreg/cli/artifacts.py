"""Artifacts that travel: ``pull`` and ``gc``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelreg import render
from modelreg.cli import common
from modelreg.cli.common import RefArgs, WriteFormatOption
from modelreg.cli.core import app, session
from modelreg.render import Format


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
    fmt: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="Output format (default: the local path alone)."),
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
    if fmt is None:
        render.emit_text(str(pulled.path))
        return
    record = {
        "name": mv.name,
        "version": mv.version,
        "path": str(pulled.path),
        "sha256": mv.artifact_sha256,
        "size": mv.artifact_size,
        "downloaded": pulled.downloaded,
        "verified": pulled.verified,
    }
    render.emit(record, fmt, render.columns(*record))


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
    fmt: WriteFormatOption = None,
) -> None:
    """Remove stored artifacts no kept version references (retention: in registry.yaml).

    --dry-run lists what would go (key and bytes, tab-separated unless --format says
    otherwise); a real run lists it with --format."""
    result = session(ctx).open().collect_garbage(dry_run=dry_run, grace_seconds=grace)
    for mv in result.released:
        render.message(f"released by retention: {common.label(mv)}")
    if fmt is not None or dry_run:
        removed = [{"key": obj.key, "size": obj.size} for obj in result.removed]
        render.emit(removed, fmt or Format.plain, render.columns("key", "size"))
    verb = "Would remove" if dry_run else "Removed"
    render.message(
        f"{verb} {len(result.removed)} object(s), {result.bytes} bytes, from {result.store}; "
        f"kept {result.kept}"
    )
