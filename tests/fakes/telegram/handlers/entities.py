"""Users, usernames, chats and channels: lookups, full info, available reactions."""

from __future__ import annotations

import re
import zlib

from telethon.tl import functions, types

from tests.fakes.telegram.errors import RpcFail
from tests.fakes.telegram.model import ChatRec, marked_group
from tests.fakes.telegram.peers import input_channel, input_user
from tests.fakes.telegram.render import peer_tl

from .registry import Context, handles

#: Server-side username syntax (3–32 characters, letter first, no trailing ``_``).
USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,30}[A-Za-z0-9]$")


@handles(functions.users.GetUsersRequest)
def get_users(ctx: Context, req: functions.users.GetUsersRequest) -> list[types.User]:
    """Users by ``InputUser``; ones with a wrong access hash are left out."""
    renderer = ctx.renderer()
    out = []
    for item in req.id:
        try:
            rec = input_user(ctx, item)
        except RpcFail:
            continue
        out.append(renderer.user(rec))
    return out


@handles(functions.users.GetFullUserRequest)
def get_full_user(ctx: Context, req: functions.users.GetFullUserRequest) -> types.users.UserFull:
    rec = input_user(ctx, req.id)
    renderer = ctx.renderer()
    common = sum(
        1
        for chat in (*ctx.world.groups.values(), *ctx.world.channels.values())
        if chat.kind != "channel" and rec.id in chat.members and not chat.left
    )
    full = types.UserFull(
        id=rec.id,
        settings=types.PeerSettings(),
        notify_settings=types.PeerNotifySettings(),
        common_chats_count=common,
        about=rec.about,
    )
    return types.users.UserFull(full_user=full, chats=[], users=[renderer.user(rec)])


@handles(functions.contacts.ResolveUsernameRequest)
def resolve_username(
    ctx: Context, req: functions.contacts.ResolveUsernameRequest
) -> types.contacts.ResolvedPeer:
    username = req.username
    if not USERNAME_RE.match(username) or "__" in username:
        raise RpcFail("USERNAME_INVALID")
    marked = ctx.world.find_username(username)
    if marked is None:
        raise RpcFail("USERNAME_NOT_OCCUPIED")
    renderer = ctx.renderer()
    renderer.note(marked)
    return types.contacts.ResolvedPeer(
        peer=peer_tl(marked), chats=renderer.chats(), users=renderer.users()
    )


@handles(functions.contacts.GetContactsRequest)
def get_contacts(
    ctx: Context, req: functions.contacts.GetContactsRequest
) -> types.contacts.Contacts:
    renderer = ctx.renderer()
    contacts = [u for u in ctx.world.users.values() if u.contact]
    return types.contacts.Contacts(
        contacts=[types.Contact(user_id=u.id, mutual=True) for u in contacts],
        saved_count=0,
        users=[renderer.user(u) for u in contacts],
    )


@handles(functions.channels.GetChannelsRequest)
def get_channels(ctx: Context, req: functions.channels.GetChannelsRequest) -> types.messages.Chats:
    renderer = ctx.renderer()
    return types.messages.Chats(chats=[renderer.chat(input_channel(ctx, c)) for c in req.id])


@handles(functions.messages.GetChatsRequest)
def get_chats(ctx: Context, req: functions.messages.GetChatsRequest) -> types.messages.Chats:
    renderer = ctx.renderer()
    out = []
    for chat_id in req.id:
        rec = ctx.world.groups.get(chat_id)
        if rec is None:
            raise RpcFail("CHAT_ID_INVALID")
        out.append(renderer.chat(rec))
    return types.messages.Chats(chats=out)


def _participants(rec: ChatRec, me: int) -> types.ChatParticipants:
    """Members of a basic group; the account is listed as creator or admin when it is."""
    participants: list[types.TypeChatParticipant] = []
    for member in rec.members:
        if member <= 0:
            continue
        if member == me and rec.creator:
            participants.append(types.ChatParticipantCreator(user_id=member))
        elif member == me and rec.admin_rights is not None:
            participants.append(
                types.ChatParticipantAdmin(user_id=member, inviter_id=rec.members[0], date=rec.date)
            )
        else:
            participants.append(
                types.ChatParticipant(user_id=member, inviter_id=rec.members[0], date=rec.date)
            )
    return types.ChatParticipants(chat_id=rec.id, participants=participants, version=1)


@handles(functions.messages.GetFullChatRequest)
def get_full_chat(
    ctx: Context, req: functions.messages.GetFullChatRequest
) -> types.messages.ChatFull:
    rec = ctx.world.groups.get(req.chat_id)
    if rec is None:
        raise RpcFail("CHAT_ID_INVALID")
    renderer = ctx.renderer()
    renderer.note(marked_group(rec.id))
    for member in rec.members:
        renderer.note(member)
    pinned = next((m.id for m in ctx.world.history(rec.marked_id) if m.pinned), None)
    full = types.ChatFull(
        id=rec.id,
        about=rec.about,
        participants=_participants(rec, ctx.me()),
        notify_settings=types.PeerNotifySettings(),
        pinned_msg_id=pinned,
        available_reactions=renderer.reactions_setting(rec),
    )
    return types.messages.ChatFull(full_chat=full, chats=renderer.chats(), users=renderer.users())


@handles(functions.channels.GetFullChannelRequest)
def get_full_channel(
    ctx: Context, req: functions.channels.GetFullChannelRequest
) -> types.messages.ChatFull:
    rec = input_channel(ctx, req.channel)
    renderer = ctx.renderer()
    renderer.note(rec.marked_id)
    dialog = ctx.world.dialogs.get(rec.marked_id)
    top = ctx.world.top_message(rec.marked_id)
    top_id = top.id if top else 0
    unread = dialog.unread_count if dialog else 0
    pinned = next((m.id for m in ctx.world.history(rec.marked_id) if m.pinned), None)
    count = rec.participants_count
    if count is None:
        count = max(len(rec.members), 1)
    full = types.ChannelFull(
        id=rec.id,
        about=rec.about,
        read_inbox_max_id=max(0, top_id - unread),
        read_outbox_max_id=top_id,
        unread_count=unread,
        chat_photo=types.PhotoEmpty(id=0),
        notify_settings=types.PeerNotifySettings(),
        bot_info=[],
        pts=rec.pts,
        can_view_participants=rec.kind == "supergroup",
        participants_count=count,
        admins_count=1 if rec.creator or rec.admin_rights is not None else None,
        slowmode_seconds=rec.slowmode_seconds,
        pinned_msg_id=pinned,
        available_reactions=renderer.reactions_setting(rec),
        paid_reactions_available=rec.kind == "channel",
    )
    return types.messages.ChatFull(full_chat=full, chats=renderer.chats(), users=renderer.users())


@handles(functions.messages.GetAvailableReactionsRequest)
def get_available_reactions(
    ctx: Context, req: functions.messages.GetAvailableReactionsRequest
) -> types.messages.AvailableReactions | types.messages.AvailableReactionsNotModified:
    """The server's reaction list ("all" in a chat means these), with a content hash."""
    emoji = ctx.world.available_reactions
    digest = zlib.crc32("\n".join(emoji).encode()) - 2**31  # TL int32
    if req.hash and req.hash == digest:
        return types.messages.AvailableReactionsNotModified()
    icon = types.DocumentEmpty(id=0)
    return types.messages.AvailableReactions(
        hash=digest,
        reactions=[
            types.AvailableReaction(
                reaction=e,
                title=e,
                static_icon=icon,
                appear_animation=icon,
                select_animation=icon,
                activate_animation=icon,
                effect_animation=icon,
            )
            for e in emoji
        ],
    )
