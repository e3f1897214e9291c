"""The store: tgpilot's one database (SQLite by default, MariaDB/MySQL or PostgreSQL by URL).

:class:`Store` is the only entry point the services use. It opens an async engine
for the configured URL (see :mod:`tgpilot.store.urls`), migrates the schema to the
head revision on first use, and offers typed, batched, idempotent operations on
chats, messages, users and sync state, streaming reads and full-text search. Every
database failure surfaces as :class:`~tgpilot.core.errors.StoreError` naming the URL
with its password masked.

Times go in as aware datetimes (naive ones are taken as UTC) and come back aware UTC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import Self

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tgpilot.core.clock import Clock, SystemClock
from tgpilot.models import Chat, Message
from tgpilot.store import chats as chat_rows
from tgpilot.store import messages as message_rows
from tgpilot.store import search as archive_search
from tgpilot.store import sync_state as sync_rows
from tgpilot.store import users as user_rows
from tgpilot.store.batches import chunked
from tgpilot.store.engine import create_engine
from tgpilot.store.failures import async_failures_as_store_error
from tgpilot.store.messages import MessageBatch
from tgpilot.store.migrate import schema_revision, upgrade_schema
from tgpilot.store.records import (
    SOURCE_LIVE,
    ChatRecord,
    SearchHit,
    SyncState,
    UpsertCounts,
    UserRecord,
)
from tgpilot.store.schema import MESSAGES_FTS, chats, users
from tgpilot.store.types import as_utc
from tgpilot.store.urls import Backend, DatabaseURL, database_url
from tgpilot.store.writer import writer_for

BATCH_SIZE = 1000
"""Rows per transaction of an upsert (DESIGN "Performance habits")."""

BatchDone = Callable[[UpsertCounts], None]
"""Called after each committed batch of an upsert with that batch's counts."""


class Store:
    """tgpilot's database. Open with :meth:`open` (or ``async with await Store.open(...)``)."""

    def __init__(self, database: DatabaseURL, engine: AsyncEngine, clock: Clock) -> None:
        self._database = database
        self._engine = engine
        self._writer = writer_for(database, engine)
        self._clock = clock
        self._chats_with_rows: set[int] = set()
        self._senders_stored: dict[int, UserRecord] = {}
        self._fulltext_rules: archive_search.FulltextRules | None = None

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True, clock: Clock | None = None) -> Store:
        """Connect to ``url`` (plain or with a driver) and, with ``migrate``, bring the
        schema to the head revision. A SQLite file and its folders are created."""
        database = database_url(url)
        async with async_failures_as_store_error(url, "opening"):
            engine = create_engine(database)
            try:
                if migrate:
                    await upgrade_schema(engine)
                else:
                    async with engine.connect():
                        pass
            except BaseException:
                await engine.dispose()
                raise
        return cls(database, engine, clock or SystemClock())

    async def close(self) -> None:
        """Close every pooled connection (and the writer's)."""
        async with self._guard("closing"):
            try:
                await self._writer.close()
            finally:
                await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """The configured URL with its password masked."""
        return self._database.masked

    @property
    def backend(self) -> Backend:
        """``sqlite``, ``mysql`` (MariaDB too) or ``postgresql``."""
        return self._database.backend

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine (for tests, benchmarks and tables of other areas)."""
        return self._engine

    def _guard(self, doing: str) -> AbstractAsyncContextManager[None]:
        return async_failures_as_store_error(self._database.configured, doing)

    def _now(self) -> datetime:
        return as_utc(self._clock.now())

    # ----------------------------------------------------------------- schema

    async def upgrade(self) -> tuple[str | None, str]:
        """``db upgrade``: migrate to head; ``(from_revision, to_revision)``."""
        async with self._guard("upgrading the schema"):
            return (await upgrade_schema(self._engine)).as_tuple()

    async def revision(self) -> str | None:
        """The schema revision of the database (None if never migrated)."""
        async with self._guard("reading the schema revision"):
            return await schema_revision(self._engine)

    async def rebuild_search_index(self) -> None:
        """Rebuild SQLite's FTS5 index from ``messages`` (e.g. after a VACUUM renumbered
        rowids); the other backends keep their index inside the table, nothing to do."""
        if self.backend != "sqlite":
            return
        rebuild = text(f"INSERT INTO {MESSAGES_FTS}({MESSAGES_FTS}) VALUES ('rebuild')")
        async with self._guard("rebuilding the search index"):
            await self._writer.run(lambda conn: conn.execute(rebuild))

    # ----------------------------------------------------------------- chats and users

    async def upsert_chats(
        self, records: Sequence[ChatRecord], *, batch_size: int = BATCH_SIZE
    ) -> UpsertCounts:
        """Insert or update chats; an update never replaces a known value with NULL
        (nor counts and last message time with 0). ``unchanged`` when nothing differs."""
        total = UpsertCounts()
        backend = self.backend
        async with self._guard("upserting chats"):
            for batch in chunked(records, batch_size):
                now = self._now()
                done = await self._writer.run(
                    partial(chat_rows.write_chats, backend=backend, records=batch, now=now)
                )
                self._chats_with_rows.update(r.id for r in batch)
                total += done.counts
        return total

    async def upsert_users(
        self, records: Sequence[UserRecord], *, batch_size: int = BATCH_SIZE
    ) -> UpsertCounts:
        """Insert or update users; a None never replaces a stored username or name."""
        total = UpsertCounts()
        backend = self.backend
        async with self._guard("upserting users"):
            for batch in chunked(records, batch_size):
                for record in batch:
                    self._senders_stored.pop(record.id, None)
                now = self._now()
                done = await self._writer.run(
                    partial(user_rows.write_users, backend=backend, records=batch, now=now)
                )
                total += done.counts
        return total

    async def chat(self, chat_id: int) -> Chat | None:
        """The stored chat with this marked id, or None."""
        record = await self.chat_record(chat_id)
        return record.to_chat() if record is not None else None

    async def chat_record(self, chat_id: int) -> ChatRecord | None:
        """The stored chat row with counts and flags, or None."""
        async with self._guard("reading a chat"), self._engine.connect() as conn:
            result = await conn.execute(select(chats).where(chats.c.id == chat_id))
            row = result.mappings().first()
        return chat_rows.record_from_row(row) if row is not None else None

    async def known_chats(self) -> list[Chat]:
        """Every stored chat, by title then id."""
        async with self._guard("listing chats"), self._engine.connect() as conn:
            result = await conn.execute(select(chats).order_by(chats.c.title, chats.c.id))
            return [chat_rows.chat_from_row(row) for row in result.mappings()]

    async def user(self, user_id: int) -> UserRecord | None:
        """The stored user (or sender) with this id, or None."""
        async with self._guard("reading a user"), self._engine.connect() as conn:
            result = await conn.execute(select(users).where(users.c.id == user_id))
            row = result.mappings().first()
        return user_rows.user_from_row(row) if row is not None else None

    # ----------------------------------------------------------------- messages

    def message_batch(self, *, fetched_at: datetime, source: str = SOURCE_LIVE) -> MessageBatch:
        """An empty batch for :meth:`upsert_batch`: messages added to it become rows at
        once (``source="import"`` rows only fill NULL columns of live rows)."""
        return MessageBatch(source=source, fetched_at=fetched_at)

    async def upsert_messages(
        self,
        messages: Sequence[Message],
        *,
        source: str = SOURCE_LIVE,
        fetched_at: datetime,
        media_paths: Mapping[tuple[int, int], str] | None = None,
        batch_size: int = BATCH_SIZE,
        on_batch: BatchDone | None = None,
    ) -> UpsertCounts:
        """Insert or update messages in transactions of ``batch_size`` rows (see
        :meth:`upsert_batch`). ``media_paths`` maps ``(chat_id, message_id)`` to a
        stored media file. Each committed batch is reported to ``on_batch``; a failure
        leaves earlier batches stored and raises StoreError."""
        message_rows.check_source(source)
        paths = media_paths or {}
        total = UpsertCounts()
        for part in chunked(messages, batch_size):
            batch = self.message_batch(fetched_at=fetched_at, source=source)
            for message in part:
                batch.add(message, paths.get((message.chat_id, message.id)) if paths else None)
            done = await self.upsert_batch(batch)
            total += done
            if on_batch is not None:
                on_batch(done)
        return total

    async def upsert_batch(
        self, batch: MessageBatch, *, sync_state: SyncState | None = None
    ) -> UpsertCounts:
        """Insert or update the messages of ``batch`` in one transaction.

        One SELECT of the stored rows, then one bulk upsert of the new and changed
        rows (on SQLite, a batch of new messages is a single insert), plus their
        senders into ``users`` unless this store already wrote them as given, and
        placeholder rows for unknown chats. Re-running a batch writes nothing and
        counts it all ``unchanged``. ``sync_state`` is saved in the same transaction,
        so the progress it records is committed with the messages (or not at all).
        """
        now = self._now()
        backend = self.backend
        chat_ids = batch.chat_ids
        senders = [s for s in batch.senders() if self._senders_stored.get(s.id) != s]
        unknown = chat_ids - self._chats_with_rows

        def transaction(conn: Connection) -> UpsertCounts:
            if senders:
                user_rows.write_users(conn, backend, senders, now)
            if unknown:
                chat_rows.ensure_chats(conn, backend, unknown, batch.source, now)
            done = message_rows.write_messages(conn, backend, batch)
            if sync_state is not None:
                sync_rows.write_sync_state(conn, backend, sync_state)
            return done

        async with self._guard("upserting messages"):
            done = await self._writer.run(transaction)
        self._chats_with_rows |= chat_ids
        self._senders_stored.update((s.id, s) for s in senders)
        return done

    async def iter_messages(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> AsyncIterator[Message]:
        """Stored messages of a chat with ``since <= date < until``, at most ``limit``
        (None or 0: all), newest first unless ``newest_first=False``; streamed in
        chunks."""
        async with self._guard("reading messages"):
            async for message in message_rows.iter_messages(
                self._engine,
                chat_id,
                since=since,
                until=until,
                limit=limit,
                newest_first=newest_first,
            ):
                yield message

    async def missing_media(
        self, chat_id: int, kinds: Iterable[str], max_size: int
    ) -> AsyncIterator[list[int]]:
        """Ids of stored messages of a chat whose media (of ``kinds``, at most
        ``max_size`` bytes or of unknown size) has no stored file, newest first, in
        lists of up to 1000."""
        async with self._guard("reading messages"):
            async for ids in message_rows.iter_missing_media(
                self._engine, chat_id, kinds, max_size
            ):
                yield ids

    async def count_messages(self, chat_id: int) -> int:
        """How many messages of this chat are stored."""
        async with self._guard("counting messages"), self._engine.connect() as conn:
            return await message_rows.count_messages(conn, chat_id)

    # ----------------------------------------------------------------- sync state

    async def get_sync_state(self, chat_id: int) -> SyncState | None:
        """Where ``archive sync`` stands in this chat, or None before its first run."""
        async with self._guard("reading sync state"), self._engine.connect() as conn:
            return await sync_rows.read_sync_state(conn, chat_id)

    async def save_sync_state(self, state: SyncState) -> None:
        """Store ``state`` (replacing the chat's previous one)."""
        backend = self.backend
        async with self._guard("saving sync state"):
            await self._writer.run(
                partial(sync_rows.write_sync_state, backend=backend, state=state)
            )

    # ----------------------------------------------------------------- search

    async def search(
        self,
        query: str,
        *,
        chat_ids: Sequence[int] | None = None,
        sender: int | str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[SearchHit]:
        """``search --archive``: portable query (words ANDed, ``"phrase"``, ``-word``)
        over stored messages, by relevance then date (newest first). An empty or
        only-excluding query raises UsageError. ``sender``: id, ``@username`` or a
        part of the name or username (case-folded)."""
        parsed = archive_search.parse_query(query)
        if limit < 0:
            raise ValueError("limit must be 0 (all) or more")
        filters = archive_search.SearchFilters(chat_ids, sender, since, until, limit)
        async with self._guard("searching messages"):
            rules = await self._rules() if self.backend == "mysql" else None
            statement = archive_search.search_statement(self.backend, parsed, filters, rules)
            async with self._engine.connect() as conn:
                result = await conn.execute(statement)
                return [archive_search.hit_from_row(row) for row in result]

    async def _rules(self) -> archive_search.FulltextRules:
        """InnoDB's full-text token size and stop words, read once (defaults on failure)."""
        if self._fulltext_rules is None:
            rules = archive_search.FulltextRules()
            try:
                async with self._engine.connect() as conn:
                    size = (await conn.execute(text("SELECT @@innodb_ft_min_token_size"))).scalar()
                    enabled = (
                        await conn.execute(text("SELECT @@innodb_ft_enable_stopword"))
                    ).scalar()
                    words: frozenset[str] = frozenset()
                    if enabled:
                        words = frozenset(
                            str(w).lower()
                            for w in (
                                await conn.execute(
                                    text(
                                        "SELECT value FROM "
                                        "information_schema.INNODB_FT_DEFAULT_STOPWORD"
                                    )
                                )
                            ).scalars()
                        )
                rules = archive_search.FulltextRules(int(size or 0) or rules.min_token_size, words)
            except SQLAlchemyError:
                pass
            self._fulltext_rules = rules
        return self._fulltext_rules


async def upgrade_database(url: str) -> tuple[str | None, str]:
    """``db upgrade``: migrate the database at ``url`` to head; ``(from, to)`` revisions."""
    store = await Store.open(url, migrate=False)
    try:
        return await store.upgrade()
    finally:
        await store.close()
