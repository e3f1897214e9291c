"""The cooldown, the hourly caps and the away-text limit, counted from recorded replies.

Loaded at start from ``autoanswer_replies`` (the last 12 hours) and kept up to date as
replies are recorded, so the limits hold across restarts. Replies and drafts count
toward the cooldown (``cooldown_s`` between answers in one chat) and the caps
(``per_chat_hourly``, ``global_hourly``); an answer that failed (nothing delivered)
counts for nothing. Away texts count only for their own limit: at most one per chat
per 12 hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tgpilot.core.config.settings import AutoanswerSettings
from tgpilot.store.autoanswer import ReplyKind, ReplyRecord

HOUR = timedelta(hours=1)
AWAY_EVERY = timedelta(hours=12)
KEEP = AWAY_EVERY


@dataclass
class _Entry:
    reply_id: int
    chat_id: int
    kind: ReplyKind
    at: datetime


@dataclass
class ReplyLedger:
    """Recent answers, for the limits (see the module docstring)."""

    settings: AutoanswerSettings
    _entries: list[_Entry] = field(default_factory=list)

    def load(self, records: list[ReplyRecord]) -> None:
        for record in records:
            if record.state not in ("failed", "abandoned"):
                self.add(record.id, record.chat_id, record.kind, record.created_at)

    def add(self, reply_id: int, chat_id: int, kind: ReplyKind, at: datetime) -> None:
        self._entries.append(_Entry(reply_id, chat_id, kind, at))

    def forget(self, reply_id: int) -> None:
        """An answer failed: it no longer counts."""
        self._entries = [e for e in self._entries if e.reply_id != reply_id]

    def _prune(self, now: datetime) -> None:
        cutoff = now - KEEP
        if self._entries and self._entries[0].at < cutoff:
            self._entries = [e for e in self._entries if e.at >= cutoff]

    def blocked(self, chat_id: int, now: datetime) -> str | None:
        """Why an answer in ``chat_id`` must not be made now, or None."""
        self._prune(now)
        answers = [e for e in self._entries if e.kind != "away"]
        mine = [e for e in answers if e.chat_id == chat_id]
        cooldown = timedelta(seconds=self.settings.cooldown_s)
        if mine and now - mine[-1].at < cooldown:
            return "cooldown"
        if sum(1 for e in mine if now - e.at < HOUR) >= self.settings.per_chat_hourly:
            return "per-chat hourly cap"
        if sum(1 for e in answers if now - e.at < HOUR) >= self.settings.global_hourly:
            return "global hourly cap"
        return None

    def away_due(self, chat_id: int, now: datetime) -> bool:
        """True if no away text went to ``chat_id`` in the last 12 hours."""
        self._prune(now)
        return not any(
            e.kind == "away" and e.chat_id == chat_id and now - e.at < AWAY_EVERY
            for e in self._entries
        )
