"""Small SVG charts for the report pages: drawn here, inlined in the page, so a report needs no
script and no network to be looked at."""

from __future__ import annotations

import html
from typing import Optional, Sequence

PALETTE = {"candidate": "#3b6fb6", "tflite": "#7aa6d9", "baseline": "#9a9a9a", "train": "#3b6fb6",
           "eval": "#e39b3b", "previous": "#9a9a9a", "bad": "#c94040", "good": "#3b8f5a",
           "chosen": "#3b8f5a", "refused": "#c94040", "neutral": "#7aa6d9"}


def _text(x: float, y: float, content: str, anchor: str = "start", size: int = 11,
          cls: str = "") -> str:
    extra = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
            f"{html.escape(content)}</text>")


def _svg_open(classes: str, width: int, height: int, chart_id: str) -> str:
    identity = f' id="{html.escape(chart_id)}"' if chart_id else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{classes}"{identity} width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img">')


def bars(rows: Sequence[tuple[str, float, str]], *, title: str = "", unit: str = "",
         lines: Sequence[tuple[float, str, str]] = (), low: Optional[float] = None,
         high: Optional[float] = None, value_format: str = "{:.4f}", chart_id: str = "",
         zoom: bool = False) -> str:
    """Horizontal bars: (label, value, colour key) rows, with vertical reference lines
    (value, label, colour key) such as bounds and thresholds. The scale covers values and lines;
    `zoom` starts it near the smallest of them instead of at 0, so that 0.95 against 0.96 shows."""
    label_w, bar_w, row_h = 190, 360, 22
    values = [v for _, v, _ in rows] + [v for v, _, _ in lines]
    if low is None:
        spread = (max(values) - min(values)) if values else 0.0
        margin = spread * 0.5 or abs(min(values, default=0.0)) * 0.05 or 1.0
        low = min(values) - margin if zoom and values else min([0.0, *values])
    high = max([*values, low + 1e-9]) if high is None else high
    span = (high - low) or 1.0
    height = 24 + row_h * len(rows) + 14 + 13 * max(len(lines), 1)
    width = label_w + bar_w + 90

    def x(value: float) -> float:
        return label_w + (min(max(value, low), high) - low) / span * bar_w

    parts = [_svg_open("chart", width, height, chart_id)]
    if title:
        parts.append(_text(4, 14, title, size=12, cls="title"))
    if low != 0.0:  # a zoomed axis says where it starts
        parts.append(_text(label_w, 20, value_format.format(low), anchor="start", size=9))
    for index, (label, value, colour) in enumerate(rows):
        y = 24 + index * row_h
        parts.append(_text(label_w - 6, y + 14, label, anchor="end"))
        origin = x(0.0) if low < 0.0 < high else label_w
        left, right = sorted((origin, x(value)))
        parts.append(f'<rect class="bar" x="{left:.1f}" y="{y + 3}" '
                     f'width="{max(right - left, 1.0):.1f}" height="{row_h - 6}" '
                     f'fill="{PALETTE.get(colour, colour)}" data-value="{value}"/>')
        parts.append(_text(x(value) + 4, y + 14, value_format.format(value) + unit))
    bottom = 24 + row_h * len(rows)
    for index, (value, label, colour) in enumerate(lines):
        parts.append(f'<line class="reference" x1="{x(value):.1f}" y1="20" x2="{x(value):.1f}" '
                     f'y2="{bottom + 4 + 13 * index}" stroke="{PALETTE.get(colour, colour)}" '
                     f'stroke-width="2" stroke-dasharray="4 3"/>')
        parts.append(_text(x(value), bottom + 16 + 13 * index,
                           f"{label} {value_format.format(value)}", anchor="middle", size=10))
    parts.append("</svg>")
    return "".join(parts)


def histogram(series: dict[str, Sequence[tuple[float, float, float]]], *, title: str = "",
              chart_id: str = "") -> str:
    """Overlaid histograms of one numeric feature: name -> (low, high, fraction) buckets, drawn
    as outlined steps so several spans stay readable on one axis."""
    width, height, pad = 420, 170, 30
    buckets = [b for values in series.values() for b in values]
    if not buckets:
        return ""
    low, high = min(b[0] for b in buckets), max(b[1] for b in buckets)
    top = max((b[2] for b in buckets), default=1.0) or 1.0
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return pad + (value - low) / span * (width - 2 * pad)

    def y(fraction: float) -> float:
        return height - pad - fraction / top * (height - 2 * pad)

    parts = [_svg_open("chart histogram", width, height, chart_id)]
    if title:
        parts.append(_text(4, 14, title, size=12, cls="title"))
    parts.append(f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
                 'stroke="#444"/>')
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE.get(name, PALETTE["neutral"])
        points = []
        for bucket_low, bucket_high, fraction in sorted(values):
            points += [f"{x(bucket_low):.1f},{y(fraction):.1f}",
                       f"{x(bucket_high):.1f},{y(fraction):.1f}"]
        if points:
            parts.append(f'<polyline class="series" data-series="{html.escape(name)}" '
                         f'points="{" ".join(points)}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"/>')
        parts.append(f'<rect x="{width - 110}" y="{8 + index * 14}" width="10" height="10" '
                     f'fill="{colour}"/>')
        parts.append(_text(width - 96, 17 + index * 14, name, size=10))
    parts.append(_text(pad, height - 10, f"{low:g}", size=10))
    parts.append(_text(width - pad, height - 10, f"{high:g}", anchor="end", size=10))
    parts.append("</svg>")
    return "".join(parts)
