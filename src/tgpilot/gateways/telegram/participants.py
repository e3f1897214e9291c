"""Members of a chat, searched by Telegram (``find-user --members``).

Telethon's ``iter_participants(entity, search=...)`` pages ``channels.getParticipants``
with ``ChannelParticipantsSearch(q)`` for supergroups and channels (200 a request, the
search done by Telegram, which matches from the start of a word of the name or
username), after one ``channelParticipantsRecent`` request of limit 1 for the member
count. A basic group's members come in one ``messages.getFullChat`` and Telethon
filters them by name or username itself.

Broadcast channels list their members to admins only: ``CHAT_ADMIN_REQUIRED`` becomes
a :class:`~tgpilot.core.errors.TelegramError` with a hint.
"""

from __future__ import annotations

from dataclasses import dataclass

from telethon import errors

from tgpilot.core.errors import TelegramError
from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import sender_from_entity
from tgpilot.gateways.telegram.flood import request_name
from tgpilot.models import Chat, Sender


@dataclass(frozen=True)
class MemberSearch:
    """The members Telegram found, and how many members the chat has in all."""

    members: tuple[Sender, ...]
    total: int | None


async def search_participants(
    client: PolicyClient, chat: Chat, search: str, *, limit: int | None = None
) -> MemberSearch:
    """Members of ``chat`` Telegram finds for ``search`` (at most ``limit``; None = all)."""
    peer = await client.get_input_entity(chat.id)
    found = client.iter_participants(peer, limit=limit, search=search)
    try:
        members = tuple([sender_from_entity(user) async for user in found])
    except errors.ChatAdminRequiredError as exc:
        raise TelegramError(
            "CHAT_ADMIN_REQUIRED",
            request_name(exc.request),
            hint=f"only admins may list the members of {chat.title}; "
            "drop --members to search its recent senders",
        ) from exc
    total = found.total
    return MemberSearch(members, total if isinstance(total, int) else None)
