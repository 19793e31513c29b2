"""The HTML of each page of the catalog: the index, a model, a version.

Pure: every function takes the registry's entities and returns text. Registry values
reach the HTML only through :func:`~modelreg.webcatalog.text.esc` (directly or through the
helpers of :mod:`~modelreg.webcatalog.text`), Markdown only through
:func:`~modelreg.webcatalog.text.markdown`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from string import Template

from modelreg import compare
from modelreg.compare import VersionDiff
from modelreg.entities import HistoryEntry, ModelVersion, RegisteredModel, history_details
from modelreg.webcatalog import charts
from modelreg.webcatalog.text import (
    chips,
    esc,
    external_link,
    iso_time_tag,
    link,
    markdown,
    model_path,
    table,
    time_tag,
    value_text,
    version_path,
)

PALETTE = 8  # stage-0 .. stage-7 in the stylesheet
CHAMPION = "champion"
PRODUCTION = "Production"


@dataclass
class ModelView:
    """One model as its pages show it: the model, its versions ascending, its card."""

    model: RegisteredModel
    versions: list[ModelVersion]
    card: str | None = None
    numbers: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        self.numbers = frozenset(mv.version for mv in self.versions)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def owner(self) -> str | None:
        """The ``owner`` tag, else who created the model."""
        return self.model.tags.get("owner") or self.model.user_id

    @property
    def last_change(self) -> int:
        return max(
            [
                self.model.last_updated_timestamp,
                *(mv.last_updated_timestamp for mv in self.versions),
            ]
        )

    def history(self) -> list[HistoryEntry]:
        """Everything recorded about the model and its versions, oldest first (as
        ``modelreg history NAME`` lists it)."""
        entries = list(self.model.history)
        for mv in self.versions:
            entries.extend({**entry, "version": mv.version} for entry in mv.history)
        return sorted(entries, key=lambda entry: str(entry.get("timestamp", "")))

    def diff_target(self) -> tuple[str, ModelVersion] | None:
        """What a version is compared with: the ``champion`` alias, else the newest
        Production version; with how the page names it."""
        by_number = {mv.version: mv for mv in self.versions}
        champion = self.model.aliases.get(CHAMPION)
        if champion in by_number:
            return f"the champion (v{champion})", by_number[champion]
        production = [mv for mv in self.versions if mv.current_stage == PRODUCTION]
        if production:
            return f"Production (v{production[-1].version})", production[-1]
        return None


@dataclass(frozen=True)
class Site:
    """What every page needs to know besides its model."""

    stages: tuple[str, ...]
    modelreg_version: str
    commit_url: Callable[[str], str | None] = lambda sha: None

    def stage_class(self, stage: str) -> str:
        if stage in self.stages:
            return f"stage-{self.stages.index(stage) % PALETTE}"
        return "stage-x"

    def stage_badge(self, stage: str) -> str:
        return f'<span class="stage {self.stage_class(stage)}">{esc(stage)}</span>'


@functools.lru_cache(maxsize=1)
def _template() -> Template:
    text = resources.files("modelreg.webcatalog").joinpath("templates/page.html").read_text("utf-8")
    return Template(text)


def page(site: Site, title: str, body: str, depth: int, crumbs: Sequence[str] = ()) -> str:
    """A whole page; ``depth`` is how many folders below the site's root it is,
    ``crumbs`` are already-escaped HTML."""
    return _template().substitute(
        title=esc(title),
        root="../" * depth,
        crumbs="".join(f'<span class="crumb">{crumb}</span>' for crumb in crumbs),
        body=body,
        modelreg_version=esc(site.modelreg_version),
    )


def _up(path: str, depth: int) -> str:
    return "../" * depth + path


def _first_line(text: object, width: int = 160) -> str:
    stripped = text.strip() if isinstance(text, str) else ""
    line = stripped.splitlines()[0] if stripped else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def _aliases(view: ModelView, depth: int) -> str:
    return " ".join(
        link(_up(version_path(view.name, version), depth), f"@{alias} → v{version}", "alias")
        for alias, version in sorted(view.model.aliases.items())
    )


def _version_aliases(mv: ModelVersion) -> str:
    return " ".join(f'<span class="alias">@{esc(alias)}</span>' for alias in mv.aliases)


# -- the index ---------------------------------------------------------------------------


def index_page(site: Site, views: Sequence[ModelView]) -> str:
    rows = []
    for view in views:
        latest = " ".join(
            site.stage_badge(mv.current_stage)
            + "&nbsp;"
            + link(version_path(view.name, mv.version), f"v{mv.version}")
            for mv in view.model.latest_versions
        )
        tags = chips(sorted(view.model.tags.items()))
        words = [
            view.name,
            view.model.description or "",
            view.owner or "",
            *(f"{key}={value}" for key, value in view.model.tags.items()),
            *(f"@{alias}" for alias in view.model.aliases),
            *(mv.current_stage for mv in view.model.latest_versions),
        ]
        summary = _first_line(view.model.description)
        name_cell = link(model_path(view.name), view.name, "model-name")
        if summary:
            name_cell += f'<div class="muted">{esc(summary)}</div>'
        rows.append(
            f'<tr data-search="{esc(" ".join(words).lower())}">'
            f"<td>{name_cell}</td><td>{latest or '<span class=empty>none</span>'}</td>"
            f"<td>{_aliases(view, 0)}</td><td>{tags}</td><td>{esc(view.owner)}</td>"
            f'<td class="wide">{time_tag(view.last_change)}</td></tr>'
        )
    versions = sum(len(view.versions) for view in views)
    body = (
        f'<h1>Models</h1><p class="muted">{len(views)} models, {versions} versions.</p>'
        '<div class="search"><input id="search" type="search" autocomplete="off" '
        'placeholder="Filter by name, tag, alias, owner, stage…" aria-label="Filter the models">'
        '<span id="search-count" class="muted" aria-live="polite"></span></div>'
        '<div class="scroll"><table id="models"><thead><tr><th>Model</th>'
        "<th>Latest per stage</th><th>Aliases</th><th>Tags</th><th>Owner</th>"
        '<th class="wide">Last change</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table></div>"
        + ("" if views else '<p class="empty">The registry has no models yet.</p>')
    )
    return page(site, "Model catalog", body, 0)


# -- a model -----------------------------------------------------------------------------


def _metrics_cell(mv: ModelVersion) -> str:
    return chips([(key, f"{value:g}") for key, value in sorted(mv.metrics.items())])


def _run_cell(mv: ModelVersion) -> str:
    if mv.run_id is None:
        return external_link(mv.run_link, "run") if mv.run_link else ""
    run = f'<span class="mono">{esc(mv.run_id)}</span>'
    if mv.run_link and external_link(mv.run_link) != esc(mv.run_link):
        return external_link(mv.run_link, mv.run_id)
    return run


def _legend(site: Site, stages: Sequence[str]) -> str:
    return '<div class="legend">Stages: ' + " ".join(site.stage_badge(s) for s in stages) + "</div>"


def _charts(site: Site, view: ModelView) -> str:
    keys = sorted({key for mv in view.versions for key in mv.metrics})
    if not keys:
        return '<p class="empty">No version has metrics.</p>'
    figures = []
    for key in keys:
        points = [
            charts.Point(
                mv.version,
                float(mv.metrics[key]),
                mv.current_stage,
                site.stage_class(mv.current_stage),
                f"v{mv.version}.html",
            )
            for mv in view.versions
            if key in mv.metrics
        ]
        svg = charts.metric_chart(key, points)
        if svg:
            figures.append(
                f'<figure class="chart-box"><figcaption>{esc(key)}</figcaption>{svg}</figure>'
            )
    present = list(dict.fromkeys(mv.current_stage for mv in view.versions))
    ordered = [s for s in site.stages if s in present] + [
        s for s in present if s not in site.stages
    ]
    return _legend(site, ordered) + '<div class="charts">' + "".join(figures) + "</div>"


def _field_list(items: Sequence[tuple[str, str]]) -> str:
    return (
        '<dl class="fields">'
        + "".join(f"<dt>{esc(label)}</dt><dd>{value}</dd>" for label, value in items if value)
        + "</dl>"
    )


def _description(text: str | None, empty: str) -> str:
    if not text:
        return f'<p class="empty">{esc(empty)}</p>'
    return f'<div class="description">{markdown(text)}</div>'


def model_page(site: Site, view: ModelView) -> str:
    model = view.model
    rows = [
        [
            link(f"v{mv.version}.html", f"v{mv.version}"),
            site.stage_badge(mv.current_stage),
            _version_aliases(mv),
            _metrics_cell(mv),
            _run_cell(mv),
            time_tag(mv.creation_timestamp),
            esc(mv.user_id),
        ]
        for mv in reversed(view.versions)
    ]
    fields = [
        ("Owner", esc(view.owner)),
        ("Created", f"{time_tag(model.creation_timestamp)} by {esc(model.user_id or '?')}"),
        ("Last change", time_tag(view.last_change)),
        ("Versions", str(len(view.versions))),
        ("Aliases", _aliases(view, 2)),
        ("Tags", chips(sorted(model.tags.items()))),
    ]
    card = (
        f'<h2>Model card</h2><section class="card">{markdown(view.card)}</section>'
        if view.card
        else ""
    )
    history = view.history()
    body = (
        f"<h1>{esc(model.name)}</h1>"
        + _field_list(fields)
        + "<h2>Description</h2>"
        + _description(model.description, "No description.")
        + card
        + "<h2>Metrics across versions</h2>"
        + _charts(site, view)
        + "<h2>Versions</h2>"
        + (
            table(["Version", "Stage", "Aliases", "Metrics", "Run", "Created", "User"], rows)
            if rows
            else '<p class="empty">No versions.</p>'
        )
        + "<h2>History <span class=muted>(newest first)</span></h2>"
        + timeline(list(reversed(history)), view, depth=0, with_version=True)
    )
    return page(site, f"{model.name} · model catalog", body, 2, [esc(model.name)])


# -- the history -------------------------------------------------------------------------


def _entry_time(entry: HistoryEntry) -> str:
    return iso_time_tag(str(entry.get("timestamp", "")))


def timeline(
    entries: Sequence[HistoryEntry], view: ModelView, depth: int, with_version: bool
) -> str:
    """History entries as a timeline (in the order given)."""
    if not entries:
        return '<p class="empty">Nothing recorded.</p>'
    items = []
    for entry in entries:
        meta = [_entry_time(entry), esc(entry.get("user_id") or "?")]
        version = entry.get("version")
        if with_version and isinstance(version, int) and not isinstance(version, bool):
            meta.append(
                link(f"v{version}.html", f"v{version}")
                if version in view.numbers
                else esc(f"v{version}")
            )
        details = []
        if "from_stage" in entry or "to_stage" in entry:
            details.append(f"{esc(entry.get('from_stage'))} → {esc(entry.get('to_stage'))}")
        details.extend(
            f"{esc(key)}: {esc(value_text(value))}" for key, value in history_details(entry)
        )
        comment = entry.get("comment")
        text = f'<span class="action">{esc(str(entry.get("action", "")).replace("_", " "))}</span>'
        if details:
            text += " — " + "; ".join(details)
        if comment:
            text += f'<div class="comment">“{esc(comment)}”</div>'
        items.append(f'<li><div class="meta">{" · ".join(meta)}</div><div>{text}</div></li>')
    return '<ol class="timeline">' + "".join(items) + "</ol>"


# -- a version ---------------------------------------------------------------------------

_HEX = re.compile(r"[0-9a-fA-F]{7,64}\Z")


def _lineage_value(site: Site, key: str, value: object) -> str:
    text = value_text(value)
    if key == "git_commit" and isinstance(value, str) and _HEX.match(value):
        url = site.commit_url(value)
        shown = f'<span class="mono">{esc(value)}</span>'
        if url:
            return f'<a href="{esc(url)}" rel="noopener noreferrer">{shown}</a>'
        return shown
    return esc(text)


def _key_value_table(items: Sequence[tuple[str, str]], headers: Sequence[str]) -> str:
    if not items:
        return '<p class="empty">None.</p>'
    return table(headers, [[esc(key), value] for key, value in items])


def _number(value: int | float | None) -> str:
    return "" if value is None else f"{value:g}"


def _signed(value: int | float | None) -> str:
    return "" if value is None else f"{value:+g}"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:+.2f}%"


def diff_section(label: str, target: ModelVersion, mv: ModelVersion, diff: VersionDiff) -> str:
    """This version (b) against ``target`` (a), as ``modelreg diff`` shows it."""
    a, b = f"v{target.version}", f"v{mv.version}"
    parts = [f"<p>Compared with {esc(label)}: {link(f'v{target.version}.html', a)} → {esc(b)}.</p>"]
    if diff.metrics:
        rows = [
            [
                esc(m.key),
                _number(m.a),
                _number(m.b),
                _signed(m.delta),
                _percent(m.relative),
            ]
            for m in diff.metrics
        ]
        parts.append(table(["Metric", a, b, "Change", "Relative"], rows, "diff-metrics"))
    changed = [
        (what, change)
        for what, changes in (("param", diff.params), ("tag", diff.tags))
        for change in changes
    ]
    for title, pair in (("stage", diff.stage), ("aliases", diff.aliases)):
        if not pair.same:
            changed.append((title, compare.ValueChange("", pair.a, pair.b)))
    if not diff.description.same:
        changed.append(
            (
                "description",
                compare.ValueChange(
                    "", _first_line(diff.description.a), _first_line(diff.description.b)
                ),
            )
        )
    for change in diff.lineage.others:
        changed.append(("lineage", change))
    if diff.lineage.a_commit != diff.lineage.b_commit:
        changed.append(
            (
                "lineage",
                compare.ValueChange("git_commit", diff.lineage.a_commit, diff.lineage.b_commit),
            )
        )
    for change in diff.datasets:
        sides = (_dataset_text(change.a), _dataset_text(change.b))
        changed.append(("data set", compare.ValueChange(change.key, *sides)))
    if changed:
        rows = [
            [esc(what), esc(change.key), esc(value_text(change.a)), esc(value_text(change.b))]
            for what, change in changed
        ]
        parts.append(table(["What", "Key", a, b], rows, "diff-values"))
    same = diff.artifact.same
    artifact = (
        "unknown (a version has no recorded sha256)"
        if same is None
        else "the same artifact (same sha256)"
        if same
        else "a different artifact"
    )
    parts.append(f"<p>Artifact: {esc(artifact)}.</p>")
    return "".join(parts)


def _dataset_text(dataset: object) -> str | None:
    """A data set (its JSON) as one line: source, digest, size."""
    if not isinstance(dataset, dict):
        return None
    size = dataset.get("size")
    parts = [
        dataset.get("source"),
        dataset.get("digest"),
        None if size is None else f"{size:,} bytes",
    ]
    return " ".join(str(part) for part in parts if part is not None)


def version_page(
    site: Site,
    view: ModelView,
    mv: ModelVersion,
    target: tuple[str, ModelVersion] | None,
    diff: VersionDiff | None,
) -> str:
    name = view.name
    size = f"{mv.artifact_size:,} bytes" if mv.artifact_size is not None else ""
    status = mv.status + (f" ({mv.status_message})" if mv.status_message else "")
    fields = [
        ("Model", link("index.html", name)),
        ("Version", esc(mv.version)),
        ("Stage", site.stage_badge(mv.current_stage)),
        ("Aliases", _version_aliases(mv)),
        ("Status", esc(status)),
        ("Created", f"{time_tag(mv.creation_timestamp)} by {esc(mv.user_id or '?')}"),
        ("Last updated", time_tag(mv.last_updated_timestamp)),
        ("Source", f'<span class="mono">{esc(mv.source)}</span>'),
        ("Run", _run_cell(mv)),
        ("Run link", external_link(mv.run_link) if mv.run_link else ""),
        (
            "Artifact sha256",
            f'<span class="mono">{esc(mv.artifact_sha256)}</span>' if mv.artifact_sha256 else "",
        ),
        ("Artifact size", esc(size)),
        ("Tags", chips(sorted(mv.tags.items()))),
        ("URI", f'<span class="mono">{esc(f"models:/{name}/{mv.version}")}</span>'),
    ]
    if target is None or diff is None:
        comparison = (
            '<p class="empty">No champion alias and no Production version to compare with.</p>'
        )
    elif target[1].version == mv.version:
        comparison = f"<p>This version is {esc(target[0])}.</p>"
    else:
        comparison = diff_section(target[0], target[1], mv, diff)
    metrics = [(key, _number(value)) for key, value in sorted(mv.metrics.items())]
    params = [(key, esc(value_text(value))) for key, value in sorted(mv.params.items())]
    lineage = [(key, _lineage_value(site, key, value)) for key, value in mv.lineage.items()]
    datasets = [
        (name, f'<span class="mono">{esc(_dataset_text(each.to_dict()))}</span>')
        for name, each in sorted(mv.datasets.items())
    ]
    entries = [entry for entry in view.model.history if entry.get("version") == mv.version] + list(
        mv.history
    )
    entries.sort(key=lambda entry: str(entry.get("timestamp", "")))
    index = sorted(view.numbers)
    place = index.index(mv.version)
    pager = (
        '<nav class="pager">'
        + (
            link(f"v{index[place - 1]}.html", f"← v{index[place - 1]}")
            if place > 0
            else "<span></span>"
        )
        + (
            link(f"v{index[place + 1]}.html", f"v{index[place + 1]} →")
            if place + 1 < len(index)
            else "<span></span>"
        )
        + "</nav>"
    )
    body = (
        f"<h1>{esc(name)} <span class=muted>v{mv.version}</span> "
        f"{site.stage_badge(mv.current_stage)}</h1>"
        + _field_list(fields)
        + "<h2>Description</h2>"
        + _description(mv.description, "No description.")
        + "<h2>Metrics</h2>"
        + _key_value_table(metrics, ["Metric", "Value"])
        + "<h2>Params</h2>"
        + _key_value_table(params, ["Param", "Value"])
        + "<h2>Lineage</h2>"
        + _key_value_table(lineage, ["Key", "Value"])
        # Only a version trained on recorded data sets has the section (see README).
        + (
            "<h2>Data sets</h2>" + _key_value_table(datasets, ["Name", "Source and digest"])
            if datasets
            else ""
        )
        + "<h2>Compared with the current version</h2>"
        + comparison
        + "<h2>History</h2>"
        + timeline(entries, view, depth=0, with_version=False)
        + pager
    )
    crumbs = [link("index.html", name), esc(f"v{mv.version}")]
    title = f"{name} v{mv.version} · model catalog"
    return page(site, title, body, 2, crumbs)
