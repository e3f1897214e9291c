"""A chat's history as an async iterator of domain messages, newest first.

Pages of 100 (``messages.getHistory``) through Telethon's own iterator, so a full read of
N messages costs ceil(N/100) requests; ``until`` is exclusive and passed to the server as
the offset date, ``since`` is inclusive and ends the walk at the first older message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import ReactionCache, SenderCache, message_from_telethon
from tgpilot.models import Chat, Message


async def iter_history(
    client: PolicyClient,
    chat: Chat,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    min_id: int = 0,
    offset_id: int = 0,
    remember: Callable[[Any, Message], None] | None = None,
) -> AsyncIterator[Message]:
    """Messages of ``chat`` in [since, until), newest first, at most ``limit`` (None or 0 = all).

    ``min_id`` reads only messages with a greater id; ``offset_id`` starts below that
    id (resuming a backfill).
    ``remember(raw, message)`` sees each Telethon message that has media (the media
    downloader keeps the latest ones so downloads need no extra request).
    """
    peer = await client.get_input_entity(chat.id)
    senders: SenderCache = {}
    reactions: ReactionCache = {}
    async for raw in client.iter_messages(
        peer,
        limit=limit or None,
        offset_date=until,
        offset_id=offset_id,
        min_id=min_id,
        wait_time=0,
    ):
        message = message_from_telethon(raw, chat, senders, reactions)
        if since is not None and message.date < since:
            return
        if remember is not None and message.media_type is not None:
            remember(raw, message)
        yield message
