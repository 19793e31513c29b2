"""The programs modelreg runs — validation checks and command hooks — and what they are told.

:func:`run` is the one process runner: its own process group (a session, on POSIX), a
timeout after which the whole group is killed (``make`` and what it started, not only the
shell), output collected — and streamed line by line when asked.

:func:`model_environment` is the one vocabulary of ``MODELREG_*`` variables about a model
version, with the same meaning in checks and in hooks (the README has the table):

==========================  ==================================================================
``MODELREG_MODEL_NAME``     the model's name (alias: ``MODELREG_NAME``)
``MODELREG_MODEL_VERSION``  the version number, empty for a model-level event
                            (alias: ``MODELREG_VERSION``)
``MODELREG_MODEL_URI``      ``models:/NAME/VERSION`` (``models:/NAME`` for a model)
``MODELREG_CURRENT_STAGE``  the stage the version is in now: before the move for a check,
                            after the event for a hook
``MODELREG_FROM_STAGE``     the stage a move starts from
``MODELREG_TO_STAGE``       the stage a move goes to (a check's target stage)
``MODELREG_SOURCE``         the artifact's location: an absolute path, or the URI
``MODELREG_RUN_ID``         the run id, if any
``MODELREG_REGISTRY``       the registry folder, absolute
==========================  ==================================================================

``MODELREG_STAGE`` is kept with its old meaning in each: the target stage for a check
(``MODELREG_TO_STAGE``), the current stage for a hook (``MODELREG_CURRENT_STAGE``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class Finished:
    """How a program ended: ``exit_code`` None when it was stopped after its timeout."""

    exit_code: int | None
    stdout: bytes
    stderr: bytes

    @property
    def timed_out(self) -> bool:
        return self.exit_code is None


def run(
    command: str | Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    stdin: bytes | None = None,
    merge_stderr: bool = False,
    on_line: Callable[[str], None] | None = None,
) -> Finished:
    """Run ``command`` (a string through the shell, a list without one) in ``cwd`` with
    ``env`` over this process's environment, feeding it ``stdin`` (else nothing).

    Each line of its standard output goes to ``on_line`` as it comes (with
    ``merge_stderr``, standard error is part of it). Raises OSError when the program
    cannot be started; everything else is in the result."""
    # The command comes from a registry.yaml: a string runs through the shell on purpose
    # (`make deploy`, `python3 validate.py`), as make runs a Makefile's recipes.
    process = subprocess.Popen(
        command if isinstance(command, str) else list(command),
        shell=isinstance(command, str),
        cwd=cwd,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        start_new_session=os.name == "posix",
    )
    out: list[bytes] = []
    err: list[bytes] = []
    threads = [threading.Thread(target=_pump, args=(process.stdout, out, on_line), daemon=True)]
    if not merge_stderr:
        threads.append(
            threading.Thread(target=_pump, args=(process.stderr, err, None), daemon=True)
        )
    if stdin is not None:
        threads.append(threading.Thread(target=_feed, args=(process.stdin, stdin), daemon=True))
    for thread in threads:
        thread.start()
    exit_code: int | None
    try:
        exit_code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        process.wait()
        exit_code = None
    for thread in threads:
        # A grandchild that left the group could hold a pipe open: do not wait forever.
        thread.join(timeout=5)
    return Finished(exit_code, b"".join(out), b"".join(err))


def _pump(
    stream: IO[bytes] | None, into: list[bytes], on_line: Callable[[str], None] | None
) -> None:
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        for line in iter(stream.readline, b""):
            into.append(line)
            if on_line is not None:
                on_line(line.decode("utf-8", "replace").rstrip("\r\n"))


def _feed(stream: IO[bytes] | None, data: bytes) -> None:
    if stream is None:
        return
    # A program that does not read its input (exits first) is not an error.
    with contextlib.suppress(OSError, ValueError):
        stream.write(data)
    with contextlib.suppress(OSError, ValueError):
        stream.close()


def _kill(process: subprocess.Popen[bytes]) -> None:
    # Stop the whole session (the shell and what it started), then the process itself.
    if os.name == "posix":
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()


def model_environment(
    *,
    name: str,
    version: str,
    current_stage: str,
    from_stage: str,
    to_stage: str,
    source: str,
    run_id: str,
    registry: Path,
) -> dict[str, str]:
    """The ``MODELREG_*`` variables about one model version (or model: ``version`` empty),
    the same for checks and hooks; every one is set, empty when it does not apply, so a
    value never leaks in from the parent environment. ``source`` is the artifact's
    location as a program can use it (absolute, or a URI)."""
    uri = f"models:/{name}/{version}" if version else f"models:/{name}"
    return {
        "MODELREG_MODEL_NAME": name,
        "MODELREG_NAME": name,  # the name checks were given first
        "MODELREG_MODEL_VERSION": version,
        "MODELREG_VERSION": version,  # likewise
        "MODELREG_MODEL_URI": uri,
        "MODELREG_CURRENT_STAGE": current_stage,
        "MODELREG_FROM_STAGE": from_stage,
        "MODELREG_TO_STAGE": to_stage,
        "MODELREG_SOURCE": source,
        "MODELREG_RUN_ID": run_id,
        "MODELREG_REGISTRY": str(registry.resolve()),
    }
