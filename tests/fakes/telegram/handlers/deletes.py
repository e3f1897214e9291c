"""Deleting messages: ``messages.deleteMessages`` and ``channels.deleteMessages``.

``messages.deleteMessages`` takes account-wide ids (private chats and basic groups);
``channels.deleteMessages`` ids of one channel or supergroup. Ids that name no
existing message are skipped. Rights as on Telegram: the account's own messages may
always go; in a private chat the other side's too (``revoke`` deletes for both, which
is all the fake models); in groups, supergroups and channels others' messages (and
channel posts it did not send) need the ``delete_messages`` admin right — else the
whole request fails with ``MESSAGE_DELETE_FORBIDDEN`` and nothing is deleted.

More than ``MAX_IDS`` (100) ids in one request fail with ``MESSAGE_ID_INVALID``; the
real server's answer to an oversized list is undocumented, clients send 100 at most.
The answer is ``messages.affectedMessages`` with the new pts (the channel's for
channels) and how many messages went; connected clients get the matching
``updateDeleteMessages`` / ``updateDeleteChannelMessages`` push.
"""

from __future__ import annotations

from collections.abc import Iterable

from telethon.tl import functions, types

from tests.fakes.telegram.errors import RpcFail
from tests.fakes.telegram.model import ChatRec, MessageRec
from tests.fakes.telegram.peers import input_channel

from .registry import Context, handles

MAX_IDS = 100


def _check_count(ids: list[int]) -> None:
    if len(ids) > MAX_IDS:
        raise RpcFail("MESSAGE_ID_INVALID")


def _may_delete(ctx: Context, chat: object, rec: MessageRec) -> bool:
    """Whether the account may delete ``rec`` for everyone."""
    if rec.out or rec.sender == ctx.me() or not isinstance(chat, ChatRec):
        return True
    return chat.has_right("delete_messages")


def _check_rights(ctx: Context, chat: object, recs: Iterable[MessageRec]) -> None:
    if not all(_may_delete(ctx, chat, rec) for rec in recs):
        raise RpcFail("MESSAGE_DELETE_FORBIDDEN")


@handles(functions.messages.DeleteMessagesRequest)
def delete_messages(
    ctx: Context, req: functions.messages.DeleteMessagesRequest
) -> types.messages.AffectedMessages:
    """Private-chat and basic-group messages by account-wide id, possibly of several chats."""
    _check_count(req.id)
    by_chat: dict[int, list[MessageRec]] = {}
    for msg_id in dict.fromkeys(req.id):
        rec = ctx.world.private_message(msg_id)
        if rec is not None:
            by_chat.setdefault(rec.chat, []).append(rec)
    for marked, recs in by_chat.items():
        _check_rights(ctx, ctx.world.peer(marked), recs)
    count = 0
    for marked, recs in by_chat.items():
        count += len(ctx.world.delete_messages(marked, [r.id for r in recs]))
    return types.messages.AffectedMessages(pts=ctx.world.pts, pts_count=count)


@handles(functions.channels.DeleteMessagesRequest)
def delete_channel_messages(
    ctx: Context, req: functions.channels.DeleteMessagesRequest
) -> types.messages.AffectedMessages:
    """Messages of one channel or supergroup by their ids in it."""
    chat = input_channel(ctx, req.channel)
    _check_count(req.id)
    store = ctx.world.messages.get(chat.marked_id, {})
    recs = [store[i] for i in dict.fromkeys(req.id) if i in store and not store[i].deleted]
    _check_rights(ctx, chat, recs)
    gone = ctx.world.delete_messages(chat, [r.id for r in recs])
    return types.messages.AffectedMessages(pts=chat.pts, pts_count=len(gone))
