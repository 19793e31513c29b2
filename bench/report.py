"""The benchmark's results, its targets (issue 7) and the markdown report."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dataset
from common import Stats, fmt_mb, fmt_stats, fmt_time

MLFLOW_PIN = "mlflow==3.17.2"
KINDS = ("name", "tag", "metric")
KIND_LABEL = {"name": "name filter", "tag": "tag filter", "metric": "metric range"}


@dataclass
class Options:
    """The settings of one run (``run.py --help``)."""

    sizes: list[int]
    mlflow_sizes: list[int]
    compare_mlflow: bool
    repeat: int
    mlflow_repeat: int
    budget: float
    register_count: int
    register_sample: int
    clone_runs: int
    writers: int
    writes: int
    search_format: str
    output: Path | None
    live_src: bool
    command_line: str


@dataclass
class Row:
    """One measured operation; ``error`` when it could not be measured."""

    first: float | None = None
    stats: Stats | None = None
    maxrss_kb: int = 0
    count: int | None = None
    error: str | None = None

    @property
    def median(self) -> float | None:
        return self.stats.median if self.stats else None


@dataclass
class Results:
    startup: dict[str, Row] = field(default_factory=dict)
    cli: dict[tuple[str, int], Row] = field(default_factory=dict)
    inproc: dict[tuple[str, int], Row] = field(default_factory=dict)
    # Issue 19: the first `modelreg search` process after a clone, by filter and size.
    after_clone: dict[tuple[str, int], Row] = field(default_factory=dict)
    register: dict[str, Row] = field(default_factory=dict)
    flat: dict[str, float] = field(default_factory=dict)
    concurrency: dict[str, dict[str, Any]] = field(default_factory=dict)
    mlflow_startup: dict[str, Row] = field(default_factory=dict)
    mlflow_cli: dict[tuple[str, str, int], Row] = field(default_factory=dict)
    mlflow_inproc: dict[tuple[str, str, int], Row] = field(default_factory=dict)
    mlflow_register: dict[str, Row] = field(default_factory=dict)
    mlflow_flat: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    # How many versions each search finds, by (kind, size), before the page limit.
    found: dict[tuple[str, int], int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def cell(row: Row | None) -> str:
    if row is None:
        return "—"
    if row.error:
        return f"FAILED: {row.error[:120]}"
    assert row.stats is not None
    return fmt_stats(row.stats)


def median_of(row: Row | None) -> float | None:
    return row.median if row is not None and not row.error else None


def speedup(mlflow: float | None, modelreg: float | None) -> str:
    """MLflow's time over modelreg's: above 1, modelreg is faster."""
    if mlflow is None or modelreg is None or modelreg <= 0:
        return "—"
    return f"{mlflow / modelreg:.1f}×" if mlflow / modelreg >= 1 else f"{mlflow / modelreg:.2f}×"


@dataclass
class Target:
    name: str
    measured: str
    required: str
    passed: bool | None  # None: not measured in this run


def evaluate(opts: Options, res: Results) -> list[Target]:
    targets: list[Target] = []
    size = 10_000

    def ratio(mlflow: float | None, modelreg: float | None) -> float | None:
        if mlflow is None or modelreg is None:
            return None
        return mlflow / modelreg

    for store, need in (("sqlite", 10.0), ("file", 30.0)):
        store_label = "SQLite" if store == "sqlite" else "file store"
        for kind in ("name", "tag"):
            mine = median_of(res.cli.get((f"search {kind}", size)))
            theirs = median_of(res.mlflow_cli.get((store, kind, size)))
            value = ratio(theirs, mine)
            targets.append(
                Target(
                    f"`modelreg search` process, 10k versions, {KIND_LABEL[kind]}, "
                    f"vs a Python process searching MLflow's {store_label}",
                    f"{value:.1f}× faster ({fmt_time(mine or 0)} vs {fmt_time(theirs or 0)})"
                    if value
                    else "not measured",
                    f"≥ {need:.0f}× faster",
                    None if value is None else value >= need,
                )
            )
    for kind in ("name", "tag"):
        mine = median_of(res.inproc.get((kind, size)))
        theirs = median_of(res.mlflow_inproc.get(("sqlite", kind, size)))
        value = ratio(theirs, mine)
        targets.append(
            Target(
                f"in-process search, 10k versions, {KIND_LABEL[kind]}, vs MLflow SQLite query",
                f"{value:.2f}× ({fmt_time(mine or 0)} vs {fmt_time(theirs or 0)})"
                if value
                else "not measured",
                "≥ 1× (no slower)",
                None if value is None else value >= 1.0,
            )
        )
    for where in ("start", "end"):
        mine = median_of(res.register.get(f"{where}-git"))
        theirs = median_of(res.mlflow_register.get(f"sqlite-{where}"))
        value = ratio(theirs, mine)
        targets.append(
            Target(
                f"register a version in-process at the {where} of a model (from a git "
                "project, lineage recorded) vs MLflow SQLite",
                f"{value:.2f}× ({fmt_time(mine or 0)} vs {fmt_time(theirs or 0)})"
                if value
                else "not measured",
                "≥ 1× (no slower)",
                None if value is None else value >= 1.0,
            )
        )
    if res.flat:
        flat = res.flat["last_mean"] / res.flat["first_mean"]
        targets.append(
            Target(
                f"registering stays flat: mean of the last 10% of {res.flat['count']:,.0f} "
                "registrations on one model over the first 10%",
                f"{flat:.2f}× ({fmt_time(res.flat['last_mean'])} vs "
                f"{fmt_time(res.flat['first_mean'])})",
                "≤ 1.3×",
                flat <= 1.3,
            )
        )
    python = median_of(res.startup.get("python -c pass"))
    version = median_of(res.startup.get("modelreg --version"))
    if python and version:
        targets.append(
            Target(
                "`modelreg --version` vs `python -c pass`",
                f"{version / python:.1f}× ({fmt_time(version)} vs {fmt_time(python)})",
                "≤ 6×",
                version / python <= 6,
            )
        )
    for each in opts.sizes:
        resolve = median_of(res.cli.get(("resolve", each)))
        if python and resolve:
            targets.append(
                Target(
                    f"`modelreg resolve` ({each:,} versions) vs `python -c pass`",
                    f"{resolve / python:.1f}× ({fmt_time(resolve)})",
                    "≤ 8×",
                    resolve / python <= 8,
                )
            )
    mine_c = res.concurrency.get("modelreg", {})
    theirs_c = res.concurrency.get("MLflow SQLite", {})
    if mine_c.get("wall") is not None:
        clean = mine_c["failed"] == 0 and mine_c["lost"] == 0 and mine_c["crashed"] == 0
        targets.append(
            Target(
                f"{opts.writers} concurrent writers: no failed call, no lost version",
                f"{mine_c['failed']} failed, {mine_c['lost']} lost of {mine_c['calls']}",
                "0 failed, 0 lost",
                clean,
            )
        )
        if theirs_c.get("wall") is not None:
            value = theirs_c["wall"] / mine_c["wall"]
            targets.append(
                Target(
                    f"{opts.writers} concurrent writers × {opts.writes}: wall time "
                    "vs MLflow SQLite",
                    f"{value:.2f}× ({fmt_time(mine_c['wall'])} vs {fmt_time(theirs_c['wall'])})",
                    "≥ 1× (no slower)",
                    value >= 1.0,
                )
            )
        else:
            targets.append(
                Target(
                    f"{opts.writers} concurrent writers: wall time vs MLflow SQLite",
                    "not measured",
                    "≥ 1× (no slower)",
                    None,
                )
            )
    big = 100_000
    for kind in KINDS:
        row = res.cli.get((f"search {kind}", big))
        mine = median_of(row)
        targets.append(
            Target(
                f"`modelreg search` process, 100k versions, {KIND_LABEL[kind]}",
                fmt_time(mine) if mine else ("FAILED" if row else "not measured (--large)"),
                "< 1.5 s",
                None if mine is None else mine < 1.5,
            )
        )
    peaks = [
        res.cli[(f"search {kind}", big)].maxrss_kb
        for kind in KINDS
        if (f"search {kind}", big) in res.cli and not res.cli[(f"search {kind}", big)].error
    ]
    targets.append(
        Target(
            "peak memory of a `modelreg search` process, 100k versions",
            fmt_mb(max(peaks)) if peaks else "not measured (--large)",
            "< 200 MB",
            None if not peaks else max(peaks) < 200 * 1024,
        )
    )
    return targets


# Issue 19: the reads Makefiles and scripts call in loops, as whole processes over 10,000
# versions (warm cache), against `python -c pass` of the same run: `resolve` at most 4 times,
# `describe` and `list NAME` close to it (held to the same bound).
STARTUP_READS = ("resolve", "describe", "list NAME")
STARTUP_BOUND = 4.0


def _startup_targets(res: Results, python: float | None) -> list[Target]:
    targets = []
    for label in STARTUP_READS:
        row = res.cli.get((label, 10_000))
        mine = median_of(row)
        ratio = mine / python if python and mine else None
        targets.append(
            Target(
                f"`modelreg {label}` process, 10k versions, vs `python -c pass` (issue 19)",
                f"{ratio:.1f}× ({fmt_time(mine or 0)} vs {fmt_time(python or 0)})"
                if ratio
                else ("FAILED" if row else "not measured"),
                f"≤ {STARTUP_BOUND:.0f}×",
                None if ratio is None else ratio <= STARTUP_BOUND,
            )
        )
    return targets


def issue19_targets(opts: Options, res: Results) -> list[Target]:
    """Issue 19's targets: what a user's call costs (the public method, entities built,
    every page) and the first search after a clone."""
    targets = _startup_targets(res, median_of(res.startup.get("python -c pass")))
    mine = median_of(res.inproc.get(("tag", 10_000)))
    theirs = median_of(res.mlflow_inproc.get(("sqlite", "tag", 10_000)))
    value = None if mine is None or not theirs else mine / theirs
    targets.append(
        Target(
            "in-process `search_model_versions`, 10k versions, tag filter, entities of every "
            "page, time over `MlflowClient().search_model_versions` on SQLite",
            f"{value:.2f}× ({fmt_time(mine or 0)} vs {fmt_time(theirs or 0)})"
            if value is not None
            else "not measured (COMPARE_MLFLOW=1)",
            "≤ 0.5×",
            None if value is None else value <= 0.5,
        )
    )
    for size, limit, how in ((10_000, 1.0, ""), (100_000, 8.0, " (LARGE=1)")):
        row = res.after_clone.get(("tag", size))
        median = median_of(row)
        targets.append(
            Target(
                f"first `modelreg search` process after a clone, {size // 1000}k versions "
                f"(tag filter, caches empty, median of {opts.clone_runs})",
                fmt_stats(row.stats)
                if median is not None and row is not None and row.stats is not None
                else ("FAILED" if row else f"not measured{how}"),
                f"≤ {limit:.0f} s",
                None if median is None else median <= limit,
            )
        )
    return targets


def _after_clone_table(add: Any, opts: Options, res: Results) -> None:
    """The first search after a clone by filter: a filter that requires a text (the tag
    filter) parses only the files that hold it (``filters.file_prefilter``); a metric
    range parses every file, as any search did before."""
    if not res.after_clone:
        return
    add("## The first search after a clone, by filter\n")
    add(
        f"A whole `modelreg search` process in a fresh copy of the registry, caches empty "
        f"(median of {opts.clone_runs}). The tag filter parses only the version files that "
        "hold its text; the metric range parses every file.\n"
    )
    add("| filter | versions | hits | median (min–max) | peak RSS |")
    add("|---|---|---|---|---|")
    by_size = sorted(res.after_clone.items(), key=lambda item: (item[0][1], item[0][0] != "tag"))
    for (kind, size), row in by_size:
        hits = f"{row.count:,}" if row.count is not None else "—"
        add(f"| {KIND_LABEL[kind]} | {size:,} | {hits} | {cell(row)} | {fmt_mb(row.maxrss_kb)} |")
    add("")


def _targets_table(add: Any, title: str, targets: list[Target]) -> None:
    add(f"## {title}\n")
    add("| target | measured | required | result |")
    add("|---|---|---|---|")
    for target in targets:
        add(f"| {target.name} | {target.measured} | {target.required} | {verdict(target.passed)} |")
    passed = sum(1 for t in targets if t.passed)
    failed = sum(1 for t in targets if t.passed is False)
    add(f"\n{passed} passed, {failed} failed, {len(targets) - passed - failed} not measured.\n")


def _hits(res: Results, kind: str, size: int) -> str:
    """What a search returned: ``100``, or ``10,000 of 20,000`` when the page cut it."""
    found = res.found.get((kind, size))
    if found is None:
        return ""
    page = min(found, dataset.MAX_RESULTS)
    return f"{page:,}" if page == found else f"{page:,} of {found:,}"


def _short_paths(text: str) -> str:
    """Error messages without the long temporary paths of the run."""
    return re.sub(r"/[^\s'\"]*/", ".../", " ".join(text.split()))


def verdict(passed: bool | None) -> str:
    return "n/a" if passed is None else ("**PASS**" if passed else "**FAIL**")


def report(opts: Options, res: Results, meta: dict[str, str]) -> str:
    out: list[str] = []
    add = out.append
    add("# modelreg benchmark\n")
    add(
        f"{meta['date']} · {meta['cpu']} · {meta['cores']} cores · Python {meta['python']} · "
        f"{meta['modelreg']} ({meta['commit']}) · "
        + (f"MLflow {meta['mlflow']} (own venv)" if opts.compare_mlflow else "no MLflow")
        + "\n"
    )
    add(
        f"Command: `{opts.command_line.strip()}` · load average (1/5/15 min) at the start "
        f"{meta['load_start']}, at the end {meta['load_end']}\n"
    )
    add(
        "Times are medians of repeated runs with (min–max); *first* is the first run after "
        "modelreg's caches were emptied and the registry reset to what a fresh clone holds. "
        "× is MLflow's time divided by modelreg's: above 1, modelreg is faster.\n"
    )

    _targets_table(add, "Targets (issue 7)", evaluate(opts, res))
    _targets_table(add, "Targets (issue 19)", issue19_targets(opts, res))

    _after_clone_table(add, opts, res)

    python = median_of(res.startup.get("python -c pass"))
    add("## Start-up (whole process)\n")
    add("| command | median (min–max) | runs | × `python -c pass` | peak RSS |")
    add("|---|---|---|---|---|")
    for label, row in [*res.startup.items(), *res.mlflow_startup.items()]:
        mid = median_of(row)
        times = f"{mid / python:.1f}×" if python and mid else "—"
        runs = len(row.stats) if row.stats else 0
        add(f"| `{label}` | {cell(row)} | {runs} | {times} | {fmt_mb(row.maxrss_kb)} |")
    add("")

    add("## Reads: a whole `modelreg` process\n")
    add(
        f"`search` prints `--format {opts.search_format}`; MLflow's column is a Python process "
        "that imports mlflow, opens the store, runs `search_model_versions` with the same "
        "filter and prints the same lines.\n"
    )
    header = "| command | versions | hits | first | median (min–max) | runs | peak RSS |"
    rule = "|---|---|---|---|---|---|---|"
    if opts.compare_mlflow:
        header += " MLflow SQLite process | × | MLflow file store process | × |"
        rule += "---|---|---|---|"
    add(header)
    add(rule)
    for (label, size), row in res.cli.items():
        kind = label.split(" ", 1)[1] if label.startswith("search ") else None
        name = f"search ({KIND_LABEL[kind]})" if kind else label
        hits = _hits(res, kind, size) if kind else ""
        first = fmt_time(row.first) if row.first is not None else "—"
        runs = len(row.stats) if row.stats else 0
        line = (
            f"| `{name}` | {size:,} | {hits} | {first} | {cell(row)} | {runs} | "
            f"{fmt_mb(row.maxrss_kb)} |"
        )
        if opts.compare_mlflow:
            if kind is None:
                line += " | | | |"
            else:
                sq = res.mlflow_cli.get(("sqlite", kind, size))
                fs = res.mlflow_cli.get(("file", kind, size))
                line += (
                    f" {cell(sq)} | {speedup(median_of(sq), median_of(row))} | "
                    f"{cell(fs)} | {speedup(median_of(fs), median_of(row))} |"
                )
        add(line)
    add("")

    if opts.compare_mlflow:
        add(
            "\nMLflow's *metric range* processes fetch every version and filter in Python "
            "(see below); they count in no target.\n"
        )
    add("## Search in-process\n")
    add(
        "What a user's call costs: the public method, the entities built, every page "
        f"(`max_results` {dataset.MAX_RESULTS:,}, then `page_token` until there is none). "
        "modelreg: `Registry(path).search_model_versions(filter)` in a fresh process; *first* "
        "includes opening the registry (cold cache). MLflow: `MlflowClient().search_model_"
        "versions(filter)` after one warm-up call; *first* includes creating the client.\n"
    )
    header = "| search | versions | hits | first | median (min–max) |"
    rule = "|---|---|---|---|---|"
    if opts.compare_mlflow:
        header += " MLflow SQLite | × | MLflow file store | × |"
        rule += "---|---|---|---|"
    add(header)
    add(rule)
    for (kind, size), row in res.inproc.items():
        first = fmt_time(row.first) if row.first is not None else "—"
        line = (
            f"| {KIND_LABEL[kind]} | {size:,} | {res.found.get((kind, size), 0):,} | {first} | "
            f"{cell(row)} |"
        )
        if opts.compare_mlflow:
            sq = res.mlflow_inproc.get(("sqlite", kind, size))
            fs = res.mlflow_inproc.get(("file", kind, size))
            line += (
                f" {cell(sq)} | {speedup(median_of(sq), median_of(row))} | "
                f"{cell(fs)} | {speedup(median_of(fs), median_of(row))} |"
            )
        add(line)
    if opts.compare_mlflow:
        add(
            "\nMLflow has no numeric filter on model versions (metrics live on runs): its "
            "*metric range* rows store the metrics as version tags and scan every version, "
            "filtering in Python. They are shown for information and count in no target.\n"
        )
    add("")

    add("## Registering a version\n")
    file_end = res.counts.get("file_end_versions", 0)
    file_start = res.counts.get("file_start_registrations", 0)
    add(
        "In-process: `Registry.create_model_version` / `MlflowClient.create_model_version` "
        "with 3–5 tags, 3 metrics (tags for MLflow), 3 params (modelreg only), a run id and "
        f"a link. *Storage alone*: {opts.register_count:,} registrations on one model with "
        "no `git` on PATH, so without modelreg's lineage lookups; start and end are their "
        f"first and last 10%. *From a git project*: {opts.register_sample} registrations on "
        "a new model, then on that large model, run from a git repository so that modelreg "
        "records the commit, as users get it. MLflow SQLite's start and end are the first "
        f"and last 10% of its own {opts.register_count:,} registrations on one model; its "
        "file store's start is the first "
        f"{file_start} registrations of a new model and its end registrations on a model of "
        f"{file_end:,} versions (its every tag write rereads every version of the model, so "
        "at 10,000 versions one registration takes minutes). *Process*: one `modelreg "
        "register` command per version; MLflow has no such command, so its figure is a "
        "Python process that imports mlflow and registers one version in SQLite.\n"
    )
    add("| registering a version | modelreg | mean | MLflow SQLite | × | MLflow file store | × |")
    add("|---|---|---|---|---|---|---|")
    rows = {
        "in-process, start of a model, storage alone": ("start-nogit", "start"),
        "in-process, end of a large model, storage alone": ("end-nogit", "end"),
        "in-process, start of a model, from a git project": ("start-git", "start"),
        "in-process, end of a large model, from a git project": ("end-git", "end"),
        "process (`modelreg register`), start of a model": ("start-cli", "process"),
        "process (`modelreg register`), end of a large model": ("end-cli", "process"),
    }
    for label, (key, where) in rows.items():
        mine = res.register.get(key)
        if mine is None:
            continue
        sq = res.mlflow_register.get(f"sqlite-{where}")
        fs = res.mlflow_register.get(f"file-{where}")
        mean = fmt_time(mine.stats.mean) if mine.stats else "—"
        add(
            f"| {label} | {cell(mine)} | {mean} | {cell(sq) if sq else ''} | "
            f"{speedup(median_of(sq), median_of(mine)) if sq else ''} | "
            f"{cell(fs) if fs else ''} | {speedup(median_of(fs), median_of(mine)) if fs else ''} |"
        )
    if res.flat:
        line = (
            f"\nFlatness over {res.flat['count']:,.0f} registrations: last 10% / first 10% "
            f"(means) = {res.flat['last_mean'] / res.flat['first_mean']:.2f} for modelreg"
        )
        if res.mlflow_flat:
            line += (
                f", {res.mlflow_flat['last_mean'] / res.mlflow_flat['first_mean']:.2f} "
                "for MLflow SQLite"
            )
        add(line + ".")
    add("")

    add(f"## {opts.writers} concurrent writers\n")
    add(
        f"{opts.writers} processes start together (a barrier after import and warm-up) and "
        f"each registers {opts.writes} versions of one model; wall time from the start to "
        "the last finish. *Lost*: acknowledged version numbers missing afterwards, or handed "
        "to two writers.\n"
    )
    add(
        "| store | wall | per call median (min–max) | failed calls | lost | versions present "
        "| acknowledged |"
    )
    add("|---|---|---|---|---|---|---|")
    for label, data in res.concurrency.items():
        if "error" in data:
            add(f"| {label} | FAILED: {data['error'][:120]} | | | | | |")
            continue
        wall = fmt_time(data["wall"]) if data["wall"] is not None else "—"
        latency = fmt_stats(data["latency"]) if data["latency"] else "—"
        calls = f"{data['failed']} of {data['calls']}"
        if data["crashed"]:
            calls += f" ({data['crashed']} writers crashed)"
        add(
            f"| {label} | {wall} | {latency} | {calls} | {data['lost']} | "
            f"{data['present']} | {data['acknowledged']} |"
        )
    errors = [
        f"- {label}, first error: `{_short_paths(data['first_error'])[:240]}`"
        for label, data in res.concurrency.items()
        if data.get("first_error")
    ]
    if errors:
        add("")
        out.extend(errors)
    add("")

    add("## How this was measured\n")
    add(
        "- Registries are generated by `bench/build.py` in modelreg's own file format "
        "(`bench/dataset.py`: 100 versions per model, 3–5 tags, 3 metrics, 3 params, "
        "lineage, history; stages mostly None/Archived with one Production and one Staging "
        "version per model, aliases `champion` and `challenger`). The name filter finds one "
        "model (100 versions), the tag filter `tags.team = 'growth'` 20% of the versions, "
        f"the metric range `{dataset.METRIC_FILTER}` about 2.6%. A search returns one page "
        f"of at most {dataset.MAX_RESULTS:,} (both tools' default). Every search is checked "
        "to find exactly the expected versions."
    )
    add(
        "- Whole processes are timed from spawn to exit (`os.wait4`, which also gives the "
        "peak RSS); the OS page cache is warm. modelreg's caches live in "
        "`bench/.data/cache` (`MODELREG_CACHE_DIR`)."
    )
    if opts.compare_mlflow:
        add(
            f"- MLflow ({MLFLOW_PIN}) runs from `bench/.venv-mlflow` with telemetry off "
            "(`MLFLOW_DISABLE_TELEMETRY`). Its SQLite store is loaded through `MlflowClient`; "
            "its file store is written with the store's own serializer and read back through "
            "`MlflowClient` (see `bench/mlflow_side.py`). Both hold the same models, versions, "
            "stages, aliases, tags and metrics (as tags) as modelreg's registry."
        )
    out.extend(f"- {note}" for note in res.notes)
    add("")
    return "\n".join(out)
