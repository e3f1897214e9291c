"""Editing the account's messages (``messages.editMessage``) and ``messages.setTyping``.

As on Telegram: only the account's own messages can be edited (``MESSAGE_AUTHOR_REQUIRED``
otherwise), an unknown id is ``MESSAGE_ID_INVALID``, an empty text ``MESSAGE_EMPTY``
and the very same text ``MESSAGE_NOT_MODIFIED``. An edit moves the pts and is pushed
to connected clients; the answer is ``Updates`` with the edited message.
``setTyping`` is recorded in ``world.typing`` (chat, time) and answers true.
"""

from __future__ import annotations

from telethon.tl import functions, types

from tests.fakes.telegram.edits import edit_update
from tests.fakes.telegram.errors import RpcFail
from tests.fakes.telegram.peers import input_peer

from .registry import Context, handles


@handles(functions.messages.EditMessageRequest)
def edit_message(ctx: Context, req: functions.messages.EditMessageRequest) -> types.Updates:
    marked = input_peer(ctx, req.peer)
    rec = ctx.world.messages.get(marked, {}).get(req.id)
    if rec is None or rec.deleted:
        raise RpcFail("MESSAGE_ID_INVALID")
    if not rec.out and rec.sender != ctx.me():
        raise RpcFail("MESSAGE_AUTHOR_REQUIRED")
    if req.message is None:
        raise RpcFail("MESSAGE_EMPTY")
    if not req.message.strip():
        raise RpcFail("MESSAGE_EMPTY")
    if req.message == rec.text:
        raise RpcFail("MESSAGE_NOT_MODIFIED")
    ctx.world.edit_message(marked, req.id, req.message, date=ctx.now)
    edit = ctx.world.edits[-1]
    renderer = ctx.renderer()
    update = edit_update(renderer, rec, ctx.world.peer(marked), edit.pts)
    return types.Updates(
        updates=[update], users=renderer.users(), chats=renderer.chats(), date=ctx.now, seq=0
    )


@handles(functions.messages.SetTypingRequest)
def set_typing(ctx: Context, req: functions.messages.SetTypingRequest) -> bool:
    marked = input_peer(ctx, req.peer)
    ctx.world.typing.append((marked, ctx.now))
    return True
