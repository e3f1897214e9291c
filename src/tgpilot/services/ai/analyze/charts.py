"""Geometry of the report's SVG charts: numbers and labels, no markup.

The HTML template draws what these functions lay out, escaping every label, so the
charts need no script and no network: column charts (messages per day, week or
month; per hour of day) with a value axis of round steps, horizontal bar lists (top
senders, topics), and the sentiment split with its score on a −1…+1 scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tgpilot.services.ai.analyze.metrics import HOURS, ActivityMetrics

FULL_WIDTH = 920
"""View-box width of a chart spanning the page (about its width in pixels)."""
HALF_WIDTH = 440
"""View-box width of a chart in a half-width panel, so its text keeps its size."""
COLUMN_HEIGHT = 220
MARGIN_LEFT = 40
MARGIN_RIGHT = 8
MARGIN_TOP = 10
MARGIN_BOTTOM = 26
MAX_X_LABELS = 12
GRID_LINES = 4

LIST_LABEL_WIDTH = 140
LIST_VALUE_WIDTH = 48
LIST_ROW = 26
LIST_BAR = 16
LABEL_CHARS = 20
MARKER_TEXT_ROOM = 24

DAILY_LIMIT = 120
"""Up to this many days the activity chart has a column per day, then per week."""
WEEKLY_LIMIT = 730
"""Up to this many days a column per week, then per month."""


@dataclass(frozen=True)
class Column:
    """One column: its box, whether it is the peak, and its tooltip."""

    x: float
    y: float
    width: float
    height: float
    tooltip: str
    peak: bool = False


@dataclass(frozen=True)
class Tick:
    """A label on an axis: where it goes and what it says."""

    x: float
    y: float
    text: str


@dataclass(frozen=True)
class ColumnChart:
    """A column chart laid out in a ``width`` × ``height`` view box."""

    width: int
    height: int
    columns: tuple[Column, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    left: float
    right: float
    top: float
    bottom: float
    description: str


@dataclass(frozen=True)
class BarRow:
    """One row of a bar list: label, bar length, value text."""

    y: float
    label: str
    full_label: str
    bar_width: float
    value: str


@dataclass(frozen=True)
class BarList:
    """Horizontal bars, one per row, in a ``width`` × ``height`` view box."""

    width: int
    height: int
    label_width: int
    bar_height: int
    rows: tuple[BarRow, ...]
    description: str


@dataclass(frozen=True)
class Segment:
    """A part of the sentiment split: kind, x and width, count and share."""

    kind: str
    x: float
    width: float
    count: int
    percent: float


@dataclass(frozen=True)
class SentimentChart:
    """The sentiment split (positive / neutral / negative messages) and the score."""

    width: int
    segments: tuple[Segment, ...]
    score: float
    marker_x: float
    label: str
    description: str

    @property
    def marker_anchor(self) -> str:
        """Where the score's text hangs off the marker, kept inside the chart."""
        if self.marker_x < MARKER_TEXT_ROOM:
            return "start"
        if self.marker_x > self.width - MARKER_TEXT_ROOM:
            return "end"
        return "middle"


def nice_step(maximum: int, lines: int = GRID_LINES) -> int:
    """A round step (1, 2, 5 × 10ⁿ) giving at most ``lines`` grid lines up to ``maximum``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor * lines >= maximum:
                return step * factor
        step *= 10


def shorten(text: str, width: int = LABEL_CHARS) -> str:
    """At most ``width`` characters, ``…`` when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def column_chart(
    points: Sequence[tuple[str, int, str]],
    *,
    description: str,
    width: int = FULL_WIDTH,
    height: int = COLUMN_HEIGHT,
    label_every: int | None = None,
) -> ColumnChart:
    """Columns for ``(axis label, value, tooltip)`` points; the highest is the peak."""
    left, right = float(MARGIN_LEFT), float(width - MARGIN_RIGHT)
    top, bottom = float(MARGIN_TOP), float(height - MARGIN_BOTTOM)
    maximum = max((value for _, value, _ in points), default=0)
    step = nice_step(max(maximum, 1))
    scale_max = step * max(1, -(-maximum // step))
    slot = (right - left) / max(len(points), 1)
    gap = min(slot * 0.2, 6.0) if slot > 3 else 0.0
    every = label_every or max(1, -(-len(points) // MAX_X_LABELS))
    columns = []
    x_ticks = []
    for index, (label, value, tooltip) in enumerate(points):
        x = left + index * slot
        bar = (bottom - top) * value / scale_max
        columns.append(
            Column(
                x=round(x + gap / 2, 2),
                y=round(bottom - bar, 2),
                width=round(max(slot - gap, 0.8), 2),
                height=round(bar, 2),
                tooltip=tooltip,
                peak=value == maximum and maximum > 0,
            )
        )
        if index % every == 0:
            x_ticks.append(Tick(round(x + slot / 2, 2), bottom + 16, label))
    y_ticks = tuple(
        Tick(left - 6, round(bottom - (bottom - top) * value / scale_max, 2), str(value))
        for value in range(0, scale_max + 1, step)
    )
    return ColumnChart(
        width, height, tuple(columns), tuple(x_ticks), y_ticks, left, right, top, bottom,
        description,
    )  # fmt: skip


def _buckets(by_day: Sequence[tuple[date, int]]) -> tuple[str, list[tuple[date, int]]]:
    """``day``, ``week`` or ``month`` columns for the activity chart, with their counts."""
    if len(by_day) <= DAILY_LIMIT:
        return "day", list(by_day)
    merged: dict[date, int] = {}
    unit = "week" if len(by_day) <= WEEKLY_LIMIT else "month"
    for day, count in by_day:
        start = day - timedelta(days=day.weekday()) if unit == "week" else day.replace(day=1)
        merged[start] = merged.get(start, 0) + count
    return unit, sorted(merged.items())


def activity_chart(metrics: ActivityMetrics) -> tuple[str, ColumnChart]:
    """Messages per day (per week or month over long periods) and the unit used."""
    unit, buckets = _buckets(metrics.by_day)
    points = []
    for start, count in buckets:
        if unit == "month":
            label, span = start.strftime("%m.%Y"), start.strftime("%m.%Y")
        elif unit == "week":
            label = start.strftime("%d.%m")
            span = f"week of {start.strftime('%d.%m.%Y')}"
        else:
            label, span = start.strftime("%d.%m"), start.strftime("%d.%m.%Y")
        points.append((label, count, f"{span}: {count} messages"))
    total = sum(count for _, count in buckets)
    description = f"Messages per {unit}: {total} messages in {len(buckets)} {unit}s"
    return unit, column_chart(points, description=description)


def hour_chart(metrics: ActivityMetrics) -> ColumnChart:
    """Messages per hour of day (24 columns), labels every three hours."""
    points = [
        (f"{hour:02d}", count, f"{hour:02d}:00–{hour:02d}:59: {count} messages")
        for hour, count in zip(range(HOURS), metrics.by_hour, strict=True)
    ]
    busiest = metrics.busiest_hour
    description = (
        f"Messages per hour of day ({metrics.timezone}); busiest {busiest:02d}:00"
        if busiest is not None
        else "Messages per hour of day"
    )
    return column_chart(points, description=description, width=HALF_WIDTH, label_every=3)


def bar_list(rows: Sequence[tuple[str, int, str]], *, description: str) -> BarList:
    """Horizontal bars for ``(label, value, value text)`` rows, longest = full width."""
    maximum = max((value for _, value, _ in rows), default=0) or 1
    span = HALF_WIDTH - LIST_LABEL_WIDTH - LIST_VALUE_WIDTH
    laid = tuple(
        BarRow(
            y=index * LIST_ROW,
            label=shorten(label),
            full_label=label,
            bar_width=round(max(span * value / maximum, 2.0), 2),
            value=value_text,
        )
        for index, (label, value, value_text) in enumerate(rows)
    )
    return BarList(
        HALF_WIDTH, max(len(laid), 1) * LIST_ROW, LIST_LABEL_WIDTH, LIST_BAR, laid, description
    )


def sentiment_chart(metrics: ActivityMetrics, width: int = HALF_WIDTH) -> SentimentChart:
    """The split of messages by lexicon sentiment, and the score's place on −1…+1."""
    s = metrics.sentiment
    total = s.positive + s.neutral + s.negative
    segments = []
    x = 0.0
    for kind, count in (("positive", s.positive), ("neutral", s.neutral), ("negative", s.negative)):
        share = count / total if total else 0.0
        segments.append(
            Segment(kind, round(x, 2), round(width * share, 2), count, round(100 * share, 1))
        )
        x += width * share
    marker = round((s.score + 1) / 2 * width, 2)
    description = (
        f"Sentiment: {s.positive} positive, {s.neutral} neutral, {s.negative} negative "
        f"messages; score {s.score:+.2f} ({s.label})"
    )
    return SentimentChart(width, tuple(segments), s.score, marker, s.label, description)
