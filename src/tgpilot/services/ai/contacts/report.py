"""The ``contacts analyze`` report as Markdown and JSON (spec ai.md §4.6): per contact
the counts (mine and theirs), topics, the recent lines of both sides (at most 120
characters) and the value suggestion, plus the model's summary, interests and next
step when it gave them (and, when the conversation did not fit the model's window,
how many of the newest texts it read)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from tgpilot.core.output import human_time, iso_time
from tgpilot.services.ai.analyze.markdown import md_escape
from tgpilot.services.ai.contacts.local import ContactAnalysis
from tgpilot.services.ai.digest.activity import plural
from tgpilot.services.ai.review import RunInfo

REPORT_KIND = "contacts"
ME = "me"
THEM = "them"


@dataclass(frozen=True)
class ContactsReport:
    """Every contact analysed, and how."""

    contacts: tuple[ContactAnalysis, ...]
    run: RunInfo


def _contact_json(contact: ContactAnalysis, tz: tzinfo) -> dict[str, Any]:
    chat = contact.chat
    return {
        "chat_id": chat.id,
        "name": chat.title,
        "username": chat.username,
        "messages": contact.total,
        "mine": contact.mine,
        "theirs": contact.theirs,
        "last_message": iso_time(contact.last_at, tz) if contact.last_at else None,
        "topics": [{"name": name, "messages": count} for name, count in contact.topics],
        "suggestion": {"offer": contact.suggestion.offer, "rule": contact.suggestion.rule},
        "recent": [
            {"date": iso_time(line.date, tz), "from": ME if line.mine else THEM, "text": line.text}
            for line in contact.recent
        ],
        "summary": contact.summary or None,
        "interests": list(contact.interests),
        "next_step": contact.next_step or None,
        "model_read": contact.model_read,
    }


def report_object(report: ContactsReport, tz: tzinfo, usage: Any = None) -> dict[str, Any]:
    """The report as a JSON document (ISO 8601 dates)."""
    return {
        **report.run.to_json(tz),
        "statistics": {
            "contacts": len(report.contacts),
            "messages": sum(c.total for c in report.contacts),
        },
        "contacts": [_contact_json(c, tz) for c in report.contacts],
        "usage": usage,
    }


def cut_notice(contact: ContactAnalysis) -> str:
    """What the model read of a conversation too long for its window."""
    return (
        f"The model read the newest {contact.model_read} of {contact.total} texts "
        "(the whole conversation does not fit its window)"
    )


def _contact_markdown(contact: ContactAnalysis, tz: tzinfo) -> list[str]:
    chat = contact.chat
    handle = f" (@{chat.username})" if chat.username else ""
    topics = ", ".join(f"{name} ({count})" for name, count in contact.topics) or "—"
    lines = [
        "",
        f"## {md_escape(chat.title)}{handle}",
        "",
        f"- Messages: {contact.total} (theirs {contact.theirs}, mine {contact.mine})",
        f"- Topics: {topics}",
        f"- Suggestion: {md_escape(contact.suggestion.offer)}",
    ]
    if contact.summary:
        lines.append(f"- Summary: {md_escape(contact.summary)}")
    if contact.interests:
        lines.append(f"- Interests: {md_escape(', '.join(contact.interests))}")
    if contact.next_step:
        lines.append(f"- Next step: {md_escape(contact.next_step)}")
    if contact.model_cut:
        lines.append(f"- {cut_notice(contact)}")
    if contact.recent:
        lines += ["", "Recent:", ""]
        lines += [
            f"- {human_time(line.date, tz)} {ME if line.mine else THEM}: {md_escape(line.text)}"
            for line in contact.recent
        ]
    return lines


def render_markdown(report: ContactsReport, tz: tzinfo) -> str:
    """The report as Markdown."""
    run = report.run
    lines = [
        "# Contacts",
        "",
        f"Source: {md_escape(run.source)} · generated {human_time(run.generated_at, tz)}",
        "",
        f"_{run.how}_",
        *run.skipped_markdown(),
        "",
        f"{plural(len(report.contacts), 'contact')}, "
        f"{plural(sum(c.total for c in report.contacts), 'message')}",
    ]
    for contact in report.contacts:
        lines += _contact_markdown(contact, tz)
    return "\n".join(lines) + "\n"
