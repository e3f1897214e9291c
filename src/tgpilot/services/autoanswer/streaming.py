"""Streaming an answer into a placeholder message, with throttled edits (ai.md §4.8 step 5).

The reply starts as a placeholder; as text arrives it is edited in at most once per
``edit_interval_s``, and only when the text has grown. A flood wait on an intermediate
edit is not sat out: the edit is skipped and none is tried until the wait is over.
The final edit always happens and does wait (up to ``flood.max_wait``). Text beyond
Telegram's 4,096 characters goes into further replies, split at a line break or a
space where possible.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tgpilot.core.clock import Clock
from tgpilot.core.errors import FloodWaitTooLong, TgpilotError
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.models import Chat

TELEGRAM_LIMIT = 4096
PLACEHOLDER = "…"
"""The placeholder's text: language-neutral, replaced by the first edit."""


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at the last line break
    (else space) of each piece when there is one in its second half."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


@dataclass
class StreamedReply:
    """One answer being streamed into one placeholder message."""

    gateway: TelegramGateway
    chat: Chat
    placeholder_id: int
    clock: Clock
    interval: float
    edits: int = 0
    skipped_for_flood: int = 0
    failed_edits: int = 0
    text: str = ""
    _shown: str = ""
    _last_edit: float = field(default=0.0)
    _hold_until: float = 0.0

    def __post_init__(self) -> None:
        self._last_edit = self.clock.monotonic()

    async def follow(self, deltas: AsyncIterator[str]) -> str:
        """Take every delta, editing as allowed; returns the whole text."""
        async for delta in deltas:
            self.text += delta
            await self._maybe_edit()
        return self.text

    async def _maybe_edit(self) -> None:
        now = self.clock.monotonic()
        if now - self._last_edit < self.interval or now < self._hold_until:
            return
        shown = split_text(self.text)[:1]
        if not shown or len(shown[0]) <= len(self._shown):
            return
        try:
            await self.gateway.edit_message(
                self.chat, self.placeholder_id, shown[0], wait_on_flood=False
            )
        except FloodWaitTooLong as exc:
            self.skipped_for_flood += 1
            self._hold_until = self.clock.monotonic() + exc.seconds
            return
        except TgpilotError:
            self.failed_edits += 1  # the final edit still comes (and is retried)
            return
        self.edits += 1
        self._shown = shown[0]
        self._last_edit = self.clock.monotonic()

    async def finish(self, reply_to: int) -> list[int]:
        """The final edit (waits out floods) and the rest of a long text as replies;
        returns the ids of every message the answer occupies."""
        pieces = split_text(self.text)
        if pieces[0] != self._shown:
            await self.gateway.edit_message(self.chat, self.placeholder_id, pieces[0])
            self.edits += 1
            self._shown = pieces[0]
        ids = [self.placeholder_id]
        for piece in pieces[1:]:
            sent = await self.gateway.send_message(
                self.chat, piece, reply_to=reply_to, link_preview=False
            )
            ids.append(sent.id)
        return ids
