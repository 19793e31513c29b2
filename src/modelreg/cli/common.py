"""What the commands share: the options and arguments spelled alike everywhere, reading
``KEY=VALUE`` arguments and references, and printing a write's record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from typer._click.globals import get_current_context
from typer.models import ArgumentInfo, OptionInfo

from modelreg import render
from modelreg.cli.core import Session
from modelreg.entities import ModelVersion, RegisteredModel
from modelreg.errors import InvalidInputError
from modelreg.refs import Ref, parse_ref_args
from modelreg.render import Format

if TYPE_CHECKING:
    from modelreg.gitsync.publish import Publication

FormatOption = Annotated[
    Format,
    typer.Option("--format", "-f", help="Output format: table, json, yaml or plain."),
]
# A write says what it did in one line on stderr; its record goes to stdout only when a
# --format asks for it, so `$(modelreg register ... --format plain | cut -f2)` still works.
WriteFormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        help="Also print the record on stdout: table, json, yaml or plain "
        "(default: only a line on stderr saying what was done).",
        show_default=False,
    ),
]


def _push_requested(ctx: typer.Context, value: bool) -> bool:
    if value:
        ctx.ensure_object(Session).push = True
    return value


# On every command that changes the registry: publish the change once it is made.
CommentOption = Annotated[
    str | None, typer.Option("--comment", "-c", help="Why; recorded in the history.")
]
PushOption = Annotated[
    bool,
    typer.Option(
        "--push",
        help="Then publish the change through the git remote, as `modelreg sync` does "
        "(commit, integrate what others published, push, retry a lost race); the output "
        "shows the published numbers and hooks fire once it is published.",
        callback=_push_requested,
    ),
]


def words(metavar: str, help: str) -> ArgumentInfo:
    """A command's positional words (a reference and what follows it), shown as
    ``metavar``; the command splits them."""
    return typer.Argument(metavar=metavar, help=help, show_default=False)  # type: ignore[no-any-return]


RefArgs = Annotated[
    list[str],
    typer.Argument(
        metavar="REF",
        help="NAME, NAME VERSION (a number, 'latest', a stage or @ALIAS), NAME@ALIAS, "
        "or a models:/ URI.",
        show_default=False,
    ),
]
TagOption = Annotated[
    list[str] | None, typer.Option("--tag", "-t", help="A tag KEY=VALUE (repeatable).")
]
DescriptionOption = Annotated[
    str | None, typer.Option("--description", "-d", help="A description.")
]
AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        metavar="WHEN",
        help="Answer as the registry was at WHEN: an ISO 8601 date or time (UTC unless it "
        "has an offset, e.g. 2026-11-01T12:00Z), a time ago (7d, 12h), or a git revision "
        "(HEAD~3, a tag, a sha).",
        show_default=False,
    ),
]


# Arguments are capped by the OS and multi-line Markdown belongs in a file: each text
# option has a twin that reads the text from a file, or from stdin with '-'.
def _text_file(flag: str, what: str) -> OptionInfo:
    help = f"Read the {what} from this file ('-': standard input)."
    return typer.Option(flag, help=help, encoding="utf-8", show_default=False)  # type: ignore[no-any-return]


DescriptionFileOption = Annotated[
    typer.FileText | None, _text_file("--description-file", "description (Markdown welcome)")
]
CommentFileOption = Annotated[typer.FileText | None, _text_file("--comment-file", "comment")]


def text(value: str | None, file: TextIO | None, option: str) -> str | None:
    """The text given with ``option`` or read from the file given with ``option-file``
    (at most one of the two)."""
    if file is None:
        return value
    if value is not None:
        raise InvalidInputError(f"give either {option} or {option}-file, not both")
    return read_text(file)


def read_text(file: TextIO) -> str:
    """A text option's file, without its trailing newlines (as ``$(cat F)``)."""
    return file.read().rstrip("\n")


def key_values(items: list[str] | None, what: str) -> dict[str, str]:
    """``KEY=VALUE`` arguments as a dict."""
    result: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"invalid {what} {item!r}: expected KEY=VALUE")
        result[key] = value
    return result


def numbers(items: list[str] | None, what: str) -> dict[str, int | float | str]:
    """``KEY=VALUE`` arguments as a dict, values that look numeric as numbers."""
    return {key: _number(value) for key, value in key_values(items, what).items()}


def _number(text: str) -> int | float | str:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def metrics(items: list[str] | None) -> dict[str, int | float]:
    """``KEY=NUMBER`` arguments as a dict."""
    values: dict[str, int | float] = {}
    for key, value in numbers(items, "metric").items():
        if isinstance(value, str):
            raise InvalidInputError(f"metric {key!r} must be a number, not {value!r}")
        values[key] = value
    return values


def ref(args: list[str], *, allow_model: bool = True) -> Ref:
    """The model or version that ``args`` (``REF...``) name."""
    return parse_ref_args(args, allow_model=allow_model)


def ref_and_last(args: list[str], last: str) -> tuple[Ref, str]:
    """``NAME [VERSION] LAST``: a version reference followed by one more argument."""
    if len(args) < 2:
        raise InvalidInputError(f"expected NAME VERSION {last}")
    return ref(args[:-1], allow_model=False), args[-1]


def ref_and_tags(args: list[str]) -> tuple[Ref, list[str]]:
    """``NAME [VERSION] KEY=VALUE...``: the reference, then the tags."""
    ref_args = [args[0]] if args else []
    rest = args[1:]
    if rest and "=" not in rest[0]:
        ref_args.append(rest.pop(0))
    return ref(ref_args), rest


def show(entity: RegisteredModel | ModelVersion, fmt: Format | None) -> None:
    """A write's record, when a --format asked for it (with --push: as published, once
    it is)."""
    if fmt is None:
        return
    publishing = _publishing()
    if publishing is None:
        render.emit_entity(entity, fmt)
    else:
        publishing.deferred.append(lambda: render.emit_entity(publishing.as_published(entity), fmt))


def show_record(
    record: Mapping[str, object] | Sequence[Mapping[str, object]],
    fmt: Format | None,
    columns: Sequence[render.Column],
) -> None:
    """A write's record that is not an entity, when a --format asked for it (with
    --push: once published, a version number in it as published)."""
    if fmt is None:
        return
    publishing = _publishing()
    if publishing is None:
        render.emit(record, fmt, columns)
        return

    def published() -> None:
        render.emit(_as_published(record, publishing.publication), fmt, columns)

    publishing.deferred.append(published)


def _publishing() -> Session | None:
    """This invocation's session when it publishes its change (--push)."""
    ctx = get_current_context(silent=True)
    found = ctx.find_root().obj if ctx is not None else None
    return found if isinstance(found, Session) and found.push else None


def _as_published(
    record: Mapping[str, object] | Sequence[Mapping[str, object]],
    publication: Publication | None,
) -> Mapping[str, object] | Sequence[Mapping[str, object]]:
    if not isinstance(record, Mapping):
        return [_as_published(one, publication) for one in record]  # type: ignore[misc]
    name, version = record.get("name"), record.get("version")
    if publication is None or not isinstance(name, str) or not isinstance(version, int):
        return record
    return {**record, "version": publication.final_version(name, version)}


PUBLICATION_COLUMNS = (
    *render.columns("remote", "branch", "commit", "pushed", "integrated"),
    render.Column("renumbered", "renumbered", "list"),
)


def publication_record(publication: Publication) -> dict[str, object]:
    """What ``sync`` did, as its --format shows it."""
    return {
        "remote": publication.remote,
        "branch": publication.branch,
        "commit": publication.commit,
        "pushed": publication.pushed,
        "committed": publication.committed,
        "integrated": publication.integrated,
        "attempts": publication.attempts,
        "renumbered": [
            {"name": name, "from": old, "to": new} for name, old, new in publication.renumbered
        ],
        "notes": list(publication.notes),
        "events": len(publication.events),
    }


def label(mv: ModelVersion) -> str:
    """``NAME version N``, as messages name a version."""
    return f"{mv.name} version {mv.version}"


def exit_with(code: int) -> None:
    """End a command that printed its output with ``code`` (when not 0)."""
    if code:
        raise typer.Exit(code)
