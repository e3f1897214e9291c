"""One source abstraction for every capability that reads chats (spec ai.md §3 "Sources").

``--source telegram|store|PATH`` picks where messages come from: the live account
(the gateway), the archive (:class:`~tgpilot.services.archive.source.ArchiveSource`), or
a Telegram Desktop export — a ``result.json`` or its folder, read by the same streaming
parser as ``tgpilot import`` (:class:`DesktopExportSource`). All three are a
:class:`~tgpilot.services.export.run.MessageSource` yielding the same
:class:`~tgpilot.models.Message` newest first; the store and an export need neither the
session lock nor credentials. Opening a source for a command is the CLI's job
(:mod:`tgpilot.cli.sources`); this module holds what does not depend on the CLI.

**Windows** (§3 "Windows"): ``--days N`` (0 = no cutoff), ``--hours N``, ``--since`` /
``--until`` (ISO 8601 or a duration back from now such as ``7d``, ``12h``) and
``--limit N``. A message is kept when ``date ≥ now − N``; the limit counts *kept*
messages (those a command's selection accepts), newest first; :func:`read_window`
returns them chronologically. ``now`` comes from the injected clock.

Offline chats are named as the archive resolver names them (alias, link,
``@username``, raw or marked id) or by their exact title (:class:`OfflineChatResolver`).

**Transcripts** (``--with-transcripts``, ai.md §4.11): :class:`TranscribedSource` wraps
any source so that voice, audio and round-video messages with a transcript in the store
read as ``[voice message] …`` and count as texts; without the option they stay media.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path

from tgpilot.core.config import ChatAlias
from tgpilot.core.dates import parse_duration, parse_when
from tgpilot.core.errors import AmbiguousChat, ChatCandidate, ChatNotFound, UsageError
from tgpilot.models import Chat, Message
from tgpilot.services.archive.chats import ArchiveChatResolver
from tgpilot.services.desktop_import.messages import chat_from_head, message_from_desktop
from tgpilot.services.desktop_import.reader import (
    ChatHead,
    ExportFile,
    Layout,
    iter_messages,
    open_export,
)
from tgpilot.services.export.run import MessageSource
from tgpilot.store.transcripts import TranscriptRepository

KeepFn = Callable[[Message], bool]
"""A command's selection: True for a message it keeps."""

ProgressFn = Callable[[int, int | None], None]
"""``update(read, total)``: messages read from the source so far (total unknown: None)."""

PROGRESS_STEP = 100

TRANSCRIPT_PAGE = 100
"""Messages looked up for transcripts at once (one history page)."""


class SourceKind(StrEnum):
    """Where messages come from."""

    TELEGRAM = "telegram"
    STORE = "store"
    EXPORT = "export"


@dataclass(frozen=True)
class SourceSpec:
    """A parsed ``--source``: its kind and, for an export, the path as given."""

    kind: SourceKind
    path: Path | None = None

    @property
    def label(self) -> str:
        """``telegram``, ``store`` or the export's path (for reports)."""
        return str(self.path) if self.path is not None else self.kind.value


def parse_source(value: str) -> SourceSpec:
    """``telegram``, ``store`` or the path of a Desktop export (``result.json`` or its
    folder); a path that does not exist is a usage error (exit 2)."""
    text = value.strip()
    if text in (SourceKind.TELEGRAM.value, SourceKind.STORE.value):
        return SourceSpec(SourceKind(text))
    if not text:
        raise UsageError("--source: empty value", hint="use telegram, store or an export's path")
    path = Path(text).expanduser()
    if not path.exists():
        raise UsageError(
            f"--source: no such file or folder: {text}",
            hint="use telegram, store, or the result.json of a Telegram Desktop export",
        )
    return SourceSpec(SourceKind.EXPORT, path)


# --------------------------------------------------------------------------- windows


@dataclass(frozen=True)
class MessageWindow:
    """Which messages to read: ``since ≤ date < until`` (None: open), at most ``limit``
    kept ones (0 = all), newest first."""

    since: datetime | None = None
    until: datetime | None = None
    limit: int = 0

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise UsageError("--limit must be 0 (all) or positive")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise UsageError("the window is empty: --since must be before --until")

    def contains(self, when: datetime) -> bool:
        """True if ``when`` lies inside the window's dates."""
        if self.since is not None and when < self.since:
            return False
        return self.until is None or when < self.until


def parse_bound(text: str, *, now: datetime, tz: tzinfo, option: str) -> datetime:
    """``--since``/``--until``: a duration back from ``now`` (``7d``, ``12h``, ``30m``) or
    an ISO 8601 date or time (read in ``tz`` unless it names a zone)."""
    if text.strip()[-1:].isalpha():
        try:
            return now - parse_duration(text, option=option)
        except UsageError:
            pass
    try:
        return parse_when(text, tz, option=option)
    except UsageError:
        raise UsageError(
            f"{option}: not a date or duration: {text!r}",
            hint="use YYYY-MM-DD, YYYY-MM-DDTHH:MM or a duration such as 7d or 12h",
        ) from None


def message_window(
    now: datetime,
    *,
    days: int | None = None,
    hours: int | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 0,
    tz: tzinfo,
    default_days: int | None = None,
) -> MessageWindow:
    """The window the options describe; ``default_days`` applies when none of ``days``,
    ``hours`` and ``since`` is given. ``days``/``hours`` of 0 mean no cutoff."""
    given = [
        name
        for name, value in (("--days", days), ("--hours", hours), ("--since", since))
        if value is not None
    ]
    if len(given) > 1:
        raise UsageError(f"give only one of {', '.join(given)}")
    for name, value in (("--days", days), ("--hours", hours)):
        if value is not None and value < 0:
            raise UsageError(f"{name} must be 0 (no cutoff) or positive")
    if not given:
        days = default_days
    start: datetime | None = None
    if since is not None:
        start = parse_bound(since, now=now, tz=tz, option="--since")
    elif hours:
        start = now - timedelta(hours=hours)
    elif days:
        start = now - timedelta(days=days)
    end = parse_bound(until, now=now, tz=tz, option="--until") if until is not None else None
    return MessageWindow(since=start, until=end, limit=limit)


@dataclass(frozen=True)
class WindowRead:
    """What :func:`read_window` found: the kept messages (chronological) and how many
    messages of the window it read to find them."""

    messages: tuple[Message, ...]
    scanned: int


async def read_window(
    source: MessageSource,
    chat: Chat,
    window: MessageWindow,
    keep: KeepFn | None = None,
    *,
    progress: ProgressFn | None = None,
) -> WindowRead:
    """The window's messages that ``keep`` accepts, oldest first.

    The source is read newest first and stops once ``window.limit`` messages are kept,
    so a live read costs only the history pages it needs.
    """
    kept: list[Message] = []
    scanned = 0
    stream = source.history(chat, since=window.since, until=window.until, limit=None)
    try:
        async for message in stream:
            scanned += 1
            if progress is not None and scanned % PROGRESS_STEP == 0:
                progress(scanned, None)
            if keep is None or keep(message):
                kept.append(message)
                if window.limit and len(kept) >= window.limit:
                    break
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
    if progress is not None:
        progress(scanned, None)
    kept.sort(key=lambda m: (m.date, m.id))
    return WindowRead(tuple(kept), scanned)


class TranscribedSource:
    """A :class:`MessageSource` whose spoken messages read as their stored transcripts."""

    def __init__(self, source: MessageSource, transcripts: TranscriptRepository) -> None:
        self.source = source
        self._transcripts = transcripts

    async def history(
        self,
        chat: Chat,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Message]:
        """The wrapped source's messages, in its order, looked up a page at a time."""
        stream = self.source.history(chat, since=since, until=until, limit=limit)
        page: list[Message] = []
        try:
            async for message in stream:
                page.append(message)
                if len(page) >= TRANSCRIPT_PAGE:
                    for read in await self._transcripts.apply(chat.id, page):
                        yield read
                    page = []
            for read in await self._transcripts.apply(chat.id, page):
                yield read
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()


# --------------------------------------------------------------------------- chats


ResolveFn = Callable[[str], Awaitable[Chat]]
"""Finds the chat a CHAT argument names in a source (ChatNotFound: exit 2)."""


class OfflineChatResolver:
    """CHAT arguments among a fixed set of chats (the archive's or an export's): what
    the archive resolver accepts, else an exact (case-insensitive) title."""

    def __init__(self, chats: Sequence[Chat], aliases: Mapping[str, ChatAlias]) -> None:
        self._chats = list(chats)
        self._archive = ArchiveChatResolver(self._chats, aliases)

    async def resolve(self, text: str) -> Chat:
        """The one chat ``text`` names."""
        try:
            return self._archive.resolve(text)
        except ChatNotFound:
            wanted = text.strip().casefold()
            found = [c for c in self._chats if wanted and c.title.casefold() == wanted]
            if len(found) == 1:
                return found[0]
            if found:
                raise AmbiguousChat(
                    text,
                    [ChatCandidate(c.title, c.id, c.type.value) for c in found],
                    hint="pass the chat id",
                ) from None
            raise ChatNotFound(
                text,
                "no chat of this source has that alias, id, username or title",
                [ChatCandidate(c.title, c.id, c.type.value) for c in self._chats[:10]],
            ) from None


# --------------------------------------------------------------------------- exports


def _self_id(export: ExportFile, head: ChatHead, chat: Chat) -> int | None:
    """The account's own id: named by an account export, or a saved-messages chat's."""
    if export.self_id is not None:
        return export.self_id
    return chat.id if head.type == "saved_messages" else None


class DesktopExportSource:
    """A Telegram Desktop export as a message source (offline, read-only).

    Built by :meth:`open`, which reads the chat heads (a whole-account export is
    scanned once for them). :meth:`history` parses the file again for one chat in a
    worker thread, with the importer's parser, holding only the messages of the
    window (the newest ``limit`` of them when a limit is given).
    """

    def __init__(
        self, export: ExportFile, heads: Mapping[int, tuple[ChatHead, Chat]], *, tz: tzinfo
    ) -> None:
        self._export = export
        self._heads = dict(heads)
        self._tz = tz

    @classmethod
    async def open(cls, path: Path, *, tz: tzinfo) -> DesktopExportSource:
        """The export at ``path`` (``result.json`` or its folder); ``tz`` reads wall-clock
        dates of exports without unix times. UsageError if it is not a usable export."""
        export = await asyncio.to_thread(open_export, path)
        heads = await asyncio.to_thread(_chat_heads, export)
        if not heads:
            raise UsageError(
                f"{export.path}: no chat of a supported type in this export",
                hint="export a chat or the whole account from Telegram Desktop as JSON",
            )
        return cls(export, heads, tz=tz)

    @property
    def chats(self) -> tuple[Chat, ...]:
        """The chats of the export, in file order."""
        return tuple(chat for _, chat in self._heads.values())

    async def history(
        self,
        chat: Chat,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Message]:
        """Messages of ``chat`` in [since, until), newest first, at most ``limit``."""
        entry = self._heads.get(chat.id)
        if entry is None:
            raise ChatNotFound(str(chat.id), f"not a chat of {self._export.path}")
        window = MessageWindow(since=since, until=until)
        messages = await asyncio.to_thread(self._read, entry, window, limit or 0)
        for message in messages:
            yield message

    def _read(
        self, entry: tuple[ChatHead, Chat], window: MessageWindow, limit: int
    ) -> list[Message]:
        head, chat = entry
        tz = self._tz
        self_id = _self_id(self._export, head, chat)

        def messages() -> Iterable[Message]:
            for found, raw in iter_messages(self._export):
                if raw is None or found.index != head.index:
                    continue
                imported = message_from_desktop(raw, chat, tz=tz, self_id=self_id)
                if imported is not None and window.contains(imported.message.date):
                    yield imported.message

        def newest(message: Message) -> tuple[datetime, int]:
            return message.date, message.id

        if limit:
            return heapq.nlargest(limit, messages(), key=newest)
        return sorted(messages(), key=newest, reverse=True)


def _chat_heads(export: ExportFile) -> dict[int, tuple[ChatHead, Chat]]:
    """Chat id → (head, chat) for every usable chat of the export, in file order."""
    if export.layout is Layout.SINGLE:
        assert export.chat is not None
        heads = [export.chat]
    else:
        seen: dict[int, ChatHead] = {}
        for head, _ in iter_messages(export):
            seen.setdefault(head.index, head)
        heads = list(seen.values())
    found: dict[int, tuple[ChatHead, Chat]] = {}
    for head in heads:
        chat = chat_from_head(head)
        if chat is not None:
            found.setdefault(chat.id, (head, chat))
    return found
