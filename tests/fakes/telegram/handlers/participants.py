"""Members of supergroups and channels: ``channels.getParticipants``, ``channels.getParticipant``.

Pages of at most 200 with ``offset``/``limit`` and the total ``count`` of the filter,
as Telegram answers, the users attached. Filters: ``channelParticipantsRecent`` (every
member), ``channelParticipantsSearch(q)`` and ``channelParticipantsAdmins``; any other
is a :class:`~tests.fakes.telegram.errors.FakeNotImplementedError`.

Search as Telegram does it: every word of ``q`` must start a word of the member's name
or their username, case-folded ("ali" finds Alice Smith, "lice" does not; "@" is not
stripped by the server). The account itself is ``channelParticipantCreator`` when it
created the chat, ``channelParticipantAdmin`` (``self``) when it is an admin, else
``channelParticipantSelf``; other members are plain ``channelParticipant`` (the world
does not know other admins). Broadcast channels list members to admins only
(``CHAT_ADMIN_REQUIRED``). Basic groups answer through ``messages.getFullChat`` (see
``entities``).

``getParticipant`` tells one member's standing (the account's own with
``inputPeerSelf``: creator, admin with its ``ChatAdminRights``, or plain member);
someone not in the chat (or the account after leaving it) is ``USER_NOT_PARTICIPANT``;
in a broadcast channel only admins may ask about others (``CHAT_ADMIN_REQUIRED``).
"""

from __future__ import annotations

from telethon.tl import functions, types

from tests.fakes.telegram.errors import FakeNotImplementedError, RpcFail
from tests.fakes.telegram.model import ChatRec, UserRec
from tests.fakes.telegram.peers import input_channel, input_user
from tests.fakes.telegram.render import Renderer

from .registry import Context, handles

MAX_LIMIT = 200


def search_matches(user: UserRec, query: str) -> bool:
    """Whether Telegram's member search finds ``user`` for ``query`` (word prefixes)."""
    words = user.full_name.casefold().split()
    if user.username:
        words.append(user.username.casefold())
    return all(any(w.startswith(part) for w in words) for part in query.casefold().split())


def _is_admin(rec: ChatRec, user: UserRec, me: int) -> bool:
    return user.id == me and (rec.creator or rec.admin_rights is not None)


def _participant(rec: ChatRec, user: UserRec, me: int) -> types.TypeChannelParticipant:
    if user.id != me:
        return types.ChannelParticipant(user_id=user.id, date=rec.date)
    rights = Renderer._admin_rights(rec)
    if rec.creator and rights is not None:
        return types.ChannelParticipantCreator(user_id=user.id, admin_rights=rights)
    if rights is not None:
        return types.ChannelParticipantAdmin(
            user_id=user.id,
            promoted_by=user.id,
            date=rec.date,
            admin_rights=rights,
            is_self=True,
            inviter_id=user.id,
        )
    return types.ChannelParticipantSelf(user_id=user.id, inviter_id=user.id, date=rec.date)


@handles(functions.channels.GetParticipantsRequest)
def get_participants(
    ctx: Context, req: functions.channels.GetParticipantsRequest
) -> types.channels.ChannelParticipants:
    rec = input_channel(ctx, req.channel)
    if rec.kind == "channel" and rec.admin_rights is None and not rec.creator:
        raise RpcFail("CHAT_ADMIN_REQUIRED")
    me = ctx.me()
    members = [u for u in map(ctx.world.peer, rec.members) if isinstance(u, UserRec)]
    flt = req.filter
    if isinstance(flt, types.ChannelParticipantsSearch):
        if flt.q:
            members = [m for m in members if search_matches(m, flt.q)]
    elif isinstance(flt, types.ChannelParticipantsAdmins):
        members = [m for m in members if _is_admin(rec, m, me)]
    elif not isinstance(flt, types.ChannelParticipantsRecent):
        raise FakeNotImplementedError(ctx.outer, f"GetParticipantsRequest({type(flt).__name__})")
    offset = max(0, req.offset)
    page = members[offset : offset + max(0, min(req.limit, MAX_LIMIT))]
    renderer = ctx.renderer()
    for user in page:
        renderer.note(user.marked_id)
    return types.channels.ChannelParticipants(
        count=len(members),
        participants=[_participant(rec, user, me) for user in page],
        chats=[],
        users=renderer.users(),
    )


@handles(functions.channels.GetParticipantRequest)
def get_participant(
    ctx: Context, req: functions.channels.GetParticipantRequest
) -> types.channels.ChannelParticipant:
    rec = input_channel(ctx, req.channel)
    me = ctx.me()
    user = input_user(ctx, req.participant)
    if user.id != me and rec.kind == "channel" and rec.admin_rights is None and not rec.creator:
        raise RpcFail("CHAT_ADMIN_REQUIRED")
    if user.id not in rec.members or (user.id == me and rec.left):
        raise RpcFail("USER_NOT_PARTICIPANT")
    renderer = ctx.renderer()
    renderer.note(user.marked_id)
    renderer.note(rec.marked_id)
    return types.channels.ChannelParticipant(
        participant=_participant(rec, user, me), chats=renderer.chats(), users=renderer.users()
    )
