"""New messages of one chat as Telegram pushes them (no polling).

A :class:`NewMessages` stream registers a Telethon ``NewMessage`` handler for one chat
and hands each new message over as a domain :class:`~tgpilot.models.Message`. When the
connection drops, :meth:`NewMessages.next` returns ``None`` so the caller can reconnect
and catch up by id (Telegram does not replay what was pushed while we were away).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeVar

from telethon import events

from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import SenderCache, message_from_telethon
from tgpilot.models import Chat, Message

T = TypeVar("T")


async def next_while_connected(queue: asyncio.Queue[T], client: PolicyClient) -> T | None:
    """The next item pushed into ``queue``, or None once ``client`` is disconnected
    (items already queued are handed over first)."""
    if not queue.empty():
        return queue.get_nowait()
    if not client.is_connected():
        return None
    getting = asyncio.ensure_future(queue.get())
    lost = asyncio.ensure_future(client.disconnected)
    try:
        done, _pending = await asyncio.wait({getting, lost}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (getting, lost):
            if not task.done():
                task.cancel()
    if getting in done:
        return getting.result()
    with contextlib.suppress(Exception):
        lost.result()
    return None


class NewMessages:
    """The stream of new messages in one chat while the client stays connected."""

    def __init__(self, client: PolicyClient, chat: Chat) -> None:
        self._client = client
        self._chat = chat
        self._queue: asyncio.Queue[Message] = asyncio.Queue()
        self._senders: SenderCache = {}
        self._filter = events.NewMessage(chats=[chat.id])

    async def _on_message(self, event: Any) -> None:
        self._queue.put_nowait(message_from_telethon(event.message, self._chat, self._senders))

    def open(self) -> None:
        self._client.add_event_handler(self._on_message, self._filter)

    def close(self) -> None:
        self._client.remove_event_handler(self._on_message, self._filter)

    async def next(self) -> Message | None:
        """The next new message, or None once the connection is lost."""
        return await next_while_connected(self._queue, self._client)
