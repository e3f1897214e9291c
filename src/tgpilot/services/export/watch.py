"""``export --watch``: after the export, append each new message as Telegram pushes it.

Each (re)connection first fetches the messages above the last one handled (by id), then
follows pushed updates; anything at or below that id is a duplicate and dropped. So a
dropped connection loses nothing and repeats nothing (spec telegram-cli §3.2). Every
entry is flushed as it is written, and a line ``[HH:MM:SS] <sender>: <preview>`` is
echoed for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TextIO
from zoneinfo import ZoneInfo

from tgpilot.core.clock import Clock
from tgpilot.core.errors import NetworkError
from tgpilot.models import Chat, Message
from tgpilot.services.export.formats import ExportItem, FormatWriter
from tgpilot.services.export.run import ExportOptions, keep
from tgpilot.services.export.text_forms import preview, sender_label

RECONNECT_ATTEMPTS = 5


class MessageStream(Protocol):
    async def next(self) -> Message | None: ...


class WatchSource(Protocol):
    """What watching needs of the live gateway."""

    def history(self, chat: Chat, *, min_id: int = 0) -> AsyncIterator[Message]: ...

    def new_messages(self, chat: Chat) -> AbstractAsyncContextManager[MessageStream]: ...

    async def reconnect(self) -> None: ...


async def watch_chat(
    chat: Chat,
    source: WatchSource,
    options: ExportOptions,
    out: TextIO,
    *,
    after_id: int,
    tz: ZoneInfo,
    clock: Clock,
    echo: Callable[[str], None],
) -> int:
    """Append new messages of ``chat`` to ``out`` until cancelled; returns how many."""
    writer: FormatWriter = options.writer(tz)
    last = after_id
    written = 0

    def handle(message: Message) -> None:
        nonlocal last, written
        if message.id <= last:
            return
        last = message.id
        if not keep(message, options):
            return
        out.write(writer.render(ExportItem(message, None, not options.text_only)))
        out.flush()
        written += 1
        echo(
            f"[{message.date.astimezone(tz):%H:%M:%S}] {sender_label(message)}: {preview(message)}"
        )

    async with source.new_messages(chat) as stream:
        while True:
            missed = [m async for m in source.history(chat, min_id=last)]
            for old in reversed(missed):
                handle(old)
            while (new := await stream.next()) is not None:
                handle(new)
            await _reconnect(source, clock)


async def _reconnect(source: WatchSource, clock: Clock) -> None:
    for attempt in range(1, RECONNECT_ATTEMPTS + 1):
        try:
            await source.reconnect()
            return
        except NetworkError:
            if attempt == RECONNECT_ATTEMPTS:
                raise
            await clock.sleep(min(2**attempt, 30))
