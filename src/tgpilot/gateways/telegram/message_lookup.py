"""Messages of a chat by id, as domain messages in the order asked (``None`` = missing).

Telethon's id iterator asks 100 ids per request (``channels.getMessages`` for channels
and supergroups, ``messages.getMessages`` otherwise) and drops messages of other chats
(ids are account-wide outside channels). Its pause between batches is off: pacing is
the caller's business and flood waits the client's. The account's own reactions come
back marked ``Reaction.mine``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import SenderCache, message_from_telethon
from tgpilot.models import Chat, Message


async def get_messages(
    client: PolicyClient,
    chat: Chat,
    ids: Sequence[int],
    remember: Callable[[Any, Message], None] | None = None,
) -> list[Message | None]:
    """``chat``'s messages with these ids, one entry per id given (None where there is
    no such message); duplicates are fetched once. ``remember(raw, message)`` sees each
    Telethon message found (the media downloader keeps them)."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    peer = await client.get_input_entity(chat.id)
    senders: SenderCache = {}
    found: dict[int, Message] = {}
    for raw in await client.get_messages(peer, ids=unique, wait_time=0):
        if raw is None:
            continue
        message = message_from_telethon(raw, chat, senders)
        found[message.id] = message
        if remember is not None:
            remember(raw, message)
    return [found.get(i) for i in ids]


async def messages_after(
    client: PolicyClient, chat: Chat, message_id: int, limit: int
) -> list[Message]:
    """The ``limit`` messages of ``chat`` right after ``message_id``, oldest first (one
    request for up to 100: Telethon's oldest-first history from that id)."""
    if limit <= 0:
        return []
    peer = await client.get_input_entity(chat.id)
    senders: SenderCache = {}
    return [
        message_from_telethon(raw, chat, senders)
        async for raw in client.iter_messages(
            peer, min_id=message_id, reverse=True, limit=limit, wait_time=0
        )
    ]
