"""modelreg's benchmark (issue 7): ``make bench``, or ``python bench/run.py --help``.

Builds registries of 1,000 and 10,000 versions (100,000 with ``--large``), times
modelreg's commands as whole processes and its searches and registrations in-process,
runs 8 concurrent writers, and with ``--compare-mlflow`` does the same with MLflow's
SQLite and file stores on the same data, in MLflow's own venv. Writes a markdown report
to bench/results/ (and prints it): every number is a median over repeated runs with its
min and max, every comparison a ratio from this run, every target PASS or FAIL.

See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import build  # noqa: E402
import dataset  # noqa: E402
from common import (  # noqa: E402
    Stats,
    release,
    repeat_until,
    run_process,
)
from report import KIND_LABEL, KINDS, MLFLOW_PIN, Options, Results, Row, report  # noqa: E402

PROJECT = BENCH.parent
DATA = BENCH / ".data"
RESULTS = BENCH / "results"
MLFLOW_VENV = BENCH / ".venv-mlflow"
FILE_STORE_BIG_MODEL = 1_000
PYTHON = Path(sys.executable)
MODELREG = PYTHON.with_name("modelreg")


# ---------------------------------------------------------------------------------------
# Options and environment
# ---------------------------------------------------------------------------------------


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="modelreg's benchmark: registries of 1k/10k(/100k) versions, "
        "whole-process and in-process timings, concurrent writers, MLflow comparison.",
    )
    parser.add_argument(
        "--compare-mlflow",
        action="store_true",
        help=f"also measure MLflow ({MLFLOW_PIN}, installed into bench/.venv-mlflow) "
        "on the same data: SQLite store and file store",
    )
    parser.add_argument("--large", action="store_true", help="add the registry of 100,000 versions")
    parser.add_argument(
        "--mlflow-large",
        action="store_true",
        help="measure MLflow at 100,000 versions too (slow: hours of loading and searching)",
    )
    parser.add_argument(
        "--sizes", default=None, help="comma-separated registry sizes (default 1000,10000)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a shorter run for local use: 2,000 registrations, 5 repeats",
    )
    parser.add_argument("--repeat", type=int, default=None, help="runs per command (11)")
    parser.add_argument(
        "--mlflow-repeat", type=int, default=None, help="runs per MLflow search process (5)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=20.0,
        help="seconds of samples per operation before repeats stop early (at least 3 runs)",
    )
    parser.add_argument(
        "--register-count",
        type=int,
        default=None,
        help="registrations on one model for the flatness test (10000; --quick 2000)",
    )
    parser.add_argument(
        "--clone-runs",
        type=int,
        default=3,
        help="runs of the first search after a clone, each in a fresh copy (3)",
    )
    parser.add_argument("--writers", type=int, default=8, help="concurrent writer processes")
    parser.add_argument(
        "--writes", type=int, default=None, help="registrations per writer (25; --quick 10)"
    )
    parser.add_argument(
        "--search-format",
        default="plain",
        choices=("plain", "json", "table", "yaml"),
        help="output format of the timed `modelreg search` processes",
    )
    parser.add_argument("--output", type=Path, default=None, help="markdown file to write")
    parser.add_argument(
        "--live-src",
        action="store_true",
        help="run modelreg from src/ as it is at each moment, not from a snapshot taken at "
        "the start (edits made during the run then change the numbers)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [1000, 10_000]
    if args.large and 100_000 not in sizes:
        sizes.append(100_000)
    sizes.sort()
    mlflow_sizes = [s for s in sizes if s <= 10_000 or args.mlflow_large]
    quick = args.quick
    register_count = args.register_count or (2_000 if quick else 10_000)
    return Options(
        sizes=sizes,
        mlflow_sizes=mlflow_sizes if args.compare_mlflow else [],
        compare_mlflow=args.compare_mlflow,
        repeat=args.repeat or (5 if quick else 11),
        mlflow_repeat=args.mlflow_repeat or (3 if quick else 5),
        budget=args.budget,
        register_count=register_count,
        register_sample=min(100, max(10, register_count // 20)),
        clone_runs=max(1, args.clone_runs),
        writers=args.writers,
        writes=args.writes or (10 if quick else 25),
        search_format=args.search_format,
        output=args.output,
        live_src=args.live_src,
        command_line="python bench/run.py " + " ".join(argv),
    )


class Env:
    """Paths and environments of one benchmark run."""

    def __init__(self, snapshot: bool) -> None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.tmp = DATA / "tmp" / f"run-{stamp}-{os.getpid()}"
        self.tmp.mkdir(parents=True)
        # The run measures one version of the code: a copy of src/ taken now, first on
        # every modelreg process's path, so that edits made meanwhile change nothing.
        self.src: Path | None = None
        if snapshot:
            self.src = self.tmp / "src"
            shutil.copytree(
                PROJECT / "src" / "modelreg",
                self.src / "modelreg",
                ignore=shutil.ignore_patterns("__pycache__"),
            )
            compileall.compile_dir(self.src, quiet=1)
        # modelreg's caches go here, so that a run never touches ~/.cache and the
        # driver can empty them before each "first run" (cold cache).
        self.cache = DATA / "cache"
        self.nogit = self.tmp / "nogit"
        self.nogit.mkdir()
        self.project = self.tmp / "project"
        self.mlflow_cwd = self.tmp / "mlflow-cwd"
        self.mlflow_cwd.mkdir()

    def modelreg_env(self, root: Path | None = None, *, git: bool = True) -> dict[str, str]:
        env = clean_environ("MODELREG_")
        env.update(
            NO_COLOR="1",
            MODELREG_CACHE_DIR=str(self.cache / "modelreg"),
            XDG_CACHE_HOME=str(self.cache / "xdg"),
        )
        if self.src is not None:
            env["PYTHONPATH"] = str(self.src)
        if not git:
            # No git on PATH: modelreg's lineage lookups fail at once, so what is timed is
            # modelreg's own work (reads never call git anyway).
            empty = self.tmp / "no-git-bin"
            empty.mkdir(exist_ok=True)
            env["PATH"] = str(empty)
            env["GIT_CEILING_DIRECTORIES"] = str(self.tmp)
        if root is not None:
            env["MODELREG_REGISTRY"] = str(root)
        return env

    def clear_caches(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)

    def mlflow_env(self) -> dict[str, str]:
        env = clean_environ("MLFLOW_")
        env.update(
            MLFLOW_ALLOW_FILE_STORE="true",
            MLFLOW_DISABLE_TELEMETRY="true",
            DO_NOT_TRACK="true",
            PYTHONWARNINGS="ignore",
        )
        return env

    def make_project(self) -> bool:
        """A small git repository to register from, as users do (lineage is recorded).
        False when git is missing: the "git project" is then a plain folder."""
        self.project.mkdir(exist_ok=True)
        if shutil.which("git") is None:
            return False
        env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(self.tmp)}

        def git(*args: str) -> None:
            subprocess.run(
                ["git", *args], cwd=self.project, env=env, check=True, capture_output=True
            )

        git("init", "-q")
        git("config", "user.email", "bench@example.com")
        git("config", "user.name", "bench")
        (self.project / "train.py").write_text("print('training')\n")
        git("add", "train.py")
        git("commit", "-q", "-m", "a project")
        return True


def clean_environ(prefix: str) -> dict[str, str]:
    """This environment without the tool's own settings (``prefix``) and without any
    ``PYTHON*`` variable: a user's shell has no PYTHONDONTWRITEBYTECODE (which would
    recompile every changed module in every process) nor PYTHONUNBUFFERED."""
    return {
        key: value for key, value in os.environ.items() if not key.startswith((prefix, "PYTHON"))
    }


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


def measure_process(
    argv: Sequence[str],
    env: dict[str, str],
    opts: Options,
    *,
    cwd: Path | None = None,
    reset: Callable[[], None] | None = None,
    expect_lines: int | None = None,
    repeat: int | None = None,
    what: str = "",
) -> Row:
    """A cold first run (after ``reset``), then repeated runs; errors become the row."""
    peak = 0

    def once() -> float:
        nonlocal peak
        run = run_process(argv, env, cwd).check(what or " ".join(argv[:3]))
        peak = max(peak, run.maxrss_kb)
        if expect_lines is not None:
            lines = run.stdout.count(b"\n")
            if lines != expect_lines:
                raise RuntimeError(f"{what} printed {lines} lines, expected {expect_lines}")
        return run.seconds

    try:
        if reset is not None:
            reset()
        first = once()
        stats = repeat_until(once, repeat or opts.repeat, opts.budget)
    except (RuntimeError, OSError) as exc:
        log(f"FAILED {what}: {exc}")
        return Row(error=str(exc))
    return Row(first=first, stats=stats, maxrss_kb=peak, count=expect_lines)


def side_json(argv: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> Any:
    run = run_process(argv, env, cwd).check(" ".join(str(a) for a in argv[1:3]))
    return json.loads(run.stdout)


# ---------------------------------------------------------------------------------------
# modelreg
# ---------------------------------------------------------------------------------------


def modelreg_startup(env: Env, opts: Options, res: Results) -> None:
    plain = env.modelreg_env()
    res.startup["python -c pass"] = measure_process(
        [str(PYTHON), "-c", "pass"], plain, opts, what="python -c pass", repeat=opts.repeat * 2
    )
    res.startup["python -c 'import yaml, filelock, typer, rich'"] = measure_process(
        [str(PYTHON), "-c", "import yaml, filelock, typer, rich"], plain, opts, what="imports"
    )
    res.startup["modelreg --version"] = measure_process(
        [str(MODELREG), "--version"], plain, opts, what="modelreg --version", repeat=opts.repeat * 2
    )
    res.startup["modelreg --help"] = measure_process(
        [str(MODELREG), "--help"], plain, opts, what="modelreg --help"
    )


def modelreg_reads(env: Env, opts: Options, res: Results, size: int, root: Path) -> None:
    name = dataset.name_filter_model(size)
    expected = dataset.expected(size)
    for kind in KINDS:
        res.found[(kind, size)] = getattr(expected, kind)
    cli = env.modelreg_env(root, git=False)

    def reset() -> None:
        env.clear_caches()
        build.reset_to_checkout(root)

    commands: dict[str, tuple[list[str], int | None]] = {
        "describe": (["describe", name, "42"], None),
        "resolve": (["resolve", f"{name}@champion"], 1),
        "list": (["list"], None),
        # One model's versions (issue 19): a table of its 100 versions under a header.
        "list NAME": (["list", name], expected.page("name") + 1),
    }
    for kind in KINDS:
        query = dataset.filters(size)[kind]
        page = expected.page(kind) + (1 if opts.search_format == "table" else 0)
        check = page if opts.search_format in ("plain", "table") else None
        commands[f"search {kind}"] = (["search", query, "--format", opts.search_format], check)
    for label, (args, lines) in commands.items():
        log(f"{size:,} versions: modelreg {label}")
        res.cli[(label, size)] = measure_process(
            [str(MODELREG), *args],
            cli,
            opts,
            cwd=env.nogit,
            reset=reset,
            expect_lines=lines,
            what=f"modelreg {label} ({size:,})",
        )
    for kind in ("tag", "metric"):
        modelreg_after_clone(env, opts, res, size, root, kind)
    for kind in KINDS:
        log(f"{size:,} versions: modelreg in-process search, {KIND_LABEL[kind]}")
        reset()
        res.inproc[(kind, size)] = _inproc_search(
            [str(PYTHON), str(BENCH / "modelreg_side.py"), "search", str(root), kind, str(size)],
            cli,
            opts,
            getattr(expected, kind),  # every page
            opts.repeat,
        )


def modelreg_after_clone(
    env: Env, opts: Options, res: Results, size: int, root: Path, kind: str
) -> None:
    """Issue 19: the first search after a fresh clone, as CI runs it every time: a whole
    `modelreg search` process in a fresh copy of the registry (new files, as a clone
    writes them: new inodes, change times of now), with modelreg's caches empty.
    ``--clone-runs`` runs, each in its own copy. The tag filter parses only the files
    that hold its text (``filters.file_prefilter``); the metric range parses every one."""
    cli = env.modelreg_env(git=False)
    expected = dataset.expected(size)
    argv_tail = ["search", dataset.filters(size)[kind], "--format", "plain"]
    samples: list[float] = []
    peak = 0
    log(
        f"{size:,} versions: first modelreg search after a clone, {KIND_LABEL[kind]} "
        f"x{opts.clone_runs}"
    )
    try:
        for number in range(opts.clone_runs):
            clone = env.tmp / f"clone-{size}-{number}"
            shutil.copytree(root, clone, symlinks=True)
            build.reset_to_checkout(clone)
            env.clear_caches()
            run = run_process(
                [str(MODELREG), "--registry", str(clone), *argv_tail], cli, env.nogit
            ).check(f"search after a clone ({size:,})")
            lines = run.stdout.count(b"\n")
            if lines != expected.page(kind):
                raise RuntimeError(f"printed {lines} lines, expected {expected.page(kind)}")
            samples.append(run.seconds)
            peak = max(peak, run.maxrss_kb)
            shutil.rmtree(clone, ignore_errors=True)
    except (RuntimeError, OSError) as exc:
        log(f"FAILED search after a clone: {exc}")
        res.after_clone[(kind, size)] = Row(error=str(exc))
        return
    res.after_clone[(kind, size)] = Row(
        first=samples[0], stats=Stats(samples), maxrss_kb=peak, count=expected.page(kind)
    )


def _inproc_search(
    argv: list[str], env: dict[str, str], opts: Options, expected: int, repeat: int
) -> Row:
    argv = [*argv, "--repeat", str(repeat), "--budget", str(opts.budget)]
    try:
        run = run_process(argv, env).check("in-process search")
        data = json.loads(run.stdout)
    except (RuntimeError, OSError, ValueError) as exc:
        log(f"FAILED in-process search: {exc}")
        return Row(error=str(exc))
    if data["count"] != expected:
        return Row(error=f"found {data['count']} versions, expected {expected}")
    return Row(
        first=data["first"],
        stats=Stats(data["samples"]),
        maxrss_kb=run.maxrss_kb,
        count=data["count"],
    )


def modelreg_registering(env: Env, opts: Options, res: Results) -> None:
    registry = env.project / "registry"
    run_process([str(MODELREG), "init", str(registry)], env.modelreg_env()).check("init")
    side = [str(PYTHON), str(BENCH / "modelreg_side.py"), "register", str(registry)]
    count = opts.register_count
    tenth = max(1, count // 10)

    log(f"modelreg: {count:,} registrations on one model, in-process (no git)")
    try:
        data = side_json(
            [*side, "big-model", str(count)],
            env.modelreg_env(registry, git=False),
            cwd=env.nogit,
        )
        samples = data["samples"]
        first, last = Stats(samples[:tenth]), Stats(samples[-tenth:])
        res.register["start-nogit"] = Row(stats=first)
        res.register["end-nogit"] = Row(stats=last)
        res.flat = {"first_mean": first.mean, "last_mean": last.mean, "count": count}
    except (RuntimeError, OSError, ValueError) as exc:
        res.register["start-nogit"] = Row(error=str(exc))

    sample = opts.register_sample
    for label, model in (("start", "fresh-model"), ("end", "big-model")):
        log(f"modelreg: {sample} registrations in-process at the {label}, in a git project")
        try:
            data = side_json(
                [*side, model, str(sample)], env.modelreg_env(registry), cwd=env.project
            )
            res.register[f"{label}-git"] = Row(stats=Stats(data["samples"]))
        except (RuntimeError, OSError, ValueError) as exc:
            res.register[f"{label}-git"] = Row(error=str(exc))

    for label, model in (("start", "cli-model"), ("end", "big-model")):
        log(f"modelreg: `modelreg register` at the {label}, in a git project")
        res.register[f"{label}-cli"] = _cli_register(env, opts, registry, model)


def _cli_register(env: Env, opts: Options, registry: Path, model: str) -> Row:
    """Repeated `modelreg register` processes, each adding a version to ``model``."""
    rng = random.Random(f"{dataset.SEED}:cli:{model}")
    peak = 0

    def once() -> float:
        nonlocal peak
        payload = dataset.version_payload(rng, model, 1, "growth")
        argv = [
            str(MODELREG),
            "register",
            model,
            payload["source"],
            f"--run-id={payload['run_id']}",
            *(f"--tag={key}={value}" for key, value in payload["tags"].items()),
            *(f"--metric={key}={value}" for key, value in payload["metrics"].items()),
            *(f"--param={key}={value}" for key, value in payload["params"].items()),
            "--format=plain",
        ]
        run = run_process(argv, env.modelreg_env(registry), env.project).check("register")
        peak = max(peak, run.maxrss_kb)
        return run.seconds

    try:
        stats = repeat_until(once, opts.repeat, opts.budget)
    except (RuntimeError, OSError) as exc:
        return Row(error=str(exc))
    return Row(stats=stats, maxrss_kb=peak)


def concurrent_writers(
    label: str,
    writer_argv: Callable[[int, Path], list[str]],
    env: dict[str, str],
    cwd: Path,
    opts: Options,
    present: Callable[[], list[int]],
) -> dict[str, Any]:
    """Start ``opts.writers`` processes at once, each registering ``opts.writes`` versions
    of one model; then check what is there."""
    log(f"{label}: {opts.writers} concurrent writers × {opts.writes} registrations")
    folder = Path(tempfile.mkdtemp(prefix="barrier-", dir=str(cwd.parent)))
    procs = []
    outputs = []
    for writer in range(opts.writers):
        out = (folder / f"out-{writer}").open("wb+")
        err = (folder / f"err-{writer}").open("wb+")
        outputs.append((out, err))
        procs.append(
            subprocess.Popen(writer_argv(writer, folder), stdout=out, stderr=err, env=env, cwd=cwd)
        )
    try:
        start = release(folder, opts.writers, timeout=600)
    except TimeoutError as exc:
        for proc in procs:
            proc.kill()
        return {"error": str(exc)}
    codes = [proc.wait() for proc in procs]
    acknowledged: list[int] = []
    errors: list[str] = []
    ends: list[float] = []
    latencies: list[float] = []
    crashed = 0
    for code, (out, err) in zip(codes, outputs, strict=True):
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if code != 0 or not text.strip():
            crashed += 1
            errors.append(err.read().decode(errors="replace")[-300:])
            continue
        data = json.loads(text)
        acknowledged.extend(data["versions"])
        errors.extend(data["errors"])
        ends.append(data["end"])
        latencies.extend(data["latencies"])
        out.close()
        err.close()
    calls = opts.writers * opts.writes
    numbers = present()
    there = set(numbers)
    unique_acknowledged = set(acknowledged)
    lost = len(acknowledged) - len(unique_acknowledged & there)
    result = {
        "wall": (max(ends) - start) if ends else None,
        "calls": calls,
        "failed": calls - len(acknowledged),
        "acknowledged": len(acknowledged),
        "duplicates": len(acknowledged) - len(unique_acknowledged),
        "lost": lost,
        "present": len(numbers),
        "crashed": crashed,
        "latency": Stats(latencies) if latencies else None,
        "first_error": errors[0] if errors else None,
    }
    shutil.rmtree(folder, ignore_errors=True)
    return result


def modelreg_concurrency(env: Env, opts: Options, res: Results) -> None:
    registry = env.project / "registry"
    model = "concurrent-model"
    run_process(
        [str(MODELREG), "create", model, "--tag", "team=growth"], env.modelreg_env(registry)
    ).check("create")

    def writer_argv(writer: int, barrier: Path) -> list[str]:
        return [
            str(PYTHON),
            str(BENCH / "modelreg_side.py"),
            "writer",
            str(registry),
            model,
            str(opts.writes),
            str(barrier),
            "--writer",
            str(writer),
        ]

    def present() -> list[int]:
        run = run_process(
            [str(MODELREG), "list", model, "--format", "plain"], env.modelreg_env(registry)
        ).check("list")
        return [int(line.split("\t")[1]) for line in run.stdout.decode().splitlines()]

    res.concurrency["modelreg"] = concurrent_writers(
        "modelreg", writer_argv, env.modelreg_env(registry), env.project, opts, present
    )


# ---------------------------------------------------------------------------------------
# MLflow
# ---------------------------------------------------------------------------------------


def mlflow_python() -> Path:
    return MLFLOW_VENV / "bin" / "python"


def ensure_mlflow() -> str:
    """MLflow in its own venv (created and installed once); returns its version."""
    stamp = MLFLOW_VENV / ".bench-installed"
    if not (stamp.is_file() and stamp.read_text() == MLFLOW_PIN):
        log(f"installing {MLFLOW_PIN} into {MLFLOW_VENV} (once) ...")
        shutil.rmtree(MLFLOW_VENV, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(MLFLOW_VENV)], check=True)
        subprocess.run(
            [str(mlflow_python()), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
            check=True,
        )
        subprocess.run(
            [str(mlflow_python()), "-m", "pip", "install", "--quiet", MLFLOW_PIN], check=True
        )
        stamp.write_text(MLFLOW_PIN)
    out = subprocess.run(
        [str(mlflow_python()), "-c", "import mlflow; print(mlflow.__version__)"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def mlflow_side(*args: str) -> list[str]:
    return [str(mlflow_python()), str(BENCH / "mlflow_side.py"), *args]


def sqlite_uri(path: Path) -> str:
    return f"sqlite:///{path}"


def ensure_mlflow_data(env: Env, size: int, version: str) -> tuple[str, str]:
    """MLflow's SQLite and file stores holding the data of ``size`` versions (cached)."""
    key = f"{version} seed={dataset.SEED} size={size} code={_code_key()}"
    db = DATA / f"mlflow-sqlite-{size}.db"
    files = DATA / f"mlflow-file-{size}"
    menv = env.mlflow_env()
    for label, target in (("sqlite", db), ("file", files)):
        stamp = target.with_name(target.name + ".built")
        if target.exists() and stamp.is_file() and stamp.read_text() == key:
            continue
        log(f"loading {size:,} versions into MLflow's {label} store (once; slow) ...")
        stamp.unlink(missing_ok=True)
        shutil.rmtree(files, ignore_errors=True) if label == "file" else db.unlink(missing_ok=True)
        if label == "sqlite":
            # Loaded on tmpfs when there is one (no fsync per commit), then copied.
            scratch_dir = Path("/dev/shm") if Path("/dev/shm").is_dir() else env.tmp
            scratch = scratch_dir / f"modelreg-bench-{os.getpid()}-{size}.db"
            scratch.unlink(missing_ok=True)
            run_process(
                mlflow_side("build-sqlite", sqlite_uri(scratch), str(size)), menv, env.mlflow_cwd
            ).check("build-sqlite")
            shutil.copyfile(scratch, db)
            scratch.unlink()
            uri = sqlite_uri(db)
        else:
            run_process(
                mlflow_side("build-file", str(files), str(size)), menv, env.mlflow_cwd
            ).check("build-file")
            uri = files.as_uri()
        found = side_json(mlflow_side("verify", uri, str(size)), menv, env.mlflow_cwd)
        expected = dataset.expected(size)
        wanted = {kind: expected.page(kind) for kind in KINDS}
        if found["counts"] != wanted:
            raise RuntimeError(f"MLflow {label} store reads back {found['counts']}, not {wanted}")
        stamp.write_text(key)
    return sqlite_uri(db), files.as_uri()


def _code_key() -> str:
    import hashlib

    # The data and the code that loads it: editing how MLflow is searched or timed
    # must not reload the stores (minutes).
    side = (BENCH / "mlflow_side.py").read_text()
    building = side[side.index("# -- building") : side.index("# -- searching")]
    digest = hashlib.sha256((BENCH / "dataset.py").read_bytes())
    digest.update(building.encode())
    return digest.hexdigest()[:16]


def mlflow_startup(env: Env, opts: Options, res: Results) -> None:
    menv = env.mlflow_env()
    py = str(mlflow_python())
    res.mlflow_startup["python -c 'import mlflow'"] = measure_process(
        [py, "-c", "import mlflow"], menv, opts, cwd=env.mlflow_cwd, what="import mlflow"
    )
    res.mlflow_startup["mlflow --version"] = measure_process(
        [str(MLFLOW_VENV / "bin" / "mlflow"), "--version"],
        menv,
        opts,
        cwd=env.mlflow_cwd,
        what="mlflow --version",
        repeat=opts.mlflow_repeat,
    )


def mlflow_reads(env: Env, opts: Options, res: Results, size: int, uris: dict[str, str]) -> None:
    menv = env.mlflow_env()
    expected = dataset.expected(size)
    for store, uri in uris.items():
        for kind in KINDS:
            log(f"{size:,} versions: MLflow {store} search process, {KIND_LABEL[kind]}")
            res.mlflow_cli[(store, kind, size)] = measure_process(
                mlflow_side("search", uri, kind, str(size)),
                menv,
                opts,
                cwd=env.mlflow_cwd,
                expect_lines=expected.page(kind),
                repeat=opts.mlflow_repeat,
                what=f"MLflow {store} search {kind}",
            )
            log(f"{size:,} versions: MLflow {store} in-process search, {KIND_LABEL[kind]}")
            res.mlflow_inproc[(store, kind, size)] = _inproc_search(
                mlflow_side("search-inproc", uri, kind, str(size)),
                menv,
                opts,
                getattr(expected, kind),  # every page
                opts.repeat,
            )


def mlflow_registering(env: Env, opts: Options, res: Results, version: str) -> None:
    menv = env.mlflow_env()
    count = opts.register_count
    tenth = max(1, count // 10)
    db = env.tmp / "mlflow-register.db"
    log(f"MLflow SQLite: {count:,} registrations on one model, in-process")
    try:
        data = side_json(
            mlflow_side("register", sqlite_uri(db), "big-model", str(count)), menv, env.mlflow_cwd
        )
        samples = data["samples"]
        first, last = Stats(samples[:tenth]), Stats(samples[-tenth:])
        res.mlflow_register["sqlite-start"] = Row(stats=first)
        res.mlflow_register["sqlite-end"] = Row(stats=last)
        res.mlflow_flat = {"first_mean": first.mean, "last_mean": last.mean}
    except (RuntimeError, OSError, ValueError) as exc:
        res.mlflow_register["sqlite-start"] = Row(error=str(exc))

    log("MLflow SQLite: whole process registering one version")
    res.mlflow_register["sqlite-process"] = measure_process(
        mlflow_side("register", sqlite_uri(db), "big-model", "1"),
        menv,
        opts,
        cwd=env.mlflow_cwd,
        repeat=opts.mlflow_repeat,
        what="MLflow register process",
    )

    files = env.tmp / "mlflow-file-register"
    sample = min(opts.register_sample, 20)
    log(f"MLflow file store: {sample} registrations at the start of a model")
    try:
        data = side_json(
            mlflow_side("register", files.as_uri(), "fresh-model", str(sample)),
            menv,
            env.mlflow_cwd,
        )
        res.mlflow_register["file-start"] = Row(stats=Stats(data["samples"]))
    except (RuntimeError, OSError, ValueError) as exc:
        res.mlflow_register["file-start"] = Row(error=str(exc))

    # Every tag MLflow's file store writes rereads every version of the model, so one
    # registration at the end of 10,000 versions takes minutes: the model is smaller.
    big_count = min(count, FILE_STORE_BIG_MODEL)
    res.counts["file_end_versions"] = big_count
    res.counts["file_start_registrations"] = sample
    big = DATA / f"mlflow-file-big-{big_count}"
    stamp = big.with_name(big.name + ".built")
    key = f"{version} count={big_count} code={_code_key()}"
    try:
        if not (big.is_dir() and stamp.is_file() and stamp.read_text() == key):
            log(f"MLflow file store: writing a model of {big_count:,} versions (once) ...")
            shutil.rmtree(big, ignore_errors=True)
            run_process(
                mlflow_side("build-big-file-model", str(big), "big-model", str(big_count)),
                menv,
                env.mlflow_cwd,
            ).check("build-big-file-model")
            stamp.write_text(key)
        work = env.tmp / "mlflow-file-big"
        shutil.copytree(big, work, symlinks=True)
        log(f"MLflow file store: registrations at the end of a model of {big_count:,} versions")
        data = side_json(
            mlflow_side("register", work.as_uri(), "big-model", "2"), menv, env.mlflow_cwd
        )
        res.mlflow_register["file-end"] = Row(stats=Stats(data["samples"]))
        shutil.rmtree(work, ignore_errors=True)
    except (RuntimeError, OSError, ValueError) as exc:
        res.mlflow_register["file-end"] = Row(error=str(exc))


def mlflow_concurrency(env: Env, opts: Options, res: Results) -> None:
    menv = env.mlflow_env()
    model = "concurrent-model"
    stores = {
        "MLflow SQLite": sqlite_uri(env.tmp / "mlflow-concurrent.db"),
        "MLflow file store": (env.tmp / "mlflow-file-concurrent").as_uri(),
    }
    for label, uri in stores.items():
        try:
            side_json(mlflow_side("create-model", uri, model), menv, env.mlflow_cwd)
        except (RuntimeError, OSError, ValueError) as exc:
            res.concurrency[label] = {"error": str(exc)}
            continue

        def writer_argv(writer: int, barrier: Path, uri: str = uri) -> list[str]:
            return mlflow_side(
                "writer", uri, model, str(opts.writes), str(barrier), "--writer", str(writer)
            )

        def present(uri: str = uri) -> list[int]:
            data = side_json(mlflow_side("versions", uri, model), menv, env.mlflow_cwd)
            return list(data["versions"])

        res.concurrency[label] = concurrent_writers(
            label, writer_argv, menv, env.mlflow_cwd, opts, present
        )


def load_average() -> str:
    try:
        return " / ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "?"


def machine(env: Env) -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = run_process([str(MODELREG), "--version"], env.modelreg_env()).stdout.decode().strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "modelreg": version or "modelreg ?",
        "commit": (commit or "no git")
        + (" + uncommitted changes" if dirty else "")
        + (", a snapshot of src/ taken at the start" if env.src else ", the live src/"),
        "mlflow": "",
    }


def main(argv: Sequence[str]) -> int:
    opts = parse_options(argv)
    if not MODELREG.exists():
        sys.exit(f"{MODELREG} not found: run the benchmark with the venv's python (make bench)")
    env = Env(snapshot=not opts.live_src)
    if env.src is not None:
        sys.path.insert(0, str(env.src))  # build.py writes with the snapshot's code too
    res = Results()
    meta = machine(env)
    meta["load_start"] = load_average()
    started = time.monotonic()
    try:
        roots = {size: build.ensure_registry(size) for size in opts.sizes}
        # Compile modelreg's bytecode and touch its files once, before any timing.
        warm = env.modelreg_env(roots[opts.sizes[0]])
        for args in (["--version"], ["search", dataset.TAG_FILTER], ["list"], ["--help"]):
            run_process([str(MODELREG), *args], warm, env.nogit)
        if not env.make_project():
            res.notes.append(
                "git is not installed: the *from a git project* figures ran in a plain "
                "folder, without lineage."
            )

        log("start-up")
        modelreg_startup(env, opts, res)
        for size, root in roots.items():
            modelreg_reads(env, opts, res, size, root)
        modelreg_registering(env, opts, res)
        modelreg_concurrency(env, opts, res)

        if opts.compare_mlflow:
            version = ensure_mlflow()
            meta["mlflow"] = version
            mlflow_startup(env, opts, res)
            for size in opts.mlflow_sizes:
                sqlite, files = ensure_mlflow_data(env, size, version)
                mlflow_reads(env, opts, res, size, {"sqlite": sqlite, "file": files})
            mlflow_registering(env, opts, res, version)
            mlflow_concurrency(env, opts, res)
            skipped = [s for s in opts.sizes if s not in opts.mlflow_sizes]
            if skipped:
                res.notes.append(
                    "MLflow was not measured at "
                    + ", ".join(f"{s:,}" for s in skipped)
                    + " versions (loading and searching them takes hours; `--mlflow-large`)."
                )
    finally:
        shutil.rmtree(env.tmp, ignore_errors=True)
    meta["load_end"] = load_average()
    res.notes.append(f"The whole run took {(time.monotonic() - started) / 60:.1f} minutes.")

    text = report(opts, res, meta)
    RESULTS.mkdir(exist_ok=True)
    output = opts.output or RESULTS / f"bench-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.md"
    output.write_text(text, encoding="utf-8")
    shutil.copyfile(output, RESULTS / "latest.md")
    print(text)
    log(f"written to {output} (and {RESULTS / 'latest.md'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
