"""The export formats of spec telegram-cli §3.2: md, transcript, jsonl and csv.

A format renders text and owns no file: ``render`` turns one message into its entry
(rendered as soon as the message is read, so the run spools finished text, not
messages; ``render_bytes`` gives it UTF-8 encoded, straight from the encoder where the
format has one), ``begin`` the head once the count and range are known, ``end`` the
tail; the run writes head, entries joined by ``separator`` (oldest first) and tail.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

import orjson

from tgpilot.core.output import iso_time
from tgpilot.models import Chat, Message
from tgpilot.services.export.text_forms import (
    media_marker,
    reactions_structured,
    reactions_text,
    sender_label,
)

FLAT_COLUMNS = (
    "chat_id",
    "message_id",
    "date",
    "sender_id",
    "sender",
    "text",
    "reply_to",
    "forwarded_from",
    "edited",
    "media_type",
    "media_path",
    "reactions",
    "reactions_total",
    "views",
    "forwards",
    "replies",
)


@dataclass(frozen=True)
class ExportHeader:
    """What a file's header says about the export."""

    chat: Chat
    tz: ZoneInfo
    exported_at: datetime
    count: int
    first: datetime | None
    last: datetime | None


class ExportItem(NamedTuple):
    """One message to write, with its media file's path relative to the output (if any)."""

    message: Message
    media_path: str | None = None
    show_media: bool = True


class FormatWriter(Protocol):
    """One export format: head, one entry per message, tail."""

    extension: str
    separator: str

    def begin(self, header: ExportHeader) -> str:
        """The text before the first entry."""
        ...

    def render(self, item: ExportItem) -> str:
        """One message's entry."""
        ...

    def render_bytes(self, item: ExportItem) -> bytes:
        """One message's entry, UTF-8 encoded."""
        ...

    def end(self) -> str:
        """The text after the last entry."""
        ...


def _minute(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


class MarkdownWriter:
    """The default, human-readable format."""

    extension = "md"
    separator = ""

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz

    def begin(self, header: ExportHeader) -> str:
        chat = header.chat
        handle = f", @{chat.username}" if chat.username else ""
        zone = str(header.tz)
        first = _minute(header.first, header.tz) if header.first else ""
        last = _minute(header.last, header.tz) if header.last else ""
        return (
            f"# {chat.title}\n\n"
            f"- Chat: {chat.title} ({chat.type.value}, id {chat.id}{handle})\n"
            f"- Exported: {header.exported_at.astimezone(header.tz):%Y-%m-%d %H:%M:%S} {zone}\n"
            f"- Range: {first} – {last} {zone}\n"
            f"- Messages: {header.count}\n\n---\n\n"
        )

    def render(self, item: ExportItem) -> str:
        m = item.message
        notes = [_minute(m.date, self._tz), f"#{m.id}"]
        if m.reply_to_id is not None:
            notes.append(f"reply to #{m.reply_to_id}")
        if m.forward_from_name or m.forward_from_id is not None:
            notes.append(f"forwarded from {m.forward_from_name or m.forward_from_id}")
        if m.edit_date is not None:
            notes.append(f"edited {_minute(m.edit_date, self._tz)}")
        lines = [f"**{sender_label(m)}** ({', '.join(notes)}):"]
        if m.text:
            lines.append(m.text)
        if m.media_type and item.show_media:
            lines.append(media_marker(m.media_type, item.media_path))
        if m.reactions_total > 0:
            lines.append(f"Reactions: {reactions_text(m.reactions)}")
        return "\n".join(lines) + "\n\n"

    def render_bytes(self, item: ExportItem) -> bytes:
        return self.render(item).encode()

    def end(self) -> str:
        return ""


class TranscriptWriter:
    """The LLM prompt format: an optional header, then one line per message."""

    extension = "txt"
    separator = ""

    def __init__(
        self, tz: ZoneInfo, prompt: str | None = None, *, ids: bool = False, timestamps: bool = True
    ) -> None:
        self._tz = tz
        self._prompt = prompt.rstrip() if prompt else None
        self._ids = ids
        self._timestamps = timestamps

    def begin(self, header: ExportHeader) -> str:
        return self._prompt + "\n\n" if self._prompt else ""

    def render(self, item: ExportItem) -> str:
        m = item.message
        head = []
        if self._timestamps:
            head.append(f"[{_minute(m.date, self._tz)}]")
        if self._ids:
            head.append(f"#{m.id}")
        head.append(sender_label(m))
        if self._ids and m.reply_to_id is not None:
            head.append(f"↩#{m.reply_to_id}")
        text_lines = [line.rstrip() for line in m.text.split("\n")] if m.text else []
        body = ["\n".join(text_lines)] if text_lines else []
        if m.reactions_total > 0:
            body.append(reactions_text(m.reactions))
        if m.media_type and item.show_media:
            body.append(media_marker(m.media_type, item.media_path))
        text = " ".join(part for part in body if part)
        first, *rest = text.split("\n") if text else [""]
        lines = [f"{' '.join(head)}: {first}".rstrip()]
        lines.extend(f"  {line}".rstrip() for line in rest)
        return "\n".join(lines) + "\n"

    def render_bytes(self, item: ExportItem) -> bytes:
        return self.render(item).encode()

    def end(self) -> str:
        return ""


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def flat_row(
    item: ExportItem, *, structured_reactions: bool, native_times: bool = False
) -> dict[str, Any]:
    """One message as the shared jsonl/csv columns. Times are ISO 8601 text in UTC
    (``Z``); with ``native_times`` they stay datetimes (in UTC) for orjson to write
    the same text."""
    m = item.message
    sender = m.sender
    reactions = m.reactions
    edited = m.edit_date
    if native_times:
        date: Any = _as_utc(m.date)
        edited_at: Any = _as_utc(edited) if edited is not None else None
    else:
        date = iso_time(m.date)
        edited_at = iso_time(edited) if edited is not None else None
    return {
        "chat_id": m.chat_id,
        "message_id": m.id,
        "date": date,
        "sender_id": sender.id if sender else None,
        "sender": sender_label(m),
        "text": m.text,
        "reply_to": m.reply_to_id,
        "forwarded_from": m.forward_from_name
        or (str(m.forward_from_id) if m.forward_from_id is not None else None),
        "edited": edited_at,
        "media_type": m.media_type if item.show_media else None,
        "media_path": item.media_path,
        "reactions": (
            reactions_structured(reactions) if structured_reactions else reactions_text(reactions)
        ),
        "reactions_total": m.reactions_total if reactions else 0,
        "views": m.views,
        "forwards": m.forwards,
        "replies": m.replies,
    }


JSONL_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE
"""UTC times end in ``Z`` (as :func:`~tgpilot.core.output.iso_time` writes them)."""


class JsonlWriter:
    """One JSON object per line, reactions structured."""

    extension = "jsonl"
    separator = ""

    def begin(self, header: ExportHeader) -> str:
        return ""

    def render(self, item: ExportItem) -> str:
        return self.render_bytes(item).decode()

    def render_bytes(self, item: ExportItem) -> bytes:
        row = flat_row(item, structured_reactions=True, native_times=True)
        return orjson.dumps(row, option=JSONL_OPTIONS)

    def end(self) -> str:
        return ""


class CsvWriter:
    """RFC 4180 CSV, UTF-8, header row; reactions in text form."""

    extension = "csv"
    separator = ""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def _line(self, values: list[Any]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(values)
        return self._buffer.getvalue()

    def begin(self, header: ExportHeader) -> str:
        return self._line(list(FLAT_COLUMNS))

    def render(self, item: ExportItem) -> str:
        row = flat_row(item, structured_reactions=False)
        return self._line(["" if row[k] is None else row[k] for k in FLAT_COLUMNS])

    def render_bytes(self, item: ExportItem) -> bytes:
        return self.render(item).encode()

    def end(self) -> str:
        return ""
