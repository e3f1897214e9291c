"""The fake Telegram's mutating requests, driven by raw Telethon requests: reactions,
deletes, the account's standing in a chat, and the mutating-request count."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telethon import TelegramClient, errors, events
from telethon.tl import functions, types

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram, marked_channel
from tests.fakes.telegram.world import MUTATING_REQUESTS
from tests.harness import session_options
from tgpilot.gateways.telegram.client import ClientSpec
from tgpilot.gateways.telegram.session import open_session

T0 = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
CLUB = marked_channel(1234567890)
NEWS = marked_channel(555)


class PassThroughPolicy:
    """No flood policy: Telethon's own errors reach the test."""

    async def run(self, send: Callable[[], Any], request: Any, reconnect: Any = None) -> Any:
        return await send()


def world_of(*, premium: bool = False) -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", username="me_user", phone="+15550001000", premium=premium)
    alice = world.add_user(1001, "Alice", username="alice", dialog=True)
    bob = world.add_user(1002, "Bob", username="bobby")
    club = world.add_supergroup(
        1234567890, "Book Club", "bookclub", members=[alice, bob], reactions=["👍", "🔥", "❤"]
    )
    world.add_channel(555, "Example News", "example_news")
    world.add_group(77, "Family", members=[alice], admin_rights=["delete_messages"])
    world.add_supergroup(88, "Open", "open_sg", members=[alice])
    world.add_message(club, 1, text="mine", sender=world.me, date=T0)
    world.add_message(
        club, 2, text="alice", sender=alice, date=T0, reactions=[("❤", 2, True), ("👍", 1)]
    )
    world.add_message(club, 3, text="bob", sender=bob, date=T0, reactions=[("👍", 1)])
    return world


@asynccontextmanager
async def connected(world: FakeTelegram, tmp_path: Path) -> AsyncIterator[TelegramClient]:
    path = world.authorize_session_file(tmp_path / "raw.session")
    client = world.client_factory(FakeClock())(
        ClientSpec(session_path=path, api_id=1, api_hash="x" * 32)
    )
    client.flood_policy = PassThroughPolicy()
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


async def react(client: TelegramClient, chat: str, msg_id: int, *emoji: str | int) -> Any:
    peer = await client.get_input_entity(chat)
    reaction = [
        types.ReactionCustomEmoji(e) if isinstance(e, int) else types.ReactionEmoji(e)
        for e in emoji
    ]
    return await client(
        functions.messages.SendReactionRequest(peer=peer, msg_id=msg_id, reaction=reaction)
    )


def counts(world: FakeTelegram, chat: int, msg_id: int) -> dict[object, tuple[int, bool]]:
    return {
        r.emoji or r.document_id: (r.count, r.mine) for r in world.message(chat, msg_id).reactions
    }


# reactions ----------------------------------------------------------------------------


async def test_a_reaction_replaces_the_accounts_previous_one(tmp_path: Path) -> None:
    world = world_of()
    async with connected(world, tmp_path) as client:
        answer = await react(client, "bookclub", 2, "👍")
    assert counts(world, CLUB, 2) == {"❤": (1, False), "👍": (2, True)}
    assert world.my_reactions(CLUB, 2) == ["👍"]
    (update,) = answer.updates
    assert isinstance(update, types.UpdateMessageReactions) and update.msg_id == 2
    shown = {r.reaction.emoticon: (r.count, r.chosen_order) for r in update.reactions.results}
    assert shown == {"❤": (1, None), "👍": (2, 0)}
    assert world.requests_qualified["messages.SendReactionRequest"] == 1


async def test_an_empty_list_removes_the_accounts_reactions(tmp_path: Path) -> None:
    world = world_of()
    async with connected(world, tmp_path) as client:
        await react(client, "bookclub", 2)
        await react(client, "bookclub", 1, "🔥")
    assert counts(world, CLUB, 2) == {"❤": (1, False), "👍": (1, False)}
    assert counts(world, CLUB, 1) == {"🔥": (1, True)}  # a message without reactions
    assert world.my_reactions(CLUB, 2) == []


async def test_premium_accounts_may_set_up_to_three(tmp_path: Path) -> None:
    world = world_of(premium=True)
    async with connected(world, tmp_path) as client:
        await react(client, "bookclub", 3, "🔥", "👍")
        assert world.my_reactions(CLUB, 3) == ["🔥", "👍"]
        assert counts(world, CLUB, 3) == {"👍": (2, True), "🔥": (1, True)}
        world.add_message(marked_channel(88), 1, text="x", sender=1001)
        with pytest.raises(errors.ReactionsTooManyError):
            await react(client, "open_sg", 1, "🔥", "👍", "❤", "😁")
    plain = world_of()
    async with connected(plain, tmp_path / "plain") as client:
        with pytest.raises(errors.PremiumAccountRequiredError):
            await react(client, "bookclub", 3, "🔥", "👍")
    assert plain.my_reactions(CLUB, 3) == []


@pytest.mark.parametrize(
    ("chat", "emoji"),
    [
        ("bookclub", "😁"),  # not in the chat's list
        ("bookclub", "❤\ufe0f"),  # ❤ is allowed, spelled without U+FE0F
        ("open_sg", "🍕"),  # "all" means the server's list
        ("open_sg", 5_000_000_001),  # custom emoji: not allowed by "all" without custom
    ],
)
async def test_reactions_outside_the_chats_policy_are_invalid(
    tmp_path: Path, chat: str, emoji: str | int
) -> None:
    world = world_of()
    world.add_message(marked_channel(88), 1, text="x", sender=1001)
    async with connected(world, tmp_path) as client:
        with pytest.raises(errors.ReactionInvalidError):
            await react(client, chat, 1, emoji)
    assert world.my_reactions(CLUB, 1) == []


async def test_no_reactions_chats_and_missing_messages(tmp_path: Path) -> None:
    world = world_of()
    world.add_supergroup(99, "Quiet", "quiet_sg", reactions="none")
    world.add_message(marked_channel(99), 1, text="x")
    async with connected(world, tmp_path) as client:
        with pytest.raises(errors.ReactionInvalidError):
            await react(client, "quiet_sg", 1, "👍")
        with pytest.raises(errors.MessageIdInvalidError):
            await react(client, "bookclub", 404, "👍")
        await react(client, "alice", world.add_message(1001, text="hi").id, "🍓")
        with pytest.raises(errors.MessageIdInvalidError):  # another chat's message id
            await react(client, "alice", world.add_message(-77, text="in family").id, "👍")


# deletes ------------------------------------------------------------------------------


async def test_channel_deletes_need_the_right_for_others_messages(tmp_path: Path) -> None:
    world = world_of()
    async with connected(world, tmp_path) as client:
        peer = await client.get_input_entity("bookclub")
        with pytest.raises(errors.MessageDeleteForbiddenError):
            await client(functions.channels.DeleteMessagesRequest(peer, [1, 2]))
        assert [m.id for m in world.history(CLUB)] == [3, 2, 1]  # nothing went
        before = world.channels[1234567890].pts
        affected = await client(functions.channels.DeleteMessagesRequest(peer, [1, 404]))
        assert (affected.pts, affected.pts_count) == (before + 1, 1)
        world.set_admin_rights(CLUB, ["delete_messages"])
        affected = await client(functions.channels.DeleteMessagesRequest(peer, [2, 3]))
        assert affected.pts_count == 2
        with pytest.raises(errors.MessageIdInvalidError):
            await client(functions.channels.DeleteMessagesRequest(peer, list(range(1, 102))))
    assert world.history(CLUB) == []
    assert [(d.ids, d.pts_count) for d in world.deletions] == [((1,), 1), ((2, 3), 2)]


async def test_private_and_basic_group_deletes_use_account_wide_ids(tmp_path: Path) -> None:
    world = world_of()
    world.set_admin_rights(-77, None)
    own = world.add_message(-77, text="own", sender=world.me)
    theirs = world.add_message(-77, text="alice's", sender=1001)
    dm = world.add_message(1001, text="from alice")  # the other side's, in a private chat
    async with connected(world, tmp_path) as client:
        with pytest.raises(errors.MessageDeleteForbiddenError):
            await client(functions.messages.DeleteMessagesRequest([theirs.id], revoke=True))
        pts = world.pts
        affected = await client(
            functions.messages.DeleteMessagesRequest([own.id, dm.id, 999_999], revoke=True)
        )
        assert (affected.pts, affected.pts_count) == (pts + 2, 2)
        world.set_admin_rights(-77, [], creator=True)
        await client(functions.messages.DeleteMessagesRequest([theirs.id], revoke=True))
        # what a client that missed the pushes learns from getDifference
        diff = await client(functions.updates.GetDifferenceRequest(pts=pts, date=T0, qts=0))
    assert [m.id for m in world.history(-77)] == []
    deleted = [u.messages for u in diff.other_updates]
    assert deleted == [[own.id], [dm.id], [theirs.id]]
    assert diff.state.pts == world.pts


async def test_deletes_are_pushed_and_later_messages_still_arrive(tmp_path: Path) -> None:
    world = world_of()
    seen: list[list[int]] = []
    new: list[int] = []
    options = session_options(world, tmp_path, FakeClock(), receive_updates=True)
    async with open_session(options) as gateway:
        await gateway.resolve_chat("bookclub")

        async def on_deleted(event: Any) -> None:
            seen.append(list(event.deleted_ids))

        async def on_new(event: Any) -> None:
            new.append(event.message.id)

        gateway.client.add_event_handler(on_deleted, events.MessageDeleted())
        gateway.client.add_event_handler(on_new, events.NewMessage(chats=[CLUB]))
        await asyncio.sleep(0.05)
        world.delete_messages(CLUB, [2, 3])
        world.add_message(CLUB, 4, text="after", sender=1001)
        for _ in range(200):
            if seen and new:
                break
            await asyncio.sleep(0.01)
    assert seen == [[2, 3]]
    assert new == [4]
    assert world.requests["GetChannelDifferenceRequest"] == 0  # no gap was seen


async def test_channel_difference_carries_deletions(tmp_path: Path) -> None:
    world = world_of()
    pts = world.channels[1234567890].pts
    world.delete_messages(CLUB, [1])
    world.add_message(CLUB, 4, text="new", sender=1001)
    async with connected(world, tmp_path) as client:
        peer = await client.get_input_entity("bookclub")
        diff = await client(
            functions.updates.GetChannelDifferenceRequest(
                channel=peer, filter=types.ChannelMessagesFilterEmpty(), pts=pts, limit=100
            )
        )
    assert [m.id for m in diff.new_messages] == [4]
    (deleted,) = diff.other_updates
    assert isinstance(deleted, types.UpdateDeleteChannelMessages) and deleted.messages == [1]
    assert diff.final and diff.pts == world.channels[1234567890].pts


# the account's standing ----------------------------------------------------------------


async def test_get_participant_tells_creator_admin_member_and_outsider(tmp_path: Path) -> None:
    world = world_of()
    world.add_supergroup(11, "Owned", "owned_sg", creator=True)
    world.add_channel(12, "Run", "run_news", admin_rights=["delete_messages", "post_messages"])
    world.add_supergroup(13, "Gone", "gone_sg", dialog=False)
    async with connected(world, tmp_path) as client:

        async def standing(chat: str, who: Any = None) -> Any:
            peer = await client.get_input_entity(chat)
            user = who or types.InputPeerSelf()
            answer = await client(functions.channels.GetParticipantRequest(peer, user))
            return answer.participant

        owned = await standing("owned_sg")
        assert isinstance(owned, types.ChannelParticipantCreator)
        assert owned.admin_rights.delete_messages
        run = await standing("run_news")
        assert isinstance(run, types.ChannelParticipantAdmin) and run.is_self
        assert run.admin_rights.delete_messages and not run.admin_rights.ban_users
        assert isinstance(await standing("bookclub"), types.ChannelParticipantSelf)
        alice = await standing("bookclub", await client.get_input_entity("alice"))
        assert isinstance(alice, types.ChannelParticipant) and alice.user_id == 1001
        with pytest.raises(errors.UserNotParticipantError):
            await standing("gone_sg")
        with pytest.raises(errors.ChatAdminRequiredError):
            await standing("example_news", await client.get_input_entity("alice"))


async def test_basic_group_participants_show_the_accounts_role(tmp_path: Path) -> None:
    world = world_of()
    async with connected(world, tmp_path) as client:
        admin = await client(functions.messages.GetFullChatRequest(77))
        world.set_admin_rights(-77, None, creator=True)
        owner = await client(functions.messages.GetFullChatRequest(77))
        world.set_admin_rights(-77, None)
        member = await client(functions.messages.GetFullChatRequest(77))

    def role(full: Any) -> type:
        return next(type(p) for p in full.full_chat.participants.participants if p.user_id == 1000)

    assert role(admin) is types.ChatParticipantAdmin
    assert role(owner) is types.ChatParticipantCreator
    assert role(member) is types.ChatParticipant
    assert admin.chats[0].admin_rights.delete_messages and owner.chats[0].creator


# mutating requests -------------------------------------------------------------------


async def test_mutating_requests_are_counted_apart_from_reads(tmp_path: Path) -> None:
    world = world_of()
    async with connected(world, tmp_path) as client:
        await client.get_messages("bookclub", ids=[1, 2])
        await client.get_messages("bookclub", limit=10)
        assert not world.mutating_requests()
        await react(client, "bookclub", 2, "👍")
        peer = await client.get_input_entity("bookclub")
        await client(functions.channels.DeleteMessagesRequest(peer, [1]))
        await client.send_message("alice", "hi")
    assert world.mutating_requests() == {
        "messages.SendReactionRequest": 1,
        "channels.DeleteMessagesRequest": 1,
        "messages.SendMessageRequest": 1,
    }
    world.reset_counts()
    assert not world.mutating_requests()


def test_every_mutating_request_name_is_a_telethon_request() -> None:
    for name in MUTATING_REQUESTS:
        namespace, cls = name.split(".")
        assert hasattr(getattr(functions, namespace), cls), name


def test_set_my_reactions_keeps_counts_right() -> None:
    world = world_of()
    world.set_my_reactions(CLUB, 3, ["👍"])  # joins the existing 👍
    assert counts(world, CLUB, 3) == {"👍": (2, True)}
    world.set_my_reactions(CLUB, 3, ["❤", 42])
    assert counts(world, CLUB, 3) == {"👍": (1, False), "❤": (1, True), 42: (1, True)}
    assert world.my_reactions(CLUB, 3) == ["❤", 42]
    world.set_my_reactions(CLUB, 3, [])
    assert counts(world, CLUB, 3) == {"👍": (1, False)}
    assert world.message(CLUB, 1).reactions is None
    world.set_my_reactions(CLUB, 1, [])
    assert world.message(CLUB, 1).reactions is None
