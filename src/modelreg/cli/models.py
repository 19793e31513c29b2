"""Making and reading models and versions: ``init``, ``create``, ``register``, ``list``,
``search``, ``describe``, ``tag``, ``update``. The reads are ``quick``'s functions, which the
fast path runs without Typer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelreg import quick, render
from modelreg.cli import common
from modelreg.cli.common import (
    AtOption,
    DescriptionFileOption,
    DescriptionOption,
    FormatOption,
    PushOption,
    RefArgs,
    TagOption,
    WriteFormatOption,
)
from modelreg.cli.core import app, session
from modelreg.entities import ModelVersion, RegisteredModel
from modelreg.errors import InvalidInputError
from modelreg.names import validate_alias
from modelreg.registry import Registry
from modelreg.render import Format


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Folder to create the registry in (default: the global --registry, else the "
            "working directory; $MODELREG_REGISTRY names a registry to use, not one to make).",
            show_default=False,
        ),
    ] = None,
    stage: Annotated[
        list[str] | None,
        typer.Option(
            "--stage",
            help="A stage of this registry (repeatable; default: "
            "None, Staging, Production, Archived).",
        ),
    ] = None,
    fmt: WriteFormatOption = None,
) -> None:
    """Create a registry folder."""
    # `modelreg --registry DIR init`, as every other command is given its registry: the
    # folder made is DIR, never the working directory.
    given = session(ctx).registry_path
    if path is None:
        path = Path(given) if given is not None else Path()
    elif given is not None and Path(given).resolve() != path.resolve():
        raise InvalidInputError(
            f"two folders to create the registry in: --registry {given} and {path}; give one"
        )
    registry = Registry.init(path, stages=stage)
    render.message(f"Created a registry in {registry.root}")
    common.show_record({"path": str(registry.root.resolve())}, fmt, [render.Column("path", "path")])


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The model's name.")],
    description: DescriptionOption = None,
    description_file: DescriptionFileOption = None,
    tag: TagOption = None,
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Create a registered model."""
    model = (
        session(ctx)
        .open()
        .create_registered_model(
            name,
            tags=common.key_values(tag, "tag"),
            description=common.text(description, description_file, "--description"),
        )
    )
    render.message(f"Created model {model.name}")
    common.show(model, fmt)


@app.command()
def rename(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The model's name.")],
    new_name: Annotated[str, typer.Argument(metavar="NEW_NAME", help="Its new name.")],
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Rename a registered model: its folder, versions, aliases and history move along."""
    model = session(ctx).open().rename_registered_model(name, new_name)
    render.message(f"Renamed model {name} to {model.name}")
    common.show(model, fmt)


@app.command()
def copy(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        common.words(
            "REF DST_NAME",
            "NAME VERSION DST_NAME (or NAME@ALIAS DST_NAME, models:/NAME/N DST_NAME).",
        ),
    ],
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Copy a version to the next version of another model (created if it is new), with
    its source, run, tags, metrics, params, description and lineage; the copy records
    which version it came from."""
    ref, dst_name = common.ref_and_last(args, "DST_NAME")
    registry = session(ctx).open()
    original = registry.resolve_version(ref)
    copied = registry.copy_model_version(f"models:/{original.name}/{original.version}", dst_name)
    render.message(f"Copied {common.label(original)} to {common.label(copied)}")
    common.show(copied, fmt)


@app.command()
def register(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The model's name (created if it is new).")],
    source: Annotated[str, typer.Argument(help="Path or URI of the model artifact.")],
    run_id: Annotated[str | None, typer.Option("--run-id", help="The training run's id.")] = None,
    run_link: Annotated[
        str | None, typer.Option("--run-link", help="A link to the training run.")
    ] = None,
    description: DescriptionOption = None,
    description_file: DescriptionFileOption = None,
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
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset",
            help="A data set it was trained on, NAME=PATH_OR_URI (repeatable): a local file "
            "or folder is hashed (DVC's md5 when DVC tracks it), a URI is recorded as given "
            "(URI#sha256:HEX to give its digest).",
        ),
    ] = None,
    allow_duplicate: Annotated[
        bool,
        typer.Option(
            "--allow-duplicate",
            help="Register even when the newest version already has this exact artifact.",
        ),
    ] = False,
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Register a new version of a model."""
    description = common.text(description, description_file, "--description")
    registry = session(ctx).open()
    # A bad --stage or --alias must be refused before the version is written.
    if stage is not None:
        registry.config.canonical_stage(stage)
    for each in alias or []:
        validate_alias(each)
    datasets = common.datasets(dataset)
    result = registry.register(
        name,
        source,
        run_id=run_id,
        run_link=run_link,
        description=description,
        tags=common.key_values(tag, "tag"),
        metrics=common.metrics(metric),
        params=common.numbers(param, "param"),
        datasets=datasets,
        allow_duplicate=allow_duplicate,
        create_model=True,
    )
    mv = result.version
    for warning in result.warnings:
        render.message(warning)
    if result.created:
        render.message(f"Registered {common.label(mv)}")
    else:
        same = "same source and sha256" if mv.artifact_sha256 else "same source and run id"
        render.message(
            f"{common.label(mv)} already has this artifact ({same}); "
            "not registering it again (use --allow-duplicate to force a new version)"
        )
    # Also for an existing version: re-running the same `register --alias candidate`
    # leaves the registry as the command line describes it. Successive changes, not
    # one: the version stays registered when the rules refuse the stage (versions.py).
    if stage is not None:
        mv = registry.transition_model_version_stage(name, mv.version, stage)
    for each in alias or []:
        mv = registry.set_registered_model_alias(name, each, mv.version)
    common.show(mv, fmt)


# `list` and `search`: which fields to show (modelreg.columns).
ColumnsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--columns",
        "-C",
        help="Show only these fields, in this order, in every format: comma-separated "
        "and/or repeated, e.g. name,version,stage,metrics.auc,params.lr,tags.team.",
        show_default=False,
    ),
]


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="A model: list its versions instead of the models.")
    ] = None,
    fmt: FormatOption = Format.table,
    columns: ColumnsOption = None,
    at: AtOption = None,
) -> None:
    """List the models, or the versions of one model."""
    code = quick.list_models_or_versions(
        session(ctx).registry_path, name, fmt, columns=columns, at=at
    )
    common.exit_with(code)


@app.command()
def search(
    ctx: typer.Context,
    filter_string: Annotated[
        str | None,
        typer.Argument(
            metavar="[FILTER]",
            help="A filter expression, e.g. \"tags.team = 'growth' AND metrics.accuracy >= 0.9\" "
            "(default: everything).",
            show_default=False,
        ),
    ] = None,
    models: Annotated[
        bool, typer.Option("--models", help="Search registered models instead of versions.")
    ] = False,
    order_by: Annotated[
        list[str] | None,
        typer.Option(
            "--order-by", "-o", help="KEY [ASC|DESC] (repeatable), e.g. 'metrics.f1 DESC'."
        ),
    ] = None,
    max_results: Annotated[
        int | None,
        typer.Option(
            "--max-results",
            "-n",
            help="At most N results (MLflow's defaults: 10000 versions, 100 models).",
        ),
    ] = None,
    page_token: Annotated[
        str | None, typer.Option("--page-token", help="Continue from a previous page.")
    ] = None,
    fmt: FormatOption = Format.table,
    columns: ColumnsOption = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            help="Only the versions trained on this data: a local path (hashed; DVC's md5 "
            "too when DVC tracks it), a URI, or a digest (sha256:HEX, md5:HEX or bare hex).",
        ),
    ] = None,
) -> None:
    """Search versions (or models) with the filter language; the next page's token goes
    to stderr."""
    code = quick.search(
        session(ctx).registry_path,
        filter_string,
        models=models,
        order_by=order_by,
        max_results=max_results,
        page_token=page_token,
        fmt=fmt,
        columns=columns,
        dataset=dataset,
    )
    common.exit_with(code)


@app.command()
def describe(
    ctx: typer.Context, ref: RefArgs, fmt: FormatOption = Format.table, at: AtOption = None
) -> None:
    """Show a model, or one version."""
    quick.describe(session(ctx).registry_path, ref, fmt, at)


@app.command()
def tag(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        common.words(
            "REF KEY=VALUE...", "NAME [VERSION] KEY=VALUE...: the model or version, then tags."
        ),
    ],
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A tag key to remove (repeatable).")
    ] = None,
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Set or remove tags of a model or of a version."""
    ref, items = common.ref_and_tags(args)
    tags = common.key_values(items, "tag")
    if not tags and not remove:
        raise InvalidInputError("nothing to do: give KEY=VALUE tags or --remove KEY")
    registry = session(ctx).open()
    entity: RegisteredModel | ModelVersion
    if ref.is_model:
        entity = registry.set_registered_model_tags(ref.name, tags, remove or [])
        entity = registry.get_registered_model(ref.name)
        render.message(f"Updated the tags of model {ref.name}")
    else:
        mv = registry.resolve_version(ref)
        entity = registry.set_model_version_tags(mv.name, mv.version, tags, remove or [])
        render.message(f"Updated the tags of {common.label(entity)}")
    common.show(entity, fmt)


@app.command()
def update(
    ctx: typer.Context,
    ref: RefArgs,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="The new description.")
    ] = None,
    description_file: DescriptionFileOption = None,
    fmt: WriteFormatOption = None,
    push: PushOption = False,
) -> None:
    """Change the description of a model or of a version."""
    description = common.text(description, description_file, "--description")
    if description is None:
        raise InvalidInputError("expected --description TEXT or --description-file FILE")
    registry = session(ctx).open()
    target = common.ref(ref)
    entity: RegisteredModel | ModelVersion
    if target.is_model:
        entity = registry.update_registered_model(target.name, description)
        render.message(f"Updated the description of model {target.name}")
    else:
        mv = registry.resolve_version(target)
        entity = registry.update_model_version(mv.name, mv.version, description)
        render.message(f"Updated the description of {common.label(entity)}")
    common.show(entity, fmt)
