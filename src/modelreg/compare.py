"""What differs between two versions (``modelreg diff``), and many versions' metrics side
by side (``modelreg compare``).

Pure: dataclasses computed from :class:`~modelreg.entities.ModelVersion` entities; the one
question asked outside them is the ``git log`` range between two versions' commits, and
only when given the repository to ask (:func:`commit_log`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelreg.datasets import datasets_doc
from modelreg.docread import JSONValue
from modelreg.entities import ModelVersion
from modelreg.errors import InvalidInputError, NotFoundError

# At most this many commits of a `git log A..B` range are listed (the count is whole).
MAX_COMMITS = 50


def round_number(value: float) -> int | float:
    """A number without the noise of binary floats (``0.93 - 0.91`` is ``0.02``)."""
    if isinstance(value, int):
        return value
    return float(f"{value:.12g}")


@dataclass(frozen=True)
class MetricDelta:
    """One metric of two versions: ``delta`` is ``b - a``; ``relative`` is the delta over
    ``|a|``, None when a value is missing or ``a`` is zero (and the delta is not)."""

    key: str
    a: int | float | None
    b: int | float | None

    @property
    def change(self) -> str:
        if self.a is None:
            return "added"
        if self.b is None:
            return "removed"
        return "same" if self.a == self.b else "changed"

    @property
    def delta(self) -> int | float | None:
        if self.a is None or self.b is None:
            return None
        return round_number(self.b - self.a)

    @property
    def relative(self) -> float | None:
        delta = self.delta
        if delta is None or self.a is None:
            return None
        if self.a == 0:
            return 0.0 if delta == 0 else None
        return float(round_number(delta / abs(self.a)))

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "key": self.key,
            "a": self.a,
            "b": self.b,
            "delta": self.delta,
            "relative": self.relative,
            "change": self.change,
        }


@dataclass(frozen=True)
class ValueChange:
    """A param, tag or lineage entry that differs: None where a version has none."""

    key: str
    a: JSONValue
    b: JSONValue

    @property
    def change(self) -> str:
        return "added" if self.a is None else "removed" if self.b is None else "changed"

    def to_dict(self) -> dict[str, JSONValue]:
        return {"key": self.key, "a": self.a, "b": self.b, "change": self.change}


@dataclass(frozen=True)
class LineageDiff:
    """The versions' git commits; ``commits`` is ``git log --oneline A..B`` (newest
    first, at most :data:`MAX_COMMITS`) and ``count`` its length when both commits are in
    the registry's repository, else both None."""

    a_commit: str | None
    b_commit: str | None
    commits: list[str] | None = None
    count: int | None = None
    others: tuple[ValueChange, ...] = ()

    @property
    def same_commit(self) -> bool:
        return self.a_commit == self.b_commit

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "a_commit": self.a_commit,
            "b_commit": self.b_commit,
            "same_commit": self.same_commit,
            "range": f"{self.a_commit}..{self.b_commit}" if self.commits is not None else None,
            "commits": list(self.commits) if self.commits is not None else None,
            "count": self.count,
            "others": [change.to_dict() for change in self.others],
        }


@dataclass(frozen=True)
class ArtifactDiff:
    """The artifacts: ``same`` is None when a version has no recorded sha256."""

    a_source: str
    b_source: str
    a_sha256: str | None
    b_sha256: str | None
    a_size: int | None
    b_size: int | None

    @property
    def same(self) -> bool | None:
        if self.a_sha256 is None or self.b_sha256 is None:
            return None
        return self.a_sha256 == self.b_sha256

    def to_dict(self) -> dict[str, JSONValue]:
        both = ("sha256", "size", "source")
        return {"same": self.same} | {
            f"{side}_{key}": getattr(self, f"{side}_{key}") for key in both for side in "ab"
        }


@dataclass(frozen=True)
class Pair:
    """A field of both versions (stage, description, aliases)."""

    a: JSONValue
    b: JSONValue

    @property
    def same(self) -> bool:
        return self.a == self.b

    def to_dict(self) -> dict[str, JSONValue]:
        return {"a": self.a, "b": self.b, "same": self.same}


@dataclass(frozen=True)
class VersionDiff:
    """Everything that differs between version ``a`` and version ``b``; ``metrics`` has
    every metric of either (same ones too), the other lists only what differs."""

    a_name: str
    a_version: int
    b_name: str
    b_version: int
    metrics: tuple[MetricDelta, ...]
    params: tuple[ValueChange, ...]
    tags: tuple[ValueChange, ...]
    stage: Pair
    aliases: Pair
    description: Pair
    lineage: LineageDiff
    artifact: ArtifactDiff
    # The data sets (by name) that were added, removed or changed: a/b are their JSON.
    datasets: tuple[ValueChange, ...] = ()

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "a": {"name": self.a_name, "version": self.a_version},
            "b": {"name": self.b_name, "version": self.b_version},
            "metrics": [metric.to_dict() for metric in self.metrics],
            "params": [change.to_dict() for change in self.params],
            "tags": [change.to_dict() for change in self.tags],
            "stage": self.stage.to_dict(),
            "aliases": self.aliases.to_dict(),
            "description": self.description.to_dict(),
            "lineage": self.lineage.to_dict(),
            "artifact": self.artifact.to_dict(),
            "datasets": [change.to_dict() for change in self.datasets],
        }


def changes(a: Mapping[str, JSONValue], b: Mapping[str, JSONValue]) -> tuple[ValueChange, ...]:
    """The keys whose values differ, sorted: added, removed or changed."""
    return tuple(
        ValueChange(key, a.get(key), b.get(key))
        for key in sorted(set(a) | set(b))
        if key not in a or key not in b or a[key] != b[key]
    )


def diff(a: ModelVersion, b: ModelVersion, repo: Path | None = None) -> VersionDiff:
    """What differs from ``a`` to ``b``; with ``repo`` (the registry folder), the commits
    between their lineage commits when both are in its git repository."""
    metrics = tuple(
        MetricDelta(key, a.metrics.get(key), b.metrics.get(key))
        for key in sorted(set(a.metrics) | set(b.metrics))
    )
    return VersionDiff(
        a.name,
        a.version,
        b.name,
        b.version,
        metrics=metrics,
        params=changes(a.params, b.params),
        tags=changes(dict(a.tags), dict(b.tags)),
        stage=Pair(a.current_stage, b.current_stage),
        aliases=Pair(sorted(a.aliases), sorted(b.aliases)),
        description=Pair(a.description, b.description),
        lineage=lineage_diff(a, b, repo),
        artifact=ArtifactDiff(
            a.source,
            b.source,
            a.artifact_sha256,
            b.artifact_sha256,
            a.artifact_size,
            b.artifact_size,
        ),
        datasets=changes(datasets_doc(a.datasets), datasets_doc(b.datasets)),
    )


def lineage_diff(a: ModelVersion, b: ModelVersion, repo: Path | None) -> LineageDiff:
    one, other = _commit(a), _commit(b)
    others = changes(
        {key: value for key, value in a.lineage.items() if key != "git_commit"},
        {key: value for key, value in b.lineage.items() if key != "git_commit"},
    )
    log = commit_log(repo, one, other) if repo is not None and one and other else None
    if log is None:
        return LineageDiff(one, other, others=others)
    commits, count = log
    return LineageDiff(one, other, commits, count, others)


def _commit(mv: ModelVersion) -> str | None:
    commit = mv.lineage.get("git_commit")
    return commit if isinstance(commit, str) and commit else None


def commit_log(repo: Path, a: str, b: str) -> tuple[list[str], int] | None:
    """``git log --oneline A..B`` in the repository ``repo`` is in (at most
    :data:`MAX_COMMITS` lines) and the range's length; None when ``repo`` is not in a git
    work tree, git is missing, or either commit is not in the repository."""
    from modelreg.gitsync import trees

    if not trees.inside_work_tree(repo):
        return None
    try:
        if trees.rev_parse(repo, a) is None or trees.rev_parse(repo, b) is None:
            return None
        count = int(trees.text(repo, "rev-list", "--count", f"{a}..{b}"))
        lines = trees.text(
            repo, "log", "--oneline", "--no-decorate", f"--max-count={MAX_COMMITS}", f"{a}..{b}"
        )
    except (InvalidInputError, NotFoundError, ValueError):
        return None
    return [line for line in lines.splitlines() if line], count


# -- many versions side by side (`modelreg compare`) ------------------------------------


@dataclass(frozen=True)
class MetricSeries:
    """One metric across versions (None where a version has no such metric)."""

    key: str
    values: tuple[int | float | None, ...]


@dataclass(frozen=True)
class Comparison:
    name: str
    versions: tuple[int, ...]
    series: tuple[MetricSeries, ...]

    def to_dict(self) -> dict[str, JSONValue]:
        """``{"name", "versions", "metrics": {KEY: [a value or None per version]}}``."""
        return {
            "name": self.name,
            "versions": list(self.versions),
            "metrics": {series.key: list(series.values) for series in self.series},
        }


def side_by_side(
    name: str, versions: Sequence[ModelVersion], metrics: Sequence[str] = ()
) -> Comparison:
    """The ``metrics`` (default: every metric of any version, sorted) of ``versions`` in
    their order; NotFoundError for a metric no version has."""
    known = {key for mv in versions for key in mv.metrics}
    missing = [key for key in metrics if key not in known]
    if missing:
        raise NotFoundError(
            f"no compared version of {name} has the metric {missing[0]!r}"
            + (f" (metrics: {', '.join(sorted(known))})" if known else " (none has metrics)")
        )
    keys = list(dict.fromkeys(metrics)) if metrics else sorted(known)
    return Comparison(
        name,
        tuple(mv.version for mv in versions),
        tuple(MetricSeries(key, tuple(mv.metrics.get(key) for mv in versions)) for key in keys),
    )
