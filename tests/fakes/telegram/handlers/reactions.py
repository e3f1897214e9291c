"""Reacting to messages: ``messages.sendReaction``.

The list sent *replaces* the account's reactions on the message (an empty or missing
list removes them), as on Telegram; counts and ``chosen_order`` follow
(:meth:`~tests.fakes.telegram.world.FakeTelegram.set_my_reactions`). Checks, in
Telegram's terms:

- the message must exist in that chat: ``MESSAGE_ID_INVALID``;
- every reaction must be allowed by the chat (``ReactionPolicy``): an emoji of the
  chat's list (``some``) or of the server's list (``all``, see
  ``messages.getAvailableReactions``), spelled exactly as the server spells it (``❤``,
  not ``❤️``); custom emoji only where ``all`` allows them and for premium accounts;
  paid reactions never (they have their own method): else ``REACTION_INVALID``;
- at most one reaction per message for ordinary accounts (``PREMIUM_ACCOUNT_REQUIRED``),
  three for premium ones, and at most ``REACTIONS_UNIQ_MAX`` distinct reactions on a
  message (``REACTIONS_TOO_MANY``).

The answer is ``updates`` with one ``updateMessageReactions`` carrying the message's
new reaction counts. ``big`` is accepted and has no effect here.
"""

from __future__ import annotations

from telethon.tl import functions, types

from tests.fakes.telegram.errors import RpcFail
from tests.fakes.telegram.model import ChatRec, MessageRec, ReactionPolicy
from tests.fakes.telegram.peers import input_peer
from tests.fakes.telegram.render import Renderer, peer_tl

from .registry import Context, handles

#: ``reactions_user_max_default`` / ``reactions_user_max_premium`` of the client config.
MAX_REACTIONS = 1
MAX_REACTIONS_PREMIUM = 3
#: ``reactions_uniq_max``: distinct reactions one message may carry.
REACTIONS_UNIQ_MAX = 11


def target_message(ctx: Context, marked: int, msg_id: int) -> MessageRec:
    """The existing message ``msg_id`` of chat ``marked`` (``MESSAGE_ID_INVALID`` if none)."""
    rec = ctx.world.messages.get(marked, {}).get(msg_id)
    if rec is None or rec.deleted:
        raise RpcFail("MESSAGE_ID_INVALID")
    return rec


def _allowed(ctx: Context, policy: ReactionPolicy, reaction: object, premium: bool) -> bool:
    if isinstance(reaction, types.ReactionEmoji):
        if policy.kind == "some":
            return reaction.emoticon in policy.emoji
        return policy.kind == "all" and reaction.emoticon in ctx.world.available_reactions
    if isinstance(reaction, types.ReactionCustomEmoji):
        return policy.kind == "all" and policy.allow_custom and premium
    return False


@handles(functions.messages.SendReactionRequest)
def send_reaction(ctx: Context, req: functions.messages.SendReactionRequest) -> types.Updates:
    marked = input_peer(ctx, req.peer)
    chat = ctx.world.peer(marked)
    rec = target_message(ctx, marked, req.msg_id)
    me = ctx.world.users[ctx.me()]
    policy = chat.reactions if isinstance(chat, ChatRec) else ReactionPolicy("all")
    wanted: list[str | int] = []
    for reaction in req.reaction or []:
        if not _allowed(ctx, policy, reaction, me.premium):
            raise RpcFail("REACTION_INVALID")
        if isinstance(reaction, types.ReactionEmoji):
            wanted.append(reaction.emoticon)
        else:
            wanted.append(reaction.document_id)
    wanted = list(dict.fromkeys(wanted))
    if len(wanted) > MAX_REACTIONS and not me.premium:
        raise RpcFail("PREMIUM_ACCOUNT_REQUIRED")
    if len(wanted) > MAX_REACTIONS_PREMIUM:
        raise RpcFail("REACTIONS_TOO_MANY")
    present = {r.emoji if r.kind == "emoji" else r.document_id for r in rec.reactions or []}
    if len(present | set(wanted)) > max(REACTIONS_UNIQ_MAX, len(present)):
        raise RpcFail("REACTIONS_TOO_MANY")
    ctx.world.set_my_reactions(marked, rec.id, wanted)
    renderer = ctx.renderer()
    renderer.note(marked)
    reactions = Renderer._reactions(rec.reactions or [], chat)
    assert reactions is not None
    return types.Updates(
        updates=[
            types.UpdateMessageReactions(peer=peer_tl(marked), msg_id=rec.id, reactions=reactions)
        ],
        users=renderer.users(),
        chats=renderer.chats(),
        date=ctx.now,
        seq=0,
    )
