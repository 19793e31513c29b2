"""The ``modelreg`` command: parse arguments, call one registry method, render the result.

One module per group of commands, all attached to the one app of :mod:`modelreg.cli.core`
(whose :class:`~modelreg.cli.core.Session`, Typer's ``ctx.obj``, holds what the global
options said for this invocation):

- ``models``: init, create, register, list, search, describe, tag, update
- ``workflow``: transition, promote, request, approve, reject, comment, archive
- ``versions``: alias, resolve, history, delete
- ``compare``: diff, compare
- ``maintenance``: check
- ``git``: merge-file, git-setup, merge-continue, changes, sync (and ``--push``, the
  option of every registry write, is ``common.PushOption``, run by ``core.Session``)
- ``hooks``: the ``hooks`` group; ``interop``: the ``import`` and ``export`` groups
- ``artifacts``: pull, gc
- ``webcatalog``: the ``catalog`` group (the static site)

Every error a command lets out goes through :mod:`modelreg.funnel`, which the fast path
(:mod:`modelreg.quick`) uses too.
"""

from __future__ import annotations

import sys

from modelreg.cli.core import app, use_command_class

# Importing a group's module attaches its commands to the app: `modelreg --help` lists
# them in the order of these imports (and groups of subcommands after the commands).
# isort: off
from modelreg.cli import models, workflow, versions, compare, maintenance  # noqa: F401
from modelreg.cli import git  # noqa: F401
from modelreg.cli import hooks, interop  # noqa: F401
from modelreg.cli import artifacts  # noqa: F401
from modelreg.cli import webcatalog  # noqa: F401
# isort: on

# Every command, also those of the groups, is a core.Command (uppercase metavars, the hint
# for values that start with '-').
use_command_class(app)

__all__ = ["app", "run"]


def run(args: list[str] | None = None) -> None:
    """Entry point: run the app with ``args`` (default: the command line)."""
    argv = sys.argv[1:] if args is None else args
    if len(argv) == 1 and argv[0] in ("--show-completion", "--install-completion"):
        # Without its SHELL (Typer's options cannot leave out their value): this shell.
        from modelreg import funnel
        from modelreg.cli import completion

        try:
            (completion.show if argv[0] == "--show-completion" else completion.install)(None)
        except Exception as exc:  # the one error funnel
            sys.exit(funnel.report(exc))
        return
    app(args=args, prog_name="modelreg")
