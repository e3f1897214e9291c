"""What the action commands (react, like, clean, moderate) ask of the Telegram gateway:
messages by id, allowed reactions (the server's list cached 24 h), setting the
account's reactions, deleting in batches of 100, and the account's admin rights —
through ``open_session`` and real Telethon on the fake Telegram (spec telegram-cli §4)."""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram, marked_channel, marked_group
from tests.harness import session_options
from tgpilot.core.errors import EXIT_USAGE, ReactionNotAllowed, TelegramError
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.gateways.telegram.session import open_session
from tgpilot.models import AllowedReactions, ChatRights, normalise_emoji

T0 = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
CLUB = marked_channel(1234567890)
FAMILY = marked_group(77)


def action_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", username="me_user", phone="+15550001000")
    alice = world.add_user(1001, "Alice", username="alice", dialog=True)
    club = world.add_supergroup(
        1234567890, "Book Club", "bookclub", members=[alice], reactions=["👍", "🔥", "❤"]
    )
    world.add_supergroup(88, "Open", "open_sg", members=[alice], reactions="all+custom")
    world.add_channel(555, "Example News", "example_news", reactions="none")
    world.add_group(77, "Family", members=[alice], reactions=["👍"])
    for n in range(1, 301):
        sender = world.me if n % 2 else alice
        world.add_message(club, n, text=f"m{n}", sender=sender, date=T0 + timedelta(minutes=n))
    world.add_message(club, 301, text="loved", sender=alice, reactions=[("❤", 3, True)])
    return world


def open_gateway(
    world: FakeTelegram, tmp_path: Path, clock: FakeClock | None = None, **options: Any
) -> AbstractAsyncContextManager[TelegramGateway]:
    return open_session(session_options(world, tmp_path, clock, **options))


# messages by id ----------------------------------------------------------------------


async def test_messages_by_id_100_per_request_in_the_order_asked(tmp_path: Path) -> None:
    world = action_world()
    world.delete_messages(CLUB, [7])
    ids = [*range(250, 0, -1), 404, 7, 250]
    async with open_gateway(world, tmp_path) as gateway:
        chat = await gateway.resolve_chat("bookclub")
        world.reset_counts()
        found = await gateway.get_messages(chat, ids)
    assert world.requests_qualified["channels.GetMessagesRequest"] == 3
    assert len(found) == len(ids)
    assert [m.id if m else None for m in found[:3]] == [250, 249, 248]
    assert found[-3:-1] == [None, None]  # never existed, deleted
    assert found[-1] == found[0] and found[0] is not None and found[0].text == "m250"
    assert not world.mutating_requests()


async def test_own_reactions_are_marked_mine(tmp_path: Path) -> None:
    world = action_world()
    world.add_message(CLUB, 302, text="both", sender=1001, reactions=[("👍", 2), ("🔥", 1, True)])
    async with open_gateway(world, tmp_path) as gateway:
        chat = await gateway.resolve_chat("bookclub")
        loved, both, empty = await gateway.get_messages(chat, [301, 302, 1])
    assert loved is not None and both is not None and empty is not None
    assert [(r.emoji, r.count, r.mine) for r in loved.reactions] == [("❤", 3, True)]
    assert [(r.emoji, r.mine) for r in both.reactions] == [("👍", False), ("🔥", True)]
    assert empty.reactions == ()


async def test_messages_of_other_chats_do_not_leak_into_a_basic_group(tmp_path: Path) -> None:
    world = action_world()
    family = world.add_message(FAMILY, text="in family", sender=1001)
    private = world.add_message(1001, text="private")
    async with open_gateway(world, tmp_path) as gateway:
        chat = await gateway.resolve_chat(str(FAMILY))
        world.reset_counts()
        found = await gateway.get_messages(chat, [family.id, private.id])
        assert await gateway.get_messages(chat, []) == []
    assert [m.text if m else None for m in found] == ["in family", None]
    assert world.requests_qualified["messages.GetMessagesRequest"] == 1


# allowed reactions -------------------------------------------------------------------


async def test_allowed_reactions_of_each_kind_of_chat(tmp_path: Path) -> None:
    world = action_world()
    async with open_gateway(world, tmp_path) as gateway:
        club = await gateway.allowed_reactions(await gateway.resolve_chat("bookclub"))
        open_ = await gateway.allowed_reactions(await gateway.resolve_chat("open_sg"))
        news = await gateway.allowed_reactions(await gateway.resolve_chat("example_news"))
        family = await gateway.allowed_reactions(await gateway.resolve_chat(str(FAMILY)))
        alice = await gateway.allowed_reactions(await gateway.resolve_chat("@alice"))
    assert club == AllowedReactions("some", ("👍", "🔥", "❤"))
    assert open_.kind == "all" and open_.allow_custom
    assert open_.emoji == tuple(world.available_reactions)
    assert news == AllowedReactions("none")
    assert family == AllowedReactions("some", ("👍",))
    assert alice.kind == "all" and alice.emoji == open_.emoji and not alice.allow_custom
    # "all" was asked of the server once for the whole session
    assert world.requests["GetAvailableReactionsRequest"] == 1


def test_emoji_are_compared_without_fe0f_and_sent_in_the_servers_spelling() -> None:
    allowed = AllowedReactions("some", ("👍", "🔥", "❤"))
    assert normalise_emoji("❤️") == "❤"
    assert allowed.require("❤️", "Book Club") == "❤"
    assert allowed.require("🔥", "Book Club") == "🔥"
    assert allowed.server_spelling("😀") is None
    with pytest.raises(ReactionNotAllowed) as caught:
        allowed.require("😀", "Book Club")
    assert caught.value.message == "😀 is not allowed in Book Club; allowed: 👍 🔥 ❤"
    assert caught.value.exit_code == EXIT_USAGE
    with pytest.raises(ReactionNotAllowed, match="allowed: none"):
        AllowedReactions("none").require("👍", "News")


async def test_the_servers_list_is_cached_for_24_hours(tmp_path: Path) -> None:
    world = action_world()
    clock = FakeClock()
    cache = tmp_path / "cache" / "reactions-default.json"

    async def ask() -> AllowedReactions:
        async with open_gateway(world, tmp_path, clock, reactions_cache=cache) as gateway:
            return await gateway.allowed_reactions(await gateway.resolve_chat("open_sg"))

    first = await ask()
    assert world.requests["GetAvailableReactionsRequest"] == 1
    stored = json.loads(cache.read_text(encoding="utf-8"))
    assert stored["emoji"] == list(world.available_reactions) and stored["hash"]
    assert cache.stat().st_mode & 0o777 == 0o600
    clock.advance(23 * 3600)
    assert await ask() == first
    assert world.requests["GetAvailableReactionsRequest"] == 1  # a fresh cache: no request
    clock.advance(2 * 3600)
    world.reset_counts()
    assert await ask() == first  # stale: asked again with the hash, NotModified
    assert world.requests["GetAvailableReactionsRequest"] == 1
    refreshed = json.loads(cache.read_text(encoding="utf-8"))
    assert refreshed["fetched_at"] != stored["fetched_at"]
    world.available_reactions = ["👍", "🆕"]
    clock.advance(25 * 3600)
    assert (await ask()).emoji == ("👍", "🆕")
    cache.write_text("{not json", encoding="utf-8")
    world.reset_counts()
    assert (await ask()).emoji == ("👍", "🆕")  # unreadable: fetched and rewritten
    assert world.requests["GetAvailableReactionsRequest"] == 1
    assert json.loads(cache.read_text(encoding="utf-8"))["emoji"] == ["👍", "🆕"]


# reacting ----------------------------------------------------------------------------


async def test_send_reaction_replaces_or_adds_and_empty_removes(tmp_path: Path) -> None:
    world = action_world()
    world.me.premium = True
    async with open_gateway(world, tmp_path) as gateway:
        chat = await gateway.resolve_chat("bookclub")
        await gateway.send_reaction(chat, 301, ["👍"])  # --replace
        assert world.my_reactions(CLUB, 301) == ["👍"]
        (msg,) = await gateway.get_messages(chat, [301])
        assert msg is not None
        assert {(r.emoji, r.count, r.mine) for r in msg.reactions} == {
            ("❤", 2, False),
            ("👍", 1, True),
        }
        await gateway.send_reaction(chat, 301, ["👍", "🔥"], big=True)  # --add
        assert world.my_reactions(CLUB, 301) == ["👍", "🔥"]
        await gateway.send_reaction(chat, 301, [])
        assert world.my_reactions(CLUB, 301) == []
    assert world.requests["SendReactionRequest"] == 3


async def test_refused_reactions_are_typed_errors(tmp_path: Path) -> None:
    world = action_world()
    async with open_gateway(world, tmp_path) as gateway:
        chat = await gateway.resolve_chat("bookclub")
        with pytest.raises(TelegramError) as caught:
            await gateway.send_reaction(chat, 1, ["😀"])
        assert caught.value.rpc_name == "REACTION_INVALID"
        assert caught.value.request == "SendReactionRequest"
        with pytest.raises(TelegramError, match="MESSAGE_ID_INVALID"):
            await gateway.send_reaction(chat, 9999, ["👍"])


async def test_a_flood_on_a_reaction_is_waited_out_and_retried(tmp_path: Path) -> None:
    world = action_world()
    clock = FakeClock()
    world.faults.fail("SendReactionRequest", nth=1, error="FLOOD_WAIT_30")
    async with open_gateway(world, tmp_path, clock) as gateway:
        chat = await gateway.resolve_chat("bookclub")
        await gateway.send_reaction(chat, 1, ["🔥"])
    assert clock.sleeps == [31]
    assert world.requests["SendReactionRequest"] == 2
    assert world.my_reactions(CLUB, 1) == ["🔥"]


# deleting ----------------------------------------------------------------------------


async def test_deletes_go_100_ids_a_request(tmp_path: Path) -> None:
    world = action_world()
    mine = [n for n in range(1, 301) if n % 2]  # 150 own messages
    async with open_gateway(world, tmp_path) as gateway:
        chat = await gateway.resolve_chat("bookclub")
        with pytest.raises(ValueError, match="at most 100"):
            await gateway.delete_messages(chat, mine)
        assert world.mutating_requests() == {}
        done = [await gateway.delete_messages(chat, mine[i : i + 100]) for i in (0, 100)]
        assert await gateway.delete_messages(chat, []) == 0
    assert done == [100, 50]
    assert world.requests_qualified["channels.DeleteMessagesRequest"] == 2
    assert {m.id for m in world.history(CLUB)} == {n for n in range(1, 302) if n % 2 == 0} | {301}


async def test_deleting_others_messages_needs_the_right(tmp_path: Path) -> None:
    world = action_world()
    async with open_gateway(world, tmp_path) as gateway:
        chat = await gateway.resolve_chat("bookclub")
        with pytest.raises(TelegramError) as caught:
            await gateway.delete_messages(chat, [1, 2])
        assert caught.value.rpc_name == "MESSAGE_DELETE_FORBIDDEN"
        world.set_admin_rights(CLUB, ["delete_messages"])
        assert await gateway.delete_messages(chat, [1, 2, 404]) == 2


async def test_private_and_basic_group_deletes_revoke(tmp_path: Path) -> None:
    world = action_world()
    family = [world.add_message(FAMILY, text=f"f{n}", sender=world.me).id for n in range(3)]
    private = world.add_message(1001, text="from alice").id
    async with open_gateway(world, tmp_path) as gateway:
        group = await gateway.resolve_chat(str(FAMILY))
        alice = await gateway.resolve_chat("@alice")
        assert await gateway.delete_messages(group, family) == 3
        assert await gateway.delete_messages(alice, [private]) == 1
    assert world.requests_qualified["messages.DeleteMessagesRequest"] == 2
    assert world.history(FAMILY) == [] and world.history(1001) == []


# rights ------------------------------------------------------------------------------

NONE = ChatRights()
ALL = ChatRights(is_creator=True, is_admin=True, can_delete_messages=True, can_ban_users=True)
DELETER = ChatRights(is_admin=True, can_delete_messages=True)
PINNER = ChatRights(is_admin=True)


@pytest.mark.parametrize("kind", ["group", "supergroup", "channel"])
@pytest.mark.parametrize(
    ("creator", "rights", "expected"),
    [
        (True, None, ALL),
        (False, ["delete_messages"], DELETER),
        (False, ["pin_messages"], PINNER),
        (False, None, NONE),
    ],
)
async def test_my_rights_for_creator_admin_and_member(
    tmp_path: Path, kind: str, creator: bool, rights: list[str] | None, expected: ChatRights
) -> None:
    world = action_world()
    add = {
        "group": world.add_group,
        "supergroup": world.add_supergroup,
        "channel": world.add_channel,
    }[kind]
    rec = add(4242, "Ruled", creator=creator, admin_rights=rights)
    async with open_gateway(world, tmp_path) as gateway:
        chat = await gateway.resolve_chat(str(rec.marked_id))
        world.reset_counts()
        assert await gateway.my_rights(chat) == expected
    assert sum(world.requests.values()) == 1
    assert not world.mutating_requests()


async def test_my_rights_in_private_chats_and_chats_left(tmp_path: Path) -> None:
    world = action_world()
    world.add_supergroup(13, "Gone", "gone_sg", dialog=False)
    async with open_gateway(world, tmp_path) as gateway:
        alice = await gateway.resolve_chat("@alice")
        gone = await gateway.resolve_chat("gone_sg")
        world.reset_counts()
        assert await gateway.my_rights(alice) == NONE
        assert sum(world.requests.values()) == 0
        assert await gateway.my_rights(gone) == NONE
