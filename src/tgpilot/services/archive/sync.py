"""``archive sync``: bring each chat's history into the store, incrementally and resumably.

Per chat (spec telegram-cli §3.3):

1. **Catch up** — read from the newest message down to the newest one already stored,
   always re-reading at least the newest page (down to the ``since`` bound) so edits,
   reactions, views and reply counts of recent messages are updated. With nothing new
   that is one request.
2. **Backfill** — below the oldest stored message, down to the ``since`` bound (or the
   start of the chat), upserting in batches and committing ``oldest_id`` with every
   batch so a killed run resumes where it stopped. Reaching the start of the chat sets
   ``backfill_complete``. A backfill stopped by its bound is complete for that bound
   only, which the sync state has no column to hold: the next run looks below the
   oldest stored message again (one request, over at once when the first message it
   gets is older than that run's bound), so an earlier ``since`` goes on backfilling.

Upserts are idempotent (natural key ``(chat_id, message_id)``), so reruns write nothing;
each batch is written while the next one is read, its messages turned into rows as they
arrive (:class:`~tgpilot.store.messages.MessageBatch`).
A failing chat records ``last_error`` and the others go on.

**Media** (``--media TYPES``, the rules of ``export --media``): each message read with
media of a selected kind has its file downloaded as it arrives (the history page just
read holds what the download needs, so no extra request) into
``<data dir>/media/<chat id>/<msg id>_<safe name>.<ext>``; a file already there with
the message's size is kept. The row records the file's absolute path (``media_path``)
and size. Then stored messages of the selected kinds that still lack a file — synced
before, or whose download failed in an earlier run — are fetched by id (100 per
request) and downloaded the same way. A failed download is counted and warned about;
the message row is stored all the same (without a path), and the command exits 3.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from tgpilot.core.errors import TgpilotError
from tgpilot.models import Chat, Message
from tgpilot.services.export.media import MediaFetcher, MediaSelection, MediaTally
from tgpilot.store import BATCH_SIZE, ChatRecord, Store, SyncState, UpsertCounts
from tgpilot.store.messages import MessageBatch

REFRESH_WINDOW = 100
"""Catching up always re-reads this many newest messages: one history page."""

MEDIA_FOLDER = "media"
"""The data dir's folder of media files, one subfolder per chat id (``import --media
copy`` copies into the same folders)."""

LOOKUP_BATCH = 100
"""Messages fetched by id per request when stored media lack their file."""

GONE = "message gone"
"""Skip reason of a stored message Telegram no longer has."""


class SyncGateway(Protocol):
    """What sync needs of the Telegram gateway."""

    def history(
        self,
        chat: Chat,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        min_id: int = 0,
        offset_id: int = 0,
    ) -> AsyncIterator[Message]: ...

    async def get_messages(self, chat: Chat, ids: Sequence[int]) -> list[Message | None]: ...

    async def download_media(self, message: Message, path: Path) -> int: ...


@dataclass(frozen=True)
class SyncOptions:
    """How far back and how much per chat."""

    since: datetime | None = None
    """The backfill bound (UTC): older messages are not fetched."""
    limit_per_chat: int = 0
    """At most this many older messages per chat and run (0 = all); the backfill is
    complete only when a run reaches the start of the chat."""
    batch_size: int = BATCH_SIZE
    media: MediaSelection = field(default_factory=MediaSelection)
    """Which media files to download (none by default)."""
    media_root: Path | None = None
    """Where they go: ``<data dir>/media`` (required when ``media`` selects any kind)."""

    def __post_init__(self) -> None:
        if self.media.enabled and self.media_root is None:
            raise ValueError("downloading media needs a media_root")


@dataclass(frozen=True)
class ChatSyncResult:
    """What one chat's sync did."""

    chat: Chat
    counts: UpsertCounts
    stored: int
    error: str | None = None
    media: MediaTally | None = None
    """How the media downloads went (None: no ``--media``)."""

    @property
    def media_failed(self) -> int:
        return self.media.failed if self.media is not None else 0

    def describe(self) -> str:
        media = f"; {self.media.describe()}" if self.media is not None else ""
        if self.error:
            return f"{self.chat.title} ({self.chat.id}): failed: {self.error}{media}"
        return f"{self.chat.title} ({self.chat.id}): {self.counts.describe()}{media}"


Progress = Callable[[Chat, int], None]


class ArchiveSync:
    """Syncs chats from one gateway into one store."""

    def __init__(
        self,
        gateway: SyncGateway,
        store: Store,
        *,
        now: Callable[[], datetime],
        options: SyncOptions | None = None,
        progress: Progress | None = None,
        warn: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self._gateway = gateway
        self._store = store
        self._now = now
        self._options = options or SyncOptions()
        self._progress = progress
        self._warn = warn

    async def sync(self, chat: Chat, record: ChatRecord | None = None) -> ChatSyncResult:
        """Sync one chat; a failure is recorded in its sync state and returned, not raised."""
        await self._store.upsert_chats([record or ChatRecord.from_chat(chat)])
        state = await self._store.get_sync_state(chat.id) or SyncState(chat.id)
        batch = _Batch(self, chat, state)
        try:
            if state.newest_id is not None:
                await batch.catch_up(state.newest_id)
            if not state.backfill_complete:
                await batch.backfill()
            await batch.fetch_missing_media()
        except TgpilotError as exc:
            await batch.flush()
            await self._store.save_sync_state(
                replace(batch.state, last_run_at=self._now(), last_error=exc.message)
            )
            stored = await self._stored(chat)
            return ChatSyncResult(chat, batch.counts, stored, exc.message, batch.media_tally)
        await self._store.save_sync_state(
            replace(batch.state, last_run_at=self._now(), last_error=None)
        )
        stored = await self._stored(chat)
        counts = batch.counts
        untouched = stored - counts.inserted - counts.updated
        return ChatSyncResult(
            chat,
            UpsertCounts(counts.inserted, counts.updated, untouched),
            stored,
            media=batch.media_tally,
        )

    async def _stored(self, chat: Chat) -> int:
        return await self._store.count_messages(chat.id)


class _Batch:
    """The messages of one chat on their way to the store, and the state they advance."""

    def __init__(self, sync: ArchiveSync, chat: Chat, state: SyncState) -> None:
        self._sync = sync
        self._chat = chat
        self.state = state
        self.counts = UpsertCounts()
        self._pending = self._new_batch()
        self._writing: asyncio.Task[None] | None = None
        self._failed = False
        self._seen = 0
        options = sync._options
        self._media: MediaFetcher | None = None
        self._media_failed: set[int] = set()
        if options.media.enabled:
            assert options.media_root is not None
            self._media = MediaFetcher(
                options.media,
                options.media_root / str(chat.id),
                sync._gateway.download_media,
                warn=sync._warn,
            )

    @property
    def media_tally(self) -> MediaTally | None:
        return self._media.tally if self._media is not None else None

    async def catch_up(self, newest_stored: int) -> None:
        """Newest first down to the stored newest id, at least one page (never below
        the bound)."""
        since = self._sync._options.since
        read = 0
        async for message in self._sync._gateway.history(self._chat):
            if since is not None and message.date < since:
                break
            await self._add(message)
            read += 1
            if message.id <= newest_stored and read >= REFRESH_WINDOW:
                break
        await self.flush()

    async def backfill(self) -> None:
        """Below the oldest stored id down to the bound; saves progress every batch and
        marks the backfill complete when it reached the start of the chat."""
        options = self._sync._options
        since = options.since
        reached_bound = False
        async for message in self._sync._gateway.history(
            self._chat,
            limit=options.limit_per_chat or None,
            offset_id=self.state.oldest_id or 0,
        ):
            if since is not None and message.date < since:
                reached_bound = True
                break
            await self._add(message, backfilling=True)
        await self.flush(backfilling=True)
        if reached_bound:
            return
        if not options.limit_per_chat or self._seen < options.limit_per_chat:
            self.state = replace(self.state, backfill_complete=True)

    async def fetch_missing_media(self) -> None:
        """Download the files of stored messages of the selected kinds that have none
        (except those whose download failed in this run), newest first."""
        media = self._media
        if media is None:
            return
        await self.flush()
        sync, selection = self._sync, media.selection
        async for ids in sync._store.missing_media(
            self._chat.id, selection.kinds, selection.max_size
        ):
            wanted = [i for i in ids if i not in self._media_failed]
            for start in range(0, len(wanted), LOOKUP_BATCH):
                part = wanted[start : start + LOOKUP_BATCH]
                found = await sync._gateway.get_messages(self._chat, part)
                for message in found:
                    if message is None:
                        media.tally.skipped[GONE] += 1
                    else:
                        await self._add(message)
        await self.flush()

    def _new_batch(self) -> MessageBatch:
        return self._sync._store.message_batch(fetched_at=self._sync._now())

    async def _with_media(self, message: Message) -> Message:
        """``message`` with the path and size of its downloaded media file (unchanged
        when the file is skipped or its download failed)."""
        assert self._media is not None
        failed = self._media.tally.failed
        fetched = await self._media.fetch(message)
        if fetched is None:
            if self._media.tally.failed > failed:
                self._media_failed.add(message.id)
            return message
        return replace(message, media_path=str(fetched.path.absolute()), media_size=fetched.size)

    async def _add(self, message: Message, *, backfilling: bool = False) -> None:
        if self._media is not None and message.media_type is not None:
            message = await self._with_media(message)
        self._pending.add(message)
        if backfilling:
            self._seen += 1
        if len(self._pending) >= self._sync._options.batch_size:
            await self._hand_off(backfilling)

    async def _hand_off(self, backfilling: bool) -> None:
        """Start writing the pending batch while the next one is read (one write in
        flight at a time, so state is saved in order). After a failed write nothing
        more is written, so the saved progress leaves no gap."""
        await self._drain()
        if self._pending and not self._failed:
            pending, self._pending = self._pending, self._new_batch()
            self._writing = asyncio.create_task(self._write(pending, backfilling))

    async def _drain(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing

    async def flush(self, *, backfilling: bool = False) -> None:
        """Write everything still pending and wait for it."""
        await self._hand_off(backfilling)
        await self._drain()

    async def _write(self, batch: MessageBatch, backfilling: bool) -> None:
        try:
            await self._upsert(batch, backfilling)
        except BaseException:
            self._failed = True
            raise

    async def _upsert(self, batch: MessageBatch, backfilling: bool) -> None:
        """Upsert one batch and move the sync state past it (a backfill batch commits
        its progress in the same transaction)."""
        sync = self._sync
        ids = batch.message_ids
        known = self.state
        newest = max([*ids, known.newest_id or 0])
        oldest = known.oldest_id
        if backfilling or oldest is None:
            oldest = min([*ids, oldest]) if oldest is not None else min(ids)
        state = replace(known, newest_id=newest, oldest_id=oldest)
        self.counts += await sync._store.upsert_batch(
            batch, sync_state=state if backfilling else None
        )
        self.state = state
        if sync._progress is not None:
            sync._progress(self._chat, len(batch))
