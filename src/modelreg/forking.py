"""Work shared out over the machine's cores by ``fork``: a search reads every version of
every model it may match, which after a clone means parsing thousands of YAML files, and
at 100,000 versions means as many ``stat`` calls and 60 MB of cache to load, even warm.

:func:`map_shares` cuts a list into one share per core, works the first share in this
process and each other share in a forked child, which sends back what it found (through a
pipe, as :mod:`marshal` bytes: only builtins cross). A child shares this process's memory
as it was at the fork, so the work needs no pickling of its code or its arguments. A child
that fails (an exception, a signal) has its share worked here again: the caller sees the
same result and the same exceptions as a serial run, only later.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import threading

TYPE_CHECKING = False  # not `from typing import ...`: start-up (see modelreg.quick)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    _T = TypeVar("_T")
    _R = TypeVar("_R")

# At most this many processes in all (this one included).
MAX_WORKERS = 4


def spare_cores() -> int:
    """Cores this process may use beyond its own."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return min(cores, MAX_WORKERS) - 1


def map_shares(items: list[_T], work: Callable[[list[_T]], _R], per_child: int) -> list[_R]:
    """``work(share)`` for each share of ``items``, in the order of the shares; share
    ``k`` of ``n`` is ``items[k::n]``. A child is forked for a share only when each share
    holds at least ``per_child`` items, there is a spare core, and no other thread runs (a
    thread may hold a lock that a forked child would never see released); else one share,
    all of ``items``, is worked here. What ``work`` returns must be marshallable."""
    children = min(spare_cores(), len(items) // per_child) if hasattr(os, "fork") else 0
    if children < 1 or threading.active_count() > 1:
        return [work(items)]
    shares = [items[start :: children + 1] for start in range(children + 1)]
    pending: list[tuple[list[_T], tuple[int, int] | None]] = []
    for share in shares[1:]:
        try:
            pending.append((share, _fork(work, share)))
        except OSError:
            pending.append((share, None))  # no process to spare: worked here
    try:
        results = [work(shares[0])]
        while pending:
            share, child = pending.pop(0)
            result = _FAILED if child is None else _result(child)
            results.append(work(share) if result is _FAILED else result)
    finally:  # the work raised here: the children left are stopped and reaped
        for _, child in pending:
            if child is not None:
                _stop(child)
    return results


# What a child that did not end well sent.
_FAILED: Any = object()


def _fork(work: Callable[[list[_T]], Any], share: list[_T]) -> tuple[int, int]:
    """A child working ``share``; its pid and the pipe its result comes on."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # the child: never returns, never runs the parent's clean-ups
        code = 1
        try:
            os.close(read_end)
            data = marshal.dumps(work(share))
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _result(child: tuple[int, int]) -> Any:
    """What a child sent, once it has ended well; else _FAILED."""
    pid, fd = child
    with os.fdopen(fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return _FAILED
    with contextlib.suppress(ValueError, EOFError, TypeError):
        return marshal.loads(data)  # noqa: S302 - our own child's
    return _FAILED


def _stop(child: tuple[int, int]) -> None:
    import signal

    pid, fd = child
    os.close(fd)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.waitpid(pid, 0)
