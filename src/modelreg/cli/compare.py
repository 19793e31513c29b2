"""Comparing versions: ``diff`` (two versions, every difference) and ``compare`` (the
metrics of many versions side by side); the work is in :mod:`modelreg.compare`."""

from __future__ import annotations

from typing import Annotated

import typer

from modelreg import compare as comparing
from modelreg import render
from modelreg.cli import common
from modelreg.cli.core import app, session
from modelreg.errors import NotFoundError
from modelreg.refs import parse_ref, parse_ref_pair
from modelreg.render import ReportFormat

ReportFormatOption = Annotated[
    ReportFormat,
    typer.Option(
        "--format",
        "-f",
        help="Output format: table, json, yaml, plain or markdown (a pull-request comment).",
    ),
]


@app.command()
def diff(
    ctx: typer.Context,
    refs: Annotated[
        list[str],
        common.words(
            "REF REF",
            "Two versions, each NAME, NAME VERSION, NAME@ALIAS or a models:/ URI "
            "(NAME V1 V2: two versions of one model).",
        ),
    ],
    fmt: ReportFormatOption = ReportFormat.table,
) -> None:
    """Show what differs from one version to another: metrics (with deltas), params, tags,
    stage, aliases, description, lineage and artifact."""
    one, other = parse_ref_pair(refs)
    render.emit_diff(session(ctx).open().diff(one, other).to_dict(), fmt)


@app.command("compare")
def compare_versions(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The model.")],
    versions: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[VERSION]...",
            help="The versions, in this order: numbers, 'latest', stages or @ALIAS "
            "(default: every version, oldest first).",
            show_default=False,
        ),
    ] = None,
    metrics: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="A metric to show (repeatable; default: every one)."),
    ] = None,
    last: Annotated[
        int | None,
        typer.Option("--last", "-n", min=1, help="Only the newest N of the versions."),
    ] = None,
    fmt: ReportFormatOption = ReportFormat.table,
) -> None:
    """Show the metrics of many versions side by side, with a trend (sparkline) per metric
    in the table."""
    registry = session(ctx).open()
    if versions:
        chosen = [registry.resolve_version(parse_ref(name, version)) for version in versions]
    else:
        chosen = registry.list_versions(name)
    if last is not None:
        chosen = chosen[-last:]
    if not chosen:
        raise NotFoundError(f"model '{name}' has no versions to compare")
    comparison = comparing.side_by_side(name, chosen, metrics or ())
    render.emit_comparison(comparison.to_dict(), fmt)
