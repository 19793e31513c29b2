"""Shared by the safety tests (concurrency, crashes, faults, the model-based test).

- A reference model of the registry in plain dictionaries (:class:`RefModel`), and
  :func:`snapshot`, which reads a real registry folder into the same shape through a
  freshly opened :class:`Registry`.
- Operations as JSON-able dicts, applied to either (:func:`apply_op`, ``RefModel.apply``).
- :func:`facts` and :func:`unexplained`: after a crash, every fact must be as the
  acknowledged operations left it, or as the one operation in flight would leave it.
- A worker run as a real process: ``python _safety.py script ...`` runs a script of
  operations and logs each acknowledged one; ``python _safety.py stress ...`` is one of
  the concurrent writers of test_concurrency.py.
- For the API and lineage tests: :func:`lock_held` (the lock taken by another process)
  and :func:`git` (git with a fixed identity, whatever the developer's configuration).
- :func:`tree`: every file and folder under a folder, to show that nothing changed;
  :func:`finishes_within`: "does not hang" as a thread timeout, not a timed assertion.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from modelreg import Registry
from modelreg.errors import BusyError

Op = dict[str, Any]
T = TypeVar("T")
ABSENT = "<absent>"


@dataclass
class VersionState:
    source: str
    stage: str = "None"
    tags: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    history: int = 1  # entries in the version's history: its registration, then changes


@dataclass
class ModelState:
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    versions: dict[int, VersionState] = field(default_factory=dict)
    history: int = 1  # entries in model.yaml's history: its creation, then changes
    # The highest number ever handed out (not part of the comparable facts: a crash may
    # leave it behind, which `check --repair` raises).
    last: int = 0


State = dict[str, ModelState]
# The exclusive_stages of a registry made by `Registry.init`.
EXCLUSIVE_STAGES = ("Production",)


class RefModel:
    """What the registry should hold after a sequence of operations, down to how many
    entries each history has (a lost history entry is a lost acknowledged write)."""

    def __init__(self) -> None:
        self.models: State = {}

    def copy(self) -> RefModel:
        other = RefModel()
        other.models = copy.deepcopy(self.models)
        return other

    def apply(self, op: Op) -> int | None:
        """Apply one operation; returns the version number a register hands out."""
        kind = op["op"]
        name = op["name"]
        if kind == "create":
            self.models[name] = ModelState(op.get("description"), dict(op.get("tags") or {}))
            return None
        if kind == "register":
            if op.get("create") and name not in self.models:
                self.models[name] = ModelState()
            model = self.models[name]
            model.last += 1
            model.versions[model.last] = VersionState(op["source"])
            return model.last
        model = self.models[name]
        if kind == "model_tag":
            model.history += model.tags.get(op["key"]) != op["value"]
            model.tags[op["key"]] = op["value"]
        elif kind == "version_tag":
            mv = model.versions[op["version"]]
            mv.history += mv.tags.get(op["key"]) != op["value"]
            mv.tags[op["key"]] = op["value"]
        elif kind == "transition":
            # New registries hold one version in Production (exclusive_stages): moving
            # one there archives the one there, as --archive-existing does.
            if op.get("archive") or op["stage"] in EXCLUSIVE_STAGES:
                for number, other in model.versions.items():
                    if number != op["version"] and other.stage == op["stage"]:
                        other.stage = "Archived"
                        other.history += 1
            mv = model.versions[op["version"]]
            mv.history += mv.stage != op["stage"]
            mv.stage = op["stage"]
        elif kind == "alias":
            model.history += model.aliases.get(op["alias"]) != op["version"]
            model.aliases[op["alias"]] = op["version"]
        elif kind == "delete_alias":
            del model.aliases[op["alias"]]
            model.history += 1
        elif kind == "model_description":
            model.history += model.description != op["description"]
            model.description = op["description"]
        elif kind == "version_description":
            mv = model.versions[op["version"]]
            mv.history += mv.description != op["description"]
            mv.description = op["description"]
        elif kind == "delete_version":
            del model.versions[op["version"]]
            dropped = [a for a, v in model.aliases.items() if v == op["version"]]
            model.aliases = {a: v for a, v in model.aliases.items() if v != op["version"]}
            model.history += 1 + len(dropped)
            model.last = max(model.last, op["version"])
        elif kind == "rename":
            self.models[op["new"]] = self.models.pop(name)
            model.history += 1
        elif kind == "delete_model":
            del self.models[name]
        else:
            raise ValueError(f"unknown operation {kind!r}")
        return None


def apply_op(registry: Registry, op: Op) -> int | None:
    """Apply one operation to a real registry; returns a register's version number."""
    kind = op["op"]
    name = op["name"]
    if kind == "create":
        registry.create_registered_model(name, op.get("tags"), op.get("description"))
    elif kind == "register":
        result = registry.register(
            name, op["source"], allow_duplicate=True, create_model=bool(op.get("create"))
        )
        return result.version.version
    elif kind == "model_tag":
        registry.set_registered_model_tag(name, op["key"], op["value"])
    elif kind == "version_tag":
        registry.set_model_version_tag(name, op["version"], op["key"], op["value"])
    elif kind == "transition":
        registry.transition_model_version_stage(
            name,
            op["version"],
            op["stage"],
            archive_existing_versions=bool(op.get("archive")),
            comment=op.get("comment"),
        )
    elif kind == "alias":
        registry.set_registered_model_alias(name, op["alias"], op["version"])
    elif kind == "delete_alias":
        registry.delete_registered_model_alias(name, op["alias"])
    elif kind == "model_description":
        registry.update_registered_model(name, op["description"])
    elif kind == "version_description":
        registry.update_model_version(name, op["version"], op["description"])
    elif kind == "delete_version":
        registry.delete_model_version(name, op["version"])
    elif kind == "rename":
        registry.rename_registered_model(name, op["new"])
    elif kind == "delete_model":
        registry.delete_registered_model(name)
    else:
        raise ValueError(f"unknown operation {kind!r}")
    return None


def snapshot(root: Path) -> State:
    """The registry's content as read by a freshly opened Registry (raises if corrupt)."""
    registry = Registry(root)
    state: State = {}
    for model in registry.list_registered_models():
        versions = {
            mv.version: VersionState(
                mv.source, mv.current_stage, dict(mv.tags), mv.description, len(mv.history)
            )
            for mv in registry.list_versions(model.name)
        }
        state[model.name] = ModelState(
            model.description, dict(model.tags), dict(model.aliases), versions, len(model.history)
        )
    return state


def facts(state: State) -> dict[tuple[Any, ...], Any]:
    """Every comparable fact of a state, one key each."""
    out: dict[tuple[Any, ...], Any] = {}
    for name, model in state.items():
        out[("model", name)] = True
        out[("model", name, "description")] = model.description
        out[("model", name, "history")] = model.history
        for key, value in model.tags.items():
            out[("model", name, "tag", key)] = value
        for alias, number in model.aliases.items():
            out[("model", name, "alias", alias)] = number
        for number, mv in model.versions.items():
            out[("version", name, number)] = mv.source
            out[("version", name, number, "stage")] = mv.stage
            out[("version", name, number, "description")] = mv.description
            out[("version", name, number, "history")] = mv.history
            for key, value in mv.tags.items():
                out[("version", name, number, "tag", key)] = value
    return out


def unexplained(actual: State, before: State, after: State, *, history: bool = True) -> list[str]:
    """Facts of ``actual`` that are neither as ``before`` nor as ``after`` has them.

    ``before`` is the state after every acknowledged operation, ``after`` the state the
    operation in flight would have produced: each fact may show it or not (a write of
    several files may be cut half-way), but nothing else is allowed. Without
    ``history``, the lengths of the histories are not compared (an interrupted rename
    gets its history entry from `check --repair`).
    """
    seen, old, new = facts(actual), facts(before), facts(after)
    problems = []
    for key in sorted(set(seen) | set(old) | set(new), key=repr):
        if not history and key[-1] == "history":
            continue
        value = seen.get(key, ABSENT)
        if value not in (old.get(key, ABSENT), new.get(key, ABSENT)):
            problems.append(
                f"{key}: found {value!r}, expected {old.get(key, ABSENT)!r}"
                f" or {new.get(key, ABSENT)!r}"
            )
    return problems


def crash_script(prefix: str = "") -> list[Op]:
    """A sequence touching every kind of write: several files per operation, deletes,
    renames, aliases dropped with their version, archiving."""
    a, b, c, d = (f"{prefix}{name}" for name in ("alpha", "beta", "gamma", "delta"))
    return [
        {"op": "create", "name": a, "tags": {"team": "risk"}, "description": "first"},
        {"op": "register", "name": a, "source": f"s3://{a}/1"},
        {"op": "register", "name": a, "source": f"s3://{a}/2"},
        {"op": "register", "name": a, "source": f"s3://{a}/3"},
        {"op": "version_tag", "name": a, "version": 1, "key": "validated", "value": "yes"},
        {"op": "transition", "name": a, "version": 1, "stage": "Production", "comment": "go"},
        {"op": "transition", "name": a, "version": 3, "stage": "Production"},
        {"op": "alias", "name": a, "alias": "champion", "version": 1},
        {"op": "alias", "name": a, "alias": "challenger", "version": 3},
        {"op": "transition", "name": a, "version": 2, "stage": "Production", "archive": True},
        {"op": "alias", "name": a, "alias": "champion", "version": 2},
        {"op": "model_description", "name": a, "description": "second"},
        {"op": "delete_version", "name": a, "version": 3},
        {"op": "register", "name": a, "source": f"s3://{a}/4"},
        {"op": "register", "name": b, "source": f"s3://{b}/1", "create": True},
        {"op": "register", "name": b, "source": f"s3://{b}/2"},
        {"op": "model_tag", "name": b, "key": "owner", "value": "ana"},
        {"op": "alias", "name": b, "alias": "live", "version": 2},
        {"op": "rename", "name": b, "new": c},
        {"op": "version_description", "name": c, "version": 2, "description": "renamed"},
        {"op": "create", "name": d},
        {"op": "register", "name": d, "source": f"s3://{d}/1"},
        {"op": "delete_model", "name": d},
        {"op": "delete_alias", "name": a, "alias": "champion"},
        {"op": "register", "name": a, "source": f"s3://{a}/5"},
    ]


def expected_states(script: list[Op]) -> list[RefModel]:
    """The reference model after 0, 1, ..., len(script) operations."""
    states = [RefModel()]
    for op in script:
        state = states[-1].copy()
        state.apply(op)
        states.append(state)
    return states


# -- workers run as real processes ------------------------------------------------------


def _append(fd: int, record: Any) -> None:
    # One write(2) per line on an O_APPEND file: a killed worker leaves whole lines.
    os.write(fd, (json.dumps(record) + "\n").encode())


def run_script(root: str, script_file: str, ack_file: str) -> None:
    """Run a script of operations; log the index of each one as soon as it returns."""
    script = json.loads(Path(script_file).read_text())
    registry = Registry(root)
    fd = os.open(ack_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    _append(fd, "started")
    for index, op in enumerate(script):
        number = apply_op(registry, op)
        _append(fd, {"index": index, "version": number})


def run_stress(
    root: str, log_file: str, worker: int, iterations: int, go_file: str, mixed: bool
) -> None:
    """One concurrent writer: registers versions of one shared model and (``mixed``) of a
    model it shares with a few others (created by whoever comes first), promotes with
    archive_existing_versions, sets tags and moves aliases; logs every acknowledged
    operation, and every refusal by a busy lock. Any other error ends the process."""
    registry = Registry(root)
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    rng = random.Random(worker)
    group = f"group-{worker % 3}"
    mine: dict[str, list[int]] = {"shared": [], group: []}
    Path(f"{log_file}.ready").touch()
    deadline = time.monotonic() + 120
    while not Path(go_file).exists():  # everyone starts at the same moment
        if time.monotonic() > deadline:
            raise SystemExit("never told to go")
        time.sleep(0.001)

    def attempt(record: Op, action: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = action(*args, **kwargs)
        except BusyError:
            _append(fd, {**record, "busy": True})
            return None
        if record["op"] == "register":
            result = result.version.version
            record = {**record, "version": result}
        _append(fd, record)
        return result

    for i in range(iterations):
        tag = f"w{worker}-{i}"
        for model in ("shared", group) if mixed else ("shared",):
            source = f"s3://{model}/{tag}"
            number = attempt(
                {"op": "register", "model": model, "source": source},
                registry.register,
                model,
                source,
                allow_duplicate=True,
                create_model=True,
            )
            if number is not None:
                mine[model].append(number)
        if not mixed or not mine["shared"] or not mine[group]:
            continue
        # Numbers at or below one's own newest version exist (nothing is deleted), so
        # these writes land on other workers' versions too.
        target = rng.randint(1, mine["shared"][-1])
        attempt(
            {"op": "version_tag", "model": "shared", "version": target, "value": tag},
            registry.set_model_version_tag,
            "shared",
            target,
            f"w{worker}",
            tag,
        )
        attempt(
            {"op": "model_tag", "model": group, "value": tag},
            registry.set_registered_model_tag,
            group,
            f"w{worker}",
            tag,
        )
        # "champion" is moved by everyone; each worker also moves an alias of its own.
        for alias in ("champion", f"w{worker}"):
            attempt(
                {"op": "alias", "model": "shared", "alias": alias, "version": target},
                registry.set_registered_model_alias,
                "shared",
                alias,
                target,
                comment=tag,
            )
        promoted = rng.randint(1, mine[group][-1])
        attempt(
            {"op": "transition", "model": group, "version": promoted, "comment": tag},
            registry.transition_model_version_stage,
            group,
            promoted,
            "Production",
            archive_existing_versions=True,
            comment=tag,
        )


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "script":
        run_script(*args)
    elif mode == "stress":
        run_stress(args[0], args[1], int(args[2]), int(args[3]), args[4], args[5] == "mixed")
    else:
        raise SystemExit(f"unknown mode {mode!r}")


@contextlib.contextmanager
def lock_held(lock_file: Path) -> Iterator[None]:
    """Hold the registry's lock from another real process until the block ends."""
    code = (
        "import sys, filelock\n"
        "lock = filelock.FileLock(sys.argv[1])\n"
        "lock.acquire()\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(lock_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)


def finishes_within(seconds: float, call: Callable[[], T]) -> T:
    """``call()``'s result (or its exception), asserting it returned within ``seconds``.

    How a test says "this does not hang": the bound is far above any loaded machine's
    time for it, and far below the time it would take if the thing under test hung (the
    test arranges that to be long). Speed itself is measured by the benchmarks, never here.
    """
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # handed to the caller below
            outcome.append((False, exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s: it hangs"
    returned, value = outcome[0]
    if not returned:
        raise value
    result: T = value
    return result


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) under ``root``."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` as a fixed user; its stripped output. Fails on an error."""
    result = subprocess.run(
        ["git", "-c", "user.name=Tester", "-c", "user.email=tester@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()
