"""Step charts of prices over time, as inline SVG: a price holds from ``valid_from`` up to
(not including) ``valid_to``, so each value is a flat step and a change a vertical jump.

Positions are drawing coordinates only; every value a chart shows is in the table that
follows it on the page. At this size (a handful of series, a few steps each) a chart
library would add weight and a request for nothing it draws better.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from modelcat.report.text import day, esc, number, when

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 28


@dataclass(frozen=True)
class Step:
    start: datetime
    end: datetime | None  # None: still held
    value: Decimal


@dataclass(frozen=True)
class Series:
    name: str
    steps: tuple[Step, ...]


def step_chart(chart_id: str, title: str, series: list[Series], until: datetime) -> str:
    """An SVG step chart of ``series`` from their first start to ``until`` (open steps end
    there), every series on the same axes."""
    steps = [s for one in series for s in one.steps]
    if not steps:
        return ""
    start = min(s.start for s in steps)
    end = max([until, *(s.end for s in steps if s.end is not None)])
    top = max(s.value for s in steps) or Decimal(1)
    span = (end - start).total_seconds() or 1.0
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    stamp = day if span > 2 * 86400 else when  # days, or the time when runs are close

    def x(moment: datetime) -> float:
        return LEFT + inner_w * (moment - start).total_seconds() / span

    def y(value: Decimal) -> float:
        return TOP + inner_h * (1 - float(value / top))

    paths = []
    for index, one in enumerate(series):
        d: list[str] = []
        previous: Step | None = None
        for step in sorted(one.steps, key=lambda s: s.start):
            x0, x1 = x(step.start), x(step.end or end)
            if previous is not None and previous.end == step.start:
                d.append(f"V{y(step.value):.1f}H{x1:.1f}")
            else:
                d.append(f"M{x0:.1f},{y(step.value):.1f}H{x1:.1f}")
            previous = step
        label = esc(one.name)
        paths.append(f'<path class="s{index % 6}" d="{"".join(d)}"><title>{label}</title></path>')
    legend = "".join(
        f'<span class="key"><i class="s{i % 6}"></i>{esc(one.name)}</span>'
        for i, one in enumerate(series)
    )
    axis_y = HEIGHT - BOTTOM
    return (
        f'<figure class="chart"><svg role="img" aria-labelledby="{chart_id}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}">{esc(title)}</title>'
        f'<line class="axis" x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}"/>'
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{axis_y}"/>'
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">${number(top)}</text>'
        f'<text x="{LEFT - 6}" y="{axis_y}" text-anchor="end">$0</text>'
        f'<text x="{LEFT}" y="{HEIGHT - 8}">{stamp(start)}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">{stamp(end)}</text>'
        f"{''.join(paths)}</svg>"
        f'<figcaption>{esc(title)} <span class="legend">{legend}</span></figcaption></figure>'
    )


def bar_chart(chart_id: str, title: str, bars: list[tuple[str, list[tuple[str, int]]]]) -> str:
    """Horizontal stacked bars: one per label, its parts (name, count) side by side."""
    if not bars:
        return ""
    names = sorted({name for _, parts in bars for name, _ in parts})
    most = max((sum(n for _, n in parts) for _, parts in bars), default=0) or 1
    row, label_w = 22, 190
    height = row * len(bars) + 8
    inner = WIDTH - label_w - RIGHT - 40
    rects = []
    for index, (label, parts) in enumerate(bars):
        top = 4 + index * row
        rects.append(
            f'<text x="{label_w - 6}" y="{top + 14}" text-anchor="end">{esc(label)}</text>'
        )
        left = float(label_w)
        for name, n in sorted(parts):
            w = inner * n / most
            colour = names.index(name) % 6
            rects.append(
                f'<rect class="s{colour}" x="{left:.1f}" y="{top}" width="{w:.1f}" height="16">'
                f"<title>{esc(name)}: {n}</title></rect>"
            )
            left += w
        total = sum(n for _, n in parts)
        rects.append(f'<text x="{left + 4:.1f}" y="{top + 14}">{total}</text>')
    legend = "".join(
        f'<span class="key"><i class="s{i % 6}"></i>{esc(n)}</span>' for i, n in enumerate(names)
    )
    return (
        f'<figure class="chart"><svg role="img" aria-labelledby="{chart_id}" '
        f'viewBox="0 0 {WIDTH} {height}"><title id="{chart_id}">{esc(title)}</title>'
        f"{''.join(rects)}</svg>"
        f'<figcaption>{esc(title)} <span class="legend">{legend}</span></figcaption></figure>'
    )
