"""Members of a chat, searched by Telegram (``find-user --members``).

Telethon's ``iter_participants`` pages ``channels.getParticipants`` for supergroups
and channels (200 a request, the search done server-side) and reads a basic group's
members from ``messages.getFullChat``.
"""

from __future__ import annotations

from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import sender_from_entity
from tgpilot.models import Chat, Sender


async def search_participants(
    client: PolicyClient, chat: Chat, search: str, *, limit: int | None = None
) -> list[Sender]:
    """Members of ``chat`` whose name or username contains ``search``."""
    peer = await client.get_input_entity(chat.id)
    return [
        sender_from_entity(user)
        async for user in client.iter_participants(peer, limit=limit, search=search)
    ]
