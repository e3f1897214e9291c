"""``moderate watch`` and ``export --watch`` as handlers hosted by ``tgpilot run``.

Both follow named chats (``run.handlers`` of kind ``moderate`` and ``export``) and start, on the
first run, at the chat's newest message; later runs resume at their stored cursor, so
messages that arrived while the process was down are written too (the moderation
watch, as spec telegram-cli §4.6 says, ignores messages from before its start).

- :class:`ModerationHandler` judges each new message — and each edit of a message it
  has not acted on — with the same :class:`~tgpilot.services.moderation.watch.ModerationWatch`
  as the command; it acts only with ``moderation.apply`` (the hosted ``--yes``).
- :class:`ExportWatchHandler` appends each new message to its file, flushed every
  time; a new file starts with the format's header. Edits are not appended.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from tgpilot.core.clock import Clock
from tgpilot.gateways.telegram.account_feed import AccountUpdate
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.models import Chat
from tgpilot.services.export.formats import ExportHeader, ExportItem, FormatWriter
from tgpilot.services.export.run import ExportOptions, keep
from tgpilot.services.moderation.watch import ModerationWatch
from tgpilot.services.runtime.cursors import CursorBook
from tgpilot.services.runtime.handler import Delivery


async def start_cursor(
    cursors: CursorBook, handler: str, gateway: TelegramGateway, chat: Chat
) -> None:
    """On a handler's first run in ``chat``, put its cursor at the newest message."""
    await cursors.load(handler)
    if cursors.get(handler, chat.id) is not None:
        return
    newest = [m async for m in gateway.history(chat, limit=1)]
    await cursors.mark(handler, chat.id, newest[0].id if newest else 0)


@dataclass
class ModerationHandler:
    """Judges the new messages of the moderated chats (one watch per chat)."""

    gateway: TelegramGateway
    watches: list[ModerationWatch]
    name: str = "moderate"
    manages_cursor: bool = False
    _by_chat: dict[int, ModerationWatch] = field(default_factory=dict)
    _acted: set[tuple[int, int]] = field(default_factory=set)

    async def start(self, cursors: CursorBook) -> None:
        for watch in self.watches:
            await watch.start()
            await start_cursor(cursors, self.name, self.gateway, watch.chat)
            self._by_chat[watch.chat.id] = watch

    def scope(self) -> Mapping[int, Chat]:
        return {chat_id: watch.chat for chat_id, watch in self._by_chat.items()}

    def catch_up_since(self) -> datetime | None:
        return None

    def wants(self, update: AccountUpdate) -> bool:
        if update.kind == "edit":
            return (update.chat.id, update.message.id) not in self._acted
        return True

    async def handle(self, delivery: Delivery) -> None:
        update = delivery.update
        watch = self._by_chat[update.chat.id]
        flagged = watch.counts.flagged
        await watch.handle(update.message)
        if watch.counts.flagged > flagged:
            self._acted.add((update.chat.id, update.message.id))

    async def stop(self, timeout: float) -> None:
        return None


@dataclass
class ExportTarget:
    """One exported chat: its file and format."""

    chat: Chat
    path: Path
    options: ExportOptions


@dataclass
class ExportWatchHandler:
    """Appends the new messages of the watched chats to their files."""

    gateway: TelegramGateway
    targets: list[ExportTarget]
    tz: ZoneInfo
    clock: Clock
    log: Callable[[str], None]
    name: str = "export"
    manages_cursor: bool = False
    _files: dict[int, tuple[TextIO, FormatWriter, ExportOptions]] = field(default_factory=dict)
    _chats: dict[int, Chat] = field(default_factory=dict)

    async def start(self, cursors: CursorBook) -> None:
        for target in self.targets:
            await start_cursor(cursors, self.name, self.gateway, target.chat)
            writer = target.options.writer(self.tz)
            target.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not target.path.exists() or target.path.stat().st_size == 0
            handle = target.path.open("a", encoding="utf-8", newline="")
            if fresh:
                handle.write(
                    writer.begin(
                        ExportHeader(target.chat, self.tz, self.clock.now(), 0, None, None)
                    )
                )
                handle.flush()
            self._files[target.chat.id] = (handle, writer, target.options)
            self._chats[target.chat.id] = target.chat
            self.log(f"export: appending new messages of {target.chat.title} to {target.path}")

    def scope(self) -> Mapping[int, Chat]:
        return self._chats

    def catch_up_since(self) -> datetime | None:
        return None

    def wants(self, update: AccountUpdate) -> bool:
        return update.kind == "new"

    async def handle(self, delivery: Delivery) -> None:
        message = delivery.update.message
        handle, writer, options = self._files[delivery.update.chat.id]
        if keep(message, options):
            handle.write(writer.render(ExportItem(message, None, not options.text_only)))
            handle.flush()

    async def stop(self, timeout: float) -> None:
        for handle, _writer, _options in self._files.values():
            handle.close()
        self._files.clear()
