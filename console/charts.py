"""Charts drawn on the server as inline SVG: horizontal bars (a label and a number a row), columns
(many bars, labelled at the ends) and a line over days. No script and no library: the page is the
chart, it prints, and it reads at 360 px (the drawing scales with its box; its text is sized for a
phone). Colours come from console.css classes (the CSP forbids style attributes); every bar carries
its label and value as data-* attributes and a <title>, so a screen reader and a test read what a
reader sees."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 360  # the drawing's own units; CSS scales it to its box
ROW, BAR = 26, 16  # a horizontal bar's row and its thickness
LABEL_W, VALUE_W = 100, 52  # the label column left of the bars, the number right of them
LABEL_CHARS = 7  # a longer label is cut (its whole text stays in the <title>)
PLOT_H, AXIS_W, FOOT_H = 150, 46, 22  # columns and lines: the plot's height, the y axis, the date row


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    tone: str = ""  # "" (the brand colour), "muted" or "warn": a class of .chart in console.css
    note: str = ""  # said after the value in the bar's title


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _svg(height: float, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>{"".join(body)}</svg>'
    )


def _bar(x: float, y: float, w: float, h: float, bar: Bar, unit: str) -> str:
    note = f"（{bar.note}）" if bar.note else ""
    return (f'<rect class="bar {escape(bar.tone)}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'data-label="{escape(bar.label)}" data-value="{bar.value}">'
            f"<title>{escape(bar.label)}：{bar.value} {escape(unit)}{escape(note)}</title></rect>")


def bars(items: Sequence[Bar], *, title: str, unit: str) -> Markup:
    """One horizontal bar a row, longest = the widest; the label left, the number right."""
    top = max((b.value for b in items), default=0) or 1
    span = WIDTH - LABEL_W - VALUE_W
    body = []
    for n, b in enumerate(items):
        y = n * ROW + 4
        w = span * b.value / top
        body.append(f'<text class="label" x="{LABEL_W - 6}" y="{y + BAR - 3}" text-anchor="end">'
                    f"{escape(_short(b.label))}</text>")
        body.append(_bar(LABEL_W, y, max(w, 0.5 if b.value else 0), BAR, b, unit))
        body.append(f'<text class="value" x="{LABEL_W + w + 4:.1f}" y="{y + BAR - 3}">{b.value}</text>')
    return _svg(max(len(items), 1) * ROW + 8, title, body)


def _axis(top: int, low: int = 0) -> list[str]:
    return [f'<line class="axis" x1="{AXIS_W}" y1="4" x2="{AXIS_W}" y2="{PLOT_H + 4}"/>',
            f'<line class="axis" x1="{AXIS_W}" y1="{PLOT_H + 4}" x2="{WIDTH}" y2="{PLOT_H + 4}"/>',
            f'<text class="label" x="{AXIS_W - 4}" y="14" text-anchor="end">{top}</text>',
            f'<text class="label" x="{AXIS_W - 4}" y="{PLOT_H + 4}" text-anchor="end">{low}</text>']


def _ends(first: str, last: str) -> list[str]:
    y = PLOT_H + FOOT_H
    return [f'<text class="label" x="{AXIS_W}" y="{y}">{escape(first)}</text>',
            f'<text class="label" x="{WIDTH}" y="{y}" text-anchor="end">{escape(last)}</text>']


def columns(items: Sequence[Bar], *, title: str, unit: str, first: str = "", last: str = "",
            empty: str = "") -> Markup:
    """Many vertical bars side by side (oldest left), the axis from 0 to the largest; `first` and
    `last` label the two ends (dates); `empty` is said when there is no bar."""
    top = max((b.value for b in items), default=0) or 1
    slot = (WIDTH - AXIS_W - 2) / max(len(items), 1)
    body = _axis(top)
    for n, b in enumerate(items):
        h = PLOT_H * b.value / top
        body.append(_bar(AXIS_W + 2 + n * slot + slot * 0.1, PLOT_H + 4 - h, slot * 0.8, h, b, unit))
    return _svg(PLOT_H + FOOT_H + 6, title, [*body, *_ends(first, last), *([] if items else _empty(empty))])


def _empty(text: str) -> list[str]:
    return [f'<text class="label empty" x="{(WIDTH + AXIS_W) / 2:.0f}" y="{PLOT_H / 2:.0f}" '
            f'text-anchor="middle">{escape(text)}</text>']


def line(points: Sequence[tuple[str, int]], *, title: str, unit: str, empty: str = "") -> Markup:
    """A line through (label, value) points in order, evenly spaced (one a day); the axis from the
    lowest value to the highest, so a slow growth shows. `empty`: said when there is no point."""
    if not points:
        return _svg(PLOT_H + FOOT_H + 6, title, [*_axis(0), *_empty(empty)])
    values = [v for _, v in points]
    low, top = min(values), max(values)
    rise = (top - low) or 1
    step = (WIDTH - AXIS_W - 4) / max(len(points) - 1, 1)
    xy = " ".join(f"{AXIS_W + 2 + n * step:.1f},{4 + PLOT_H - PLOT_H * (v - low) / rise:.1f}"
                  for n, v in enumerate(values))
    end = (f"{points[-1][0]}：{points[-1][1]} {unit}")
    body = [*_axis(top, low),
            f'<polyline class="line" points="{xy}" data-points="{len(points)}" data-last="{values[-1]}">'
            f"<title>{escape(end)}</title></polyline>"]
    return _svg(PLOT_H + FOOT_H + 6, title, [*body, *_ends(points[0][0], points[-1][0])])
