"""The one error funnel of both front ends: the Typer app (``cli``) and the fast path
(``quick``).

Whatever a command lets out ends here and becomes the documented outcome: a
:class:`~modelreg.errors.RegistryError` is one line on stderr and its exit code; Ctrl-C is
``error: interrupted`` and 130; a reader of stdout that went away (``modelreg list |
head -1``) is no error of ours: nothing on stderr, exit 0; anything else is an internal
error, one line and exit 1, with the traceback above it when ``--traceback`` asked for it.

No Typer here (the fast path must not import it): a front end passes its own exceptions
(Typer's usage errors and exits) through before asking this module.
"""

from __future__ import annotations

import os
import sys

from modelreg import render
from modelreg.errors import InterruptedByUserError, RegistryError


def report(exc: BaseException, *, show_traceback: bool = False) -> int:
    """Tell the user about ``exc`` the one way every command does; return the exit code."""
    if isinstance(exc, RegistryError):
        render.error(exc.message)
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        interrupted = InterruptedByUserError("interrupted")
        render.error(interrupted.message)
        return interrupted.exit_code
    if isinstance(exc, BrokenPipeError):
        _silence_stdout()
        return 0
    if show_traceback:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
    render.error(f"internal error: {type(exc).__name__}: {exc} (run with --traceback to see where)")
    return 1


def _silence_stdout() -> None:
    """Point stdout at the null device, so that Python's last flush of what is still
    buffered for the closed pipe does not fail again and print "Exception ignored ...
    BrokenPipeError" on stderr at exit."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout without a file descriptor: nothing to flush to
        pass
    finally:
        os.close(null)
