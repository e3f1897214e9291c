"""``moderate stats``: how much profanity (and spam) a chat's recent history holds.

Reads the newest ``--limit`` messages (live or from the archive), judges each text with
the shared :class:`~tgpilot.services.moderation.verdict.Moderator`, and counts messages
with profanity, offenders (messages flagged per sender), the words matched and, with
``--spam``, spam messages per category.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tgpilot.models import Chat
from tgpilot.services.export.run import MessageSource
from tgpilot.services.moderation.verdict import Moderator

TOP = 10
UNKNOWN_SENDER = "Unknown sender"


@dataclass
class ModerationStats:
    """The counts ``moderate stats`` reports."""

    chat: Chat
    scanned: int = 0
    with_text: int = 0
    profane: int = 0
    spam: int = 0
    offenders: Counter[str] = field(default_factory=Counter)
    words: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    include_spam: bool = False

    @property
    def profane_share(self) -> float:
        return 100.0 * self.profane / self.scanned if self.scanned else 0.0

    @property
    def spam_share(self) -> float:
        return 100.0 * self.spam / self.scanned if self.scanned else 0.0

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "chat": {"id": self.chat.id, "title": self.chat.title},
            "scanned": self.scanned,
            "profanity": {
                "messages": self.profane,
                "percent": round(self.profane_share, 1),
                "top_offenders": [
                    {"sender": s, "violations": n} for s, n in self.offenders.most_common(TOP)
                ],
                "top_words": [{"word": w, "count": n} for w, n in self.words.most_common(TOP)],
            },
        }
        if self.include_spam:
            data["spam"] = {
                "messages": self.spam,
                "percent": round(self.spam_share, 1),
                "categories": dict(self.categories.most_common()),
            }
        return data


async def moderation_stats(
    chat: Chat,
    source: MessageSource,
    moderator: Moderator,
    *,
    limit: int,
    include_spam: bool,
    progress: Callable[[int, int | None], None] | None = None,
) -> ModerationStats:
    """Judge the newest ``limit`` messages of ``chat``."""
    stats = ModerationStats(chat, include_spam=include_spam)
    async for message in source.history(chat, limit=limit):
        stats.scanned += 1
        if progress is not None and stats.scanned % 100 == 0:
            progress(stats.scanned, limit)
        if message.is_service or not message.text.strip():
            continue
        stats.with_text += 1
        verdict = moderator.judge(message.text)
        sender = message.sender.name if message.sender else UNKNOWN_SENDER
        violation = verdict.is_profane
        if verdict.is_profane:
            stats.profane += 1
            stats.words.update(verdict.profanity)
        if include_spam and verdict.spam.is_spam:
            stats.spam += 1
            stats.categories.update(verdict.spam.categories)
            violation = True
        if violation:
            stats.offenders[sender] += 1
    return stats
