"""``get_chat_info``'s description and member count: the gateway's ``chat_profile`` reads
them from the chat's full info (``messages.getFullChat`` for basic groups,
``channels.getFullChannel`` for supergroups and channels, ``users.getFullUser`` for a
user's bio), one request each, on the fake Telegram."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.telegram import FakeTelegram
from tests.harness import session_options
from tgpilot.gateways.telegram.chat_profile import ChatProfile
from tgpilot.gateways.telegram.session import open_session


def profile_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", username="alice", dialog=True)
    world.users[1001].about = "Reads a lot"
    bob = world.add_user(1002, "Bob", username="bob")
    world.add_group(77, "Family", members=[alice, bob], about="Sunday lunches")
    world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice], about="Books!")
    world.add_channel(555, "News", "newsroom", about="Daily news", participants_count=12345)
    world.add_supergroup(999, "Quiet", "quiet")
    return world


async def test_descriptions_and_member_counts_come_from_the_full_info(tmp_path: Path) -> None:
    world = profile_world()
    async with open_session(session_options(world, tmp_path)) as gateway:
        profiles = {}
        for name in ("-77", "@bookclub", "@newsroom", "@quiet", "@alice", "@bob"):
            chat = await gateway.resolve_chat(name)
            world.reset_counts()
            profiles[name] = await gateway.chat_profile(chat)
            assert sum(world.requests.values()) == 1, world.requests
    assert profiles["-77"] == ChatProfile("Sunday lunches", 3)
    assert profiles["@bookclub"] == ChatProfile("Books!", 2)
    assert profiles["@newsroom"] == ChatProfile("Daily news", 12345)
    assert profiles["@quiet"].about is None  # an empty "about" is no description
    assert profiles["@alice"] == ChatProfile("Reads a lot", None)
    assert profiles["@bob"] == ChatProfile(None, None)
    assert world.unhandled == []
