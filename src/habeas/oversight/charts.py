"""Server-rendered SVG charts (ARCHITECTURE.md: prisons run offline, no chart library from a
CDN, no JavaScript needed): population against certified and working capacity over time
(Mandela Rule 10: trends of the prison population, including occupancy rates). The chart's
look is in ``oversight/oversight.css`` (the Content-Security-Policy allows no inline style)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 760, 260

LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40


def _nice_ceiling(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 5 × 10^k)."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return 10 * magnitude


def population_chart(
    points: Sequence[tuple[dt.date, int | None]],
    *,
    certified: int,
    working: int,
    title: str,
) -> SafeString:
    """A line chart: population per day (gaps where a count is suppressed), with certified
    and working capacity as horizontal lines. Every label is escaped."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for _d, v in points if v is not None]
    # Scale to the population and the certified capacity; a working capacity far above both
    # (beds stacked to the ceiling) would flatten the population line, so it is then named at
    # the top edge instead of drawn.
    top = _nice_ceiling(int(max([certified, *values, 1]) * 1.15))
    if working <= top:
        top = _nice_ceiling(max(top, working))
    n = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return LEFT + plot_w * i / n

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(5):  # horizontal grid and y labels
        level = top * k / 4
        parts.append(
            f'<line class="chart__grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{y(level):.1f}" y2="{y(level):.1f}"/>'
            f'<text class="chart__tick" x="{LEFT - 6}" y="{y(level) + 4:.1f}" '
            f'text-anchor="end">{escape(number_format(int(level), force_grouping=True))}</text>'
        )
    if points:
        ticks = sorted({0, n // 2, n} if len(points) > 2 else set(range(len(points))))
        for i in ticks:
            anchor = "start" if i == 0 else "end" if i == n else "middle"
            parts.append(
                f'<text class="chart__tick" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 18}" '
                f'text-anchor="{anchor}">{points[i][0].isoformat()}</text>'
            )
    for value, css, label in (
        (certified, "chart__capacity chart__capacity--certified", _("Certified capacity")),
        (working, "chart__capacity chart__capacity--working", _("Working capacity")),
    ):
        text = f"{label}: {number_format(value, force_grouping=True)}"
        if value > top:
            parts.append(
                f'<text class="chart__label" x="{WIDTH - RIGHT - 4}" y="{TOP + 12}" '
                f'text-anchor="end">↑ {escape(text)}</text>'
            )
            continue
        parts.append(
            f'<line class="{css}" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{y(value):.1f}" y2="{y(value):.1f}"><title>{escape(text)}</title></line>'
            f'<text class="chart__label" x="{WIDTH - RIGHT - 4}" y="{y(value) - 5:.1f}" '
            f'text-anchor="end">{escape(text)}</text>'
        )
    if values:
        last = values[-1]
        now_label = _("Now")
        parts.append(
            f'<text class="chart__label chart__label--population" x="{WIDTH - RIGHT - 4}" '
            f'y="{max(y(last) - 6, TOP + 12):.1f}" text-anchor="end">'
            f"{escape(now_label)}: {escape(number_format(last, force_grouping=True))}</text>"
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (_day, v) in enumerate(points):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(v):.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) == 1:
            cx, cy = seg[0].split(",")
            parts.append(f'<circle class="chart__dot" cx="{cx}" cy="{cy}" r="3"/>')
        else:
            parts.append(f'<polyline class="chart__line" points="{" ".join(seg)}"/>')
    parts.append(
        f'<line class="chart__axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
        f'y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
