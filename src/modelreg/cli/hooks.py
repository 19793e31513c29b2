"""``modelreg hooks``: list, trust, test the hooks of registry.yaml and read their log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from modelreg import render
from modelreg.cli import common
from modelreg.cli.common import FormatOption, WriteFormatOption
from modelreg.cli.core import app, session
from modelreg.errors import HookDeliveryError, InvalidInputError
from modelreg.registry import Registry
from modelreg.render import Format

if TYPE_CHECKING:
    from modelreg.hooks import HookConfig


hooks_app = typer.Typer(
    help="Notifications: the hooks of registry.yaml (commands, webhooks, emails).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(hooks_app, name="hooks")


def _hook_config(ctx: typer.Context) -> tuple[Registry, HookConfig]:
    from modelreg import hooks

    registry = Registry(session(ctx).registry_path, hooks=False)  # these commands change nothing
    return registry, hooks.load(registry.config.raw, registry.root)


def _trust_state(registry: Registry, config: HookConfig) -> str:
    from modelreg import hooks

    if not config.hooks:
        return f"{registry.root / 'registry.yaml'} has no hooks"
    if hooks.trusted_by_environment():
        return f"these hooks run: ${hooks.TRUST_ENV} is set"
    if hooks.is_trusted(registry.root, config):
        return f"trusted on this machine (hooks sha256 {config.digest[:12]})"
    return (
        "not trusted on this machine: these hooks do not run here until you review them "
        f"and run `modelreg hooks trust` (or set {hooks.TRUST_ENV}=1 where the folder is yours)"
    )


@hooks_app.command("list")
def hooks_list(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """List the hooks and whether this machine trusts them."""
    from modelreg import hooks

    registry, config = _hook_config(ctx)
    trusted = hooks.is_trusted(registry.root, config)
    if config.hooks or fmt is not Format.table:
        listed = [{**hook.to_dict(), "trusted": trusted} for hook in config.hooks]
        render.emit(listed, fmt, render.HOOK_COLUMNS)
    render.message(_trust_state(registry, config))


@app.command("trust")
def trust_command(
    ctx: typer.Context,
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Stop trusting this registry's hooks and checks.")
    ] = False,
    fmt: WriteFormatOption = None,
) -> None:
    """Let this exact configuration run on this machine: the hooks of registry.yaml and the
    validation checks `promote` runs (again after any change; MODELREG_TRUST=1 in CI)."""
    from modelreg import hooks

    registry, config = _hook_config(ctx)
    if revoke:
        removed = hooks.revoke(registry.root)
        render.message(
            f"This machine no longer trusts the hooks and checks of {registry.root}"
            if removed
            else f"This machine did not trust the hooks and checks of {registry.root}"
        )
        return
    rules = registry.rules
    checks = hooks.checks_digest(rules)
    if not config.hooks and checks is None:
        render.message(_trust_state(registry, config) + " and no checks; nothing to trust")
        return
    path = hooks.trust(registry.root, config, registry.user, rules)
    listed = [{**hook.to_dict(), "trusted": True} for hook in config.hooks]
    common.show_record(listed, fmt, render.HOOK_COLUMNS)
    if checks is None:
        render.message(
            f"Trusted these {len(config.hooks)} hook(s) of {registry.root} on this machine "
            f"(sha256 {config.digest[:12]}, remembered in {path}); any change to them needs "
            "`modelreg hooks trust` again"
        )
        return
    hooks_part = f"{len(config.hooks)} hook(s) (sha256 {config.digest[:12]}) and " * bool(
        config.hooks
    )
    render.message(
        f"Trusted {hooks_part}the validation checks (sha256 {checks[:12]}) of {registry.root} "
        f"on this machine (remembered in {path}); any change to them needs `modelreg trust` "
        "again"
    )


# `modelreg hooks trust` is the same command, listed among the hooks' own.
hooks_app.command(
    "trust", help="`modelreg trust`: let this exact configuration (hooks and checks) run here."
)(trust_command)


@hooks_app.command("test")
def hooks_test(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The hook's name.")],
    event: Annotated[
        str | None,
        typer.Option("--event", "-e", help="The event type to send (default: the hook's first)."),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Send an example event through one hook and show what happened."""
    from modelreg import hooks

    registry, _config = _hook_config(ctx)
    result = hooks.send_test(registry, name, event)
    render.emit(result.to_dict(), fmt, render.DELIVERY_COLUMNS)
    if not result.ok:
        raise HookDeliveryError(f"hook '{name}' failed: {result.detail}")
    render.message(f"hook '{name}' delivered {result.event} in {result.duration_ms} ms")


@hooks_app.command("log")
def hooks_log(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Show the newest N deliveries (0: all kept).")
    ] = 20,
    hook: Annotated[
        str | None, typer.Option("--hook", help="Only the deliveries of this hook.")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Show recent deliveries (from the registry's git-ignored .cache/hooks.log)."""
    from modelreg import hooks
    from modelreg.store import find_root

    if limit < 0:
        raise InvalidInputError("--limit must be 0 or more")
    records = hooks.read_log(find_root(session(ctx).registry_path), limit=limit or None, hook=hook)
    render.emit(records, fmt, render.DELIVERY_COLUMNS)
