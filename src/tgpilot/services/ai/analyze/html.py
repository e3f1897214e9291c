"""The HTML form of an analysis report, and the index of several (spec ai.md §4.1).

One self-contained file: inline CSS (light and dark, print-friendly), inline SVG
charts laid out by :mod:`.charts` — activity per day, per hour, top senders, topics,
sentiment — and no script, font, image or stylesheet fetched from anywhere. The
templates (``tgpilot/data/templates/``) are rendered by Jinja2 with autoescaping, so
every piece of chat text is escaped (``<script>`` shows as ``&lt;script&gt;``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from tgpilot.services.ai.analyze.charts import (
    activity_chart,
    bar_list,
    hour_chart,
    sentiment_chart,
)
from tgpilot.services.ai.analyze.markdown import DISCUSSION_PARTICIPANTS, analysis_label
from tgpilot.services.ai.analyze.report import AnalysisReport

TEMPLATES_PACKAGE = "tgpilot.data"
TEMPLATES_DIR = "templates"
REPORT_TEMPLATE = "analyze_report.html.j2"
INDEX_TEMPLATE = "analyze_index.html.j2"
TOP_SENDERS = 10
DATE_TIME = "%d.%m.%Y %H:%M"


@cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report templates (autoescaping, strict)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(TEMPLATES_PACKAGE, TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _when(value: datetime | None, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime(DATE_TIME) if value is not None else "—"


def _cards(report: AnalysisReport) -> list[tuple[str, str, str]]:
    m = report.metrics
    busiest = f"{m.busiest_hour:02d}:00" if m.busiest_hour is not None else "—"
    return [
        ("Messages", str(m.total_messages), f"of {report.scope.scanned} read"),
        ("Participants", str(m.unique_senders), "unique senders"),
        ("Per day", f"{m.messages_per_day:.1f}", f"over {m.days} days"),
        ("Reactions", str(m.total_reactions), "emoji, custom and paid"),
        ("Average length", f"{m.average_length:.1f}", "characters"),
        ("Media", f"{m.media_percent:.1f} %", f"{m.media_messages} messages"),
        ("Busiest hour", busiest, f"{m.busiest_hour_messages} messages ({m.timezone})"),
        ("Profanity", f"{m.profanity_percent:.1f} %", f"{m.profane_messages} messages"),
    ]


def report_context(report: AnalysisReport, tz: tzinfo) -> dict[str, Any]:
    """Everything the report template shows, formatted."""
    m = report.metrics
    unit, activity = activity_chart(m)
    senders = bar_list(
        [(s.name, s.messages, str(s.messages)) for s in m.top_senders(TOP_SENDERS)],
        description=f"Top {min(TOP_SENDERS, len(m.senders))} senders by messages",
    )
    topics = bar_list(
        [(t.name, t.mentions, str(t.mentions)) for t in report.topics if t.mentions > 0],
        description="Topics by mentions",
    )
    return {
        "report": report,
        "metrics": m,
        "period": f"{_when(m.first_date, tz)} – {_when(m.last_date, tz)}",
        "analysed": _when(report.analyzed_at, tz),
        "analysis": analysis_label(report),
        "cards": _cards(report),
        "activity_unit": unit,
        "activity": activity,
        "hours": hour_chart(m),
        "senders": senders,
        "topics": topics,
        "sentiment": sentiment_chart(m),
        "reacted": [(_when(r.date, tz), r) for r in m.top_reacted],
        "discussions": [
            (
                d,
                _when(d.date, tz) if d.date else "",
                list(d.participants[:DISCUSSION_PARTICIPANTS]),
                max(0, len(d.participants) - DISCUSSION_PARTICIPANTS),
            )
            for d in report.discussions
        ],
        "since": _when(report.scope.since, tz) if report.scope.since else "no cutoff",
        "until": _when(report.scope.until, tz) if report.scope.until else "now",
    }


def render_html(report: AnalysisReport, tz: tzinfo) -> str:
    """The report as one self-contained HTML page."""
    template = environment().get_template(REPORT_TEMPLATE)
    return template.render(report_context(report, tz))


@dataclass(frozen=True)
class IndexEntry:
    """One chat in the index: its report and the files written for it."""

    report: AnalysisReport
    files: dict[str, Path]


def render_index_html(entries: Sequence[IndexEntry], *, generated: datetime, tz: tzinfo) -> str:
    """The index of several reports: a card per chat, linking its files by name."""
    rows = [
        {
            "report": entry.report,
            "metrics": entry.report.metrics,
            "period": (
                f"{_when(entry.report.metrics.first_date, tz)} – "
                f"{_when(entry.report.metrics.last_date, tz)}"
            ),
            "files": [(kind, path.name) for kind, path in entry.files.items()],
        }
        for entry in entries
    ]
    template = environment().get_template(INDEX_TEMPLATE)
    return template.render(entries=rows, generated=_when(generated, tz))
