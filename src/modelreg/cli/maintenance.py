"""Looking after the folder: ``check``."""

from __future__ import annotations

from typing import Annotated

import typer

from modelreg import render
from modelreg.cli.common import FormatOption
from modelreg.cli.core import app, session
from modelreg.render import Format


@app.command()
def check(
    ctx: typer.Context,
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

    report = check_registry(find_root(session(ctx).registry_path), repair=repair, rules=rules)
    for note in report.notes:
        render.message(f"note: {note}")
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
