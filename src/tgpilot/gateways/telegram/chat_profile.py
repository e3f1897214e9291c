"""A chat's "about" text and member count, from its full info (one request).

Groups answer ``messages.getFullChat``, supergroups and channels
``channels.getFullChannel``; users and bots ``users.getFullUser`` (their bio; no member
count). Used by the MCP server's ``get_chat_info``.
"""

from __future__ import annotations

from dataclasses import dataclass

from telethon.tl import functions, types

from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.users import user_about
from tgpilot.models import Chat, ChatType


@dataclass(frozen=True)
class ChatProfile:
    """What a chat's full info says about it."""

    about: str | None
    """The description (a user's bio); None when empty."""
    members: int | None
    """How many members Telegram counts (None: a private chat, or not told)."""


async def chat_profile(client: PolicyClient, chat: Chat) -> ChatProfile:
    """The description and member count of ``chat``."""
    if chat.type in (ChatType.USER, ChatType.BOT):
        return ChatProfile(await user_about(client, chat.id), None)
    if chat.type is ChatType.GROUP:
        full = await client(functions.messages.GetFullChatRequest(chat_id=chat.raw_id))
        listed = full.full_chat.participants
        members = len(listed.participants) if isinstance(listed, types.ChatParticipants) else None
        return ChatProfile(full.full_chat.about or None, members)
    peer = await client.get_input_entity(chat.id)
    full = await client(functions.channels.GetFullChannelRequest(channel=peer))
    return ChatProfile(full.full_chat.about or None, full.full_chat.participants_count)
