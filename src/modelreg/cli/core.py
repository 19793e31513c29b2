"""The root of the ``modelreg`` command line: the Typer app, its global options, the
per-invocation :class:`Session` (Typer's ``ctx.obj``), and the class every command and
group is made of — :class:`_Funnel` sends whatever a command lets out through the one
error funnel (``modelreg.funnel``) that the fast path uses too.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

# Typer 0.28 (pinned in pyproject.toml) carries its own copy of Click.
from typer._click import Context, Parameter
from typer._click.exceptions import MissingParameter, NoSuchOption
from typer.core import TyperArgument, TyperCommand, TyperGroup

from modelreg import funnel, render
from modelreg._version import __version__
from modelreg.errors import HookDeliveryError
from modelreg.registry import Registry

if TYPE_CHECKING:
    from modelreg.entities import ModelVersion, RegisteredModel
    from modelreg.gitsync.publish import Publication
    from modelreg.hooks import DeliveryResult


# How the commands open the registry they change: ``Registry``. A test puts a factory
# here that passes the registry its own clock (``functools.partial(Registry, clock=...)``).
registry_factory: Callable[..., Registry] = Registry


@dataclass
class Session:
    """One invocation of ``modelreg``: what its global options said, and the hook
    deliveries that did not happen (failed, or skipped as untrusted) while it ran."""

    registry_path: str | None = None
    show_traceback: bool = False
    no_hooks: bool = False
    strict_hooks: bool = False
    hook_failures: list[DeliveryResult] = field(default_factory=list)
    # --push: the command's change is published once it is made (``publish_now``); its
    # record is printed after that, with the published numbers, and its hooks fire then.
    push: bool = False
    publication: Publication | None = None
    deferred: list[Callable[[], None]] = field(default_factory=list)

    def open(self) -> Registry:
        """The registry, with its hooks subscribed to its events (unless --no-hooks, or
        --push: then the hooks hear the changes once they are published)."""
        return self._open(hooks=not self.no_hooks and not self.push)

    def _open(self, *, hooks: bool) -> Registry:
        registry = registry_factory(
            self.registry_path,
            hooks=hooks,
            on_hook_result=self._hook_result,
            on_hooks_untrusted=self._hooks_untrusted,
        )
        registry.on_identity_warning = render.warning
        return registry

    def publish_now(self) -> Publication:
        """Publish the registry (``modelreg sync``); its hooks hear what was published."""
        self.publication = self._open(hooks=not self.no_hooks).publish()
        return self.publication

    def as_published(
        self, entity: RegisteredModel | ModelVersion
    ) -> RegisteredModel | ModelVersion:
        """``entity`` as it was published: read again, under its final number."""
        from modelreg import structs
        from modelreg.entities import ModelVersion
        from modelreg.errors import NotFoundError

        if self.publication is None:
            return entity
        reader = registry_factory(self.registry_path, hooks=False)
        try:
            if isinstance(entity, ModelVersion):
                number = self.publication.final_version(entity.name, entity.version)
                try:
                    return reader.get_model_version(entity.name, number)
                except NotFoundError:  # deleted: the record as it was, renumbered
                    return structs.replace(entity, version=number)
            return reader.get_registered_model(entity.name)
        except NotFoundError:
            return entity

    def _hook_result(self, result: DeliveryResult) -> None:
        """A failed delivery is one line on stderr naming the hook; the change stays made."""
        if not result.ok:
            self.hook_failures.append(result)
        if result.status != "failed":
            return
        line = f"hook '{result.hook}' failed for {result.event}: {result.detail}"
        (render.error if self.strict_hooks else render.warning)(line)

    def _hooks_untrusted(self, names: list[str]) -> None:
        from modelreg.hooks import untrusted_notice

        (render.error if self.strict_hooks else render.warning)(untrusted_notice(names))

    def finish(self) -> None:
        """With --push, publish the change, then print what the command deferred. With
        --strict-hooks, a delivery that did not happen fails the command (exit 8), after
        the change it made."""
        if self.push:
            report_publication(self.publish_now())
            for show in self.deferred:
                show()
        if self.strict_hooks and self.hook_failures:
            count = len(self.hook_failures)
            raise HookDeliveryError(
                f"{count} hook deliver{'y' if count == 1 else 'ies'} did not happen "
                "(--strict-hooks); the change itself was made and is kept"
            )


def report_publication(publication: Publication) -> None:
    """What a publication did, in lines on stderr."""
    where = f"{publication.remote}/{publication.branch}"
    if publication.committed:
        render.message(f"Committed the registry's changes ({publication.committed[:12]})")
    if publication.integrated:
        count = publication.integrated
        render.message(f"Integrated {count} commit{'' if count == 1 else 's'} from {where}")
    for name, old, new in publication.renumbered:
        render.message(
            f"Renumbered {name} version {old} -> {new} ({old} was already published on {where})"
        )
    if publication.pushed:
        tries = f" after {publication.attempts} attempts" if publication.attempts > 1 else ""
        assert publication.commit is not None
        render.message(f"Published to {where} ({publication.commit[:12]}){tries}")
    elif publication.commit is None:
        render.message(f"Nothing to publish: {where} does not exist and nothing here is new")
    else:
        render.message(f"Nothing to publish: up to date with {where}")
    for note in publication.notes:
        render.message(f"note: {note}")


def session(ctx: Context) -> Session:
    """This invocation's session (made by the global options' callback)."""
    return ctx.ensure_object(Session)


class _Funnel(TyperGroup):
    """Sends every exception of a command through the one error funnel: one line on
    stderr and the documented exit code."""

    def invoke(self, ctx: Context) -> object:
        try:
            result = super().invoke(ctx)
            session(ctx).finish()
            return result
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if type(exc).__module__.startswith(("typer", "click")):
                raise  # usage errors: Typer prints them and exits 2
            code = funnel.report(exc, show_traceback=session(ctx).show_traceback)
        except KeyboardInterrupt as exc:
            code = funnel.report(exc)
        raise typer.Exit(code) from None


class Command(TyperCommand):
    """Shows arguments as ``NAME``, ``[NAME]``, ``REF`` (Typer writes ``{name}``), and says
    how to give a value that starts with '-' when one was read as options."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        # Help, usage and parsing all read the parameters here first.
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperArgument) and param.metavar is None:
                many = "..." if param.nargs != 1 else ""
                param.metavar = (param.name or "").upper() + many
        return params

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                metavar = param.make_metavar(ctx)  # as given: without Typer's {...}
                optional = not param.required and not metavar.startswith("[")
                pieces.append(f"[{metavar}]" if optional else metavar)
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        given = list(args)  # parsing consumes ``args``
        try:
            return super().parse_args(ctx, args)
        except (MissingParameter, NoSuchOption) as exc:
            missing_argument = isinstance(exc, MissingParameter) and isinstance(
                exc.param, TyperArgument
            )
            at = self._dashed_value(given)
            if at is not None and (missing_argument or isinstance(exc, NoSuchOption)):
                fixed = shlex.join([*given[:at], "--", *given[at:]])
                hint = (
                    f"'{given[at]}' was read as options; to give a value that starts with "
                    f"'-', put '--' before it: {ctx.command_path} {fixed}"
                )
                exc.message = f"{exc.message} ({hint})" if exc.message else hint
            raise

    def _dashed_value(self, args: list[str]) -> int | None:
        """Where the first word before ``--`` that looks like a value starting with '-'
        (``-dash``), not one of this command's options, is in ``args``."""
        options = {opt for param in self.params for opt in getattr(param, "opts", [])}
        for at, word in enumerate(args):
            if word == "--":
                return None
            if word.startswith("-") and not word.startswith("--") and word not in options:
                return at if len(word) > 2 else None
        return None


app = typer.Typer(
    cls=_Funnel,
    name="modelreg",
    help="A model registry that lives in a folder.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"modelreg {__version__}")
        raise typer.Exit()


def _completion_callback(ctx: typer.Context, param: Parameter, value: str | None) -> None:
    """--show-completion SHELL, --install-completion SHELL (without SHELL, the current
    shell: ``cli.run`` reads that form before Typer, whose options need their value)."""
    if value is None or ctx.resilient_parsing:
        return
    from modelreg.cli import completion
    from modelreg.errors import InvalidInputError

    try:
        (completion.show if param.name == "show_completion" else completion.install)(value)
    except InvalidInputError as exc:
        raise typer.BadParameter(str(exc)) from None
    raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    registry: Annotated[
        Path | None,
        typer.Option(
            "--registry",
            "-r",
            help="The registry folder (default: $MODELREG_REGISTRY, else the nearest "
            "folder with a registry.yaml at or above the working directory).",
            show_default=False,
        ),
    ] = None,
    show_traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the full traceback of internal errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    no_hooks: Annotated[
        bool,
        typer.Option(
            "--no-hooks",
            help="Deliver no notifications for this command (also: $MODELREG_NO_HOOKS=1).",
        ),
    ] = False,
    strict_hooks: Annotated[
        bool,
        typer.Option(
            "--strict-hooks",
            help="Exit 8 when a hook could not deliver (failed, or skipped as untrusted); "
            "the change itself is made and kept either way.",
        ),
    ] = False,
    install_completion: Annotated[
        str | None,
        typer.Option(
            "--install-completion",
            metavar="[SHELL]",
            callback=_completion_callback,
            is_eager=True,
            expose_value=False,
            help="Install shell completion for SHELL: bash, zsh or fish (default: the "
            "current shell).",
            show_default=False,
        ),
    ] = None,
    show_completion: Annotated[
        str | None,
        typer.Option(
            "--show-completion",
            metavar="[SHELL]",
            callback=_completion_callback,
            is_eager=True,
            expose_value=False,
            help="Print the completion script for SHELL: bash, zsh or fish (default: the "
            "current shell), to copy it or customize the installation.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """A model registry that lives in a folder: versions, stages, aliases and lineage in
    YAML files you commit to git."""
    ctx.obj = Session(
        registry_path=str(registry) if registry is not None else None,
        show_traceback=show_traceback,
        no_hooks=no_hooks,
        strict_hooks=strict_hooks,
    )


def use_command_class(typer_app: typer.Typer) -> None:
    """Make every command of ``typer_app`` and of its groups a :class:`Command`."""
    for info in typer_app.registered_commands:
        info.cls = Command
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            use_command_class(group.typer_instance)
