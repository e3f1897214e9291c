"""A chat digest as a document: Markdown, JSON and self-contained HTML (spec ai.md §4.2).

:class:`DigestReport` holds the period's activity digest and, when a model wrote one,
its digest with a local footer ("N messages from M participants"). In local mode —
``--provider local``, no key, or a provider failure with ``llm.fallback: local``
(``degraded``) — the activity digest is the whole output, with the most reacted and
replied messages and every link of the period. Files are named like analysis reports,
``<slug>_<chat id>_<YYYYMMDD-HHMMSS>.<md|json|html>`` (UTC), and written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from tgpilot.core.output import atomic_write, iso_time, to_json
from tgpilot.models import Chat
from tgpilot.services.ai.analyze.files import report_stem
from tgpilot.services.ai.analyze.html import environment
from tgpilot.services.ai.analyze.markdown import md_escape
from tgpilot.services.ai.digest.activity import ActivityDigest, plural
from tgpilot.services.ai.digest.llm import LLMDigest

HTML_TEMPLATE = "digest.html.j2"
WHEN = "%Y-%m-%d %H:%M"
LOCAL = "local"
NO_MESSAGES = "no messages in the selected period"


def period_text(since: datetime | None, until: datetime, tz: tzinfo, zone: str) -> str:
    """``YYYY-MM-DD HH:MM – YYYY-MM-DD HH:MM (zone)``; an open start reads "the beginning"."""
    start = since.astimezone(tz).strftime(WHEN) if since is not None else "the beginning"
    return f"{start} – {until.astimezone(tz).strftime(WHEN)} ({zone})"


@dataclass(frozen=True)
class DigestReport:
    """One chat's digest over one period."""

    chat: Chat
    generated_at: datetime
    source: str
    activity: ActivityDigest
    llm: LLMDigest | None = None
    """The model's digest; None in local mode."""
    degraded: bool = False
    """True when the provider failed and ``llm.fallback: local`` gave the local digest."""
    samples: bool = False
    notices: tuple[str, ...] = ()

    @property
    def local(self) -> bool:
        return self.llm is None

    @property
    def status(self) -> str:
        """``ok`` (the model's digest), ``local`` or ``degraded``."""
        if self.degraded:
            return "degraded"
        return LOCAL if self.llm is None else "ok"

    def period(self, tz: tzinfo) -> str:
        return period_text(self.activity.since, self.activity.until, tz, self.activity.timezone)


def _when(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime(WHEN)


def activity_markdown(report: DigestReport, tz: tzinfo) -> list[str]:
    """The activity digest as Markdown lines (a ``## Activity`` section and its parts)."""
    a = report.activity
    lines = [
        "## Activity",
        "",
        f"- Period: {report.period(tz)}",
        f"- Messages: {a.total} (media: {a.media}, {a.media_percent:.1f} %)",
        f"- Active participants: {a.participants}",
        f"- Average length: {a.average_length:.1f} characters",
        f"- Busiest hour: {a.busiest_text}",
    ]
    if a.top_users:
        lines += ["", "### Top users", ""]
        lines += [
            f"{rank}. {md_escape(u.name)} — {u.messages} ({u.percent:.1f} %)"
            for rank, u in enumerate(a.top_users, start=1)
        ]
    if report.samples and a.samples:
        lines += ["", "### Samples", ""]
        lines += [
            f"- {_when(s.date, tz)} {md_escape(s.sender)}: {md_escape(s.text)}" for s in a.samples
        ]
    if report.local and a.highlights:
        lines += ["", "### Most reacted and replied", ""]
        lines += [
            f"- {_when(h.date, tz)} {md_escape(h.sender)}: {md_escape(h.text)} "
            f"({plural(h.reactions, 'reaction')}, {plural(h.replies, 'reply', 'replies')})"
            for h in a.highlights
        ]
    if report.local and a.links:
        lines += ["", "### Links", ""]
        lines += [f"- <{url}>" for url in a.links]
    return lines


def render_markdown(report: DigestReport, tz: tzinfo) -> str:
    """The digest as Markdown: the model's text and footer (when any), then activity."""
    lines = [f"# Digest: {md_escape(report.chat.title)}", "", f"Period: {report.period(tz)}"]
    if report.degraded:
        lines += ["", "_The model failed: this is the local digest (degraded)._"]
    lines.append("")
    if report.llm is not None:
        lines += [report.llm.text, "", f"_{report.activity.footer}_", ""]
    lines += activity_markdown(report, tz)
    return "\n".join(lines) + "\n"


def report_object(report: DigestReport, tz: tzinfo, usage: Any = None) -> dict[str, Any]:
    """The digest as a JSON document (ISO 8601 dates)."""
    a = report.activity
    llm = report.llm
    return {
        "chat_name": report.chat.title,
        "chat_id": report.chat.id,
        "generated_at": iso_time(report.generated_at, tz),
        "source": report.source,
        "period": {
            "since": iso_time(a.since, tz) if a.since is not None else None,
            "until": iso_time(a.until, tz),
            "text": report.period(tz),
        },
        "status": report.status,
        "degraded": report.degraded,
        "digest": llm.text if llm is not None else None,
        "footer": a.footer,
        "llm": {
            "provider": llm.provider if llm is not None else LOCAL,
            "model": llm.model if llm is not None else None,
            "prompt": llm.prompt if llm is not None else None,
            "prompt_hash": llm.prompt_hash if llm is not None else None,
            "messages_sent": llm.lines_sent if llm is not None else 0,
            "messages_total": llm.lines_total if llm is not None else 0,
        },
        "activity": {
            "total_messages": a.total,
            "media_messages": a.media,
            "media_percent": a.media_percent,
            "active_participants": a.participants,
            "average_length": a.average_length,
            "busiest_hour": a.busiest_text if a.busiest_hour is not None else None,
            "busiest_hour_messages": a.busiest_count,
            "timezone": a.timezone,
            "top_users": [
                {"name": u.name, "id": u.sender_id, "messages": u.messages, "percent": u.percent}
                for u in a.top_users
            ],
        },
        "samples": (
            [{"date": iso_time(s.date, tz), "sender": s.sender, "text": s.text} for s in a.samples]
            if report.samples
            else None
        ),
        "top_messages": (
            [
                {
                    "id": h.id,
                    "date": iso_time(h.date, tz),
                    "sender": h.sender,
                    "text": h.text,
                    "reactions": h.reactions,
                    "replies": h.replies,
                }
                for h in a.highlights
            ]
            if report.local
            else None
        ),
        "links": list(a.links) if report.local else None,
        "notices": list(report.notices),
        "usage": usage,
    }


def render_html(report: DigestReport, tz: tzinfo) -> str:
    """The digest as one self-contained, escaped HTML page."""
    a = report.activity
    template = environment().get_template(HTML_TEMPLATE)
    return template.render(
        report=report,
        activity=a,
        period=report.period(tz),
        generated=_when(report.generated_at, tz),
        samples=[(_when(s.date, tz), s) for s in a.samples] if report.samples else [],
        highlights=[(_when(h.date, tz), h) for h in a.highlights] if report.local else [],
        links=list(a.links) if report.local else [],
    )


def render(report: DigestReport, kind: str, tz: tzinfo, usage: Any = None) -> str:
    """The digest in one format: ``json``, ``md`` or ``html``."""
    if kind == "json":
        return to_json(report_object(report, tz, usage)) + "\n"
    if kind == "md":
        return render_markdown(report, tz)
    return render_html(report, tz)


def write_digest(
    report: DigestReport, out_dir: Path, formats: Sequence[str], tz: tzinfo, usage: Any = None
) -> dict[str, Path]:
    """Write the digest in each format; format → path written."""
    stem = report_stem(report.chat, report.generated_at)
    written: dict[str, Path] = {}
    for kind in formats:
        path = out_dir / f"{stem}.{kind}"
        with atomic_write(path) as handle:
            handle.write(render(report, kind, tz, usage))
        written[kind] = path
    return written
