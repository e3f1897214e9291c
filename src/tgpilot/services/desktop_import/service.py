"""``import PATH``: a Telegram Desktop export streamed into the archive (spec §3.5).

Offline: no session, no lock, only the store. PATH is a ``result.json`` or its folder;
a single-chat export imports one chat, a whole-account export every chat of
``chats.list`` and ``left_chats.list``. The file is parsed as a stream (ijson) in a
worker thread, a batch of ~1000 messages at a time, and each batch is upserted with
``source="import"`` in one transaction — so memory stays flat whatever the file size,
re-importing counts everything ``unchanged``, and imported rows only fill NULL columns
of rows a live sync stored.

Media are recorded by kind (and size and file name) always; the file itself by
``--media``: ``link`` stores the absolute path of the file inside the export,
``copy`` copies it to ``<home>/media/<chat id>/<path in the export>`` and stores that,
``skip`` stores no path. Files the export did not include (Desktop's "File not
included" note) have no path; files named but absent are counted as missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from tgpilot.core.clock import Clock, SystemClock
from tgpilot.core.errors import UsageError
from tgpilot.models import Chat, Message
from tgpilot.services.desktop_import.messages import (
    ImportedMessage,
    chat_from_head,
    message_from_desktop,
)
from tgpilot.services.desktop_import.reader import (
    ChatHead,
    ExportFile,
    Layout,
    iter_messages,
    open_export,
)
from tgpilot.store import BATCH_SIZE, SOURCE_IMPORT, ChatRecord, Store, UpsertCounts

MediaMode = Literal["link", "copy", "skip"]
MEDIA_MODES: tuple[str, ...] = get_args(MediaMode)

MEDIA_DIR = "media"
"""Folder of the home that ``--media copy`` copies files into (``media/<chat id>/…``)."""

ProgressFn = Callable[[int, int | None], None]
"""Called after each batch with (messages read so far, total or None when unknown)."""


@dataclass(frozen=True)
class ChatImport:
    """What the import did in one chat."""

    chat: Chat
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    skipped: int = 0


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: chats, message counts, skips, missing media files."""

    chats: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    media_missing: int = 0
    dry_run: bool = False
    read: int = 0
    per_chat: tuple[ChatImport, ...] = ()

    @property
    def messages(self) -> int:
        """Messages imported (inserted, updated or unchanged)."""
        return self.inserted + self.updated + self.unchanged

    def describe(self) -> str:
        """``chats C; messages inserted I, updated U, unchanged K, skipped S``."""
        if self.dry_run:
            return (
                f"dry run, nothing written: chats {self.chats}; "
                f"messages {self.read}, skipped {self.skipped}"
            )
        return (
            f"chats {self.chats}; messages inserted {self.inserted}, updated {self.updated}, "
            f"unchanged {self.unchanged}, skipped {self.skipped}"
        )


@dataclass
class _Batch:
    """One slice of the stream: chats first seen in it, then its messages."""

    chats: list[Chat] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    media_paths: dict[tuple[int, int], str] = field(default_factory=dict)
    skipped: dict[int, int] = field(default_factory=dict)
    skipped_unknown: int = 0

    @property
    def has_content(self) -> bool:
        return bool(self.chats or self.messages or self.skipped or self.skipped_unknown)


class _MediaPlacer:
    """Turns an export-relative media path into the path to store (``link``/``copy``)."""

    def __init__(self, folder: Path, mode: str, home: Path, *, dry_run: bool) -> None:
        self._folder = folder.resolve()
        self._mode = mode
        self._home = home
        self._dry_run = dry_run
        self.missing = 0

    def place(self, chat: Chat, relative: str) -> str | None:
        if self._mode == "skip":
            return None
        source = (self._folder / relative).resolve()
        if not source.is_relative_to(self._folder) or not source.is_file():
            self.missing += 1
            return None
        if self._mode == "link":
            return str(source)
        target_dir = (self._home / MEDIA_DIR / str(chat.id)).resolve()
        target = target_dir / source.relative_to(self._folder)
        if not self._dry_run and not (
            target.is_file() and target.stat().st_size == source.stat().st_size
        ):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        return str(target)


class _Reader:
    """The blocking side of an import: parses the export and fills batches (run in a
    worker thread, one batch per call)."""

    def __init__(
        self,
        export: ExportFile,
        *,
        tz: ZoneInfo,
        placer: _MediaPlacer,
        batch_size: int,
    ) -> None:
        self._export = export
        self._tz = tz
        self._placer = placer
        self._batch_size = batch_size
        self._stream: Iterator[tuple[ChatHead, object]] = iter_messages(export)
        self._chats: dict[int, Chat | None] = {}

    def close(self) -> None:
        """Close the file (a no-op while another thread still runs the parser)."""
        close = getattr(self._stream, "close", None)
        if close is not None:
            with contextlib.suppress(ValueError):
                close()

    def _chat(self, head: ChatHead, batch: _Batch) -> Chat | None:
        if head.index in self._chats:
            return self._chats[head.index]
        chat = chat_from_head(head)
        self._chats[head.index] = chat
        if chat is not None:
            batch.chats.append(chat)
        return chat

    def _self_id(self, head: ChatHead, chat: Chat) -> int | None:
        if self._export.self_id is not None:
            return self._export.self_id
        return chat.id if head.type == "saved_messages" else None

    def next_batch(self) -> _Batch | None:
        """The next batch, or None at the end of the file."""
        batch = _Batch()
        for head, raw in self._stream:
            chat = self._chat(head, batch)
            if raw is None:
                continue
            imported: ImportedMessage | None = None
            if chat is not None:
                imported = message_from_desktop(
                    raw, chat, tz=self._tz, self_id=self._self_id(head, chat)
                )
            if imported is None:
                if chat is None:
                    batch.skipped_unknown += 1
                else:
                    batch.skipped[chat.id] = batch.skipped.get(chat.id, 0) + 1
                continue
            assert chat is not None
            message = imported.message
            batch.messages.append(message)
            if imported.media_file is not None:
                placed = self._placer.place(chat, imported.media_file)
                if placed is not None:
                    batch.media_paths[(message.chat_id, message.id)] = placed
            if len(batch.messages) >= self._batch_size:
                return batch
        return batch if batch.has_content else None


class _Tally:
    """Per-chat counts as batches are written."""

    def __init__(self) -> None:
        self.chats: dict[int, ChatImport] = {}
        self.skipped = 0

    def chats_and_skips(self, batch: _Batch) -> None:
        for chat in batch.chats:
            self.chats.setdefault(chat.id, ChatImport(chat))
        self.skipped += batch.skipped_unknown
        for chat_id, count in batch.skipped.items():
            entry = self.chats[chat_id]
            self.chats[chat_id] = replace(entry, skipped=entry.skipped + count)
            self.skipped += count

    def written(self, chat_id: int, counts: UpsertCounts) -> None:
        entry = self.chats[chat_id]
        self.chats[chat_id] = replace(entry, counts=entry.counts + counts)

    def summary(self, *, media_missing: int, dry_run: bool, read: int) -> ImportSummary:
        total = sum((c.counts for c in self.chats.values()), UpsertCounts())
        return ImportSummary(
            chats=len(self.chats),
            inserted=total.inserted,
            updated=total.updated,
            unchanged=total.unchanged,
            skipped=self.skipped,
            media_missing=media_missing,
            dry_run=dry_run,
            read=read,
            per_chat=tuple(self.chats.values()),
        )


async def _write(
    store: Store, batch: _Batch, tally: _Tally, *, fetched_at: datetime, batch_size: int
) -> None:
    """Upsert a batch: its new chats first, then its messages chat by chat."""
    if batch.chats:
        await store.upsert_chats(
            [ChatRecord.from_chat(c, source=SOURCE_IMPORT) for c in batch.chats]
        )
    for chat_id, run in _by_chat(batch.messages):
        counts = await store.upsert_messages(
            run,
            source=SOURCE_IMPORT,
            fetched_at=fetched_at,
            media_paths=batch.media_paths,
            batch_size=batch_size,
        )
        tally.written(chat_id, counts)


def _by_chat(messages: Sequence[Message]) -> list[tuple[int, list[Message]]]:
    """Consecutive runs of messages of one chat, in order."""
    runs: list[tuple[int, list[Message]]] = []
    for message in messages:
        if runs and runs[-1][0] == message.chat_id:
            runs[-1][1].append(message)
        else:
            runs.append((message.chat_id, [message]))
    return runs


async def import_desktop_export(
    path: Path,
    store: Store | None,
    *,
    tz: ZoneInfo,
    media: MediaMode = "link",
    home: Path,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
    clock: Clock | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import the Telegram Desktop export at ``path`` (a ``result.json`` or its folder).

    ``tz`` reads wall-clock dates of exports without unix times; ``home`` is the data
    dir ``--media copy`` copies into. With ``dry_run`` the file is read and checked but
    nothing is written or copied (``store`` may then be None). Raises UsageError for a
    missing, unreadable or non-Desktop file and StoreError when the database fails
    (earlier batches stay stored; re-running completes the import).
    """
    if media not in MEDIA_MODES:
        raise UsageError(f"unknown --media {media!r}: use one of {', '.join(MEDIA_MODES)}")
    if store is None and not dry_run:
        raise ValueError("a store is needed unless dry_run")
    export = await asyncio.to_thread(open_export, path)
    if export.layout is Layout.SINGLE:
        assert export.chat is not None
        if chat_from_head(export.chat) is None:
            raise UsageError(
                f"{export.path}: unsupported chat type {export.chat.type!r} or missing id",
                hint="export a single chat or the whole account from Telegram Desktop as JSON",
            )
    fetched_at: datetime = (clock or SystemClock()).now()
    placer = _MediaPlacer(export.folder, media, home, dry_run=dry_run)
    reader = _Reader(export, tz=tz, placer=placer, batch_size=batch_size)
    tally = _Tally()
    done = 0
    # Parse the next batch in a worker thread while the current one is being written.
    pending: asyncio.Future[_Batch | None] | None = asyncio.ensure_future(
        asyncio.to_thread(reader.next_batch)
    )
    try:
        while pending is not None:
            batch = await pending
            pending = None
            if batch is None:
                break
            pending = asyncio.ensure_future(asyncio.to_thread(reader.next_batch))
            tally.chats_and_skips(batch)
            if not dry_run:
                assert store is not None
                await _write(store, batch, tally, fetched_at=fetched_at, batch_size=batch_size)
            done += len(batch.messages)
            if progress is not None:
                progress(done, None)
    finally:
        if pending is not None:
            await asyncio.wait({pending})
            if not pending.cancelled():
                pending.exception()  # retrieved: the error that ended the loop is the one raised
        await asyncio.to_thread(reader.close)
    return tally.summary(media_missing=placer.missing, dry_run=dry_run, read=done)
