"""Which outgoing messages this process sent itself, to tell them from the owner's.

Telegram pushes every outgoing message back as an update — the ones tgpilot sent and
the ones the owner typed on another device alike. The auto-responder pauses a chat
after a *manual* message, so it must know which is which. Every send of the gateway
goes through :meth:`SentLedger.sending`; :meth:`SentLedger.is_ours` first waits until
no send is in flight in that chat (the update can arrive before the send returns its
id), then looks the id up.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

KEEP = 20_000
"""How many sent message ids are remembered (the oldest are forgotten first)."""


class SentLedger:
    """The ids of messages this process sent, per chat."""

    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._ids: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._in_flight: dict[int, int] = {}
        self._changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    @asynccontextmanager
    async def sending(self, chat_id: int) -> AsyncIterator[None]:
        """Wrap one send in ``chat_id`` (call :meth:`add` with its id inside)."""
        self._in_flight[chat_id] = self._in_flight.get(chat_id, 0) + 1
        try:
            yield
        finally:
            left = self._in_flight[chat_id] - 1
            if left:
                self._in_flight[chat_id] = left
            else:
                del self._in_flight[chat_id]
            condition = self._condition()
            async with condition:
                condition.notify_all()

    def add(self, chat_id: int, message_id: int) -> None:
        """Remember that this process sent ``message_id`` in ``chat_id``."""
        self._ids[(chat_id, message_id)] = None
        while len(self._ids) > self._keep:
            self._ids.popitem(last=False)

    async def is_ours(self, chat_id: int, message_id: int) -> bool:
        """True if this process sent that message (waits for sends in flight there)."""
        condition = self._condition()
        async with condition:
            await condition.wait_for(lambda: chat_id not in self._in_flight)
        return (chat_id, message_id) in self._ids
