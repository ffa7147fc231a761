"""Geometry of the statistics page's bar charts, drawn as inline SVG on the server.

Pure functions of the numbers: no Django, no database, no markup. The templates
(``newsroom/includes/*chart*.html``) place the shapes these return; each chart is
followed on the page by a table of the same numbers, which is what screen readers
and readers without images rely on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 220
# Room for the axis labels: left (values), bottom (categories).
LEFT = 48
BOTTOM = 24
TOP = 8
RIGHT = 8
# Horizontal bar charts: one row per item, labels at the left.
ROW = 24
LABEL_WIDTH = 200


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float
    series: int = 0

    @property
    def end(self) -> float:
        """Where a horizontal bar ends (its value is written after it)."""
        return round(self.x + self.width, 2)

    @property
    def middle(self) -> float:
        """The vertical middle of a horizontal bar."""
        return round(self.y + self.height / 2, 2)

    @property
    def label(self) -> str:
        return _number(round(self.value, 1))


@dataclass(frozen=True)
class Tick:
    """A grid line at ``position`` (y for vertical charts, x for horizontal ones)."""

    position: float
    value: float

    @property
    def label(self) -> str:
        return _number(self.value)


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[Label, ...]
    # The plotting area.
    left: float
    top: float
    right: float
    bottom: float

    @property
    def view_box(self) -> str:
        return f"0 0 {_number(self.width)} {_number(self.height)}"

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def _number(value: float) -> str:
    """``value`` for an SVG attribute or an axis: no locale, at most 2 decimals."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """Round values from 0 up to at least ``maximum``, about ``count`` steps
    (1, 2 or 5 times a power of ten apart)."""
    if maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    raw = maximum / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    steps = math.ceil(maximum / step - 1e-9)
    return [round(i * step, 10) for i in range(steps + 1)]


def vertical_bars(
    values: Sequence[Sequence[float]],
    labels: Sequence[str] = (),
    *,
    width: float = WIDTH,
    height: float = HEIGHT,
    label_every: int = 1,
) -> Chart:
    """Grouped vertical bars: ``values[i]`` holds the bars of category ``i``, one
    per series (one series: ``[[3], [5], …]``). Every ``label_every``-th category
    is labelled under the axis."""
    count = len(values)
    series = max((len(group) for group in values), default=1) or 1
    maximum = max((v for group in values for v in group), default=0)
    ticks = nice_ticks(maximum)
    top_value = ticks[-1] or 1
    left, top, right, bottom = LEFT, TOP, width - RIGHT, height - BOTTOM
    plot_height = bottom - top
    slot = (right - left) / count if count else 0
    gap = slot * 0.2 if series == 1 else slot * 0.25
    bar_width = (slot - gap) / series if count else 0
    bars = []
    for i, group in enumerate(values):
        for s, value in enumerate(group):
            bar_height = plot_height * max(value, 0) / top_value
            bars.append(
                Bar(
                    x=round(left + i * slot + gap / 2 + s * bar_width, 2),
                    y=round(bottom - bar_height, 2),
                    width=round(max(bar_width, 0.5), 2),
                    height=round(bar_height, 2),
                    value=value,
                    series=s,
                )
            )
    placed = tuple(
        Tick(round(bottom - plot_height * t / top_value, 2), t) for t in ticks
    )
    texts = tuple(
        Label(round(left + i * slot + slot / 2, 2), height - 6, text)
        for i, text in enumerate(labels)
        if label_every <= 1 or i % label_every == 0
    )
    return Chart(width, height, tuple(bars), placed, texts, left, top, right, bottom)


def horizontal_bars(
    values: Sequence[float],
    labels: Sequence[str],
    *,
    width: float = WIDTH,
    maximum: float | None = None,
) -> Chart:
    """One horizontal bar per item, its label at the left (a ranking). The scale
    runs to ``maximum`` (1 for shares) or to the largest value."""
    count = len(values)
    top = TOP
    bottom = top + ROW * count
    height = bottom + BOTTOM
    left, right = LABEL_WIDTH, width - RIGHT - 40
    top_value = maximum if maximum else (nice_ticks(max(values, default=0))[-1] or 1)
    bars = []
    texts = []
    for i, (value, text) in enumerate(zip(values, labels, strict=True)):
        length = (right - left) * min(max(value, 0), top_value) / top_value
        y = top + i * ROW
        bars.append(
            Bar(
                x=left,
                y=round(y + 4, 2),
                width=round(length, 2),
                height=ROW - 8,
                value=value,
            )
        )
        texts.append(Label(left - 6, round(y + ROW / 2 + 5, 2), text))
    ticks = tuple(
        Tick(round(left + (right - left) * t / top_value, 2), t)
        for t in (
            [top_value * k / 4 for k in range(5)]
            if maximum
            else nice_ticks(max(values, default=0))
        )
    )
    return Chart(
        width, height, tuple(bars), ticks, tuple(texts), left, top, right, bottom
    )
