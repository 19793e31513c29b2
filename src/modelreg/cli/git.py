"""The git commands: ``merge-file`` (the merge driver git runs), ``git-setup`` (which
installs it), ``changes`` (the events between two revisions), ``merge-continue`` (finish
a merge or rebase git stopped on registry files) and ``sync`` (publish the registry through
its git remote); the work is in ``merge_driver.py`` and the ``gitsync`` package."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated

import typer

from modelreg import merge_driver, merging, render
from modelreg.cli import common
from modelreg.cli.common import FormatOption, WriteFormatOption
from modelreg.cli.core import app, report_publication, session
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.render import Format
from modelreg.store import find_root

_MERGE_COLUMNS = [
    render.Column("path", "path"),
    render.Column("merged", "merged"),
    render.Column("conflicts", "conflicts", "list"),
]
_SETUP_COLUMNS = [
    render.Column("attributes", "attributes"),
    render.Column("driver", "driver"),
]


@app.command("merge-file")
def merge_file(
    base: Annotated[Path, typer.Argument(help="The common ancestor's file (git's %O).")],
    ours: Annotated[
        Path, typer.Argument(help="Our file (git's %A); the merged file is written here.")
    ],
    theirs: Annotated[Path, typer.Argument(help="Their file (git's %B).")],
    path: Annotated[str, typer.Argument(help="The file's path in the repository (git's %P).")],
    fmt: WriteFormatOption = None,
) -> None:
    """Merge one registry file by meaning: git's merge driver (installed by git-setup).

    Exit 0 with the merged file in OURS; exit 1 with OURS holding conflict markers, and on
    stderr what collided and what to do."""
    done = merge_driver.merge_file(base, ours, theirs, path)
    if fmt is not None:
        record = {"path": path, "merged": done.result.ok, "conflicts": list(done.result.conflicts)}
        render.emit(record, fmt, _MERGE_COLUMNS)
    if done.result.ok:
        return
    render.error(f"cannot merge {path} by meaning:")
    for reason in done.result.conflicts:
        render.message(f"  - {reason}")
    for line in _what_to_do(done):
        render.message(line)
    raise typer.Exit(1)


def _what_to_do(done: merge_driver.FileMerge) -> list[str]:
    path = done.path
    sides = (
        "In this rebase, 'ours' is the branch you rebase onto (already published, as a rule) "
        "and 'theirs' is your commit being replayed."
        if done.rebasing
        else "In this merge, 'ours' is your branch and 'theirs' the one merged in (in "
        "`git pull`, the published one)."
    )
    if not done.result.collision:
        return [
            sides,
            f"The file holds git's conflict markers: edit {path} keeping what both sides "
            "meant and every history entry of both, then `modelreg check` and "
            f"`git add {path}`.",
        ]
    if merge_driver.registry_format(path) >= 2:
        return [
            sides,
            "Run `modelreg merge-continue`: it merges the whole registry by meaning and "
            "gives the version created on the unpublished side the next free number, with "
            "everything it carries (aliases and stages set on it there included), then "
            "finishes the merge or rebase.",
        ]
    published = "--ours" if done.rebasing else "--theirs"
    other = ":3" if done.rebasing else ":2"
    both = (
        "Both sides are kept by git until you resolve: `git show :2:PATH` is ours, "
        "`git show :3:PATH` theirs (PATH: " + path + ")."
    )
    if done.result.reused:
        folder = path.rpartition("/")[0] + "/versions" if "/" in path else "versions"
        files = ", ".join(f"{folder}/{number}.yaml" for number in done.result.reused)
        return [
            sides,
            "A deleted number is never used again, so the other version under it needs a "
            f"new number. Keep the published model.yaml (`git checkout {published} -- "
            f"{path}`); save the unpublished version file in the work tree ({files}), "
            "`git rm` it and register its artifact again (with its run id, tags, metrics and "
            "params) so that it gets the next free number; then `modelreg check` and "
            f"`git add {path}`.",
        ]
    if merging.document_kind(path) == "model":
        return [
            sides,
            both,
            "Keep the model that is already published (`git checkout "
            f"{published} -- {path}`), then redo the other one's description, tags and "
            f"aliases with modelreg (`git show {other}:{path}`); then `modelreg check` and "
            f"`git add {path}`.",
        ]
    return [
        sides,
        both,
        "modelreg does not renumber a version in a merge yet. Keep the version that is "
        f"already published (`git checkout {published} -- {path}`), then register the other "
        f"one's artifact again (its source, run id, tags, metrics, params: "
        f"`git show {other}:{path}`) so it gets the next free number, and tell whoever used "
        "its old number.",
        "Aliases and stages set on this number in model.yaml merged cleanly but may mean "
        "the other version: review `git diff` of model.yaml. Then `modelreg check` and "
        f"`git add {path}`.",
    ]


@app.command("git-setup")
def git_setup(ctx: typer.Context, fmt: WriteFormatOption = None) -> None:
    """Install the merge driver for the registry's files: .gitattributes in the registry
    and merge.modelreg.* in the repository's git config (run once in every clone)."""
    registry = ctx.find_root().params.get("registry")
    root = find_root(registry)
    setup = merge_driver.install(root)
    where = setup.attributes
    if setup.attributes_written:
        render.message(f"Wrote {where}: the registry's YAML files merge with merge=modelreg")
    else:
        render.message(f"{where} already routes the registry's files to merge=modelreg")
    for key, value in setup.config.items():
        changed = "Set" if key in setup.config_changed else "Already set:"
        render.message(f"{changed} git config {key} = {value}")
    if setup.attributes_written:
        render.message(f"Commit {where.name} so that every clone uses it; git config is per clone.")
    if fmt is not None:
        record = {
            "attributes": str(where.resolve()),
            "driver": setup.config[f"merge.{merge_driver.DRIVER_NAME}.driver"],
        }
        render.emit(record, fmt, _SETUP_COLUMNS)


def _of_entity(key: str) -> Callable[[Mapping[str, object]], object]:
    """A column's getter: ``key`` of an event's entity."""

    def get(record: Mapping[str, object]) -> object:
        entity = record.get("entity")
        return entity.get(key) if isinstance(entity, Mapping) else None

    return get


_EVENT_COLUMNS = [
    render.Column("time", "timestamp", "time"),
    render.Column("event", "event", "key"),
    render.Column("name", "name", "key", getter=_of_entity("name")),
    render.Column("version", "version", "key", getter=_of_entity("version")),
    render.Column("user", "user"),
    render.Column("data", "data", "mapping"),
]


@app.command("changes")
def changes(
    ctx: typer.Context,
    span: Annotated[
        str,
        typer.Argument(
            metavar="REV1..REV2",
            help="The revisions: the events of what REV2 has and REV1 does not (git's "
            "REV1..REV2, e.g. the before and after of a push; a REV1 of zeros: all of "
            "REV2's history).",
        ),
    ],
    fmt: FormatOption = Format.json,
    deliver: Annotated[
        bool,
        typer.Option(
            "--deliver",
            help="Also hand each event to the registry's hooks, as a write would (once "
            "each; the hooks must be trusted on this machine).",
        ),
    ] = False,
) -> None:
    """Print the events between two git revisions of the registry (json: a list of the
    events as hooks get them), derived from the history entries REV2 added."""
    from modelreg.gitsync import changes as changes_module
    from modelreg.gitsync import trees

    old_rev, sep, new_rev = span.partition("..")
    if not sep or not old_rev or not new_rev or new_rev.startswith("."):
        raise InvalidInputError(f"expected REV1..REV2, not {span!r}")
    state = session(ctx)
    root = find_root(state.registry_path)
    where = trees.place(root)
    # All zeros: "no commit" (a CI push event's `before` for a new branch): everything.
    start = old_rev.strip("0") != ""
    for rev in (old_rev, new_rev) if start else (new_rev,):
        if trees.rev_parse(where.top, rev) is None:
            raise NotFoundError(f"{rev!r} names no commit in {where.top}")
    found = changes_module.events_between(
        trees.read_tree(where.top, old_rev, where.prefix) if start else {},
        trees.read_tree(where.top, new_rev, where.prefix),
    )
    render.emit([event.to_dict() for event in found], fmt, _EVENT_COLUMNS)
    if deliver and found:
        registry = state.open()
        for event in found:
            for subscriber in list(registry.subscribers):
                subscriber(event)
        state.finish()


_CONTINUE_COLUMNS = [
    render.Column("mode", "mode", "key"),
    render.Column("commit", "commit", "key"),
    render.Column("renumbered", "renumbered", "list"),
    render.Column("unresolved", "unresolved", "list"),
]


@app.command("merge-continue")
def merge_continue(ctx: typer.Context, fmt: WriteFormatOption = None) -> None:
    """Finish a git merge, pull or rebase that stopped on registry files, losslessly: the
    whole registry merged by meaning, versions created here under numbers published
    meanwhile renumbered with everything they carry; then the merge is committed (a
    rebase of registry-only commits becomes one commit on top of the upstream)."""
    from modelreg.gitsync import aftermerge

    state = session(ctx)
    done = aftermerge.finish(find_root(state.registry_path))
    for model, old, new in done.integration.renumbered:
        render.message(f"Renumbered {model} version {old} -> {new}")
    for note in done.integration.notes:
        render.message(f"Note: {note}")
    if done.replaced_rebase:
        render.message(
            "Your registry commits were integrated onto the upstream as one commit "
            f"({done.commit}); the rebase they were in was aborted and replaced by it."
        )
    elif done.merged_instead:
        render.message(
            "Your commits change files outside the registry too: the rebase was aborted "
            "and the upstream merged instead, with the registry integrated (a merge "
            "commit, not a linear history)."
        )
    if fmt is not None:
        record = {
            "mode": done.mode,
            "commit": done.commit,
            "renumbered": [f"{m}:{old}->{new}" for m, old, new in done.integration.renumbered],
            "unresolved": done.unresolved,
        }
        render.emit(record, fmt, _CONTINUE_COLUMNS)
    if done.unresolved:
        render.error(
            "the registry is integrated and staged; other files still have conflicts: "
            + ", ".join(done.unresolved)
            + ". Resolve them, `git add` them and `git commit`."
        )
        raise typer.Exit(4)
    render.message(f"Done: {done.mode} committed as {done.commit}")


@app.command()
def sync(ctx: typer.Context, fmt: WriteFormatOption = None) -> None:
    """Publish the registry through its git remote: commit its pending changes, integrate
    what others published, push (retrying a lost race), then fire its hooks once.

    Only the registry folder is published: unpushed commits that change other files are
    refused (exit 4; push your code yourself). Exit 6 when others kept publishing first."""
    publication = session(ctx).publish_now()
    report_publication(publication)
    common.show_record(common.publication_record(publication), fmt, common.PUBLICATION_COLUMNS)
