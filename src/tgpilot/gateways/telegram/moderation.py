"""Deleting messages for everyone, and the account's admin rights in a chat (spec §4.3, §4.6).

Deletes go out at most ``MAX_DELETE_IDS`` ids per request — ``channels.deleteMessages``
for channels and supergroups, ``messages.deleteMessages(revoke=True)`` otherwise — one
batch per call, so the caller paces and audits batch by batch. Rights come from
``channels.getParticipant(self)`` (creator, admin with its rights, member, or not in
the chat) and, for basic groups, from the chat as ``messages.getFullChat`` returns it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telethon import errors
from telethon.tl import functions, types

from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.models import Chat, ChatRights, ChatType

MAX_DELETE_IDS = 100

_ALL_RIGHTS = ChatRights(
    is_creator=True, is_admin=True, can_delete_messages=True, can_ban_users=True
)


async def delete_messages(client: PolicyClient, chat: Chat, ids: Sequence[int]) -> int:
    """Delete up to 100 messages of ``chat`` for everyone; returns how many went.

    Outside channels and supergroups Telegram's ids are account-wide and it does not
    check they belong to ``chat``: pass ids read from this chat.
    """
    if len(ids) > MAX_DELETE_IDS:
        raise ValueError(f"at most {MAX_DELETE_IDS} ids per delete request, got {len(ids)}")
    unique = list(dict.fromkeys(ids))
    if not unique:
        return 0
    request: Any
    if chat.type in (ChatType.SUPERGROUP, ChatType.CHANNEL):
        peer = await client.get_input_entity(chat.id)
        request = functions.channels.DeleteMessagesRequest(channel=peer, id=unique)
    else:
        request = functions.messages.DeleteMessagesRequest(id=unique, revoke=True)
    affected = await client(request)
    return int(affected.pts_count)


def _rights_of(admin_rights: Any) -> ChatRights:
    if admin_rights is None:
        return ChatRights()
    return ChatRights(
        is_admin=True,
        can_delete_messages=bool(admin_rights.delete_messages),
        can_ban_users=bool(admin_rights.ban_users),
    )


async def my_rights(client: PolicyClient, chat: Chat) -> ChatRights:
    """The account's standing in ``chat``; none in private chats or chats it is not in."""
    if chat.type in (ChatType.USER, ChatType.BOT):
        return ChatRights()
    if chat.type is ChatType.GROUP:
        full = await client(functions.messages.GetFullChatRequest(chat_id=chat.raw_id))
        entity = next((c for c in full.chats if c.id == chat.raw_id), None)
        if not isinstance(entity, types.Chat) or entity.left:
            return ChatRights()
        return _ALL_RIGHTS if entity.creator else _rights_of(entity.admin_rights)
    peer = await client.get_input_entity(chat.id)
    try:
        answer = await client(
            functions.channels.GetParticipantRequest(
                channel=peer, participant=types.InputPeerSelf()
            )
        )
    except errors.UserNotParticipantError:
        return ChatRights()
    participant = answer.participant
    if isinstance(participant, types.ChannelParticipantCreator):
        return _ALL_RIGHTS
    if isinstance(participant, types.ChannelParticipantAdmin):
        return _rights_of(participant.admin_rights)
    return ChatRights()
