"""A scripted fake Telegram that speaks the real protocol beneath Telethon.

Telethon's own high-level methods (``get_me``, ``sign_in``, ``iter_dialogs``,
``get_entity``, ``iter_messages``, ``log_out``, ...), its entity cache and its error
mapping run unmodified: only ``client._sender`` (the ``MTProtoSender``) is replaced by
a :class:`~tests.fakes.telegram.sender.FakeSender` that answers each TL request from
an in-memory world with real ``telethon.tl.types`` objects, round-tripped through the
wire format.

Build a world and plug it in::

    from tests.fakes.telegram import FakeTelegram, photo, PAID

    world = FakeTelegram()
    me = world.add_me(1000, "Me", username="me_user", phone="+15550001000", password="pw")
    alice = world.add_user(1001, "Alice", "Smith", username="alice", dialog=True)
    club = world.add_supergroup(1234567890, "Book Club", "bookclub", reactions=["👍", "❤"])
    world.add_message(club, 41, text="Hello everyone", sender=alice,
                      reactions=[("👍", 2), ("❤", 1), (42, 3), (PAID, 1)])
    world.add_message(club, 42, sender=alice, media=photo(200_000), reply_to=41)
    world.authorize_session_file(tmp_path / "a.session")        # already logged in

    factory = world.client_factory(clock)          # ClientSpec -> TelegramClient
    client = factory(ClientSpec(session_path=tmp_path / "a.session", api_id=1, api_hash=...))

Then assert on ``world.requests["GetHistoryRequest"]`` (a ``Counter`` by unwrapped
request class name; ``world.requests_qualified`` tells ``channels.GetMessagesRequest``
from ``messages.GetMessagesRequest``), ``world.request_log`` (ordered names),
``world.connections`` (address, DC, RSA keys, initConnection parameters) and
``world.unhandled`` (requests the fake cannot answer yet: they fail with
``FakeNotImplementedError``) and ``world.mutating_requests()`` (the requests sent that
change the account's state — sends, reactions, deletes, logout, ...: empty after a
plan without ``--yes``). Inject faults with
``world.faults.fail("GetHistoryRequest", nth=2, error="FLOOD_WAIT_3")`` or
``world.faults.disconnect(...)``. ``world.push_update(updates)`` hands an ``Updates``
object to every connected client's update queue. For subprocess tests,
``world.save(path)`` and run
``PYTHONPATH=<repo> python -m tests.fakes.telegram.launch --world PATH -- <tgpilot args>``
(see ``launch.py``).

The world is one account's view (``add_me``); call ``add_me`` before adding chats so
the account is a member of them. ``world.set_my_reactions(chat, id, ["👍"])`` /
``world.my_reactions(chat, id)`` set and read the account's own reactions,
``world.set_admin_rights(chat, ["delete_messages"], creator=False)`` its standing,
``world.delete_messages(chat, ids)`` deletes as someone else would (pushed, in pts),
``world.edit_message(chat, id, text)`` edits likewise (also ``messages.editMessage`` for
the account's own messages), ``world.drop_connections()`` loses every client's
connection, ``world.typing`` records ``messages.setTyping``, and messages carry
Telegram's ``mentioned`` flag for the viewing account.
To extend the fake, add a handler module under ``handlers/`` (see
``handlers/registry.py``).

Modules: ``world`` (builder and state), ``model`` (plain records), ``render`` (records
→ TL), ``server`` (request pipeline), ``sender`` (the MTProtoSender stand-in),
``handlers/`` (answers per API area), ``peers`` (access-hash checks), ``srp`` (2FA),
``faults``, ``errors``, ``launch``.
"""

from __future__ import annotations

from .errors import FakeNotImplementedError, RpcFail
from .faults import FaultRule, Faults
from .model import (
    ActionRec,
    ChatRec,
    DialogRec,
    EntityRec,
    ForwardRec,
    MediaRec,
    MessageRec,
    ReactionPolicy,
    ReactionRec,
    UserRec,
    marked_channel,
    marked_group,
    split_marked,
)
from .sender import FakeSender
from .world import (
    DEFAULT_DC,
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

__all__ = [
    "DEFAULT_DC",
    "PAID",
    "ActionRec",
    "ChatRec",
    "DialogRec",
    "EntityRec",
    "FakeNotImplementedError",
    "FakeSender",
    "FakeTelegram",
    "FaultRule",
    "Faults",
    "ForwardRec",
    "MediaRec",
    "MessageRec",
    "ReactionPolicy",
    "ReactionRec",
    "RpcFail",
    "UserRec",
    "audio",
    "document",
    "gif",
    "marked_channel",
    "marked_group",
    "photo",
    "round_video",
    "split_marked",
    "sticker",
    "video",
    "voice",
]
