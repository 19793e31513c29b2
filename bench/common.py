"""Timing helpers shared by the benchmark's driver and its in-process sides (modelreg's and
MLflow's: the loops that time registering are here, so both tools are timed alike)."""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dataset


@dataclass
class Stats:
    """Repeated timings of one operation, in seconds."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    def __len__(self) -> int:
        return len(self.samples)


@dataclass
class ProcessRun:
    """One whole process: wall time, peak resident memory, exit code and output."""

    seconds: float
    maxrss_kb: int
    returncode: int
    stdout: bytes
    stderr: bytes

    def check(self, what: str) -> ProcessRun:
        if self.returncode != 0:
            tail = self.stderr.decode(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(f"{what} exited {self.returncode}: " + " | ".join(tail))
        return self


SPAWN = Path(__file__).resolve().with_name("spawn.py")


def run_process(
    argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> ProcessRun:
    """Run ``argv`` to completion: its wall time, peak RSS, exit code and output.

    The command is started by ``spawn.py`` (see there why), which times it from spawn to
    exit and reads its peak RSS from ``wait4``. Output goes to files, not pipes, so a
    large output never blocks the command.
    """
    with tempfile.TemporaryDirectory(prefix="bench-run-") as folder:
        out, err = Path(folder, "out"), Path(folder, "err")
        spawner = [sys.executable, "-S", "-E", str(SPAWN), str(out), str(err)]
        result = subprocess.run(
            [*spawner, str(cwd or Path.cwd()), *argv],
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"spawn.py failed for {argv[0]}: {result.stderr.strip()}")
        seconds, maxrss, code = result.stdout.split()
        return ProcessRun(
            float(seconds), int(maxrss), int(code), out.read_bytes(), err.read_bytes()
        )


def time_process(
    argv: Sequence[str],
    runs: int,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    what: str = "",
    warm: bool = False,
    check: Callable[[ProcessRun], None] | None = None,
) -> Stats:
    """``runs`` timed runs of the whole process ``argv`` (after one untimed run when
    ``warm``: the bytecode cache written, the files in the page cache); each must exit 0
    and pass ``check`` (which raises on a wrong output)."""
    label = what or " ".join(argv[:3])
    if warm:
        run_process(argv, env, cwd).check(label)
    samples = []
    for _ in range(runs):
        done = run_process(argv, env, cwd).check(label)
        if check is not None:
            check(done)
        samples.append(done.seconds)
    return Stats(samples)


def alternating(
    rounds: int, operations: Mapping[str, Callable[[int], float]], what: str = "round"
) -> dict[str, Stats]:
    """Time several operations in turn, round after round (so that a machine busier at
    one moment slows them alike): each gets the round number and returns its seconds."""
    samples: dict[str, list[float]] = {name: [] for name in operations}
    for number in range(rounds):
        for name, operation in operations.items():
            samples[name].append(operation(number))
        times = " vs ".join(f"{samples[name][-1]:.3f} s" for name in operations)
        print(f"{what} {number + 1}/{rounds}: {times}", file=sys.stderr)
    return {name: Stats(values) for name, values in samples.items()}


def standalone_options(
    prog: str, description: str | None, repeat: int, repeat_help: str, quick_help: str
) -> argparse.ArgumentParser:
    """The options every stand-alone benchmark script takes (``completion.py``,
    ``push.py``): the registry's size, how many runs, and a shorter ``--quick`` run."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--size", type=int, default=10_000, help="versions in the registry")
    parser.add_argument("--repeat", type=int, default=repeat, help=repeat_help)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser


def repeat_until(
    once: Callable[[], float], repeat: int, budget: float, min_repeat: int = 3
) -> Stats:
    """Call ``once`` ``repeat`` times, or fewer (not under ``min_repeat``) once the
    samples add up to ``budget`` seconds: slow operations get fewer samples."""
    samples: list[float] = []
    while len(samples) < repeat:
        samples.append(once())
        if len(samples) >= min_repeat and sum(samples) >= budget:
            break
    return Stats(samples)


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.2f} s"


def fmt_stats(stats: Stats) -> str:
    """``median (min–max)``."""
    return f"{fmt_time(stats.median)} ({fmt_time(stats.low)}–{fmt_time(stats.high)})"


def fmt_mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


GO_FILE = "go"


def barrier(folder: Path, writer: int, timeout: float = 300.0) -> None:
    """A writer's side of the start barrier: say ready, then wait for the go file.

    The driver waits for every ``ready-N`` file, notes the time and creates ``go``; the
    writers poll for it every millisecond, so they start within a few ms of each other
    and after every one has finished importing and warming up.
    """
    (folder / f"ready-{writer}").touch()
    deadline = time.monotonic() + timeout
    while not (folder / GO_FILE).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark never said go")
        time.sleep(0.001)


def release(folder: Path, writers: int, timeout: float = 300.0) -> float:
    """The driver's side: wait until ``writers`` are ready, then start them; the start time."""
    deadline = time.monotonic() + timeout
    while sum(1 for _ in folder.glob("ready-*")) < writers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"not all {writers} writers got ready")
        time.sleep(0.005)
    start = time.time()
    (folder / GO_FILE).touch()
    return start


# A registration: adds one version of the model from a dataset payload, returns its number.
Register = Callable[[dict[str, Any]], int]


def timed_registrations(register: Register, model: str, count: int) -> dict[str, Any]:
    """``count`` registrations on ``model``, each timed (``*_side.py register``)."""
    rng = random.Random(f"{dataset.SEED}:register:{model}")
    samples = []
    numbers = []
    for number in range(1, count + 1):
        payload = dataset.version_payload(rng, model, number, "growth")
        begin = time.perf_counter()
        numbers.append(register(payload))
        samples.append(time.perf_counter() - begin)
    return {"samples": samples, "first_version": numbers[0], "last_version": numbers[-1]}


def concurrent_writes(
    register: Register, model: str, count: int, writer: int, folder: Path
) -> dict[str, Any]:
    """One of the concurrent writers (``*_side.py writer``), already warmed up: its
    payloads are made, then it waits at the barrier and registers ``count`` versions,
    counting every failure, whatever its kind."""
    rng = random.Random(f"{dataset.SEED}:writer:{writer}")
    payloads = [
        dataset.version_payload(rng, model, number, "growth") for number in range(1, count + 1)
    ]
    barrier(folder, writer)
    numbers: list[int] = []
    errors: list[str] = []
    latencies: list[float] = []
    for payload in payloads:
        begin = time.perf_counter()
        try:
            numbers.append(register(payload))
        except Exception as exc:  # every failure counts, whatever its kind
            errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        latencies.append(time.perf_counter() - begin)
    return {"versions": numbers, "errors": errors, "end": time.time(), "latencies": latencies}
