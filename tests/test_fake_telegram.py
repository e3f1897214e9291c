"""The fake Telegram, driven through the real Telethon client built by ``create_client``."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telethon import TelegramClient, errors, utils
from telethon.sessions import SQLiteSession
from telethon.tl import functions, types

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import (
    PAID,
    FakeNotImplementedError,
    FakeTelegram,
    document,
    marked_channel,
    photo,
    video,
    voice,
)
from tgpilot.gateways.telegram.client import ClientSpec

REPO = Path(__file__).resolve().parents[1]
PHONE = "+1 555 000 1000"
T0 = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)


def spec(path: Path) -> ClientSpec:
    return ClientSpec(session_path=path, api_id=1, api_hash="x" * 32)


def small_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", "Self", username="me_user", phone=PHONE)
    alice = world.add_user(1001, "Alice", "Smith", username="alice", dialog=True)
    bob = world.add_user(1002, "Bob", username="bobby")
    club = world.add_supergroup(
        1234567890, "Book Club", "bookclub", members=[alice, bob], reactions=["👍", "❤"]
    )
    world.add_channel(555, "Example News", "example_news", admin_rights=["delete_messages"])
    world.add_group(77, "Family", members=[alice])
    world.add_message(
        club,
        41,
        text="Hello everyone",
        date=T0,
        sender=alice,
        reactions=[("👍", 2), ("❤", 1, True), (42, 3), (PAID, 1)],
    )
    world.add_message(
        club, 42, date=T0 + timedelta(minutes=2), sender=bob, media=photo(200_000), reply_to=41
    )
    world.add_message(alice, text="hi Alice", date=T0, sender=world.me)
    world.add_message(alice, text="hi back", date=T0 + timedelta(minutes=1))
    return world


class PassThroughPolicy:
    """No flood/reconnect policy: lets Telethon's own errors reach the test."""

    async def run(
        self, send: Callable[[], Awaitable[Any]], request: Any, reconnect: Any = None
    ) -> Any:
        return await send()


def make_client(world: FakeTelegram, path: Path, clock: FakeClock | None = None) -> TelegramClient:
    """The production client on the fake, minus tgpilot's flood policy (tested elsewhere)."""
    client = world.client_factory(clock)(spec(path))
    if hasattr(client, "flood_policy"):
        client.flood_policy = PassThroughPolicy()
    return client


@asynccontextmanager
async def connected(
    world: FakeTelegram, path: Path, *, authorized: bool = True, clock: FakeClock | None = None
) -> AsyncIterator[TelegramClient]:
    if authorized:
        world.authorize_session_file(path)
    client = make_client(world, path, clock)
    await client.connect()
    try:
        yield client
    finally:
        if client.session is not None:
            await client.disconnect()


# connection and login --------------------------------------------------------------


async def test_fresh_session_is_not_authorised(tmp_path: Path) -> None:
    world = small_world()
    async with connected(world, tmp_path / "a.session", authorized=False) as client:
        assert await client.is_user_authorized() is False
        assert await client.get_me() is None
    conn = world.connections[0]
    assert (conn.ip, conn.port, conn.dc_id) == ("149.154.167.51", 443, 2)
    assert conn.init["device_model"] == "tgpilot"
    assert conn.auth_key_id is not None and conn.auth_key_id not in world.auth
    assert world.requests["GetConfigRequest"] == 1


async def test_authorised_session_file(tmp_path: Path) -> None:
    world = small_world()
    async with connected(world, tmp_path / "a.session") as client:
        assert await client.is_user_authorized() is True
        me = await client.get_me()
        assert (me.id, me.username, me.is_self, me.phone) == (1000, "me_user", True, "15550001000")


async def test_custom_server_address_is_recorded(tmp_path: Path) -> None:
    world = small_world()
    path = world.authorize_session_file(tmp_path / "t.session", dc=(2, "203.0.113.10", 443))
    client = make_client(world, path)
    await client.connect()
    try:
        assert await client.is_user_authorized()
    finally:
        await client.disconnect()
    assert (world.connections[-1].ip, world.connections[-1].port) == ("203.0.113.10", 443)
    # The same key against another server is not logged in there.
    session = SQLiteSession(str(path))
    session.set_dc(2, "149.154.167.51", 443)
    session.save()
    session.close()
    client = make_client(world, path)
    await client.connect()
    try:
        assert not await client.is_user_authorized()
    finally:
        await client.disconnect()


async def test_login_with_code_wrong_code_and_2fa_password(tmp_path: Path) -> None:
    world = small_world()
    world.set_password(world.me, "right horse", hint="horse")
    world.set_login_code(PHONE, "22222")
    path = tmp_path / "a.session"
    async with connected(world, path, authorized=False) as client:
        sent = await client.send_code_request(PHONE)
        assert isinstance(sent, types.auth.SentCode)
        with pytest.raises(errors.PhoneCodeInvalidError):
            await client.sign_in(PHONE, "11111")
        with pytest.raises(errors.SessionPasswordNeededError):
            await client.sign_in(PHONE, "22222")
        with pytest.raises(errors.PasswordHashInvalidError):
            await client.sign_in(password="wrong")
        user = await client.sign_in(password="right horse")
        assert user.id == 1000
        assert await client.is_user_authorized()
    assert [a.user_id for a in world.auth.values()] == [1000]
    # A new client on the same session file is logged in; logging out ends it.
    client = make_client(world, path)
    await client.connect()
    assert await client.get_me() is not None
    assert await client.log_out() is True
    assert world.auth == {}
    assert not path.exists()


async def test_login_expired_code_then_new_code(tmp_path: Path) -> None:
    world = small_world()
    world.expire_next_code(PHONE)
    async with connected(world, tmp_path / "a.session", authorized=False) as client:
        await client.send_code_request(PHONE)
        with pytest.raises(errors.PhoneCodeExpiredError):
            await client.sign_in(PHONE, "12345")
        await client.send_code_request(PHONE)
        user = await client.sign_in(PHONE, "12345")
        assert user.username == "me_user"
    assert world.requests["SendCodeRequest"] == 2


async def test_resend_code_and_peer_dialogs(tmp_path: Path) -> None:
    world = small_world()
    async with connected(world, tmp_path / "a.session", authorized=False) as client:
        first = await client.send_code_request(PHONE)
        again = await client.send_code_request(PHONE)  # Telethon resends on the same hash
        assert isinstance(first.type, types.auth.SentCodeTypeApp)
        assert isinstance(again.type, types.auth.SentCodeTypeSms)
        assert again.phone_code_hash == first.phone_code_hash
        await client.sign_in(PHONE, "12345")
        assert len(world.live_senders()) == 1
        peer = await client.get_input_entity("@bookclub")
        found = await client(functions.messages.GetPeerDialogsRequest([peer]))
        assert [d.top_message for d in found.dialogs] == [42]
        assert found.messages[0].id == 42 and found.chats[0].title == "Book Club"
    assert world.requests["ResendCodeRequest"] == 1
    assert world.live_senders() == []


async def test_login_code_expires_with_the_clock(tmp_path: Path) -> None:
    world = small_world()
    clock = FakeClock()
    async with connected(world, tmp_path / "a.session", authorized=False, clock=clock) as client:
        await client.send_code_request("99966 1 0000")
        clock.advance(world.code_ttl + 1)
        with pytest.raises(errors.PhoneCodeExpiredError):
            await client.sign_in("99966 1 0000", "11111")


# dialogs --------------------------------------------------------------------------------


def dialog_world(n: int) -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1, "Me", phone=PHONE)
    for i in range(n):
        user = world.add_user(10_000 + i, f"User {i}", dialog=True, unread=i % 3)
        world.add_message(user, text=f"m{i}", date=T0 + timedelta(minutes=i))
    return world


async def test_iter_dialogs_1000_in_order_with_ten_requests(tmp_path: Path) -> None:
    world = dialog_world(1000)
    world.dialog(10_000 + 5).pinned = True  # oldest-but-one, pinned: listed first
    async with connected(world, tmp_path / "a.session") as client:
        world.reset_counts()
        dialogs = [d async for d in client.iter_dialogs()]
    expected = [10_005] + [10_000 + i for i in range(999, -1, -1) if i != 5]
    assert [d.id for d in dialogs] == expected
    assert world.requests["GetDialogsRequest"] == 10
    assert dialogs[1].unread_count == 999 % 3
    assert dialogs[1].message.text == "m999"


async def test_iter_dialogs_limit_costs_ceil_requests(tmp_path: Path) -> None:
    world = dialog_world(250)
    async with connected(world, tmp_path / "a.session") as client:
        world.reset_counts()
        dialogs = [d async for d in client.iter_dialogs(limit=200)]
        assert len(dialogs) == 200
        assert world.requests["GetDialogsRequest"] == 2
        total = (await client.get_dialogs(limit=0)).total
        assert total == 250


async def test_dialog_details_hidden_top_message_and_archive(tmp_path: Path) -> None:
    world = small_world()
    world.dialog(world.ref(marked_channel(1234567890))).hide_top_message = True
    world.dialog(-77).unread_count = 4
    archived = world.add_channel(999, "Old", folder=1)
    world.add_message(archived, text="old post")
    async with connected(world, tmp_path / "a.session") as client:
        everything = {d.id: d for d in await client.get_dialogs()}
        main = {d.id for d in await client.get_dialogs(archived=False)}
        archive = {d.id for d in await client.get_dialogs(archived=True)}
        club = everything[marked_channel(1234567890)]
        assert club.message is None and club.dialog.top_message == 42
        fetched = await client.get_messages(club.entity, ids=club.dialog.top_message)
        assert fetched.id == 42 and fetched.photo is not None
    assert everything[-77].unread_count == 4
    assert marked_channel(999) in everything
    assert marked_channel(999) not in main
    assert archive == {marked_channel(999)}
    assert world.requests_qualified["channels.GetMessagesRequest"] == 1


# messages -------------------------------------------------------------------------------


def history_world(n: int = 250) -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1, "Me", phone=PHONE)
    alice = world.add_user(2, "Alice")
    team = world.add_supergroup(1234567890, "Team", members=[alice])
    for i in range(1, n + 1):
        world.add_message(team, i, text=f"msg {i}", date=T0 + timedelta(hours=i), sender=alice)
    return world


async def test_iter_messages_250_newest_first_in_three_requests(tmp_path: Path) -> None:
    world = history_world()
    async with connected(world, tmp_path / "a.session") as client:
        await client.get_dialogs()  # fills the entity cache, so the marked id resolves
        world.reset_counts()
        msgs = [m async for m in client.iter_messages(marked_channel(1234567890), limit=250)]
    assert [m.id for m in msgs] == list(range(250, 0, -1))
    assert msgs[0].sender_id == 2 and msgs[0].text == "msg 250"
    assert world.requests["GetHistoryRequest"] == 3


async def test_iter_messages_offsets_reverse_and_min_id(tmp_path: Path) -> None:
    world = history_world()
    chat = marked_channel(1234567890)
    async with connected(world, tmp_path / "a.session") as client:
        await client.get_dialogs()
        before = [
            m.id
            async for m in client.iter_messages(
                chat, offset_date=T0 + timedelta(hours=11), wait_time=0
            )
        ]
        assert before == list(range(10, 0, -1))
        oldest = [m.id async for m in client.iter_messages(chat, limit=5, reverse=True)]
        assert oldest == [1, 2, 3, 4, 5]
        everything_reversed = [
            m.id async for m in client.iter_messages(chat, reverse=True, wait_time=0)
        ]
        assert everything_reversed == list(range(1, 251))
        newer = [m.id async for m in client.iter_messages(chat, min_id=245, wait_time=0)]
        assert newer == [250, 249, 248, 247, 246]
        window = [m.id async for m in client.iter_messages(chat, max_id=10, min_id=5, wait_time=0)]
        assert window == [9, 8, 7, 6]
        from_date = [
            m.id
            async for m in client.iter_messages(
                chat, offset_date=T0 + timedelta(hours=248), reverse=True, wait_time=0
            )
        ]
        assert from_date == [248, 249, 250]
        total = (await client.get_messages(chat, limit=0)).total
        assert total == 250


async def test_private_history_and_messages_by_id(tmp_path: Path) -> None:
    world = small_world()
    async with connected(world, tmp_path / "a.session") as client:
        await client.get_dialogs()
        msgs = await client.get_messages(1001, limit=10)
        assert [(m.text, m.out, m.sender_id) for m in msgs] == [
            ("hi back", False, 1001),
            ("hi Alice", True, 1000),
        ]
        again = await client.get_messages(1001, ids=[msgs[0].id, 999])
        assert again[0].text == "hi back" and again[1] is None


async def test_reactions_media_reply_and_service(tmp_path: Path) -> None:
    world = small_world()
    club = marked_channel(1234567890)
    world.add_message(club, 43, media=video(3_000_000, "clip.mp4"), sender=1001)
    world.add_message(club, 44, media=document(5_000, "notes.pdf"), sender=1001)
    world.add_message(club, 45, media=voice(9_000), sender=1002, fwd_from="Hidden Person")
    world.add_message(club, 46, action="pin", reply_to=41, sender=1001)
    world.add_message(club, 47, text="see https://team.meet.example.com/j/123 now", sender=1000)
    async with connected(world, tmp_path / "a.session") as client:
        await client.get_dialogs()
        msgs = {m.id: m async for m in client.iter_messages(club)}
        data = await client.download_media(msgs[42], file=bytes)
    hello = msgs[41]
    assert isinstance(hello.reactions, types.MessageReactions)
    results = [(r.reaction, r.count, r.chosen_order) for r in hello.reactions.results]
    assert results == [
        (types.ReactionEmoji("👍"), 2, None),
        (types.ReactionEmoji("❤"), 1, 0),
        (types.ReactionCustomEmoji(42), 3, None),
        (types.ReactionPaid(), 1, None),
    ]
    assert msgs[42].reply_to_msg_id == 41 and msgs[42].file.size == 200_000
    assert len(data) == 200_000
    assert (msgs[43].file.name, msgs[43].file.size, msgs[43].video is not None) == (
        "clip.mp4",
        3_000_000,
        True,
    )
    assert (msgs[44].file.name, msgs[44].file.mime_type) == ("notes.pdf", "application/pdf")
    assert msgs[45].voice is not None and msgs[45].forward.from_name == "Hidden Person"
    assert isinstance(msgs[46].action, types.MessageActionPinMessage)
    assert msgs[47].out is True
    assert [type(e) for e in msgs[47].entities] == [types.MessageEntityUrl]
    assert msgs[47].get_entities_text()[0][1] == "https://team.meet.example.com/j/123"


# entities -------------------------------------------------------------------------------


async def test_get_entity_by_username_and_marked_id(tmp_path: Path) -> None:
    world = small_world()
    async with connected(world, tmp_path / "a.session") as client:
        club = await client.get_entity("@bookclub")
        assert isinstance(club, types.Channel) and club.megagroup and club.id == 1234567890
        news = await client.get_entity("example_news")
        assert news.broadcast and news.admin_rights.delete_messages
        with pytest.raises(ValueError, match="No user has"):
            await client.get_entity("@nobody_here")
        with pytest.raises(errors.UsernameInvalidError):
            await client(functions.contacts.ResolveUsernameRequest("a b"))
        await client.get_dialogs()
        world.reset_counts()
        by_id = await client.get_entity(marked_channel(1234567890))
        assert by_id.title == "Book Club"
        assert world.requests == {"GetChannelsRequest": 1}
        group = await client.get_entity(-77)
        assert isinstance(group, types.Chat) and group.title == "Family"
        user = await client.get_entity(1001)
        assert user.first_name == "Alice"


async def test_wrong_access_hashes_fail_like_telegram(tmp_path: Path) -> None:
    world = small_world()
    async with connected(world, tmp_path / "a.session") as client:
        with pytest.raises(errors.ChannelInvalidError):
            await client(functions.channels.GetChannelsRequest([types.InputChannel(555, 12345)]))
        with pytest.raises(errors.PeerIdInvalidError):
            await client(
                functions.messages.GetHistoryRequest(
                    types.InputPeerUser(1001, 1), 0, None, 0, 10, 0, 0, 0
                )
            )
        users = await client(functions.users.GetUsersRequest([types.InputUser(1001, 0)]))
        assert users == []


async def test_full_chat_info_reactions_and_rights(tmp_path: Path) -> None:
    world = small_world()
    async with connected(world, tmp_path / "a.session") as client:
        club = await client.get_input_entity("@bookclub")
        full = await client(functions.channels.GetFullChannelRequest(club))
        allowed = full.full_chat.available_reactions
        assert isinstance(allowed, types.ChatReactionsSome)
        assert [r.emoticon for r in allowed.reactions] == ["👍", "❤"]
        family = await client(functions.messages.GetFullChatRequest(77))
        assert isinstance(family.full_chat.available_reactions, types.ChatReactionsAll)
        assert {u.id for u in family.users} == {1000, 1001}
        available = await client(functions.messages.GetAvailableReactionsRequest(0))
        assert "❤" in [r.reaction for r in available.reactions]
        cached = await client(functions.messages.GetAvailableReactionsRequest(available.hash))
        assert isinstance(cached, types.messages.AvailableReactionsNotModified)


# faults, counts, persistence ------------------------------------------------------------


async def test_flood_wait_on_second_history_request(tmp_path: Path) -> None:
    world = history_world()
    world.faults.fail("GetHistoryRequest", nth=2, error="FLOOD_WAIT_3")
    got: list[int] = []
    async with connected(world, tmp_path / "a.session") as client:
        await client.get_dialogs()
        with pytest.raises(errors.FloodWaitError) as caught:
            async for m in client.iter_messages(marked_channel(1234567890), limit=250):
                got.append(m.id)
    assert caught.value.seconds == 3
    assert isinstance(caught.value.request, functions.InvokeWithoutUpdatesRequest)
    assert isinstance(caught.value.request.query, functions.messages.GetHistoryRequest)
    assert len(got) == 100
    assert world.requests["GetHistoryRequest"] == 2


async def test_production_flood_policy_retries_on_the_fake_clock(tmp_path: Path) -> None:
    """Spec scenario 7 through create_client's own policy: all 250, 4 history requests."""
    world = history_world()
    path = world.authorize_session_file(tmp_path / "a.session")
    client = world.client_factory()(spec(path))
    if not hasattr(client, "flood_policy"):
        pytest.skip("create_client has no flood policy")
    clock = FakeClock()
    client.flood_policy = dataclasses.replace(client.flood_policy, clock=clock)
    await client.connect()
    try:
        await client.get_dialogs()
        world.reset_counts()
        world.faults.fail("GetHistoryRequest", nth=2, error="FLOOD_WAIT_3")
        msgs = [m.id async for m in client.iter_messages(marked_channel(1234567890), limit=250)]
    finally:
        await client.disconnect()
    assert msgs == list(range(250, 0, -1))
    assert world.requests["GetHistoryRequest"] == 4
    assert clock.sleeps == [4]


async def test_other_rpc_errors_and_codes(tmp_path: Path) -> None:
    world = history_world()
    world.faults.fail("GetHistory", nth=1, error="SLOWMODE_WAIT_7")
    world.faults.fail("GetHistory", nth=2, error="CHAT_WRITE_FORBIDDEN")
    world.faults.fail("GetHistory", nth=3, error="SOMETHING_ODD", code=400)
    peer = marked_channel(1234567890)
    async with connected(world, tmp_path / "a.session") as client:
        await client.get_dialogs()
        with pytest.raises(errors.SlowModeWaitError) as slow:
            await client.get_messages(peer, limit=1)
        assert slow.value.seconds == 7
        with pytest.raises(errors.ChatWriteForbiddenError):
            await client.get_messages(peer, limit=1)
        with pytest.raises(errors.BadRequestError) as odd:
            await client.get_messages(peer, limit=1)
        assert odd.value.message == "SOMETHING_ODD"


async def test_disconnect_fault_raises_connection_error(tmp_path: Path) -> None:
    world = history_world()
    world.faults.disconnect("GetHistoryRequest", nth=1)
    world.faults.disconnect("connect", nth=2)
    async with connected(world, tmp_path / "a.session") as client:
        await client.get_dialogs()
        with pytest.raises(ConnectionError):
            await client.get_messages(marked_channel(1234567890), limit=5)
        assert not client.is_connected()
        with pytest.raises(ConnectionError):
            await client.connect()
        await client.connect()
        msgs = await client.get_messages(marked_channel(1234567890), limit=5)
        assert [m.id for m in msgs] == [250, 249, 248, 247, 246]


async def test_unknown_request_names_itself(tmp_path: Path) -> None:
    world = small_world()
    async with connected(world, tmp_path / "a.session") as client:
        with pytest.raises(FakeNotImplementedError, match="GetDialogFiltersRequest"):
            await client(functions.messages.GetDialogFiltersRequest())
    assert world.unhandled == ["GetDialogFiltersRequest"]


async def test_request_counts_log_and_reset(tmp_path: Path) -> None:
    world = small_world()
    async with connected(world, tmp_path / "a.session") as client:
        assert world.request_log[:2] == ["GetConfigRequest", "GetUsersRequest"]
        world.reset_counts()
        await client.get_dialogs()
        await client.get_messages(marked_channel(1234567890), limit=1)
    assert world.request_log == ["GetDialogsRequest", "GetHistoryRequest"]
    assert world.requests == {"GetDialogsRequest": 1, "GetHistoryRequest": 1}


def test_fault_rules_every_and_probability() -> None:
    world = FakeTelegram(seed=3)
    every = world.faults.fail("GetHistory", every=3, error="FLOOD_WAIT_1", times=2)
    fired = [world.faults.check("GetHistoryRequest") is not None for _ in range(9)]
    assert fired == [False, False, True, False, False, True, False, False, False]
    assert every.fired == 2
    world.faults.clear()
    world.faults.fail("*", probability=0.5)
    first = [world.faults.check("X") is not None for _ in range(20)]
    again = FakeTelegram(seed=3)
    again.faults.fail("*", probability=0.5)
    assert [again.faults.check("X") is not None for _ in range(20)] == first
    with pytest.raises(ValueError):
        world.faults.fail("X", nth=1, every=2)


async def test_save_load_round_trip(tmp_path: Path) -> None:
    world = small_world()
    session = world.authorize_session_file(tmp_path / "a.session")
    world.faults.fail("GetHistoryRequest", nth=1, error="FLOOD_WAIT_5")
    saved = tmp_path / "world.pickle"
    world.save(saved)
    loaded = FakeTelegram.load(saved)
    assert loaded.auth == world.auth
    assert [m.text for m in loaded.history(1001)] == ["hi back", "hi Alice"]
    client = make_client(loaded, session)
    await client.connect()
    try:
        assert (await client.get_me()).id == 1000
        with pytest.raises(errors.FloodWaitError):
            await client.get_messages("@bookclub", limit=1)
    finally:
        await client.disconnect()
    # Auth changes made elsewhere merge into the saved file without clobbering it.
    before = loaded.auth_snapshot()
    loaded.auth.clear()
    assert loaded.merge_auth_into(saved, before) is True
    assert FakeTelegram.load(saved).auth == {}


async def test_fake_clock_records_sleeps() -> None:
    clock = FakeClock(start=T0)
    start = clock.monotonic()
    await clock.sleep(31)
    await clock.sleep(0.5)
    assert clock.sleeps == [31, 0.5]
    assert clock.now() == T0 + timedelta(seconds=31.5)
    assert clock.monotonic() - start == 31.5


def test_builder_guards() -> None:
    world = small_world()
    with pytest.raises(ValueError, match="taken"):
        world.add_user(3000, "X", username="Alice")
    with pytest.raises(ValueError, match="account-wide"):
        world.add_message(1001, 1)  # id 1 is used by the private chat with Alice
    with pytest.raises(ValueError, match="unknown admin rights"):
        world.add_supergroup(5, "Bad", admin_rights=["fly"])
    assert world.add_message(marked_channel(555)).id == 1
    assert utils.get_peer_id(types.PeerChannel(555)) == marked_channel(555)


# the launcher -----------------------------------------------------------------------------


def _cli_available() -> bool:
    try:
        app = importlib.import_module("tgpilot.cli.app")
    except Exception:
        return False
    return hasattr(app, "main")


async def test_launcher_runs_the_cli_against_a_saved_world(tmp_path: Path) -> None:
    if not _cli_available():
        pytest.skip("tgpilot.cli.app.main is not available yet")
    world = small_world()
    home = Path(os.environ["TGPILOT_HOME"])
    session = world.authorize_session_file(home / "sessions" / "default.session")
    session.chmod(0o600)
    saved = tmp_path / "world.pickle"
    world.save(saved)
    log = tmp_path / "requests.txt"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")]),
        "TELEGRAM_API_ID": "1",
        "TELEGRAM_API_HASH": "x" * 32,
    }
    cmd = [sys.executable, "-m", "tests.fakes.telegram.launch", "--world", str(saved)]
    cmd += ["--request-log", str(log), "--fake-clock", "--", "session", "status"]
    proc = await asyncio.to_thread(
        subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = log.read_text().split()
    assert "GetConfigRequest" in names
