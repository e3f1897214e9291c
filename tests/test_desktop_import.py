"""``import PATH``: Telegram Desktop exports streamed into the archive (spec §3.5,
scenario 23) — single-chat and whole-account files, id and sender mapping, text,
reactions, media kinds and modes, dates, idempotence, import over live rows, dry runs,
bad input, and flat memory on a large file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.fakes.clock import FakeClock
from tgpilot.core.errors import UsageError
from tgpilot.models import ChatType, Message, Reaction, Sender
from tgpilot.services.desktop_import import ImportSummary, import_desktop_export
from tgpilot.services.desktop_import.format import parse_peer_ref, peer_ref
from tgpilot.store import SOURCE_IMPORT, SOURCE_LIVE, Store
from tgpilot.store.schema import messages as messages_table

UTC_ZONE = ZoneInfo("UTC")
MOSCOW = ZoneInfo("Europe/Moscow")
T0 = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
ME = 1000
REPO = Path(__file__).resolve().parents[1]


def unix(when: datetime) -> str:
    return str(int(when.timestamp()))


def msg(id: int, minutes: int = 0, **fields: Any) -> dict[str, Any]:
    """A Desktop message object at ``T0 + minutes`` (UTC wall time)."""
    when = T0 + timedelta(minutes=minutes)
    obj: dict[str, Any] = {
        "id": id,
        "type": "message",
        "date": when.strftime("%Y-%m-%dT%H:%M:%S"),
        "date_unixtime": unix(when),
    }
    obj.update(fields)
    obj.setdefault("text", "")
    obj.setdefault("text_entities", [])
    return obj


def write_export(folder: Path, document: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "result.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def single(messages: list[dict[str, Any]], **head: Any) -> dict[str, Any]:
    return {
        "name": head.get("name", "Book Club"),
        "type": head.get("type", "public_supergroup"),
        "id": head.get("id", 1234567890),
        "messages": messages,
    }


async def run_import(path: Path, store: Store, home: Path, **options: Any) -> ImportSummary:
    options.setdefault("tz", UTC_ZONE)
    return await import_desktop_export(path, store, home=home, clock=FakeClock(), **options)


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    opened = await Store.open(f"sqlite:///{tmp_path / 'db' / 'tgpilot.db'}")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def home(tgpilot_home: Path) -> Path:
    return tgpilot_home


async def stored(store: Store, chat_id: int) -> dict[int, Message]:
    return {m.id: m async for m in store.iter_messages(chat_id, newest_first=False)}


# --------------------------------------------------------------------------- scenario 23


def account_export() -> dict[str, Any]:
    """A whole-account export: personal chat, private supergroup, public channel, saved
    messages and an empty group in ``chats``; a left supergroup in ``left_chats``."""
    return {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": ME, "first_name": "Me", "last_name": "Self"},
        "contacts": {"about": "contacts", "list": [{"user_id": 1001, "first_name": "Alice"}]},
        "chats": {
            "about": "This page lists all chats from this export.",
            "list": [
                {
                    "name": "Alice Smith",
                    "type": "personal_chat",
                    "id": 1001,
                    "messages": [
                        msg(11, 0, **{"from": "Alice Smith", "from_id": "user1001"}, text="Hi!"),
                        msg(
                            12, 1, **{"from": "Me Self", "from_id": "user1000"}, text="Hello",
                            reactions=[{"type": "emoji", "count": 1, "emoji": "❤",
                                        "recent": [{"from": "Alice Smith", "from_id": "user1001",
                                                    "date": "2025-01-02T03:06:00"}]}],
                        ),
                        msg(13, 2, **{"from": "Alice Smith", "from_id": "user1001"}, text="👍",
                            reactions=[{"type": "emoji", "count": 1, "emoji": "🔥",
                                        "recent": [{"from": "Me Self", "from_id": "user1000",
                                                    "date": "2025-01-02T03:07:00"}]}]),
                    ],
                },
                {
                    "name": "Team Falcon",
                    "type": "private_supergroup",
                    "id": 2093311447,
                    "messages": [
                        {**msg(1, 3), "type": "service", "actor": "Me Self",
                         "actor_id": "user1000", "action": "create_channel", "title": "Team"},
                        msg(2, 4, **{"from": "Alice Smith", "from_id": "user1001"},
                            text=["Deadline is ", {"type": "bold", "text": "Friday"}, "!"],
                            text_entities=[{"type": "plain", "text": "Deadline is "},
                                           {"type": "bold", "text": "Friday"},
                                           {"type": "plain", "text": "!"}]),
                    ],
                },
                {
                    "name": "Book Digest",
                    "type": "public_channel",
                    "id": 1874003215,
                    "messages": [
                        msg(7, 5, **{"from": "Book Digest", "from_id": "channel1874003215"},
                            author="Editor", text="New books"),
                    ],
                },
                {"type": "saved_messages", "id": ME, "messages": [msg(20, 6, **{
                    "from": "Me Self", "from_id": "user1000"}, text="note to self")]},
                {"name": "Empty Group", "type": "private_group", "id": 908172635, "messages": []},
                {"name": "Strange", "type": "mystery_type", "id": 5, "messages": [msg(1, 7)]},
            ],
        },
        "left_chats": {
            "about": "This page lists all supergroups and channels from this export "
            "that you've left.",
            "list": [
                {
                    "name": "Old Club",
                    "type": "private_supergroup",
                    "id": 1555000111,
                    "messages": [msg(5, 8, **{"from": "Bob", "from_id": "user1002"}, text="bye")],
                }
            ],
        },
    }  # fmt: skip


async def test_scenario_23_account_import(tmp_path: Path, store: Store, home: Path) -> None:
    path = write_export(tmp_path / "DataExport_2025-01-03", account_export())
    summary = await run_import(path.parent, store, home)
    assert summary.describe() == ("chats 6; messages inserted 8, updated 0, unchanged 0, skipped 1")
    expected = {
        1001: (1001, ChatType.USER, "Alice Smith"),
        -1002093311447: (2093311447, ChatType.SUPERGROUP, "Team Falcon"),
        -1001874003215: (1874003215, ChatType.CHANNEL, "Book Digest"),
        ME: (ME, ChatType.USER, "Saved Messages"),
        -908172635: (908172635, ChatType.GROUP, "Empty Group"),
        -1001555000111: (1555000111, ChatType.SUPERGROUP, "Old Club"),
    }
    for chat_id, (raw_id, kind, title) in expected.items():
        record = await store.chat_record(chat_id)
        assert record is not None, chat_id
        assert (record.raw_id, record.type, record.title) == (raw_id, kind, title)
        assert record.source == SOURCE_IMPORT
    assert await store.chat_record(5) is None  # unknown chat type: skipped
    assert not (home / "sessions").exists()  # no session, no lock
    assert not list(tmp_path.rglob("*.lock"))

    private = await stored(store, 1001)
    assert private[12].is_outgoing and not private[11].is_outgoing
    assert private[12].reactions == (Reaction("emoji", 1, emoji="❤", mine=False),)
    assert private[13].reactions == (Reaction("emoji", 1, emoji="🔥", mine=True),)
    team = await stored(store, -1002093311447)
    assert team[1].is_service and team[1].service_action == "create_channel"
    assert team[2].text == "Deadline is Friday!"
    post = (await stored(store, -1001874003215))[7]
    assert post.sender == Sender(-1001874003215, "Book Digest (Editor)")
    assert (await stored(store, ME))[20].is_outgoing
    assert (await stored(store, -1001555000111))[5].sender == Sender(1002, "Bob")

    again = await run_import(path, store, home)
    assert again.describe() == "chats 6; messages inserted 0, updated 0, unchanged 8, skipped 1"
    assert {c.chat.id: c.counts.unchanged for c in again.per_chat}[1001] == 3


# --------------------------------------------------------------------------- mapping


def test_peer_references() -> None:
    assert parse_peer_ref("user123") == 123
    assert parse_peer_ref("channel123") == -1000000000123
    assert parse_peer_ref("chat123") == -123
    assert parse_peer_ref(77) == 77
    assert parse_peer_ref("nonsense") is None and parse_peer_ref(None) is None
    for marked in (123, -123, -1000000000123):
        assert parse_peer_ref(peer_ref(marked)) == marked


async def test_single_chat_ids_senders_and_text(tmp_path: Path, store: Store, home: Path) -> None:
    messages = [
        msg(1, 0, **{"from": "Alice Smith", "from_id": "user1001"}, text="plain"),
        msg(2, 1, **{"from": None, "from_id": "user1002"}, text="deleted account"),
        msg(3, 2, **{"from": "Family", "from_id": "chat4242"}, text="as a group"),
        msg(4, 3, **{"from": "Book Club", "from_id": "channel1234567890"}, author="Ann"),
        msg(5, 4, **{"from": "Alice Smith", "from_id": "user1001"},
            text=["see ", {"type": "link", "text": "https://example.com"}, " and ",
                  {"type": "mention", "text": "@bob"}, "\nthanks"]),
        msg(6, 5, **{"from": "Bob", "from_id": "user1002"}, reply_to_message_id=1,
            forwarded_from="Book Digest"),
        msg(7, 6, **{"from": "Bob", "from_id": "user1002"}, forwarded_from=None),
        msg(8, 7, **{"from": "Bob", "from_id": "user1002"}, forwarded_from="Alice Smith",
            forwarded_from_id="user1001"),
    ]  # fmt: skip
    path = write_export(tmp_path / "export", single(messages))
    summary = await run_import(path, store, home)
    assert summary.inserted == 8 and summary.chats == 1
    chat_id = -1001234567890
    record = await store.chat_record(chat_id)
    assert record is not None and record.type is ChatType.SUPERGROUP
    rows = await stored(store, chat_id)
    assert rows[1].sender == Sender(1001, "Alice Smith")
    assert rows[2].sender == Sender(1002, "User 1002")
    assert rows[3].sender == Sender(-4242, "Family")
    assert rows[4].sender == Sender(-1001234567890, "Book Club (Ann)")
    assert rows[5].text == "see https://example.com and @bob\nthanks"
    assert (rows[6].reply_to_id, rows[6].forward_from_name, rows[6].forward_from_id) == (
        1,
        "Book Digest",
        None,
    )
    assert (rows[7].forward_from_name, rows[7].forward_from_id) == (None, None)
    assert (rows[8].forward_from_name, rows[8].forward_from_id) == ("Alice Smith", 1001)


async def test_dates_unixtime_wins_else_wall_time_in_tz(
    tmp_path: Path, store: Store, home: Path
) -> None:
    messages = [
        {"id": 1, "type": "message", "date": "2025-01-02T06:04:00", "date_unixtime": unix(T0),
         "text": "a"},
        {"id": 2, "type": "message", "date": "2025-01-02T06:04:00", "text": "b",
         "edited": "2025-01-02T07:00:00"},
        {"id": 3, "type": "message", "date": "2025-01-02T06:04:00", "text": "c",
         "edited": "2025-01-02T07:00:00", "edited_unixtime": unix(T0 + timedelta(hours=2))},
    ]  # fmt: skip
    path = write_export(tmp_path / "export", single(messages))
    await run_import(path, store, home, tz=MOSCOW)
    rows = await stored(store, -1001234567890)
    assert rows[1].date == T0
    assert rows[2].date == T0  # 06:04 Moscow = 03:04 UTC
    assert rows[2].edit_date == datetime(2025, 1, 2, 4, 0, tzinfo=UTC)
    assert rows[3].edit_date == T0 + timedelta(hours=2)
    assert rows[1].edit_date is None


async def test_media_kinds_sizes_and_names(tmp_path: Path, store: Store, home: Path) -> None:
    def file(id: int, media_type: str | None, **more: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {"file": NOT_INCLUDED, **more}
        if media_type:
            fields["media_type"] = media_type
        return msg(id, id, **{"from": "A", "from_id": "user1"}, **fields)

    messages = [
        msg(1, 1, **{"from": "A", "from_id": "user1"}, photo=NOT_INCLUDED, photo_file_size=12,
            width=10, height=10),
        file(2, "sticker", file_name="sticker.webp", file_size=30, sticker_emoji="😂"),
        file(3, "video_message", file_size=40),
        file(4, "voice_message", file_size=50, mime_type="audio/ogg"),
        file(5, "audio_file", file_name="track.mp3", performer="X", title="Y"),
        file(6, "animation", file_name="giphy.mp4"),
        file(7, "video_file", file_name="clip.mp4"),
        file(8, None, file_name="report.pdf", file_size=10_000, mime_type="application/pdf"),
        msg(9, 9, **{"from": "A", "from_id": "user1"},
            poll={"question": "?", "closed": False, "total_voters": 0, "answers": []}),
        msg(10, 10, **{"from": "A", "from_id": "user1"}, location_information={
            "latitude": 55.75, "longitude": 37.61}),
        msg(11, 11, **{"from": "A", "from_id": "user1"}, file="files/old_export.pdf"),
        msg(12, 12, **{"from": "A", "from_id": "user1"}, text="no media"),
    ]  # fmt: skip
    path = write_export(tmp_path / "export", single(messages))
    summary = await run_import(path, store, home, media="skip")
    assert summary.skipped == 0
    rows = await stored(store, -1001234567890)
    kinds = {i: rows[i].media_type for i in rows}
    assert kinds == {
        1: "photo", 2: "sticker", 3: "round", 4: "voice", 5: "audio", 6: "animation",
        7: "video", 8: "document", 9: "other", 10: "other", 11: "document", 12: None,
    }  # fmt: skip
    assert (rows[1].media_size, rows[1].media_name) == (12, None)
    assert (rows[8].media_size, rows[8].media_name) == (10_000, "report.pdf")
    assert rows[11].media_name == "old_export.pdf"


async def test_reactions_are_mapped(tmp_path: Path, store: Store, home: Path) -> None:
    reactions = [
        {"type": "emoji", "count": 2, "emoji": "👍"},
        {"type": "custom_emoji", "count": 3, "document_id": "5368324170671202286"},
        {"type": "paid", "count": 10},
        {"type": "emoji", "count": 0, "emoji": "❤"},
        {"type": "brand_new_kind", "count": 4},
    ]
    path = write_export(tmp_path / "export", single([msg(1, reactions=reactions, text="x")]))
    await run_import(path, store, home)
    (row,) = (await stored(store, -1001234567890)).values()
    assert row.reactions == (
        Reaction("emoji", 2, emoji="👍"),
        Reaction("custom_emoji", 3, document_id=5368324170671202286),
        Reaction("paid", 10),
        Reaction("unknown", 4),
    )
    assert row.reactions_total == 19


async def test_service_messages(tmp_path: Path, store: Store, home: Path) -> None:
    def service(id: int, **fields: Any) -> dict[str, Any]:
        return {**msg(id, id), "type": "service", "actor": "Ann", "actor_id": "user5", **fields}

    messages = [
        service(1, action="create_group", title="Club", members=["Ann", "Bob"]),
        service(2, action="pin_message", message_id=1),
        service(3, action="edit_group_photo", photo=NOT_INCLUDED, photo_file_size=100),
        service(4, information_text="Custom text"),
        service(5, action="join_group_by_link", inviter="Ann"),
        service(6, action="score_in_game", game_message_id=2, score=10),
    ]
    path = write_export(tmp_path / "export", single(messages, type="private_group", id=77))
    await run_import(path, store, home)
    rows = await stored(store, -77)
    assert {i: (r.service_action, r.reply_to_id) for i, r in rows.items()} == {
        1: ("create_group", None),
        2: ("pin_message", 1),
        3: ("edit_group_photo", None),
        4: ("custom_action", None),
        5: ("join_group_by_link", None),
        6: ("score_in_game", 2),
    }
    assert all(r.is_service and r.sender == Sender(5, "Ann") for r in rows.values())
    assert rows[3].media_type is None  # the new group photo is not message media


async def test_unsupported_and_malformed_messages_are_skipped(
    tmp_path: Path, store: Store, home: Path
) -> None:
    messages = [
        msg(1, text="ok"),
        {"id": 2, "type": "unsupported"},
        {"type": "message", "date_unixtime": unix(T0), "text": "no id"},
        {"id": 4, "type": "message", "text": "no date"},
        msg(5, text="ok too"),
    ]
    path = write_export(tmp_path / "export", single(messages))
    summary = await run_import(path, store, home)
    assert summary.describe() == "chats 1; messages inserted 2, updated 0, unchanged 0, skipped 3"
    assert summary.per_chat[0].skipped == 3


# --------------------------------------------------------------------------- media modes


def media_export(tmp_path: Path) -> Path:
    folder = tmp_path / "ChatExport_2025-01-03"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "photo_1@02-01-2025_03-04-00.jpg").write_bytes(b"jpeg" * 100)
    (tmp_path / "secret.txt").write_text("outside the export")
    messages = [
        msg(1, photo="photos/photo_1@02-01-2025_03-04-00.jpg", photo_file_size=400),
        msg(2, photo="photos/missing.jpg"),
        msg(3, file="../secret.txt", file_name="secret.txt"),
        msg(4, photo=NOT_INCLUDED),
    ]
    return write_export(folder, single(messages))


@pytest.mark.parametrize("mode", ["link", "copy", "skip"])
async def test_media_modes(tmp_path: Path, store: Store, home: Path, mode: str) -> None:
    path = media_export(tmp_path)
    summary = await run_import(path, store, home, media=mode)
    async with store.engine.connect() as conn:
        result = await conn.execute(
            select(
                messages_table.c.message_id,
                messages_table.c.media_type,
                messages_table.c.media_path,
            )
        )
        paths = {r.message_id: (r.media_type, r.media_path) for r in result}
    kinds = {i: kind for i, (kind, _) in paths.items()}
    assert kinds == {1: "photo", 2: "photo", 3: "document", 4: "photo"}
    source = (path.parent / "photos" / "photo_1@02-01-2025_03-04-00.jpg").resolve()
    if mode == "skip":
        assert all(p is None for _, p in paths.values())
        assert summary.media_missing == 0
        return
    assert summary.media_missing == 2  # the missing file and the one outside the export
    assert paths[2][1] is None and paths[3][1] is None and paths[4][1] is None
    stored_path = Path(paths[1][1] or "")
    assert stored_path.is_absolute()
    if mode == "link":
        assert stored_path == source
    else:
        assert stored_path.is_relative_to(home.resolve() / "media" / "-1001234567890")
        assert stored_path.read_bytes() == source.read_bytes()
        again = await run_import(path, store, home, media=mode)
        assert again.unchanged == 4


# --------------------------------------------------------------------------- store rules


async def test_import_over_live_rows_only_fills_null_columns(
    tmp_path: Path, store: Store, home: Path
) -> None:
    chat_id = -1001234567890
    live = Message(chat_id, 1, T0, "live text", Sender(1001, "Alice Smith"), views=10)
    await store.upsert_messages([live], fetched_at=T0)
    messages = [
        msg(1, **{"from": "Alice", "from_id": "user1001"}, text="imported text",
            photo="photos/p.jpg", photo_file_size=99),
        msg(2, **{"from": "Alice", "from_id": "user1001"}, text="only in the export"),
    ]  # fmt: skip
    folder = tmp_path / "export"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "p.jpg").write_bytes(b"x" * 99)
    path = write_export(folder, single(messages))
    summary = await run_import(path, store, home)
    assert (summary.inserted, summary.updated) == (1, 1)
    rows = await stored(store, chat_id)
    assert rows[1].text == "live text" and rows[1].views == 10
    assert rows[1].media_type == "photo" and rows[1].media_size == 99
    assert rows[1].sender is not None and rows[1].sender.name == "Alice Smith"
    assert rows[2].text == "only in the export"
    async with store.engine.connect() as conn:
        result = await conn.execute(
            select(
                messages_table.c.message_id, messages_table.c.source, messages_table.c.media_path
            )
        )
        by_id = {r.message_id: (r.source, r.media_path) for r in result}
    assert by_id[1] == (SOURCE_LIVE, str((folder / "photos" / "p.jpg").resolve()))
    assert by_id[2][0] == SOURCE_IMPORT
    assert (await run_import(path, store, home)).unchanged == 2


async def test_dry_run_writes_nothing(tmp_path: Path, store: Store, home: Path) -> None:
    path = write_export(tmp_path / "export", account_export())
    summary = await run_import(path, store, home, dry_run=True)
    assert summary.describe() == "dry run, nothing written: chats 6; messages 8, skipped 1"
    assert await store.known_chats() == []
    no_store = await import_desktop_export(path, None, tz=UTC_ZONE, home=home, dry_run=True)
    assert no_store.read == 8


async def test_batches_and_progress(tmp_path: Path, store: Store, home: Path) -> None:
    messages = [msg(i, i, **{"from": "A", "from_id": "user1"}, text=f"m{i}") for i in range(1, 26)]
    path = write_export(tmp_path / "export", single(messages))
    seen: list[tuple[int, int | None]] = []
    summary = await run_import(
        path, store, home, batch_size=10, progress=lambda done, total: seen.append((done, total))
    )
    assert summary.inserted == 25
    assert seen == [(10, None), (20, None), (25, None)]


# --------------------------------------------------------------------------- bad input


async def test_bad_paths_and_files(tmp_path: Path, store: Store, home: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        await run_import(tmp_path / "nope.json", store, home)
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(UsageError, match=r"no result\.json"):
        await run_import(tmp_path / "empty_dir", store, home)
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "x", "type": "personal_chat", "id": 1, "messages": [{"id": ')
    with pytest.raises(UsageError, match="not a readable Telegram Desktop export"):
        await run_import(broken, store, home)
    other = tmp_path / "other.json"
    other.write_text('{"hello": [1, 2, 3]}')
    with pytest.raises(UsageError, match="not a Telegram Desktop export"):
        await run_import(other, store, home)
    strange = write_export(tmp_path / "strange", single([msg(1)], type="mystery"))
    with pytest.raises(UsageError, match="unsupported chat type"):
        await run_import(strange, store, home)
    good = write_export(tmp_path / "good", single([msg(1)]))
    with pytest.raises(UsageError, match="unknown --media"):
        await run_import(good, store, home, media="hardlink")
    assert await store.known_chats() == []


async def test_truncated_file_keeps_the_batches_before_the_damage(
    tmp_path: Path, store: Store, home: Path
) -> None:
    messages = [msg(i, i, text=f"m{i}") for i in range(1, 31)]
    text = json.dumps(single(messages), indent=1)
    path = tmp_path / "result.json"
    path.write_text(text[: text.index('"id": 25')])
    with pytest.raises(UsageError):
        await run_import(path, store, home, batch_size=10)
    assert await store.count_messages(-1001234567890) == 20


# --------------------------------------------------------------------------- memory

MEMORY_PROBE = textwrap.dedent(
    """
    import asyncio, json, os, resource, sys, time
    from pathlib import Path
    from zoneinfo import ZoneInfo
    from tgpilot.services.desktop_import import import_desktop_export
    from tgpilot.store import Store

    def rss_kb():
        try:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
            return pages * os.sysconf("SC_PAGE_SIZE") // 1024
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def write(path, chat_id, count):
        with path.open("w", encoding="utf-8") as out:
            out.write('{\\n "name": "Big",\\n "type": "private_supergroup",\\n'
                      f' "id": {chat_id},\\n "messages": [')
            for i in range(1, count + 1):
                text = f"message {i}: привет, how is the book going? " * 2
                reactions = [{"type": "emoji", "count": 2, "emoji": "👍"}] if i % 3 == 0 else []
                out.write(("," if i > 1 else "") + json.dumps({
                    "id": i, "type": "message", "date": "2024-01-01T00:00:00",
                    "date_unixtime": str(1704067200 + i * 30), "from": f"Person {i % 50}",
                    "from_id": f"user{1000 + i % 50}", "reply_to_message_id": i - 1 or None,
                    "text": text, "text_entities": [{"type": "plain", "text": text}],
                    "reactions": reactions}, ensure_ascii=False, indent=1))
            out.write("\\n ]\\n}\\n")

    async def main(folder, count):
        folder = Path(folder)
        small, big = folder / "small.json", folder / "big.json"
        write(small, 778, 2000)
        write(big, 777, count)
        store = await Store.open(f"sqlite:///{folder / 'probe.db'}")
        home = folder / "home"
        await import_desktop_export(small, store, tz=ZoneInfo("UTC"), home=home)  # warm up
        before = rss_kb()
        peak = before

        def sample(done, total):
            nonlocal peak
            peak = max(peak, rss_kb())

        started = time.perf_counter()
        summary = await import_desktop_export(
            big, store, tz=ZoneInfo("UTC"), home=home, progress=sample
        )
        seconds = time.perf_counter() - started
        await store.close()
        print(json.dumps({"growth_kb": peak - before, "before_kb": before,
                          "inserted": summary.inserted, "seconds": round(seconds, 2),
                          "bytes": big.stat().st_size}))

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


def test_memory_stays_flat_importing_100k_messages(tmp_path: Path) -> None:
    """Peak RSS of a fresh process grows by < 50 MB importing a 100,000-message export
    (after a warm-up import loaded every module and cache)."""
    count = 100_000
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(tmp_path), str(count)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        timeout=240,
    )
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"import of {count} messages: {probe}")
    assert probe["inserted"] == count
    assert probe["bytes"] > 40_000_000  # a file far larger than the memory allowed
    assert probe["growth_kb"] < 50 * 1024
