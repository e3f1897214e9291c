"""The Markdown form of an analysis report (spec ai.md §4.1 "Outputs").

"# Chat Analysis Report", then one section per block — summary, overview, activity,
key participants, topics, discussions, insights, recommendations, most reacted
messages — with empty ones omitted. Participants read "**name** — N messages
(engagement: x.x/10)"; a discussion lists ten participants, then "(+N more)". Text
from the chat is escaped, so a name like ``*boss*`` or ``<b>`` stays literal.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from tgpilot.services.ai.analyze.report import LOCAL_PROVIDER, AnalysisReport

DISCUSSION_PARTICIPANTS = 10
SHORT_DATE = "%d.%m.%Y"
DATE_TIME = "%d.%m.%Y %H:%M"

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_BLOCK_MARK = re.compile(r"^[#+=>-]")
_ORDERED_MARK = re.compile(r"^(\d+)([.)])")


def md_escape(text: str) -> str:
    """Chat text made literal in Markdown: one line, emphasis, links, HTML and tables
    escaped, and nothing that would start a heading, list or quote."""
    escaped = _SPECIAL.sub(r"\\\1", " ".join(text.split()))
    if _BLOCK_MARK.match(escaped):
        return "\\" + escaped
    return _ORDERED_MARK.sub(r"\1\\\2", escaped, count=1)


def _when(value: datetime | None, tz: tzinfo, fmt: str = DATE_TIME) -> str:
    return value.astimezone(tz).strftime(fmt) if value is not None else "—"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def participants_text(names: tuple[str, ...], shown: int = DISCUSSION_PARTICIPANTS) -> str:
    """``a, b, c`` — at most ``shown`` names, then ``(+N more)``."""
    text = ", ".join(md_escape(name) for name in names[:shown])
    hidden = len(names) - shown
    return f"{text} (+{hidden} more)" if hidden > 0 else text


def analysis_label(report: AnalysisReport) -> str:
    """``local (lexicons, no LLM)``, ``openai gpt-4o-mini (ok)`` or ``… (ok, anonymized)``."""
    llm = report.llm
    if llm.provider == LOCAL_PROVIDER:
        return "local (lexicons, no LLM)"
    model = f" {llm.model}" if llm.model else ""
    degraded = ", degraded" if report.degraded else ""
    anonymized = ", anonymized" if llm.anonymized else ""
    return f"{llm.provider}{model} ({llm.status}{degraded}{anonymized})"


def render_markdown(report: AnalysisReport, tz: tzinfo) -> str:
    """The report as Markdown."""
    m = report.metrics
    lines = [
        "# Chat Analysis Report",
        "",
        f"**Chat:** {md_escape(report.chat.title)} (id {report.chat.id})  ",
        f"**Period:** {_when(m.first_date, tz)} – {_when(m.last_date, tz)} ({m.timezone})  ",
        f"**Analysed:** {_when(report.analyzed_at, tz)}  ",
        f"**Analysis:** {analysis_label(report)}",
    ]

    def section(title: str, body: list[str]) -> None:
        if body:
            lines.extend(["", f"## {title}", "", *body])

    section("Summary", [md_escape(report.summary)] if report.summary else [])
    category = md_escape(report.category)
    if report.subcategories:
        category += f" ({', '.join(md_escape(s) for s in report.subcategories)})"
    overview = [
        f"- **Category:** {category}",
        f"- **Sentiment:** {md_escape(report.sentiment)}",
        f"- **Activity level:** {md_escape(report.activity_level)}",
    ]
    if report.professionalism:
        overview.append(f"- **Professionalism:** {md_escape(report.professionalism)}")
    section("Overview", overview)
    busiest = (
        f"{m.busiest_hour:02d}:00 ({_plural(m.busiest_hour_messages, 'message')})"
        if m.busiest_hour is not None
        else "—"
    )
    sentiment = m.sentiment
    section(
        "Activity",
        [
            f"- **Messages:** {m.total_messages} (of {report.scope.scanned} read)",
            f"- **Participants:** {m.unique_senders}",
            f"- **Messages per day:** {m.messages_per_day:.1f} ({_plural(m.days, 'day')})",
            f"- **Reactions:** {m.total_reactions}",
            f"- **Average length:** {m.average_length:.1f} characters",
            f"- **Media:** {m.media_percent:.1f} %",
            f"- **Busiest hour:** {busiest}",
            f"- **Profanity:** {m.profanity_percent:.1f} % of messages",
            f"- **Lexicon sentiment:** {sentiment.score:+.2f} ({sentiment.positive} positive, "
            f"{sentiment.negative} negative, {sentiment.neutral} neutral)",
        ],
    )
    section(
        "Key participants",
        [
            f"- **{md_escape(p.name)}** — {_plural(p.message_count, 'message')} "
            f"(engagement: {p.engagement_score:.1f}/10)"
            for p in report.key_participants
        ],
    )
    section(
        "Topics",
        [
            f"- **{md_escape(t.name)}** — {_plural(t.mentions, 'mention')} "
            f"({md_escape(t.sentiment)})"
            for t in report.topics
        ],
    )
    discussions: list[str] = []
    for d in report.discussions:
        if discussions:
            discussions.append("")
        when = f" ({_when(d.date, tz, SHORT_DATE)})" if d.date else ""
        discussions.append(f"### {md_escape(d.title)}{when}")
        details = [_plural(d.messages_count, "message")]
        if d.participants:
            details.insert(0, f"Participants: {participants_text(d.participants)}")
        discussions.extend(["", " · ".join(details)])
        if d.summary:
            discussions.extend(["", md_escape(d.summary)])
    section("Discussions", discussions)
    section("Insights", [f"- {md_escape(i)}" for i in report.insights])
    section("Recommendations", [f"- {md_escape(r)}" for r in report.recommendations])
    section(
        "Most reacted messages",
        [
            f"- {_when(r.date, tz)} **{md_escape(r.sender)}** "
            f"({_plural(r.reactions, 'reaction')}): {md_escape(r.text) or '[media]'}"
            for r in m.top_reacted
        ],
    )
    return "\n".join(lines) + "\n"
