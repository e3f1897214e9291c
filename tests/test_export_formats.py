"""Export formats render exactly as spec telegram-cli §3.2 (scenarios 13–16, flat formats)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tgpilot.models import Chat, ChatType, Message, Reaction, Sender
from tgpilot.services.export.formats import (
    FLAT_COLUMNS,
    CsvWriter,
    ExportHeader,
    ExportItem,
    FormatWriter,
    JsonlWriter,
    MarkdownWriter,
    TranscriptWriter,
)
from tgpilot.services.export.text_forms import preview, reactions_text

CLUB = Chat(-1001234567890, 1234567890, ChatType.SUPERGROUP, "Book Club", "bookclub")
ALICE = Sender(1001, "Alice")
BOB = Sender(1002, "Bob")
UTC_ZONE = ZoneInfo("UTC")


def render(writer: FormatWriter, items: list[ExportItem], chat: Chat = CLUB) -> str:
    dates = [i.message.date for i in items]
    head = writer.begin(
        ExportHeader(
            chat=chat,
            tz=UTC_ZONE,
            exported_at=datetime(2025, 2, 1, 10, 0, 5, tzinfo=UTC),
            count=len(items),
            first=min(dates) if dates else None,
            last=max(dates) if dates else None,
        ),
    )
    return head + writer.separator.join(writer.render(i) for i in items) + writer.end()


def scenario_13() -> list[ExportItem]:
    hello = Message(
        CLUB.id,
        41,
        datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
        "Hello everyone",
        ALICE,
        reactions=(Reaction("emoji", 2, emoji="👍"), Reaction("emoji", 1, emoji="❤")),
    )
    photo = Message(
        CLUB.id,
        42,
        datetime(2025, 1, 2, 3, 6, tzinfo=UTC),
        "",
        BOB,
        reply_to_id=41,
        media_type="photo",
    )
    return [ExportItem(hello), ExportItem(photo)]


def test_markdown_golden() -> None:
    text = render(MarkdownWriter(UTC_ZONE), scenario_13())
    head, body = text.split("---\n\n", 1)
    assert body == (
        "**Alice** (2025-01-02 03:04, #41):\nHello everyone\nReactions: 👍×2 ❤×1\n\n"
        "**Bob** (2025-01-02 03:06, #42, reply to #41):\n[photo]\n\n"
    )
    assert head == (
        "# Book Club\n\n"
        "- Chat: Book Club (supergroup, id -1001234567890, @bookclub)\n"
        "- Exported: 2025-02-01 10:00:05 UTC\n"
        "- Range: 2025-01-02 03:04 – 2025-01-02 03:06 UTC\n"
        "- Messages: 2\n\n"
    )


def test_markdown_notes_forward_and_edit() -> None:
    m = Message(
        CLUB.id,
        7,
        datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
        "x",
        ALICE,
        forward_from_name="Example News",
        edit_date=datetime(2025, 1, 2, 5, 0, tzinfo=UTC),
    )
    body = render(MarkdownWriter(UTC_ZONE), [ExportItem(m)]).split("---\n\n", 1)[1]
    assert body.startswith(
        "**Alice** (2025-01-02 03:04, #7, forwarded from Example News, edited 2025-01-02 05:00):\n"
    )


def test_transcript_with_prompt_media_and_continuations() -> None:
    first = Message(
        CLUB.id,
        7,
        datetime(2024, 11, 22, 10, 30, tzinfo=UTC),
        "Hello   ",
        ALICE,
        media_type="photo",
        reactions=(Reaction("emoji", 1, emoji="🔥"),),
    )
    second = Message(CLUB.id, 8, datetime(2024, 11, 22, 10, 31, tzinfo=UTC), "No media", BOB)
    third = Message(
        CLUB.id, 9, datetime(2024, 11, 22, 10, 32, tzinfo=UTC), "two\nlines", BOB, reply_to_id=7
    )
    items = [ExportItem(first, "media/7_photo.jpg"), ExportItem(second), ExportItem(third)]
    text = render(TranscriptWriter(UTC_ZONE, "Prompt line\n"), items)
    assert text == (
        "Prompt line\n\n"
        "[2024-11-22 10:30] Alice: Hello 🔥×1 [photo: media/7_photo.jpg]\n"
        "[2024-11-22 10:31] Bob: No media\n"
        "[2024-11-22 10:32] Bob: two\n  lines\n"
    )
    with_ids = render(TranscriptWriter(UTC_ZONE, None, ids=True, timestamps=False), items)
    assert with_ids.splitlines()[2] == "#9 Bob ↩#7: two"


def test_transcript_trims_trailing_spaces() -> None:
    m = Message(CLUB.id, 1, datetime(2024, 11, 22, 10, 30, tzinfo=UTC), "Hello   ", ALICE)
    assert (
        render(TranscriptWriter(UTC_ZONE), [ExportItem(m)]) == "[2024-11-22 10:30] Alice: Hello\n"
    )


def test_reactions_text_form_and_totals() -> None:
    reactions = (
        Reaction("emoji", 2, emoji="🔥"),
        Reaction("custom_emoji", 3, document_id=42),
        Reaction("paid", 1),
    )
    m = Message(CLUB.id, 1, datetime(2025, 1, 1, tzinfo=UTC), "x", ALICE, reactions=reactions)
    assert m.reactions_total == 6
    assert reactions_text(reactions) == "🔥×2 custom:42×3 ⭐×1"
    empty = Message(
        CLUB.id,
        2,
        datetime(2025, 1, 1, tzinfo=UTC),
        "x",
        ALICE,
        reactions=(Reaction("emoji", 0, emoji="👍"),),
    )
    assert empty.reactions_total == 0
    assert "Reactions:" not in render(MarkdownWriter(UTC_ZONE), [ExportItem(empty)])


def test_csv_header_and_text_reactions() -> None:
    text = render(CsvWriter(), scenario_13())
    rows = list(csv.reader(io.StringIO(text)))
    assert text.splitlines()[0] == ",".join(FLAT_COLUMNS)
    assert rows[1][FLAT_COLUMNS.index("reactions")] == "👍×2 ❤×1"
    assert rows[1][FLAT_COLUMNS.index("date")] == "2025-01-02T03:04:00Z"
    assert rows[2][FLAT_COLUMNS.index("reply_to")] == "41"


def test_jsonl_lines_have_structured_reactions() -> None:
    lines = render(JsonlWriter(), scenario_13()).splitlines()
    first = json.loads(lines[0])
    assert list(first) == list(FLAT_COLUMNS)
    assert first["reactions"] == [
        {"type": "emoji", "emoji": "👍", "count": 2, "mine": False},
        {"type": "emoji", "emoji": "❤", "count": 1, "mine": False},
    ]
    assert first["reactions_total"] == 3


def test_previews() -> None:
    base = Message(CLUB.id, 1, datetime(2025, 1, 1, tzinfo=UTC), "a\nb", ALICE)
    assert preview(base) == "a b"
    long = Message(CLUB.id, 1, datetime(2025, 1, 1, tzinfo=UTC), "x" * 60, ALICE)
    assert preview(long) == "x" * 49 + "…" and len(preview(long)) == 50
    exact = Message(CLUB.id, 1, datetime(2025, 1, 1, tzinfo=UTC), "y" * 50, ALICE)
    assert preview(exact) == "y" * 50
    media = Message(CLUB.id, 1, datetime(2025, 1, 1, tzinfo=UTC), "", ALICE, media_type="video")
    assert preview(media) == "[video]"


def test_spool_returns_entries_in_reverse_across_chunks() -> None:
    from tgpilot.services.export.spool import ReverseSpool

    entries = ["запись ✓\n", *(f"entry {n}\n" for n in range(9)), "", "last 🎉"]
    with ReverseSpool(chunk_size=3) as spool:
        for entry in entries:
            spool.append(entry)
        assert list(spool.reversed()) == [e.encode() for e in reversed(entries)]
        assert spool.count == 12


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Hello World!", "Hello_World"),
        ("Тест чат 😀", "Тест_чат"),
        ("   spaces   ", "spaces"),
        ("@exampleuser", "exampleuser"),
        ("../../etc/passwd", "etc_passwd"),
        ("chat@name", "chat_name"),
        ("", "chat_42"),
        ("a" * 70, "a" * 50),
    ],
)
def test_safe_names(title: str, expected: str) -> None:
    from tgpilot.core.names import safe_name

    assert safe_name(title, 50, fallback="chat_42") == expected
