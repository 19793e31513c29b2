"""I/O that fails half-way: ``os.write``, ``os.fsync``, ``os.replace`` and ``os.mkdir`` fail
at every k-th call while a script of writes runs. Each failing call raises the original
error (nothing else), and after each one: every acknowledged write is present, `check` is
clean or `check --repair` makes it clean, and the retried write succeeds.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from _safety import RefModel, apply_op, crash_script, facts, snapshot, unexplained
from modelreg import Registry
from modelreg.check import check_registry

SCRIPT = crash_script()
FUNCTIONS = ("write", "fsync", "replace", "mkdir")


class InjectedFaultError(OSError):
    """The failure this test makes happen (EIO, like a failing disk)."""


class Faults:
    """While armed, make ``os.<name>`` fail at every k-th call."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str, every: int) -> None:
        self.name = name
        self.every = every
        self.calls = 0
        self.injected = 0
        self.armed = False
        self.real: Callable[..., Any] = getattr(os, name)
        monkeypatch.setattr(os, name, self._call)

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        if self.armed:
            self.calls += 1
            if self.calls % self.every == 0:
                self.injected += 1
                raise InjectedFaultError(errno.EIO, f"injected failure of os.{self.name}")
        return self.real(*args, **kwargs)


def recover(root: Path, before: RefModel, after: RefModel) -> None:
    """What must hold after a failed write, and what a user does next: check, repair if
    needed, retry."""
    # Acknowledged writes are all there; the failed one is there, absent, or in part.
    assert unexplained(snapshot(root), before.models, after.models, history=False) == []
    report = check_registry(root)
    if not report.clean:
        assert all(finding.repairable for finding in report.problems), report.problems
        assert check_registry(root, repair=True).clean
    assert unexplained(snapshot(root), before.models, after.models) == []


def run_script_with_faults(root: Path, faults: Faults) -> None:
    registry = Registry(root)
    model = RefModel()
    for op in SCRIPT:
        after = model.copy()
        expected_number = after.apply(op)
        faults.armed = True
        try:
            number = apply_op(registry, op)
        except InjectedFaultError:
            faults.armed = False
            recover(root, model, after)
            if facts(snapshot(root)) != facts(after.models):
                number = apply_op(registry, op)  # the retry (it finishes a partial write)
            else:
                number = expected_number
        finally:
            faults.armed = False
        assert number == expected_number, op
        assert facts(snapshot(root)) == facts(after.models), op
        model = after
    assert check_registry(root).findings == ()
    registry.register("after-faults", "s3://after", create_model=True)
    assert check_registry(root).findings == ()


def check_function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, every: int) -> None:
    root = Registry.init(tmp_path / "registry").root
    faults = Faults(monkeypatch, name, every)
    run_script_with_faults(root, faults)
    assert faults.injected > 0, f"os.{name} was called {faults.calls} times, never failed"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_io_fails_at_every_second_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    check_function(tmp_path, monkeypatch, name, 2)


@pytest.mark.slow
@pytest.mark.parametrize("every", [1, 3, 4, 5, 6, 7, 8, 9, 11, 13])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_io_fails_at_every_kth_call_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, every: int
) -> None:
    check_function(tmp_path, monkeypatch, name, every)


def test_a_failed_write_leaves_no_temporary_file(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    # atomic_write removes its temporary file when write, fsync or replace fails.
    registry.create_registered_model("m")
    for name in ("write", "fsync", "replace"):
        faults = Faults(monkeypatch, name, 1)
        faults.armed = True
        with pytest.raises(InjectedFaultError):
            registry.create_model_version("m", "s3://x")
        faults.armed = False
        monkeypatch.undo()
        leftovers = [p for p in registry.root.rglob("*") if p.name.endswith(".tmp")]
        assert leftovers == [], name
    assert check_registry(registry.root).findings == ()
    assert registry.create_model_version("m", "s3://x").version == 1
