"""The ``ideas`` report as Markdown and JSON (spec ai.md §4.5): statistics, per chat
the 10 newest ideas and problems (time, sender, quote of at most 200 characters) and
its tools, the 20 tools named in the most chats, the themes, and the model's
recommendations when it gave any."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from tgpilot.core.output import human_time, iso_time
from tgpilot.services.ai.analyze.markdown import md_escape
from tgpilot.services.ai.digest.activity import plural
from tgpilot.services.ai.ideas.local import (
    IDEA,
    PROBLEM,
    ChatIdeas,
    Finding,
    IdeasResult,
    Kind,
    top_tools,
)
from tgpilot.services.ai.review import RunInfo

NEWEST = 10
"""Ideas and problems shown per chat."""
REPORT_KIND = "ideas"


@dataclass(frozen=True)
class IdeasReport:
    """What ``ideas`` found, and how."""

    result: IdeasResult
    run: RunInfo

    @property
    def tools(self) -> int:
        """Distinct tools named anywhere."""
        return len({name for chat in self.result.chats for name, _ in chat.tools})


def _finding_json(finding: Finding, tz: tzinfo) -> dict[str, Any]:
    return {
        "message_id": finding.message_id,
        "date": iso_time(finding.date, tz),
        "sender": finding.sender,
        "quote": finding.quote,
        "phrases": list(finding.phrases),
        "summary": finding.summary or None,
    }


def _chat_json(chat: ChatIdeas, tz: tzinfo) -> dict[str, Any]:
    return {
        "chat_id": chat.chat.id,
        "chat_name": chat.chat.title,
        "messages": chat.messages,
        "ideas_total": len(chat.ideas),
        "problems_total": len(chat.problems),
        "ideas": [_finding_json(f, tz) for f in chat.newest(IDEA, NEWEST)],
        "problems": [_finding_json(f, tz) for f in chat.newest(PROBLEM, NEWEST)],
        "tools": [{"name": name, "mentions": count} for name, count in chat.tools],
    }


def report_object(report: IdeasReport, tz: tzinfo, usage: Any = None) -> dict[str, Any]:
    """The report as a JSON document (ISO 8601 dates)."""
    result = report.result
    return {
        **report.run.to_json(tz),
        "statistics": {
            "chats": len(result.chats),
            "messages": result.messages,
            "ideas": result.ideas,
            "problems": result.problems,
            "tools": report.tools,
        },
        "chats": [_chat_json(chat, tz) for chat in result.chats],
        "top_tools": [
            {"name": t.name, "chats": t.chats, "mentions": t.mentions}
            for t in top_tools(result.chats)
        ],
        "themes": [
            {
                "name": theme.name,
                "summary": theme.summary or None,
                "items": len(theme.items),
                "messages": [{"chat_id": c, "message_id": m} for c, m in theme.items],
            }
            for theme in result.themes
        ],
        "recommendations": list(result.recommendations),
        "usage": usage,
    }


def _finding_line(finding: Finding, tz: tzinfo) -> str:
    when, who = human_time(finding.date, tz), md_escape(finding.sender)
    line = f"- {when} — {who}: “{md_escape(finding.quote)}”"
    return f"{line} — {md_escape(finding.summary)}" if finding.summary else line


def _findings(title: str, kind: Kind, chat: ChatIdeas, tz: tzinfo) -> list[str]:
    newest = chat.newest(kind, NEWEST)
    if not newest:
        return []
    total = len(chat.ideas if kind == IDEA else chat.problems)
    shown = f" ({len(newest)} newest of {total})" if total > len(newest) else ""
    return ["", f"### {title}{shown}", "", *(_finding_line(f, tz) for f in newest)]


def _chat_markdown(chat: ChatIdeas, tz: tzinfo) -> list[str]:
    lines = [
        "",
        f"## {md_escape(chat.chat.title)}",
        "",
        f"{plural(chat.messages, 'message')} read · {plural(len(chat.ideas), 'idea')} · "
        f"{plural(len(chat.problems), 'problem')}",
    ]
    lines += _findings("Ideas", IDEA, chat, tz)
    lines += _findings("Problems", PROBLEM, chat, tz)
    if chat.tools:
        tools = ", ".join(f"{md_escape(name)} ({count})" for name, count in chat.tools)
        lines += ["", f"Tools: {tools}"]
    return lines


def _themes_markdown(report: IdeasReport) -> list[str]:
    themes = report.result.themes
    if not themes:
        return []
    lines = ["", "## Themes", ""]
    for theme in themes:
        summary = f": {md_escape(theme.summary)}" if theme.summary else ""
        count = plural(len(theme.items), "idea or problem", "ideas and problems")
        lines.append(f"- **{md_escape(theme.name)}** — {count}{summary}")
    return lines


def _tools_markdown(chats: Sequence[ChatIdeas]) -> list[str]:
    ranked = top_tools(chats)
    if not ranked:
        return []
    lines = ["", "## Top tools", "", "| Tool | Chats | Mentions |", "|---|---:|---:|"]
    lines += [f"| {md_escape(t.name)} | {t.chats} | {t.mentions} |" for t in ranked]
    return lines


def render_markdown(report: IdeasReport, tz: tzinfo) -> str:
    """The report as Markdown."""
    result, run = report.result, report.run
    lines = [
        "# Ideas and problems",
        "",
        f"Period: {run.period} · source: {md_escape(run.source)} · "
        f"generated {human_time(run.generated_at, tz)}",
        "",
        f"_{run.how}_",
        *run.skipped_markdown(),
        "",
        "## Statistics",
        "",
        f"- Chats: {len(result.chats)}",
        f"- Messages read: {result.messages}",
        f"- Ideas: {result.ideas}",
        f"- Problems: {result.problems}",
        f"- Tools: {report.tools}",
    ]
    lines += _themes_markdown(report)
    if result.recommendations:
        lines += ["", "## Recommendations", ""]
        lines += [f"{n}. {md_escape(text)}" for n, text in enumerate(result.recommendations, 1)]
    for chat in result.chats:
        lines += _chat_markdown(chat, tz)
    lines += _tools_markdown(result.chats)
    return "\n".join(lines) + "\n"
