"""Moving to and from MLflow: ``import mlruns``, ``import mlflow``, ``export mlflow``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelreg import render
from modelreg.cli import common
from modelreg.cli.common import PushOption, WriteFormatOption
from modelreg.cli.core import app, session
from modelreg.render import Format

if TYPE_CHECKING:
    from modelreg.mlflow_io import Reporter, Source, Summary
    from modelreg.registry import Registry


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
    return render.Column(key, key, getter=lambda record: _count(record.get(key)))


def _count(items: object) -> int:
    return len(items) if isinstance(items, list) else 0


SUMMARY_COLUMNS = (
    *render.columns("action", "models", "versions", "unchanged", "replaced"),
    _summary_count("skipped"),
    _summary_count("renamed"),
    _summary_count("remapped"),
    _summary_count("failed"),
)


def _moving(
    run_it: Callable[[Reporter, Summary], None], summary: Summary, fmt: Format | None
) -> None:
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


def _report_summary(summary: Summary, fmt: Format | None) -> None:
    record = summary.to_dict()
    done = "would be " if summary.dry_run else ""
    verb = "imported" if summary.action == "import" else "exported"
    models, versions = len(summary.models), summary.versions
    render.message(
        f"{models} model{'' if models == 1 else 's'}, "
        f"{versions} version{'' if versions == 1 else 's'} {done}{verb} "
        f"({summary.unchanged} already there, {len(summary.skipped)} skipped, "
        f"{len(summary.renamed)} renamed)"
        + (" before the interruption; run it again to finish" if summary.interrupted else "")
    )
    common.show_record(record, fmt, SUMMARY_COLUMNS)


def _import(
    registry: Registry,
    source: Source,
    model: list[str] | None,
    rename: list[str] | None,
    skip_invalid_names: bool,
    replace: bool,
    dry_run: bool,
    fmt: Format | None,
) -> None:
    from modelreg import mlflow_io

    renames = common.key_values(rename, "--rename")
    summary = mlflow_io.Summary("import", source.origin, str(registry.root))

    def run_it(reporter: Reporter, summary: Summary) -> None:
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
    ctx: typer.Context,
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
    push: PushOption = False,
) -> None:
    """Import the models of an MLflow file store (mlruns), read without MLflow."""
    from modelreg import mlflow_io

    source = mlflow_io.MlrunsSource(path)
    _import(session(ctx).open(), source, model, rename, skip_invalid_names, replace, dry_run, fmt)


@import_app.command("mlflow")
def import_mlflow(
    ctx: typer.Context,
    tracking_uri: TrackingUriOption,
    registry_uri: RegistryUriOption = None,
    model: MlflowModelOption = None,
    rename: RenameOption = None,
    skip_invalid_names: SkipInvalidOption = False,
    replace: ReplaceOption = False,
    dry_run: DryRunOption = False,
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Import the models of a live MLflow (server or database) through MLflow's client."""
    from modelreg import mlflow_io

    source = mlflow_io.open_mlflow(tracking_uri, registry_uri)
    _import(session(ctx).open(), source, model, rename, skip_invalid_names, replace, dry_run, fmt)


@export_app.command("mlflow")
def export_mlflow(
    ctx: typer.Context,
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
    experiment: Annotated[
        str,
        typer.Option(
            "--experiment",
            metavar="NAME",
            help="The MLflow experiment that gets one run per version whose local artifact "
            "is uploaded (created if missing).",
        ),
    ] = "modelreg-export",
    fmt: WriteFormatOption = None,
) -> None:
    """Export models to MLflow: versions in order (local artifacts uploaded to runs), then
    stages, aliases, tags, descriptions."""
    from modelreg import mlflow_io

    registry = session(ctx).open()
    target = mlflow_io.redact_uri(registry_uri or tracking_uri)
    summary = mlflow_io.Summary("export", str(registry.root), target)

    def run_it(reporter: Reporter, summary: Summary) -> None:
        mlflow_io.export_models(
            registry,
            tracking_uri,
            registry_uri=registry_uri,
            models=model or (),
            experiment=experiment,
            reporter=reporter,
            summary=summary,
        )

    _moving(run_it, summary, fmt)
