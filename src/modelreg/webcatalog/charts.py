"""A chart of one metric across a model's versions, as inline SVG made here.

No script and no library: a line through the versions' values, one dot per version
coloured by its stage (the dot links to the version's page and its ``<title>`` is the
tooltip), the value range on the left and the version range below. Colours come from the
stylesheet by class (``stage-0``, ``stage-1``... in the order of the registry's stages),
so no registry value ever lands in an attribute but the escaped tooltip text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from modelreg.webcatalog.text import esc, href

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 16, 30


@dataclass(frozen=True)
class Point:
    version: int
    value: float
    stage: str
    stage_class: str  # "stage-N", N the stage's place in the registry's stages
    href: str  # the version's page, relative to the page the chart is on


def _label(value: float) -> str:
    return f"{value:.4g}"


def metric_chart(key: str, points: Sequence[Point]) -> str:
    """The SVG of metric ``key`` over ``points`` (in version order); finite values only."""
    points = [point for point in points if math.isfinite(point.value)]
    if not points:
        return ""
    low = min(point.value for point in points)
    high = max(point.value for point in points)
    span = high - low or abs(high) or 1.0
    if high == low:
        low, high = low - span / 2, high + span / 2
        span = high - low
    # The dots keep off the axes: the scale is a little wider than the values, whose
    # lowest and highest are marked where they are.
    inset = 14
    inner_w, inner_h = WIDTH - LEFT - RIGHT - 2 * inset, HEIGHT - TOP - BOTTOM
    scale_low, scale_span = low - span * 0.08, span * 1.16

    def x(index: int) -> float:
        step = inner_w / 2 if len(points) == 1 else inner_w * index / (len(points) - 1)
        return LEFT + inset + step

    def y(value: float) -> float:
        return TOP + inner_h * (1 - (value - scale_low) / scale_span)

    coords = [(x(index), y(point.value)) for index, point in enumerate(points)]
    line = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
    dots = "".join(
        f'<a href="{href(point.href)}"><circle class="dot {point.stage_class}" '
        f'cx="{cx:.1f}" cy="{cy:.1f}" r="6"><title>'
        f"{esc(f'v{point.version} · {point.stage} · {key} = {point.value:g}')}"
        "</title></circle></a>"
        for point, (cx, cy) in zip(points, coords, strict=True)
    )
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    top_y, low_y = y(high), y(low)
    axes = (
        f'<line class="grid" x1="{LEFT}" y1="{top_y:.1f}" x2="{right}" y2="{top_y:.1f}"/>'
        f'<line class="grid" x1="{LEFT}" y1="{low_y:.1f}" x2="{right}" y2="{low_y:.1f}"/>'
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>'
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>'
        f'<text class="tick" x="{LEFT - 6}" y="{top_y + 5:.1f}" text-anchor="end">'
        f"{_label(high)}</text>"
        f'<text class="tick" x="{LEFT - 6}" y="{low_y + 5:.1f}" text-anchor="end">'
        f"{_label(low)}</text>"
        f'<text class="tick" x="{x(0):.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
        f"v{points[0].version}</text>"
        f'<text class="tick" x="{x(len(points) - 1):.1f}" y="{HEIGHT - 8}" '
        f'text-anchor="middle">v{points[-1].version}</text>'
    )
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{esc(key)} across versions" data-metric="{esc(key)}">'
        f"<title>{esc(key)} across versions</title>{axes}"
        f'<polyline class="series" points="{line}"/>{dots}</svg>'
    )
