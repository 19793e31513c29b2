"""Looking after the folder: ``check``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelreg import render
from modelreg.cli.common import FormatOption
from modelreg.cli.core import app, session
from modelreg.render import Format

if TYPE_CHECKING:
    from modelreg.check import CheckReport
    from modelreg.registry import Registry


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
    artifacts: Annotated[
        bool,
        typer.Option(
            "--artifacts",
            help="Also verify every version's artifact: a local one against its recorded "
            "sha256 and size, a stored one is in the store with its size; reports missing "
            "and changed ones (a progress bar at a terminal).",
        ),
    ] = False,
    provenance: Annotated[
        bool,
        typer.Option(
            "--provenance",
            help="Also verify the folder's git history: every history entry only ever "
            "added, by a commit of the person it names (signed, with require_signed), and "
            "stage changes within the rules at that commit.",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="REV",
            help="With --provenance: only the commits after REV (a pull request: "
            "`--since $(git merge-base origin/main HEAD)`).",
        ),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Verify the whole registry folder (exit 7 on problems); for CI and pre-commit."""
    from modelreg.check import check_registry
    from modelreg.errors import CheckFailedError
    from modelreg.store import find_root

    if since is not None and not provenance:
        from modelreg.errors import InvalidInputError

        raise InvalidInputError("--since goes with --provenance")
    root = find_root(session(ctx).registry_path)
    report = check_registry(root, repair=repair, rules=rules)
    if artifacts:
        report = _with_artifacts(report, session(ctx).open())
    if provenance:
        import dataclasses

        from modelreg.provenance import verify

        notes = list(report.notes)
        found = verify(report.root, since, notes)
        report = dataclasses.replace(
            report, findings=report.findings + tuple(found), notes=tuple(notes)
        )
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


def _with_artifacts(report: CheckReport, registry: Registry) -> CheckReport:
    """``report`` and the problems of the versions' artifacts."""
    import dataclasses

    from modelreg.check import Finding

    total = len(registry.all_versions())
    with render.progress("verifying artifacts", total) as advance:
        problems = registry.verify_artifacts(advance)
    found = tuple(Finding(Path(p.where), p.problem, p.fix) for p in problems)
    return dataclasses.replace(report, findings=report.findings + found)
