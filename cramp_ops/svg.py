"""Small inline-SVG bar charts, drawn when the report is built (no script, no library, no CDN).

Each chart takes `Shown` figures (cramp_ops.small_counts): a figure with a value is a solid bar
labelled with its text; a withheld one is a hatched bar over its range ("<5": 0 to 5), labelled
"<5" too, so a bar's height never tells more than its label. Axis ticks are multiples of 5 (or
round percentages), so no tick reads as a small count. Every chart has a <title> and <desc>; the
tables next to it hold the same figures for screen readers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from html import escape
from typing import List, Optional, Sequence, Tuple

from cramp_ops.small_counts import MIN_COUNT, Shown

PALETTE = ("#3b6ea5", "#d08c00", "#c2410c", "#a31515", "#5b8a3a", "#7a4fa0", "#2b8a8a", "#888")
COUNT_STEPS = (5, 10, 20, 25, 50)
RATE_TOPS = (0.05, 0.1, 0.2, 0.25, 0.5, 1.0)
FONT = "font-family:system-ui,sans-serif"


@dataclass(frozen=True)
class Scale:
    top: float
    ticks: Tuple[float, ...]
    percent: bool

    def label(self, tick: float) -> str:
        return f"{tick * 100:g}%" if self.percent else f"{tick:g}"


def count_scale(largest: float) -> Scale:
    """A top of 5, 10, 20, 25, 50, 100, ... at or above `largest`; ticks at half and top when
    those are multiples of 5."""
    magnitude = 1
    while True:
        for step in COUNT_STEPS:
            top = step * magnitude
            if top >= largest:
                half = top / 2
                ticks = (half, top) if half % MIN_COUNT == 0 else (top,)
                return Scale(float(top), ticks, False)
        magnitude *= 10


def rate_scale(largest: float) -> Scale:
    """A percentage axis just above `largest`; the whole 0-100% when there is nothing to draw."""
    top = next(t for t in RATE_TOPS if t >= min(largest, 1.0)) if largest > 0 else 1.0
    return Scale(top, (top / 2, top), True)


def _hatch(pattern_id: str, colour: str) -> str:
    return (
        f'<pattern id="{pattern_id}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" stroke-width="2.5"/></pattern>'
    )


def _open(width: float, height: float, title: str, desc: str, chart_class: str) -> Tuple[str, str]:
    """The <figure> with its visible caption and the opening <svg> tag; and the chart's id."""
    n = hashlib.sha1(f"{title}\n{desc}".encode()).hexdigest()[:10]  # stable: same input, same file
    head = (
        f"<figure><figcaption>{escape(title)}</figcaption>"
        f'<svg class="chart {chart_class}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'aria-labelledby="chart{n}-t chart{n}-d" style="{FONT}">'
        f'<title id="chart{n}-t">{escape(title)}</title><desc id="chart{n}-d">{escape(desc)}'
        f"</desc>"
    )
    return head, f"chart{n}"


def _bar(
    x: float, width: float, shown: Shown, y_of, colour: str, hatch: str, vertical: bool = True
) -> str:
    """One bar: solid up to the value (or to `low`), hatched over a withheld range."""
    parts: List[str] = []

    def rect(a: float, b: float, fill: str, extra: str = "") -> None:
        if vertical:
            top, bottom = y_of(b), y_of(a)
            parts.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" '
                f'height="{max(bottom - top, 0):.1f}" fill="{fill}"{extra}/>'
            )
        else:
            left, right = y_of(a), y_of(b)
            parts.append(
                f'<rect x="{left:.1f}" y="{x:.1f}" width="{max(right - left, 0):.1f}" '
                f'height="{width:.1f}" fill="{fill}"{extra}/>'
            )

    if shown.value is not None:
        rect(0, shown.value, colour)
    else:
        if shown.low > 0:
            rect(0, shown.low, colour)
        if shown.high > shown.low:
            rect(
                shown.low,
                shown.high,
                f"url(#{hatch})",
                f' stroke="{colour}" stroke-dasharray="3 2" class="withheld"',
            )
    return "".join(parts)


def column_chart(
    title: str,
    bars: Sequence[Tuple[str, Sequence[Shown]]],
    *,
    series: Sequence[str] = ("",),
    percent: bool = False,
    desc: str = "",
    colours: Optional[Sequence[str]] = None,
) -> str:
    """Vertical bars: one group per label (a day), one bar per series in the group."""
    colours = list(colours or PALETTE)
    groups = len(bars)
    per_group = max(len(series), 1)
    bar_w = (22 if groups <= 14 else 16) if per_group > 1 else 26
    group_w = per_group * bar_w + 10
    left, right, top_pad, plot_h = 44, 12, 22, 150
    rotate = groups > 10
    label_h = 46 if rotate else 22
    legend_h = 22 if per_group > 1 else 0
    width = max(
        left + groups * group_w + right,
        260,
        left + _legend_width(series) + right if per_group > 1 else 0,
    )
    height = top_pad + plot_h + label_h + legend_h
    largest = max((s.top for _, row in bars for s in row), default=0.0)
    scale = rate_scale(largest) if percent else count_scale(largest)

    def y_of(v: float) -> float:
        return top_pad + plot_h - min(v, scale.top) / scale.top * plot_h

    head, cid = _open(width, height, title, desc or title, "columns")
    out = [head, "<defs>", *(_hatch(f"{cid}-h{i}", c) for i, c in enumerate(colours)), "</defs>"]
    for tick in scale.ticks:
        y = y_of(tick)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#555">{scale.label(tick)}</text>'
        )
    base = y_of(0)
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{base:.1f}" y2="{base:.1f}" stroke="#444"/>'
    )
    for g, (label, row) in enumerate(bars):
        gx = left + g * group_w + 5
        for i, shown in enumerate(row):
            x = gx + i * bar_w
            colour = colours[i % len(colours)]
            out.append(
                f'<g class="bar" data-label="{escape(label)}">'
                + _bar(x + 2, bar_w - 4, shown, y_of, colour, f"{cid}-h{i % len(colours)}")
                + f'<text class="value" x="{x + bar_w / 2:.1f}" '
                f'y="{y_of(shown.top) - 4:.1f}" font-size="10" text-anchor="middle">'
                f"{escape(shown.text)}</text></g>"
            )
        cx = gx + per_group * bar_w / 2
        if rotate:
            out.append(
                f'<text class="axis" x="{cx:.1f}" y="{base + 12:.1f}" font-size="10" '
                f'text-anchor="end" transform="rotate(-45 {cx:.1f} {base + 12:.1f})">'
                f"{escape(label)}</text>"
            )
        else:
            out.append(
                f'<text class="axis" x="{cx:.1f}" y="{base + 15:.1f}" font-size="11" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    if per_group > 1:
        out.append(_legend(series, colours, left, height - 8))
    out.append("</svg></figure>")
    return "".join(out)


def bar_chart(
    title: str,
    rows: Sequence[Tuple[str, Shown]],
    *,
    percent: bool = False,
    desc: str = "",
    colour: str = PALETTE[0],
    colours: Optional[Sequence[str]] = None,
    full_scale: bool = False,
) -> str:
    """Horizontal bars with their labels on the left (topics, tiers, channels); `full_scale`:
    a percentage axis from 0 to 100% whatever the values."""
    label_w = max((len(label) for label, _ in rows), default=10) * 7 + 16
    bar_h, gap, plot_w, right = 18, 6, 320, 60
    top_pad = 18
    width = label_w + plot_w + right
    height = top_pad + len(rows) * (bar_h + gap) + 10
    largest = max((s.top for _, s in rows), default=0.0)
    scale = rate_scale(1.0 if full_scale else largest) if percent else count_scale(largest)

    def x_of(v: float) -> float:
        return label_w + min(v, scale.top) / scale.top * plot_w

    head, cid = _open(width, height, title, desc or title, "bars")
    palette = list(colours or [colour])
    out = [head, "<defs>", *(_hatch(f"{cid}-h{i}", c) for i, c in enumerate(palette)), "</defs>"]
    for tick in scale.ticks:
        x = x_of(tick)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top_pad - 4}" y2="{height - 8}" '
            f'stroke="#ddd"/><text x="{x:.1f}" y="{top_pad - 6}" font-size="10" '
            f'text-anchor="middle" fill="#555">{scale.label(tick)}</text>'
        )
    out.append(
        f'<line x1="{label_w}" x2="{label_w}" y1="{top_pad - 4}" y2="{height - 8}" stroke="#444"/>'
    )
    for i, (label, shown) in enumerate(rows):
        y = top_pad + i * (bar_h + gap)
        c = palette[i % len(palette)]
        out.append(
            f'<g class="bar" data-label="{escape(label)}">'
            f'<text class="axis" x="{label_w - 8}" y="{y + 13}" font-size="12" '
            f'text-anchor="end">{escape(label)}</text>'
            + _bar(y, bar_h, shown, x_of, c, f"{cid}-h{i % len(palette)}", vertical=False)
            + f'<text class="value" x="{x_of(shown.top) + 5:.1f}" y="{y + 13}" '
            f'font-size="11">{escape(shown.text)}</text></g>'
        )
    out.append("</svg></figure>")
    return "".join(out)


def _legend_width(series: Sequence[str]) -> float:
    return sum(24 + 7 * len(name) for name in series)


def _legend(series: Sequence[str], colours: Sequence[str], x: float, y: float) -> str:
    items: List[str] = []
    for i, name in enumerate(series):
        items.append(
            f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="10" height="10" '
            f'fill="{colours[i % len(colours)]}"/><text x="{x + 14:.0f}" y="{y:.0f}" '
            f'font-size="11">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return f'<g class="legend">{"".join(items)}</g>'
