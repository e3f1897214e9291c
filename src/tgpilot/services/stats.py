"""``stats CHAT``: message counts, media share, activity and top senders (spec §3.4).

Reads the newest ``limit`` messages in [since, until) from a ``MessageSource`` (live or,
later, the archive) in one streaming pass, keeping one counter per sender. Service
messages (joins, pins, …) are not messages here and are skipped. Lengths are in code
points (``Привет`` is 6). An empty window gives zeros everywhere — never NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tgpilot.models import Chat, Message
from tgpilot.services.export.run import MessageSource
from tgpilot.services.export.text_forms import UNKNOWN_SENDER
from tgpilot.services.search import ProgressFn, Window, scan

NAME_WIDTH = 24
SECONDS_PER_DAY = 86_400


def shorten(text: str, width: int = NAME_WIDTH) -> str:
    """At most ``width`` code points; cut ones end with ``…``."""
    return text if len(text) <= width else text[: width - 1] + "…"


def ratio(part: float, whole: float, digits: int = 1) -> float:
    """``part / whole`` rounded to ``digits``; 0.0 when ``whole`` is 0."""
    return round(part / whole, digits) if whole else 0.0


@dataclass
class SenderStats:
    """One sender's share of the window."""

    sender_id: int | None
    name: str
    username: str | None = None
    messages: int = 0
    chars: int = 0

    @property
    def avg_len(self) -> float:
        """Average text length in code points, one decimal."""
        return ratio(self.chars, self.messages)

    @property
    def short_name(self) -> str:
        return shorten(self.name)


@dataclass
class ChatStats:
    """Everything ``stats`` reports about one window of a chat."""

    chat: Chat
    messages: int = 0
    media: int = 0
    chars: int = 0
    first: datetime | None = None
    last: datetime | None = None
    scanned: int = 0
    senders: dict[object, SenderStats] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.messages == 0

    @property
    def media_percent(self) -> float:
        """Share of messages carrying media, in %, one decimal (0.0 when empty)."""
        return ratio(100 * self.media, self.messages)

    @property
    def unique_senders(self) -> int:
        """Distinct known senders (messages without a sender are not a sender)."""
        return sum(1 for key in self.senders if key is not None)

    @property
    def days_spanned(self) -> float:
        """Days from the first to the last message (fractional; 0 when empty)."""
        if self.first is None or self.last is None:
            return 0.0
        return (self.last - self.first).total_seconds() / SECONDS_PER_DAY

    @property
    def per_day(self) -> float:
        """Messages ÷ max(1, days spanned), one decimal."""
        return ratio(self.messages, max(1.0, self.days_spanned))

    def top(self, n: int) -> list[SenderStats]:
        """The ``n`` most active senders (0 = all): messages, then characters, then name."""
        ranked = sorted(
            self.senders.values(), key=lambda s: (-s.messages, -s.chars, s.name.casefold())
        )
        return ranked[:n] if n else ranked

    def add(self, message: Message) -> None:
        """Count one (non-service) message; messages arrive newest first."""
        self.messages += 1
        length = len(message.text)
        self.chars += length
        if message.media_type:
            self.media += 1
        if self.last is None or message.date > self.last:
            self.last = message.date
        if self.first is None or message.date < self.first:
            self.first = message.date
        sender = message.sender
        key: object = None
        if sender is not None:
            key = sender.id if sender.id is not None else ("name", sender.name)
        row = self.senders.get(key)
        if row is None:
            row = SenderStats(
                sender_id=sender.id if sender else None,
                name=sender.name if sender else UNKNOWN_SENDER,
                username=sender.username if sender else None,
            )
            self.senders[key] = row
        row.messages += 1
        row.chars += length


async def chat_stats(
    chat: Chat,
    source: MessageSource,
    window: Window,
    *,
    progress: ProgressFn | None = None,
) -> ChatStats:
    """Count the window of ``chat`` in one pass."""
    stats = ChatStats(chat)
    async for message in scan(chat, source, window, progress):
        stats.scanned += 1
        if not message.is_service:
            stats.add(message)
    return stats
