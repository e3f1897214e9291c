"""Members of supergroups and channels: ``channels.getParticipants``.

Pages of at most 200 with ``offset``/``limit`` and the total ``count``, as Telegram
answers; ``ChannelParticipantsSearch(q)`` keeps members whose name or username contains
``q`` (case-folded). The first member of a chat the account created is its creator.
Broadcast channels list members only to admins (``CHAT_ADMIN_REQUIRED``). Basic groups
answer through ``messages.getFullChat`` (see ``entities``).
"""

from __future__ import annotations

from telethon.tl import functions, types

from tests.fakes.telegram.errors import RpcFail
from tests.fakes.telegram.model import UserRec, split_marked
from tests.fakes.telegram.peers import input_channel

from .registry import Context, handles

MAX_LIMIT = 200


def _matches(user: UserRec, query: str) -> bool:
    needle = query.casefold()
    haystacks = (user.full_name, user.username or "")
    return any(needle in h.casefold() for h in haystacks)


@handles(functions.channels.GetParticipantsRequest)
def get_participants(
    ctx: Context, req: functions.channels.GetParticipantsRequest
) -> types.channels.ChannelParticipants:
    rec = input_channel(ctx, req.channel)
    if rec.kind == "channel" and rec.admin_rights is None and not rec.creator:
        raise RpcFail("CHAT_ADMIN_REQUIRED")
    members: list[UserRec] = []
    for marked in rec.members:
        kind, _raw = split_marked(marked)
        user = ctx.world.peer(marked) if kind == "user" else None
        if isinstance(user, UserRec):
            members.append(user)
    query = getattr(req.filter, "q", "") or ""
    if query:
        members = [m for m in members if _matches(m, query)]
    page = members[max(0, req.offset) : max(0, req.offset) + min(req.limit, MAX_LIMIT)]
    renderer = ctx.renderer()
    participants: list[types.TypeChannelParticipant] = []
    for user in page:
        renderer.note(user.marked_id)
        if rec.creator and rec.members and user.marked_id == rec.members[0]:
            participants.append(
                types.ChannelParticipantCreator(
                    user_id=user.id, admin_rights=types.ChatAdminRights()
                )
            )
        else:
            participants.append(types.ChannelParticipant(user_id=user.id, date=rec.date))
    return types.channels.ChannelParticipants(
        count=len(members), participants=participants, chats=[], users=renderer.users()
    )
