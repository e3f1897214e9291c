"""``export --watch``: after the export, append each new message as Telegram pushes it.

:func:`~tgpilot.services.follow.follow_chat` hands over each new message once, across
reconnects, so a dropped connection loses nothing and repeats nothing (spec
telegram-cli §3.2). Every
entry is flushed as it is written, and a line ``[HH:MM:SS] <sender>: <preview>`` is
echoed for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn, TextIO
from zoneinfo import ZoneInfo

from tgpilot.core.clock import Clock
from tgpilot.models import Chat, Message
from tgpilot.services.export.formats import ExportItem, FormatWriter
from tgpilot.services.export.run import ExportOptions, keep
from tgpilot.services.export.text_forms import preview, sender_label
from tgpilot.services.follow import LiveSource, follow_chat


async def watch_chat(
    chat: Chat,
    source: LiveSource,
    options: ExportOptions,
    out: TextIO,
    *,
    after_id: int,
    tz: ZoneInfo,
    clock: Clock,
    echo: Callable[[str], None],
) -> NoReturn:
    """Append new messages of ``chat`` to ``out`` until cancelled."""
    writer: FormatWriter = options.writer(tz)

    async def handle(message: Message) -> None:
        if not keep(message, options):
            return
        out.write(writer.render(ExportItem(message, None, not options.text_only)))
        out.flush()
        echo(
            f"[{message.date.astimezone(tz):%H:%M:%S}] {sender_label(message)}: {preview(message)}"
        )

    await follow_chat(chat, source, handle, after_id=after_id, clock=clock)
