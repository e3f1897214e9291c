"""Following a chat live: every new message handed over once, across reconnects.

Each (re)connection first fetches the messages above the last one handled (by id), then
follows what Telegram pushes; anything at or below that id is a duplicate and dropped.
So a dropped connection loses nothing and repeats nothing. Used by ``export --watch``
and ``moderate watch`` (and, later, by the handlers hosted in ``tgpilot run``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import NoReturn, Protocol

from tgpilot.core.clock import Clock
from tgpilot.core.errors import NetworkError
from tgpilot.models import Chat, Message

RECONNECT_ATTEMPTS = 5


class MessageStream(Protocol):
    async def next(self) -> Message | None: ...


class LiveSource(Protocol):
    """What following needs of the live gateway."""

    def history(self, chat: Chat, *, min_id: int = 0) -> AsyncIterator[Message]: ...

    def new_messages(self, chat: Chat) -> AbstractAsyncContextManager[MessageStream]: ...

    async def reconnect(self) -> None: ...


async def follow_chat(
    chat: Chat,
    source: LiveSource,
    handle: Callable[[Message], Awaitable[None]],
    *,
    after_id: int,
    clock: Clock,
) -> NoReturn:
    """Call ``handle`` for each message of ``chat`` newer than ``after_id``, oldest first,
    until cancelled; a NetworkError when reconnecting keeps failing."""
    last = after_id
    async with source.new_messages(chat) as stream:
        while True:
            missed = [m async for m in source.history(chat, min_id=last)]
            for message in [*reversed(missed)]:
                if message.id > last:
                    last = message.id
                    await handle(message)
            while (new := await stream.next()) is not None:
                if new.id > last:
                    last = new.id
                    await handle(new)
            await _reconnect(source, clock)


async def _reconnect(source: LiveSource, clock: Clock) -> None:
    for attempt in range(1, RECONNECT_ATTEMPTS + 1):
        try:
            await source.reconnect()
            return
        except NetworkError:
            if attempt == RECONNECT_ATTEMPTS:
                raise
            await clock.sleep(min(2**attempt, 30))
