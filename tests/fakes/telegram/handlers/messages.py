"""Reading messages: ``messages.getHistory`` and messages by id.

``getHistory`` walks a chat newest first. The page starts at the first message older
than ``offset_id`` (or, without one, sent before ``offset_date``), shifted by
``add_offset`` (negative values reach newer messages), and holds up to ``limit`` (≤ 100)
messages; ``max_id``/``min_id`` then drop messages outside ``(min_id, max_id)``.
Channels answer ``messages.ChannelMessages``; other chats ``messages.Messages`` when the
page is the whole history, else ``messages.MessagesSlice`` with the total ``count``.
"""

from __future__ import annotations

import bisect

from telethon.tl import functions, types

from tests.fakes.telegram.errors import RpcFail
from tests.fakes.telegram.model import ChatRec, MessageRec
from tests.fakes.telegram.peers import input_channel, input_peer
from tests.fakes.telegram.render import Renderer

from .registry import Context, handles

MAX_LIMIT = 100


def history_page(
    history: list[MessageRec],
    *,
    offset_id: int,
    offset_date_ts: float | None,
    add_offset: int,
    limit: int,
    max_id: int,
    min_id: int,
) -> list[MessageRec]:
    """The getHistory window over ``history`` (newest first)."""
    if offset_id:
        # ids fall as we walk newest first: the first message older than offset_id
        pos = bisect.bisect_right(history, -offset_id, key=lambda m: -m.id)
    elif offset_date_ts is not None:
        pos = next(
            (i for i, m in enumerate(history) if m.date.timestamp() < offset_date_ts),
            len(history),
        )
    else:
        pos = 0
    limit = max(0, min(limit, MAX_LIMIT))
    start = pos + add_offset
    end = start + limit
    window = history[max(0, start) : max(0, min(len(history), end))]
    if max_id:
        window = [m for m in window if m.id < max_id]
    if min_id:
        window = [m for m in window if m.id > min_id]
    return window


def messages_answer(
    renderer: Renderer,
    chat: ChatRec | None,
    page: list[MessageRec],
    total: int,
) -> types.messages.Messages | types.messages.MessagesSlice | types.messages.ChannelMessages:
    """The right ``messages.Messages`` constructor for a page of ``total`` messages."""
    msgs = renderer.messages(page)
    if chat is not None and chat.is_channel_type:
        return types.messages.ChannelMessages(
            pts=chat.pts,
            count=total,
            messages=msgs,
            topics=[],
            chats=renderer.chats(),
            users=renderer.users(),
        )
    if len(page) >= total:
        return types.messages.Messages(
            messages=msgs, topics=[], chats=renderer.chats(), users=renderer.users()
        )
    return types.messages.MessagesSlice(
        count=total, messages=msgs, topics=[], chats=renderer.chats(), users=renderer.users()
    )


@handles(functions.messages.GetHistoryRequest)
def get_history(
    ctx: Context, req: functions.messages.GetHistoryRequest
) -> types.messages.Messages | types.messages.MessagesSlice | types.messages.ChannelMessages:
    marked = input_peer(ctx, req.peer)
    chat = ctx.world.peer(marked)
    history = ctx.world.history(marked)
    page = history_page(
        history,
        offset_id=req.offset_id,
        offset_date_ts=req.offset_date.timestamp() if req.offset_date else None,
        add_offset=req.add_offset,
        limit=req.limit,
        max_id=req.max_id,
        min_id=req.min_id,
    )
    renderer = ctx.renderer()
    renderer.note(marked)
    return messages_answer(
        renderer, chat if isinstance(chat, ChatRec) else None, page, len(history)
    )


def _message_id(ctx: Context, item: object, chat: int | None) -> MessageRec | None:
    """The message an ``InputMessage`` names (``chat`` None: account-wide ids)."""
    world = ctx.world
    if isinstance(item, types.InputMessageID | types.InputMessageReplyTo):
        target = item.id
        if isinstance(item, types.InputMessageReplyTo):
            source = _lookup(ctx, chat, item.id)
            target = source.reply_to if source and source.reply_to else 0
        return _lookup(ctx, chat, target)
    if isinstance(item, types.InputMessagePinned) and chat is not None:
        return next((m for m in world.history(chat) if m.pinned), None)
    if isinstance(item, int):
        return _lookup(ctx, chat, item)
    return None


def _lookup(ctx: Context, chat: int | None, msg_id: int) -> MessageRec | None:
    if chat is None:
        return ctx.world.private_message(msg_id)
    rec = ctx.world.messages.get(chat, {}).get(msg_id)
    return None if rec is None or rec.deleted else rec


@handles(functions.messages.GetMessagesRequest)
def get_messages(
    ctx: Context, req: functions.messages.GetMessagesRequest
) -> types.messages.Messages:
    """Private-chat and basic-group messages by account-wide id (missing: ``MessageEmpty``)."""
    renderer = ctx.renderer()
    out: list[types.TypeMessage] = []
    for item in req.id:
        rec = _message_id(ctx, item, None)
        out.append(
            renderer.message(rec) if rec else types.MessageEmpty(id=_raw_id(item), peer_id=None)
        )
    return types.messages.Messages(
        messages=out, topics=[], chats=renderer.chats(), users=renderer.users()
    )


@handles(functions.channels.GetMessagesRequest)
def get_channel_messages(
    ctx: Context, req: functions.channels.GetMessagesRequest
) -> types.messages.ChannelMessages:
    """Channel messages by id, in the order asked (missing: ``MessageEmpty``)."""
    chat = input_channel(ctx, req.channel)
    if not req.id:
        raise RpcFail("MESSAGE_IDS_EMPTY")
    renderer = ctx.renderer()
    renderer.note(chat.marked_id)
    out: list[types.TypeMessage] = []
    for item in req.id:
        rec = _message_id(ctx, item, chat.marked_id)
        out.append(
            renderer.message(rec) if rec else types.MessageEmpty(id=_raw_id(item), peer_id=None)
        )
    return types.messages.ChannelMessages(
        pts=chat.pts,
        count=len(out),
        messages=out,
        topics=[],
        chats=renderer.chats(),
        users=renderer.users(),
    )


def _raw_id(item: object) -> int:
    return int(getattr(item, "id", 0) or 0) if not isinstance(item, int) else item


@handles(functions.messages.SendMessageRequest, auth=True)
def send_message(ctx: Context, req: functions.messages.SendMessageRequest) -> types.Updates:
    """Post a text message as the account; answers ``updateMessageID`` plus the new message,
    as Telegram does (slow mode and rights are the chat's business: not modelled)."""
    marked = input_peer(ctx, req.peer)
    chat = ctx.world.peer(marked)
    if (
        isinstance(chat, ChatRec)
        and chat.kind == "channel"
        and not (chat.creator or chat.admin_rights)
    ):
        raise RpcFail("CHAT_WRITE_FORBIDDEN")
    if not req.message.strip():
        raise RpcFail("MESSAGE_EMPTY")
    reply_to = getattr(req.reply_to, "reply_to_msg_id", None)
    rec = ctx.world.add_message(
        marked,
        text=req.message,
        date=ctx.now,
        sender=ctx.me(),
        out=True,
        reply_to=reply_to,
        silent=bool(req.silent),
    )
    renderer = ctx.renderer()
    message = renderer.message(rec)
    new: types.TypeUpdate
    if isinstance(chat, ChatRec) and chat.is_channel_type:
        new = types.UpdateNewChannelMessage(message, pts=rec.pts, pts_count=1)
    else:
        new = types.UpdateNewMessage(message, pts=rec.pts, pts_count=1)
    return types.Updates(
        updates=[types.UpdateMessageID(id=rec.id, random_id=req.random_id), new],
        users=renderer.users(),
        chats=renderer.chats(),
        date=ctx.now,
        seq=0,
    )
