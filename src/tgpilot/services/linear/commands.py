"""The ``!linear`` chat command: its grammar and the issue it asks for (spec
linear-and-bots.md §1.4, scenarios 12–14).

- A command **starts** with the prefix followed by whitespace or the end of the text
  (``!linearx`` is not one; neither is text with the prefix further in).
- The payload after it: if its first line holds ``|``, the title is before the first
  ``|`` and the description everything after; otherwise the first line is the title
  and the later lines the description. Both trimmed; an empty description is none.
- Replying to a message with text adds that text, its sender, date and link under
  "Source message" after the description (or as the whole description). A bare
  prefix replying to such a message takes the title from its first line (80
  characters); a bare prefix without one gets :data:`USAGE` back.

Pure functions over strings and plain values, shared by the ``tgpilot run`` listener
and the ``linear`` bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from tgpilot.services.rag.passages import snippet

DEFAULT_PREFIX = "!linear"
TITLE_FROM_REPLY_CHARS = 80
SOURCE_HEADING = "Source message"


def usage(prefix: str = DEFAULT_PREFIX) -> str:
    """The reply to a bare prefix with nothing to make an issue from."""
    return (
        f"Usage: {prefix} Title | description — or reply to a message with {prefix} "
        "to make it an issue."
    )


USAGE = usage()


@dataclass(frozen=True)
class LinearCommand:
    """A parsed command: ``title`` empty for a bare prefix."""

    title: str
    description: str | None = None

    @property
    def bare(self) -> bool:
        return not self.title


@dataclass(frozen=True)
class SourceMessage:
    """The message a command replies to, as it goes into the description."""

    text: str
    sender: str | None
    date: datetime
    link: str | None = None


@dataclass(frozen=True)
class ChatIssue:
    """The title and description of the issue a command asks for."""

    title: str
    description: str | None
    task_text: str = ""
    """The text the task was written in: the replied-to message's, else the command's
    (what ``linear from-chats`` fingerprints to recognise the same task)."""


def parse_command(text: str, prefix: str = DEFAULT_PREFIX) -> LinearCommand | None:
    """The command in ``text``, or None when ``text`` is not one."""
    prefix = prefix.strip() or DEFAULT_PREFIX
    if not text.startswith(prefix):
        return None
    rest = text[len(prefix) :]
    if rest and not rest[0].isspace():
        return None
    title, description = split_payload(rest)
    return LinearCommand(title, description)


def split_payload(payload: str) -> tuple[str, str | None]:
    """``(title, description)`` of a payload (see the module docstring)."""
    payload = payload.strip()
    first, newline, later = payload.partition("\n")
    if "|" in first:
        title, _bar, description = payload.partition("|")
    else:
        title, description = first, later if newline else ""
    description = description.strip()
    return title.strip(), description or None


def source_section(source: SourceMessage, tz: tzinfo = UTC) -> str:
    """The "Source message" block: the text quoted, then sender, date and link."""
    quoted = "\n".join(f"> {line}" if line else ">" for line in source.text.strip().splitlines())
    when = source.date.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"**{SOURCE_HEADING}**", "", quoted, ""]
    if source.sender:
        lines.append(f"From: {source.sender}")
    lines.append(f"Date: {when}")
    if source.link:
        lines.append(f"Link: {source.link}")
    return "\n".join(lines)


def draft_issue(
    command: LinearCommand, source: SourceMessage | None, tz: tzinfo = UTC
) -> ChatIssue | None:
    """The issue ``command`` asks for (with ``source``, the message it replies to, if
    that has text); None when there is nothing to make one from (reply with usage)."""
    if source is not None and not source.text.strip():
        source = None
    title = command.title
    if not title:
        if source is None:
            return None
        title = snippet(source.text.strip().splitlines()[0], TITLE_FROM_REPLY_CHARS)
    if source is None:
        written = "\n".join(part for part in (command.title, command.description) if part)
        return ChatIssue(title, command.description, written)
    section = source_section(source, tz)
    description = f"{command.description}\n\n{section}" if command.description else section
    return ChatIssue(title, description, source.text)
