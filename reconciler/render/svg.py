"""Inline SVG charts for the HTML status report: plain strings, no scripts, no fonts or images to fetch.

Pure functions of their numbers. Every chart has a `<title>` and an `aria-label`, and every bar carries its
number as text, so the report reads the same printed in black and white.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 760
LABEL_WIDTH = 250
BAR_HEIGHT = 18
GAP = 8
FONT = "font-family:system-ui,sans-serif;font-size:12px"


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar."""

    label: str
    value: int
    colour: str


@dataclass(frozen=True)
class StackedBar:
    label: str
    segments: tuple[Segment, ...]
    note: str = ""  # shown after the bar, e.g. "45% complete"

    @property
    def total(self) -> int:
        return sum(s.value for s in self.segments)


def _svg(height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" style="max-width:{WIDTH}px;{FONT}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = "#222") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'


def _clip(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def stacked_bars(title: str, bars: Sequence[StackedBar], legend: Sequence[Segment]) -> str:
    """Horizontal bars, each split into segments, scaled to the largest total; a legend on top."""
    top = 28
    height = top + len(bars) * (BAR_HEIGHT + GAP) + GAP
    body = [_legend(legend, 6)]
    scale_to = max((bar.total for bar in bars), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 120
    for row, bar in enumerate(bars):
        y = top + row * (BAR_HEIGHT + GAP)
        body.append(_text(LABEL_WIDTH - 8, y + 13, _clip(bar.label), anchor="end"))
        x = float(LABEL_WIDTH)
        for segment in bar.segments:
            if not segment.value:
                continue
            w = span * segment.value / scale_to
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}" fill="{segment.colour}">'
                f"<title>{escape(f'{bar.label}: {segment.value} {segment.label}')}</title></rect>"
            )
            if w >= 18:
                body.append(_text(x + w / 2, y + 13, str(segment.value), anchor="middle", fill="#fff"))
            x += w
        body.append(_text(x + 6, y + 13, bar.note))
    return _svg(height, title, body)


def _legend(items: Sequence[Segment], y: int) -> str:
    parts, x = [], float(LABEL_WIDTH)
    for item in items:
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{item.colour}"/>')
        parts.append(_text(x + 16, y + 10, item.label))
        x += 24 + 7 * len(item.label)
    return "".join(parts)


def bars(title: str, rows: Sequence[tuple[str, int]], colour: str, *, empty: str) -> str:
    """Horizontal bars of single counts (e.g. overdue learners per department); `empty` when none."""
    if not rows:
        return _svg(30, title, [_text(8, 20, empty)])
    top = 6
    height = top + len(rows) * (BAR_HEIGHT + GAP) + GAP
    most = max(n for _, n in rows) or 1
    span = WIDTH - LABEL_WIDTH - 60
    body = []
    for row, (label, n) in enumerate(rows):
        y = top + row * (BAR_HEIGHT + GAP)
        w = span * n / most
        body.append(_text(LABEL_WIDTH - 8, y + 13, _clip(label), anchor="end"))
        body.append(
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}" fill="{colour}"/>'
        )
        body.append(_text(LABEL_WIDTH + w + 6, y + 13, str(n)))
    return _svg(height, title, body)


@dataclass(frozen=True)
class Column:
    """One period of the due-date timeline: open enrollments due in it, how many of them overdue."""

    label: str
    due: int
    overdue: int = 0
    current: bool = False  # the period that holds "now"


def timeline(title: str, columns: Sequence[Column], *, empty: str) -> str:
    """Vertical bars per period (weeks or months) of open enrollments by due date; overdue in red."""
    if not columns:
        return _svg(30, title, [_text(8, 20, empty)])
    height, base, top = 220, 180, 24
    step = (WIDTH - 40) / len(columns)
    most = max(c.due for c in columns) or 1
    body = [f'<line x1="20" y1="{base}" x2="{WIDTH - 20}" y2="{base}" stroke="#888"/>']
    for i, column in enumerate(columns):
        mid = 20 + (i + 0.5) * step  # the period's centre: bar, count, label and "now" line share it
        w = min(max(step - 4, 2), 48)  # a few periods must not become slabs
        h_all = (base - top) * column.due / most
        h_late = (base - top) * column.overdue / most
        tip = escape(f"{column.label}: {column.due} due, {column.overdue} overdue")
        body.append(
            f'<rect x="{mid - w / 2:.1f}" y="{base - h_all:.1f}" width="{w:.1f}" height="{h_all:.1f}" '
            f'fill="#4a78b5"><title>{tip}</title></rect>'
        )
        if column.overdue:
            body.append(
                f'<rect x="{mid - w / 2:.1f}" y="{base - h_late:.1f}" width="{w:.1f}" height="{h_late:.1f}" '
                'fill="#c0392b"/>'
            )
        if column.due:
            body.append(_text(mid, base - h_all - 4, str(column.due), anchor="middle"))
        if column.current:
            line = f'x1="{mid:.1f}" y1="{top}" x2="{mid:.1f}" y2="{base}"'
            body.append(f'<line {line} stroke="#222" stroke-dasharray="4 3"/>')
            body.append(_text(mid, top - 6, "now", anchor="middle"))
        if len(columns) <= 16 or i % 2 == 0:
            body.append(_text(mid, base + 16, column.label, anchor="middle"))
    return _svg(height, title, body)
