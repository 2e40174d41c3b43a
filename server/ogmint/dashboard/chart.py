"""The usage chart, drawn on the server as SVG: renders per day, V1 and V2 stacked."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ogmint.domain.usage import DayCount

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 28


def _grid_step(n: int) -> int:
    """The smallest of 1, 2, 5 × 10^k whose four steps reach ``n``: a readable axis."""
    power = 1
    while True:
        for m in (1, 2, 5):
            if 4 * m * power >= n:
                return m * power
        power *= 10


def usage_chart(days: Sequence[DayCount]) -> str:
    """An accessible inline ``<svg>`` with one stacked bar (V1 below, V2 above) per day."""
    step = _grid_step(max((d.v1 + d.v2 for d in days), default=0))
    top = 4 * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.7, 1.0)
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="Renders per day this month, V1 and V2" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i in range(5):  # horizontal grid lines with their values
        value = step * i
        y = TOP + plot_h - plot_h * i / 4
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    for i, d in enumerate(days):
        x = LEFT + slot * i + (slot - bar) / 2
        h1 = plot_h * d.v1 / top
        h2 = plot_h * d.v2 / top
        base = TOP + plot_h
        label = escape(f"{d.day}: {d.v1} V1, {d.v2} V2, {d.dedup} dedup hits")
        out.append(f"<g><title>{label}</title>")
        if d.v1:
            out.append(
                f'<rect class="v1" x="{x:.1f}" y="{base - h1:.1f}" width="{bar:.1f}" '
                f'height="{h1:.1f}"/>'
            )
        if d.v2:
            out.append(
                f'<rect class="v2" x="{x:.1f}" y="{base - h1 - h2:.1f}" width="{bar:.1f}" '
                f'height="{h2:.1f}"/>'
            )
        out.append("</g>")
        if i % 5 == 0 or i == len(days) - 1:
            out.append(
                f'<text class="axis" x="{x + bar / 2:.1f}" y="{HEIGHT - 8}" '
                f'text-anchor="middle">{escape(d.day[8:])}</text>'
            )
    out.append("</svg>")
    return "".join(out)
