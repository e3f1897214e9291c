"""``search CHAT PATTERN``: a regular expression over a chat's recent messages (spec §3.4).

The scan reads the newest ``limit`` messages in [since, until) from a
:class:`~tgpilot.services.export.run.MessageSource` — live Telegram today, the archive
later; both yield domain messages newest first, so a read of N messages costs
ceil(N/100) history requests live. Only messages with text are searched (service
messages never); ``--from`` (§4.2 matcher) and ``--outgoing`` filter before the regex.

Hits are returned **oldest first**, like exports, numbered from 1 in that order; the
hits (matching messages only) are held in memory, the scanned messages are not.

:func:`scan` and :class:`Window` are shared with ``stats`` and ``find-user``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from tgpilot.core.errors import UsageError
from tgpilot.models import Chat, Message
from tgpilot.services.export.run import MessageSource
from tgpilot.services.matching import SenderMatcher

#: ``update(done, total)``: messages read so far and the most that will be read (None = all).
ProgressFn = Callable[[int, int | None], None]

#: Progress is reported every this many messages (and once at the end).
PROGRESS_STEP = 50


@dataclass(frozen=True)
class Window:
    """Which messages a scan reads: the newest ``limit`` (0 = all) in [since, until)."""

    limit: int
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise UsageError("--limit must be 0 (all) or positive")
        if self.since and self.until and self.since >= self.until:
            raise UsageError("--since must be before --until")


async def scan(
    chat: Chat, source: MessageSource, window: Window, progress: ProgressFn | None = None
) -> AsyncIterator[Message]:
    """The window's messages, newest first, reporting progress as they are counted."""
    total = window.limit or None
    done = 0
    async for message in source.history(chat, since=window.since, until=window.until, limit=total):
        done += 1
        if progress is not None and done % PROGRESS_STEP == 0:
            progress(done, total)
        yield message
    if progress is not None:
        progress(done, total)


def compile_pattern(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """Compile a user's regex; a bad one is a usage error naming the reason and position."""
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise UsageError(
            f"invalid pattern: {exc.msg}{where}",
            hint="PATTERN is a Python regular expression; escape special characters with \\",
        ) from None


@dataclass(frozen=True)
class SearchQuery:
    """What ``search`` looks for and where."""

    pattern: re.Pattern[str]
    window: Window
    sender: SenderMatcher | None = None
    outgoing: bool = False

    def wants(self, message: Message) -> bool:
        """True if the message may be searched (has text, passes ``--from``/``--outgoing``)."""
        if message.is_service or not message.text:
            return False
        if self.outgoing and not message.is_outgoing:
            return False
        return self.sender is None or self.sender.matches(message.sender)


@dataclass(frozen=True)
class SearchHit:
    """One matching message and where in its text the pattern matched.

    ``spans`` are ``(start, end)`` code-point offsets into ``message.text``, in order and
    non-overlapping; zero-width matches are not listed (there is nothing to highlight).
    """

    message: Message
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class SearchResult:
    """The hits (oldest first) and how many messages were read to find them."""

    chat: Chat
    hits: tuple[SearchHit, ...]
    scanned: int

    def describe(self) -> str:
        return f"Found {len(self.hits)} matches in {self.scanned} messages"


def find_spans(pattern: re.Pattern[str], text: str) -> tuple[tuple[int, int], ...] | None:
    """The non-empty match spans of ``pattern`` in ``text``; None if it does not match at all."""
    found = False
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(text):
        found = True
        start, end = match.span()
        if end > start:
            spans.append((start, end))
    return tuple(spans) if found else None


async def search_chat(
    chat: Chat,
    source: MessageSource,
    query: SearchQuery,
    *,
    progress: ProgressFn | None = None,
) -> SearchResult:
    """Search ``chat``'s window for ``query``; hits come back oldest first."""
    hits: list[SearchHit] = []
    scanned = 0
    async for message in scan(chat, source, query.window, progress):
        scanned += 1
        if not query.wants(message):
            continue
        spans = find_spans(query.pattern, message.text)
        if spans is not None:
            hits.append(SearchHit(message, spans))
    hits.reverse()
    return SearchResult(chat, tuple(hits), scanned)
