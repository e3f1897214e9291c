"""Telethon objects become tgpilot's domain messages: senders, reactions, media, replies.

Messages travel the real path (fake Telegram → Telethon → gateway conversion), so the
assertions are about what commands will see.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fakes.telegram import (
    PAID,
    FakeTelegram,
    audio,
    document,
    gif,
    photo,
    round_video,
    sticker,
    video,
    voice,
)
from tests.harness import session_options
from tgpilot.gateways.telegram.session import open_session
from tgpilot.models import Message, Reaction

T0 = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)


async def messages_of(world: FakeTelegram, tmp_path: Path, chat: str) -> dict[int, Message]:
    async with open_session(session_options(world, tmp_path)) as gateway:
        resolved = await gateway.resolve_chat(chat)
        return {m.id: m async for m in gateway.history(resolved)}


def club_world() -> FakeTelegram:
    world = FakeTelegram()
    me = world.add_me(1000, "Me", "Self", username="me_user", phone="+15550001000")
    alice = world.add_user(1001, "Alice", "Smith", username="alice")
    nameless = world.add_user(1002, "", username="handle_only")
    ghost = world.add_user(1003, "")
    club = world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice, nameless])
    world.add_message(
        club,
        41,
        text="Hello everyone",
        date=T0,
        sender=alice,
        reactions=[("🔥", 2), (42, 3), (PAID, 1), ("❤", 1, True)],
    )
    world.add_message(
        club, 42, date=T0 + timedelta(minutes=2), sender=nameless, media=photo(), reply_to=41
    )
    world.add_message(
        club,
        43,
        text="edited",
        date=T0 + timedelta(minutes=3),
        sender=ghost,
        edit_date=T0 + timedelta(hours=1),
    )
    world.add_message(
        club, 44, text="fwd", date=T0 + timedelta(minutes=4), sender=me, fwd_from=alice
    )
    world.add_message(
        club,
        45,
        text="hidden",
        date=T0 + timedelta(minutes=5),
        sender=alice,
        fwd_from="Secret Person",
    )
    kinds = [
        sticker(),
        round_video(),
        voice(),
        audio(),
        gif(),
        video(),
        document(file_name="report.pdf"),
    ]
    for n, media in enumerate(kinds, start=50):
        world.add_message(club, n, date=T0 + timedelta(minutes=n), sender=alice, media=media)
    world.add_message(club, 60, date=T0 + timedelta(hours=2), action="pin", sender=alice)
    world.add_message(
        club,
        61,
        text="only empty",
        date=T0 + timedelta(hours=3),
        sender=alice,
        reactions=[("👍", 0)],
    )
    news = world.add_channel(555, "Example News", "example_news", signatures=True)
    world.add_message(
        news, 7, text="post", date=T0, post_author="Editor", views=100, forwards=3, replies=5
    )
    return world


async def test_reactions_are_real_counts_in_server_order(tmp_path: Path) -> None:
    messages = await messages_of(club_world(), tmp_path, "bookclub")
    first = messages[41]
    assert first.reactions == (
        Reaction("emoji", 2, emoji="🔥"),
        Reaction("custom_emoji", 3, document_id=42),
        Reaction("paid", 1),
        Reaction("emoji", 1, emoji="❤", mine=True),
    )
    assert first.reactions_total == 7
    assert messages[61].reactions == ()
    assert messages[61].reactions_total == 0


async def test_sender_names_fall_back_to_username_then_user_id(tmp_path: Path) -> None:
    messages = await messages_of(club_world(), tmp_path, "bookclub")
    assert messages[41].sender is not None and messages[41].sender.name == "Alice Smith"
    assert messages[42].sender is not None and messages[42].sender.name == "@handle_only"
    assert messages[43].sender is not None and messages[43].sender.name == "User 1003"
    assert messages[44].is_outgoing


async def test_replies_edits_forwards_and_service_messages(tmp_path: Path) -> None:
    messages = await messages_of(club_world(), tmp_path, "bookclub")
    assert messages[42].reply_to_id == 41
    assert messages[43].edit_date == T0 + timedelta(hours=1)
    assert messages[44].forward_from_id == 1001
    assert messages[44].forward_from_name == "Alice Smith"
    assert messages[45].forward_from_name == "Secret Person"
    assert messages[60].is_service and messages[60].service_action is not None
    assert messages[41].date == T0 and messages[41].date.tzinfo is not None


async def test_media_is_classified_in_spec_order(tmp_path: Path) -> None:
    messages = await messages_of(club_world(), tmp_path, "bookclub")
    kinds = [messages[n].media_type for n in range(50, 57)]
    assert kinds == ["sticker", "round", "voice", "audio", "animation", "video", "document"]
    assert messages[42].media_type == "photo"
    assert messages[56].media_name == "report.pdf"
    assert messages[56].media_size == 10_000


async def test_channel_post_is_signed_by_its_author_with_counters(tmp_path: Path) -> None:
    messages = await messages_of(club_world(), tmp_path, "example_news")
    post = messages[7]
    assert post.sender is not None
    assert post.sender.name == "Example News (Editor)"
    assert (post.views, post.forwards, post.replies) == (100, 3, 5)


async def test_views_without_forwards_are_kept(tmp_path: Path) -> None:
    world = club_world()
    world.add_message(-1000000000555, 8, text="only views", date=T0 + timedelta(hours=1), views=42)
    messages = await messages_of(world, tmp_path, "example_news")
    assert (messages[8].views, messages[8].forwards) == (42, 0)


async def test_text_link_targets_are_link_urls_but_urls_in_the_text_are_not(
    tmp_path: Path,
) -> None:
    world = club_world()
    world.add_message(
        -1001234567890, 70, text="slides and notes", date=T0 + timedelta(hours=4),
        entities=[
            ("bold", 0, 6),
            ("text_url", 0, 6, "https://example.com/slides"),
            ("text_url", 11, 5, "https://example.com/notes"),
        ],
    )  # fmt: skip
    world.add_message(
        -1001234567890, 71, text="see https://example.com/plain", date=T0 + timedelta(hours=5)
    )
    messages = await messages_of(world, tmp_path, "bookclub")
    assert messages[70].link_urls == ("https://example.com/slides", "https://example.com/notes")
    assert messages[71].link_urls == ()
    assert messages[41].link_urls == ()
