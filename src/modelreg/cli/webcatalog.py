"""``modelreg catalog``: build the static catalog site, or preview it on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelreg import render
from modelreg.cli import common
from modelreg.cli.common import WriteFormatOption
from modelreg.cli.core import app, session
from modelreg.registry import Registry

catalog_app = typer.Typer(
    help="The catalog: a static web site of the registry (models, versions, metrics, history).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(catalog_app, name="catalog")

BUILD_COLUMNS = render.columns("out", "models", "versions", "written", "unchanged", "removed")
SERVE_COLUMNS = render.columns("url", "out")


def _summary(result: object) -> str:
    from modelreg.webcatalog import BuildResult

    assert isinstance(result, BuildResult)
    text = (
        f"Catalog of {result.models} models and {result.versions} versions in {result.out}: "
        f"{result.written} files written, {result.unchanged} unchanged, {result.removed} removed"
    )
    if result.skipped:
        text += f" ({len(result.skipped)} corrupt files left out; `modelreg check` says more)"
    return text


@catalog_app.command("build")
def catalog_build(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Argument(
            help="The folder of the site (made if missing; an earlier build's is updated).",
            show_default=False,
        ),
    ],
    fmt: WriteFormatOption = None,
) -> None:
    """Write the catalog: a static site to open from disk or publish on any static host."""
    from modelreg import webcatalog

    result = webcatalog.build(Registry(session(ctx).registry_path, hooks=False), out)
    for problem in result.skipped:
        render.warning(problem)
    render.message(_summary(result))
    common.show_record(result.to_dict(), fmt, BUILD_COLUMNS)


@catalog_app.command("serve")
def catalog_serve(
    ctx: typer.Context,
    port: Annotated[
        int,
        typer.Option(
            "--port", "-p", min=0, max=65535, help="The port on 127.0.0.1 (0: any free port)."
        ),
    ] = 8000,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Build into this folder and keep it (default: a temporary folder, removed "
            "on exit).",
            show_default=False,
        ),
    ] = None,
    fmt: WriteFormatOption = None,
) -> None:
    """Preview the catalog on http://127.0.0.1:PORT/, rebuilt when the registry changes
    (checked every second); Ctrl-C stops."""
    from modelreg.webcatalog import BuildResult, serve

    root = Registry(session(ctx).registry_path, hooks=False).root

    def ready(url: str, folder: Path, result: BuildResult) -> None:
        render.message(_summary(result))
        render.message(f"Serving the catalog of {root} at {url} (Ctrl-C stops)")
        common.show_record({"url": url, "out": str(folder)}, fmt, SERVE_COLUMNS)

    def rebuilt(result: BuildResult) -> None:
        render.message("The registry changed: " + _summary(result))

    def failed(exc: Exception) -> None:
        render.warning(f"the catalog was not rebuilt: {exc}")

    serve.serve(root, out=out, port=port, on_ready=ready, on_build=rebuilt, on_error=failed)
    render.message("Stopped.")
