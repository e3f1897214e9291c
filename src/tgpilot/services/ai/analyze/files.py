"""Where analysis reports go and what they are called (spec ai.md §3 "Privacy and files").

Reports are written to ``--out`` (default ``<data dir>/reports/``) as
``<slug>_<chat id>_<YYYYMMDD-HHMMSS>.<json|md|html>``: the slug is the chat title
through the safe-filename function with length 80 (``chat@name`` → ``chat_name``,
``Русский`` stays), the time is the analysis time in UTC. Several chats add an index
``index_<YYYYMMDD-HHMMSS>.<ext>`` in each requested format. Every file is written
atomically (a temporary file renamed into place).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from tgpilot.core.errors import UsageError
from tgpilot.core.names import safe_name
from tgpilot.core.output import atomic_write, iso_time, to_json
from tgpilot.models import Chat
from tgpilot.services.ai.analyze.html import IndexEntry, render_html, render_index_html
from tgpilot.services.ai.analyze.markdown import md_escape, render_markdown
from tgpilot.services.ai.analyze.report import AnalysisReport, report_object

REPORTS_DIR = "reports"
"""The default output folder inside the data dir."""
FORMATS = ("json", "md", "html")
SLUG_LENGTH = 80
STAMP = "%Y%m%d-%H%M%S"


def parse_formats(text: str) -> tuple[str, ...]:
    """``json,md,html`` (any subset, any order, no repeats) → the formats in that order."""
    wanted = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [part for part in wanted if part not in FORMATS]
    if unknown or not wanted:
        raise UsageError(
            f"--format: unknown format {', '.join(unknown) or repr(text)}",
            hint=f"use one or more of {', '.join(FORMATS)}, comma-separated",
        )
    return tuple(dict.fromkeys(wanted))


def stamp(when: datetime) -> str:
    """``YYYYMMDD-HHMMSS`` in UTC."""
    return when.astimezone(UTC).strftime(STAMP)


def report_stem(chat: Chat, analyzed_at: datetime) -> str:
    """``<slug>_<chat id>_<YYYYMMDD-HHMMSS>`` (no extension)."""
    slug = safe_name(chat.title, SLUG_LENGTH, fallback=f"chat_{chat.raw_id}")
    return f"{slug}_{chat.id}_{stamp(analyzed_at)}"


def _write(path: Path, text: str) -> Path:
    with atomic_write(path) as handle:
        handle.write(text)
    return path


def render(report: AnalysisReport, kind: str, tz: tzinfo) -> str:
    """The report in one format: ``json``, ``md`` or ``html``."""
    if kind == "json":
        return to_json(report_object(report, tz)) + "\n"
    if kind == "md":
        return render_markdown(report, tz)
    return render_html(report, tz)


def write_report(
    report: AnalysisReport, out_dir: Path, formats: Sequence[str], tz: tzinfo
) -> dict[str, Path]:
    """Write the report in each format; format → path written."""
    stem = report_stem(report.chat, report.analyzed_at)
    return {kind: _write(out_dir / f"{stem}.{kind}", render(report, kind, tz)) for kind in formats}


def _index_object(entries: Sequence[IndexEntry], generated: datetime, tz: tzinfo) -> Any:
    return {
        "analysis_time": iso_time(generated, tz),
        "reports": [
            {
                "chat_name": e.report.chat.title,
                "chat_id": e.report.chat.id,
                "total_messages": e.report.metrics.total_messages,
                "unique_senders": e.report.metrics.unique_senders,
                "messages_per_day": e.report.metrics.messages_per_day,
                "sentiment": e.report.sentiment,
                "files": {kind: path.name for kind, path in e.files.items()},
            }
            for e in entries
        ],
    }


def _index_markdown(entries: Sequence[IndexEntry], generated: datetime, tz: tzinfo) -> str:
    lines = [
        "# Chat Analysis Reports",
        "",
        f"Analysed {generated.astimezone(tz).strftime('%d.%m.%Y %H:%M')}.",
        "",
        "| Chat | Messages | Participants | Per day | Sentiment | Files |",
        "|---|---:|---:|---:|---|---|",
    ]
    for e in entries:
        m = e.report.metrics
        links = " ".join(f"[{kind}]({path.name})" for kind, path in e.files.items())
        lines.append(
            f"| {md_escape(e.report.chat.title)} | {m.total_messages} | {m.unique_senders} | "
            f"{m.messages_per_day:.1f} | {e.report.sentiment} | {links} |"
        )
    return "\n".join(lines) + "\n"


def write_index(
    entries: Sequence[IndexEntry],
    out_dir: Path,
    formats: Sequence[str],
    *,
    generated: datetime,
    tz: tzinfo,
) -> dict[str, Path]:
    """The index of several reports, in each requested format; format → path."""
    written: dict[str, Path] = {}
    for kind in formats:
        if kind == "json":
            text = to_json(_index_object(entries, generated, tz)) + "\n"
        elif kind == "md":
            text = _index_markdown(entries, generated, tz)
        else:
            text = render_index_html(entries, generated=generated, tz=tz)
        written[kind] = _write(out_dir / f"index_{stamp(generated)}.{kind}", text)
    return written
