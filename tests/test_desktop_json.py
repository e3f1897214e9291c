"""The ``json`` export format: Telegram Desktop's single-chat ``result.json`` (spec §3.2,
scenario 16) — exact layout and key order, streamed — and the round trip: importing the
written file gives the store rows a live sync gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from telethon.tl import types

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import PAID, ActionRec, FakeTelegram, document, photo, sticker, voice
from tests.harness import session_options
from tgpilot.gateways.telegram.service_actions import (
    DESKTOP_ACTIONS,
    derived_action_name,
    desktop_action_name,
)
from tgpilot.gateways.telegram.session import open_session
from tgpilot.models import Chat, ChatType, Message, Reaction, Sender
from tgpilot.services.desktop_import import import_desktop_export
from tgpilot.services.export.desktop_json import DesktopJsonWriter
from tgpilot.services.export.formats import ExportHeader, ExportItem
from tgpilot.store import Store
from tgpilot.store.schema import messages as messages_table

CLUB = Chat(-1001234567890, 1234567890, ChatType.SUPERGROUP, "Book Club", "bookclub")
ALICE = Sender(1001, "Alice")
BOB = Sender(1002, "Bob")
CAROL = Sender(1003, "Carol Jones")
T0 = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
FETCHED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
NEWS_ID = -1001987654321
NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"


def render(items: list[ExportItem], chat: Chat = CLUB, tz: ZoneInfo = UTC_ZONE) -> str:
    """The text an export writes for ``items`` in the Desktop JSON format."""
    writer = DesktopJsonWriter(tz)
    dates = [i.message.date for i in items]
    head = writer.begin(
        ExportHeader(
            chat=chat,
            tz=tz,
            exported_at=datetime(2025, 2, 1, 10, 0, 5, tzinfo=UTC),
            count=len(items),
            first=min(dates) if dates else None,
            last=max(dates) if dates else None,
        ),
    )
    return head + writer.separator.join(writer.render(i) for i in items) + writer.end()


def scenario_13() -> list[Message]:
    return [
        Message(
            CLUB.id,
            41,
            T0,
            "Hello everyone",
            ALICE,
            reactions=(Reaction("emoji", 2, emoji="👍"), Reaction("emoji", 1, emoji="❤")),
        ),
        Message(
            CLUB.id, 42, T0 + timedelta(minutes=2), "", BOB, reply_to_id=41, media_type="photo"
        ),
    ]


def book_club() -> list[Message]:
    """Scenario 13 plus a service message, forwards, an edit, custom/paid/unknown
    reactions, every media kind, a post by the chat itself and multi-line Unicode text."""
    t = T0
    return [
        Message(
            CLUB.id, 40, t - timedelta(minutes=5), "", ALICE, is_service=True,
            service_action="invite_members",
        ),
        *scenario_13(),
        Message(
            CLUB.id, 43, t + timedelta(minutes=3), "Meeting moved to Saturday", CAROL,
            edit_date=t + timedelta(hours=1, seconds=7),
            reactions=(
                Reaction("emoji", 2, emoji="🔥"),
                Reaction("custom_emoji", 3, document_id=5368324170671202286),
                Reaction("paid", 1),
                Reaction("unknown", 2),
            ),
        ),
        Message(
            CLUB.id, 44, t + timedelta(minutes=4), "📚 New books this week", BOB,
            forward_from_id=NEWS_ID, forward_from_name="Book Digest",
        ),
        Message(
            CLUB.id, 45, t + timedelta(minutes=5), "", ALICE, reply_to_id=41, is_service=True,
            service_action="pin_message",
        ),
        Message(
            CLUB.id, 46, t + timedelta(minutes=6), "Секретное сообщение", CAROL,
            forward_from_name="Secret Person",
        ),
        Message(
            CLUB.id, 47, t + timedelta(minutes=7), "Отчёт\nвторая строка «кавычки» \"quotes\"",
            ALICE, media_type="document", media_size=10_000, media_name="report.pdf",
        ),
        Message(CLUB.id, 48, t + timedelta(minutes=8), "", BOB, media_type="voice",
                media_size=20_000),
        Message(CLUB.id, 49, t + timedelta(minutes=9), "", BOB, media_type="sticker",
                media_size=30_000, media_name="sticker.webp"),
        Message(CLUB.id, 50, t + timedelta(minutes=10), "", CAROL, media_type="round",
                media_size=800_000),
        Message(CLUB.id, 51, t + timedelta(minutes=11), "", CAROL, media_type="animation",
                media_size=500_000, media_name="giphy.mp4"),
        Message(CLUB.id, 52, t + timedelta(minutes=12), "clip", ALICE, media_type="video",
                media_size=1_000_000, media_name="clip.mp4"),
        Message(CLUB.id, 53, t + timedelta(minutes=13), "", ALICE, media_type="audio",
                media_size=3_000_000, media_name="track.mp3"),
        Message(CLUB.id, 54, t + timedelta(minutes=14), "Weekly digest", Sender(CLUB.id,
                "Book Club (Editor)")),
        Message(CLUB.id, 55, t + timedelta(minutes=15), "", ALICE, is_service=True,
                service_action="custom_action"),
        Message(CLUB.id, 56, t + timedelta(minutes=16), "", ALICE, media_type="photo",
                media_size=200_000, reply_to_id=47),
    ]  # fmt: skip


# --------------------------------------------------------------------------- layout


SCENARIO_16 = """{
 "name": "Book Club",
 "type": "public_supergroup",
 "id": 1234567890,
 "messages": [
  {
   "id": 41,
   "type": "message",
   "date": "2025-01-02T03:04:00",
   "date_unixtime": "1735787040",
   "from": "Alice",
   "from_id": "user1001",
   "text": "Hello everyone",
   "text_entities": [
    {
     "type": "plain",
     "text": "Hello everyone"
    }
   ],
   "reactions": [
    {
     "type": "emoji",
     "count": 2,
     "emoji": "👍"
    },
    {
     "type": "emoji",
     "count": 1,
     "emoji": "❤"
    }
   ]
  },
  {
   "id": 42,
   "type": "message",
   "date": "2025-01-02T03:06:00",
   "date_unixtime": "1735787160",
   "from": "Bob",
   "from_id": "user1002",
   "reply_to_message_id": 41,
   "photo": "(File not included. Change data exporting settings to download.)",
   "text": "",
   "text_entities": []
  }
 ]
}
"""


def test_scenario_16_book_club_in_desktop_layout() -> None:
    text = render([ExportItem(m) for m in scenario_13()])
    assert text == SCENARIO_16


def test_layout_is_desktops_one_space_pretty_json() -> None:
    text = render([ExportItem(m) for m in book_club()])
    document = json.loads(text)
    assert text == json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    assert "Отчёт" in text and "\\u" not in text  # UTF-8, not escaped
    assert len(document["messages"]) == len(book_club())


def test_message_keys_come_in_the_spec_order() -> None:
    edited_forward = Message(
        CLUB.id, 7, T0, "fwd", ALICE, reply_to_id=3, forward_from_id=1002,
        forward_from_name="Bob", edit_date=T0 + timedelta(minutes=1),
        media_type="document", media_size=10, media_name="a.pdf",
        reactions=(Reaction("paid", 1),),
    )  # fmt: skip
    (obj,) = json.loads(render([ExportItem(edited_forward, media_path="files/a.pdf")]))["messages"]
    assert list(obj) == [
        "id", "type", "date", "date_unixtime", "edited", "edited_unixtime", "from", "from_id",
        "reply_to_message_id", "forwarded_from", "forwarded_from_id", "file", "file_name",
        "file_size", "mime_type", "text", "text_entities", "reactions",
    ]  # fmt: skip
    assert obj["file"] == "files/a.pdf"
    assert obj["forwarded_from_id"] == "user1002"
    pin = Message(CLUB.id, 8, T0, "", ALICE, reply_to_id=7, is_service=True,
                  service_action="pin_message")  # fmt: skip
    (service,) = json.loads(render([ExportItem(pin)]))["messages"]
    assert list(service) == [
        "id", "type", "date", "date_unixtime", "actor", "actor_id", "action", "message_id",
        "text", "text_entities",
    ]  # fmt: skip
    assert service["type"] == "service" and service["action"] == "pin_message"
    assert service["actor_id"] == "user1001" and service["message_id"] == 7


def test_dates_are_wall_time_of_the_export_zone_and_edits_only_when_edited() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    items = [ExportItem(m) for m in book_club()]
    objs = {o["id"]: o for o in json.loads(render(items, tz=moscow))["messages"]}
    assert objs[41]["date"] == "2025-01-02T06:04:00"
    assert objs[41]["date_unixtime"] == "1735787040"
    assert objs[43]["edited"] == "2025-01-02T07:04:07"
    assert objs[43]["edited_unixtime"] == str(int((T0 + timedelta(hours=1, seconds=7)).timestamp()))
    assert "edited" not in objs[41] and "edited_unixtime" not in objs[41]


def test_media_as_desktop_writes_them() -> None:
    items = [ExportItem(m) for m in book_club()]
    items[-1] = ExportItem(items[-1].message, media_path="photos/56_photo.jpg")
    objs = {o["id"]: o for o in json.loads(render(items))["messages"]}
    assert objs[42]["photo"] == NOT_INCLUDED and "file" not in objs[42]
    assert objs[56]["photo"] == "photos/56_photo.jpg" and objs[56]["photo_file_size"] == 200_000
    assert objs[47]["file"] == NOT_INCLUDED
    assert (objs[47]["file_name"], objs[47]["file_size"]) == ("report.pdf", 10_000)
    assert objs[47]["mime_type"] == "application/pdf" and "media_type" not in objs[47]
    kinds = {n: (objs[n].get("media_type"), objs[n]["mime_type"]) for n in range(48, 54)}
    assert kinds == {
        48: ("voice_message", "audio/ogg"),
        49: ("sticker", "image/webp"),
        50: ("video_message", "video/mp4"),
        51: ("animation", "video/mp4"),
        52: ("video_file", "video/mp4"),
        53: ("audio_file", "audio/mpeg"),
    }
    text_only = [ExportItem(m, show_media=False) for m in book_club()]
    for obj in json.loads(render(text_only))["messages"]:
        assert not {"photo", "file", "media_type", "mime_type"} & set(obj)
    other = Message(CLUB.id, 9, T0, "poll", ALICE, media_type="other")
    (obj,) = json.loads(render([ExportItem(other)]))["messages"]
    assert not {"photo", "file"} & set(obj)


def test_reactions_per_spec_document_id_as_string() -> None:
    objs = {
        o["id"]: o for o in json.loads(render([ExportItem(m) for m in book_club()]))["messages"]
    }
    assert objs[43]["reactions"] == [
        {"type": "emoji", "count": 2, "emoji": "🔥"},
        {"type": "custom_emoji", "count": 3, "document_id": "5368324170671202286"},
        {"type": "paid", "count": 1},
        {"type": "unknown", "count": 2},
    ]
    assert "reactions" not in objs[44]
    empty = Message(CLUB.id, 9, T0, "x", ALICE, reactions=(Reaction("emoji", 0, emoji="👍"),))
    (obj,) = json.loads(render([ExportItem(empty)]))["messages"]
    assert "reactions" not in obj


def test_senders_services_and_text() -> None:
    objs = {
        o["id"]: o for o in json.loads(render([ExportItem(m) for m in book_club()]))["messages"]
    }
    assert objs[54]["from"] == "Book Club (Editor)" and objs[54]["from_id"] == "channel1234567890"
    assert objs[44]["forwarded_from"] == "Book Digest"
    assert objs[44]["forwarded_from_id"] == "channel1987654321"
    assert objs[46]["forwarded_from"] == "Secret Person" and "forwarded_from_id" not in objs[46]
    assert objs[47]["text"] == 'Отчёт\nвторая строка «кавычки» "quotes"'
    assert objs[47]["text_entities"] == [{"type": "plain", "text": objs[47]["text"]}]
    assert objs[40]["action"] == "invite_members" and objs[40]["actor"] == "Alice"
    assert "action" not in objs[55] and objs[55]["information_text"] == ""
    group = Message(-4242, 1, T0, "hi", Sender(-4242, "Family"))
    (obj,) = json.loads(render([ExportItem(group)]))["messages"]
    assert obj["from_id"] == "chat4242"


@pytest.mark.parametrize(
    ("chat", "desktop_type"),
    [
        (Chat(5, 5, ChatType.USER, "Ann"), "personal_chat"),
        (Chat(6, 6, ChatType.BOT, "Bot", "a_bot"), "bot_chat"),
        (Chat(-7, 7, ChatType.GROUP, "Family"), "private_group"),
        (Chat(-1000000000008, 8, ChatType.SUPERGROUP, "Team"), "private_supergroup"),
        (Chat(-1000000000009, 9, ChatType.SUPERGROUP, "Club", "club"), "public_supergroup"),
        (Chat(-1000000000010, 10, ChatType.CHANNEL, "Photos"), "private_channel"),
        (Chat(-1000000000011, 11, ChatType.CHANNEL, "News", "news"), "public_channel"),
    ],
)
def test_chat_types_and_raw_ids(chat: Chat, desktop_type: str) -> None:
    document = json.loads(render([], chat=chat))
    assert document == {"name": chat.title, "type": desktop_type, "id": chat.raw_id, "messages": []}


def test_renders_one_message_at_a_time() -> None:
    writer = DesktopJsonWriter(UTC_ZONE)
    header = ExportHeader(CLUB, UTC_ZONE, T0, 2, T0, T0)
    head = writer.begin(header)
    assert head.endswith('"messages": [')
    entries = [writer.render(ExportItem(message)) for message in scenario_13()]
    assert all(entry.rstrip().endswith("}") for entry in entries)
    assert head + writer.separator.join(entries) + writer.end() == SCENARIO_16
    assert not any(isinstance(v, list) for v in vars(writer).values())  # holds no messages


# --------------------------------------------------------------------------- service actions


@pytest.mark.parametrize(
    ("action", "name"),
    [
        (types.MessageActionChatCreate(title="t", users=[1]), "create_group"),
        (types.MessageActionChannelCreate(title="t"), "create_channel"),
        (types.MessageActionChatAddUser(users=[1]), "invite_members"),
        (types.MessageActionChatDeleteUser(user_id=1), "remove_members"),
        (types.MessageActionChatJoinedByLink(inviter_id=1), "join_group_by_link"),
        (types.MessageActionChatJoinedByRequest(), "join_group_by_request"),
        (types.MessageActionPinMessage(), "pin_message"),
        (types.MessageActionChatEditTitle(title="t"), "edit_group_title"),
        (types.MessageActionChatEditPhoto(photo=types.PhotoEmpty(id=1)), "edit_group_photo"),
        (types.MessageActionChatDeletePhoto(), "delete_group_photo"),
        (types.MessageActionChatMigrateTo(channel_id=1), "migrate_to_supergroup"),
        (types.MessageActionChannelMigrateFrom(title="t", chat_id=1), "migrate_from_group"),
        (types.MessageActionPhoneCall(call_id=1), "phone_call"),
        (types.MessageActionGroupCall(call=types.InputGroupCall(id=1, access_hash=2)),
         "group_call"),
        (types.MessageActionHistoryClear(), "clear_history"),
        (types.MessageActionScreenshotTaken(), "take_screenshot"),
        (types.MessageActionContactSignUp(), "joined_telegram"),
        (types.MessageActionCustomAction(message="x"), "custom_action"),
        (types.MessageActionBotAllowed(domain="example.com"), "allow_sending_messages"),
        (types.MessageActionBotAllowed(attach_menu=True), "attach_menu_bot_allowed"),
        (types.MessageActionBotAllowed(from_request=True), "web_app_bot_allowed"),
        (types.MessageActionSetChatWallPaper(wallpaper=None, same=True),  # type: ignore[arg-type]
         "set_same_chat_wallpaper"),
        (types.MessageActionGiftTon(currency="USD", amount=1, crypto_currency="TON",
                                    crypto_amount=1), "gift_ton"),
    ],
)  # fmt: skip
def test_telethon_actions_get_desktop_names(action: Any, name: str) -> None:
    assert desktop_action_name(action) == name


def test_every_mapped_class_exists_in_telethon() -> None:
    for class_name in DESKTOP_ACTIONS:
        assert hasattr(types, class_name), class_name
    assert derived_action_name("MessageActionChatJoinedViaCommunity") == (
        "chat_joined_via_community"
    )


# --------------------------------------------------------------------------- round trip


async def stored_rows(store: Store) -> list[dict[str, Any]]:
    """Every messages row, without ``source`` and ``fetched_at``, by chat and id."""
    async with store.engine.connect() as conn:
        result = await conn.execute(
            select(messages_table).order_by(messages_table.c.chat_id, messages_table.c.message_id)
        )
        rows = [dict(r._mapping) for r in result]
    for row in rows:
        del row["source"], row["fetched_at"]
    return rows


async def rows_of_import(path: Path, home: Path) -> tuple[list[dict[str, Any]], str]:
    store = await Store.open(f"sqlite:///{home / 'imported.db'}")
    try:
        summary = await import_desktop_export(
            path, store, tz=UTC_ZONE, media="skip", home=home, clock=FakeClock()
        )
        return await stored_rows(store), summary.describe()
    finally:
        await store.close()


async def rows_of_upsert(items: list[Message], home: Path) -> list[dict[str, Any]]:
    store = await Store.open(f"sqlite:///{home / 'live.db'}")
    try:
        await store.upsert_messages(items, fetched_at=FETCHED)
        return await stored_rows(store)
    finally:
        await store.close()


async def test_importing_the_export_reproduces_the_store_rows(tmp_path: Path) -> None:
    originals = book_club()
    export = tmp_path / "result.json"
    export.write_text(render([ExportItem(m) for m in originals]), encoding="utf-8")
    imported, summary = await rows_of_import(export, tmp_path)
    expected = await rows_of_upsert(originals, tmp_path)
    assert (
        summary == f"chats 1; messages inserted {len(originals)}, updated 0, unchanged 0, skipped 0"
    )
    assert imported == expected


async def test_fields_desktop_has_no_place_for_are_not_invented(tmp_path: Path) -> None:
    counted = Message(
        CLUB.id, 1, T0, "post", ALICE, views=100, forwards=3, replies=5, is_outgoing=True,
        reactions=(Reaction("emoji", 2, emoji="👍", mine=True),),
    )  # fmt: skip
    export = tmp_path / "result.json"
    export.write_text(render([ExportItem(counted)]), encoding="utf-8")
    (row,), _ = await rows_of_import(export, tmp_path)
    assert (row["views"], row["forwards"], row["replies_count"]) == (None, None, None)
    assert row["is_outgoing"] is False
    assert row["reactions"] == [{"type": "emoji", "emoji": "👍", "count": 2, "mine": False}]


def club_world() -> FakeTelegram:
    """Scenario 13's Book Club on the fake Telegram, with a service message, a forward,
    an edit, custom and paid reactions and media."""
    world = FakeTelegram()
    world.add_me(1000, "Me", "Self", username="me_user", phone="+15550001000")
    alice = world.add_user(1001, "Alice", None, username="alice")
    bob = world.add_user(1002, "Bob", None)
    carol = world.add_user(1003, "", username="carol_handle")
    club = world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice, bob, carol])
    world.add_message(
        club,
        40,
        date=T0 - timedelta(minutes=1),
        sender=alice,
        action=ActionRec("add_user", users=(1002,)),
    )
    world.add_message(
        club, 41, text="Hello everyone", date=T0, sender=alice, reactions=[("👍", 2), ("❤", 1)]
    )
    world.add_message(
        club, 42, date=T0 + timedelta(minutes=2), sender=bob, media=photo(), reply_to=41
    )
    world.add_message(
        club,
        43,
        text="Meeting moved",
        date=T0 + timedelta(minutes=3),
        sender=carol,
        edit_date=T0 + timedelta(hours=1),
        reactions=[("🔥", 2), (42, 3), (PAID, 1)],
    )
    world.add_message(
        club, 44, text="fwd", date=T0 + timedelta(minutes=4), sender=bob, fwd_from=alice
    )
    world.add_message(
        club, 45, date=T0 + timedelta(minutes=5), sender=alice, action="pin", reply_to=41
    )
    world.add_message(
        club,
        46,
        text="Отчёт",
        date=T0 + timedelta(minutes=6),
        sender=alice,
        media=document(10_000, "report.pdf", mime_type="application/pdf"),
    )
    world.add_message(club, 47, date=T0 + timedelta(minutes=7), sender=bob, media=voice())
    world.add_message(club, 48, date=T0 + timedelta(minutes=8), sender=carol, media=sticker())
    return world  # fmt: skip


async def live_messages(world: FakeTelegram, tmp_path: Path) -> tuple[Chat, list[Message]]:
    async with open_session(session_options(world, tmp_path)) as gateway:
        chat = await gateway.resolve_chat("bookclub")
        history = [m async for m in gateway.history(chat)]
    return chat, sorted(history, key=lambda m: m.id)


async def test_scenario_16_import_gives_the_rows_a_live_sync_gives(tmp_path: Path) -> None:
    chat, live = await live_messages(club_world(), tmp_path)
    assert {m.id: m.service_action for m in live if m.is_service} == {
        40: "invite_members",
        45: "pin_message",
    }
    synced = await rows_of_upsert(live, tmp_path)
    export = tmp_path / "export" / "result.json"
    export.parent.mkdir()
    export.write_text(render([ExportItem(m) for m in live], chat=chat), encoding="utf-8")
    imported, summary = await rows_of_import(export, tmp_path)
    assert summary.startswith(f"chats 1; messages inserted {len(live)},")
    assert imported == synced
    assert [r["media_type"] for r in imported if r["media_type"]] == [
        "photo",
        "document",
        "voice",
        "sticker",
    ]
