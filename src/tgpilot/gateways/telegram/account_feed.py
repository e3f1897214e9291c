"""Every new and edited message of the account, in every chat, as Telegram pushes them.

``tgpilot run`` serves all its handlers from one stream: :class:`AccountFeed` registers
Telethon ``NewMessage`` and ``MessageEdited`` handlers with no chat filter and hands
each update over as an :class:`AccountUpdate` (domain chat and message, whether the
message mentions the account). The Telethon callback only queues the raw event, so
the order Telegram sent them in is kept; conversion happens in :meth:`AccountFeed.next`.
When the connection drops, ``next`` returns ``None`` so the caller can reconnect and
catch up by id (Telegram does not replay what was pushed while we were away).

:func:`recent_dialog_tops` lists the newest dialogs with their top message id: after a
reconnect, the chats whose top id moved past a handler's cursor are the ones to catch
up on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from telethon import events

from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import SenderCache, chat_from_entity, message_from_telethon
from tgpilot.gateways.telegram.events import next_while_connected
from tgpilot.models import Chat, Message

UpdateKind = Literal["new", "edit"]


@dataclass(frozen=True)
class AccountUpdate:
    """One pushed (or caught-up) message: new or edited, with its chat."""

    kind: UpdateKind
    chat: Chat
    message: Message
    mentioned: bool = False
    """Telegram's own flag: the message mentions the account or replies to it."""


class AccountFeed:
    """The stream of the account's new and edited messages while connected."""

    def __init__(self, client: PolicyClient) -> None:
        self._client = client
        self._queue: asyncio.Queue[tuple[UpdateKind, Any]] = asyncio.Queue()
        self._senders: SenderCache = {}
        self._new = events.NewMessage()
        self._edited = events.MessageEdited()

    async def _on_new(self, event: Any) -> None:
        self._queue.put_nowait(("new", event))

    async def _on_edit(self, event: Any) -> None:
        self._queue.put_nowait(("edit", event))

    def open(self) -> None:
        self._client.add_event_handler(self._on_new, self._new)
        self._client.add_event_handler(self._on_edit, self._edited)

    def close(self) -> None:
        self._client.remove_event_handler(self._on_new, self._new)
        self._client.remove_event_handler(self._on_edit, self._edited)

    async def next(self) -> AccountUpdate | None:
        """The next update, or None once the connection is lost (and nothing is queued)."""
        while True:
            item = await self._next_raw()
            if item is None:
                return None
            update = await self._convert(*item)
            if update is not None:
                return update

    async def _next_raw(self) -> tuple[UpdateKind, Any] | None:
        return await next_while_connected(self._queue, self._client)

    async def _convert(self, kind: UpdateKind, event: Any) -> AccountUpdate | None:
        entity = event.chat
        if entity is None:
            try:
                entity = await event.get_chat()
            except (ValueError, ConnectionError):
                entity = None
        if entity is None:
            return None  # a chat we cannot see (left, or never known)
        try:
            chat = chat_from_entity(entity)
        except TypeError:
            return None
        raw = event.message
        message = message_from_telethon(raw, chat, self._senders)
        return AccountUpdate(kind, chat, message, bool(getattr(raw, "mentioned", False)))


async def recent_dialog_tops(
    client: PolicyClient, limit: int
) -> list[tuple[Chat, int, datetime | None]]:
    """The newest ``limit`` dialogs with the id (0: none) and date of each top message."""
    out: list[tuple[Chat, int, datetime | None]] = []
    async for dialog in client.iter_dialogs(limit=limit):
        try:
            chat = chat_from_entity(dialog.entity)
        except TypeError:
            continue
        top = dialog.message
        if top is None:
            out.append((chat, 0, None))
            continue
        date = top.date if top.date.tzinfo else top.date.replace(tzinfo=UTC)
        out.append((chat, int(top.id), date))
    return out


async def missed_updates(
    client: PolicyClient, chat: Chat, *, min_id: int, limit: int, since: datetime | None = None
) -> list[AccountUpdate]:
    """``chat``'s messages above ``min_id`` (and from ``since`` on), oldest first, at most
    the newest ``limit`` of them, as ``new`` updates (with Telegram's mention flag)."""
    senders: SenderCache = {}
    found: list[AccountUpdate] = []
    peer = await client.get_input_entity(chat.id)
    async for raw in client.iter_messages(peer, limit=limit, min_id=min_id):
        message = message_from_telethon(raw, chat, senders)
        if since is not None and message.date < since:
            break
        found.append(AccountUpdate("new", chat, message, bool(getattr(raw, "mentioned", False))))
    found.reverse()
    return found
