"""A lean, streaming read of a chat's messages for activity figures (``analyze``).

:func:`iter_activity` reads only the columns local analysis needs — no reactions
document, no forwards or views, no :class:`~tgpilot.models.Message` per row — in one
query whose result is streamed in batches, so memory stays flat and a million rows
cost one query. The next batch is read while the caller works on the current one.

On a SQLite file the query runs on a connection of its own through the standard
``sqlite3`` driver in a worker thread (the engine's async driver and result
processing cost more than the rest of a row's read); other backends (and an in-memory
SQLite) go through the engine with a server-side cursor where the driver has one.

Rows are plain tuples in :data:`COLUMNS` order (see :data:`ActivityRow`), with
``date`` an aware UTC datetime; :func:`row_sender` gives the sender a full read
(:meth:`~tgpilot.store.Store.iter_messages`) would have built for the same row.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select

from tgpilot.models import Sender
from tgpilot.store.failures import async_failures_as_store_error, store_error
from tgpilot.store.schema import messages, users
from tgpilot.store.types import as_utc

if TYPE_CHECKING:
    from tgpilot.store.store import Store

BATCH = 5000
"""Rows fetched at a time."""

ActivityRow = tuple[
    int,  # message_id
    datetime,  # date (aware UTC)
    int | None,  # sender_id
    str | None,  # sender_name
    str | None,  # first_name (users)
    str | None,  # last_name (users)
    str | None,  # username (users)
    Any,  # is_bot (users; truthy or None)
    Any,  # is_service (truthy)
    str,  # text
    int,  # reactions_total
    str | None,  # media_type
]
"""One stored message as activity figures read it, in :data:`COLUMNS` order."""

COLUMNS = (
    "message_id",
    "date",
    "sender_id",
    "sender_name",
    "first_name",
    "last_name",
    "username",
    "is_bot",
    "is_service",
    "text",
    "reactions_total",
    "media_type",
)
_SELECTED = (
    messages.c.message_id,
    messages.c.date,
    messages.c.sender_id,
    messages.c.sender_name,
    users.c.first_name,
    users.c.last_name,
    users.c.username,
    users.c.is_bot,
    messages.c.is_service,
    messages.c.text,
    messages.c.reactions_total,
    messages.c.media_type,
)
_SQLITE_QUERY = """
SELECT m.message_id, m.date, m.sender_id, m.sender_name, u.first_name, u.last_name,
       u.username, u.is_bot, m.is_service, m.text, m.reactions_total, m.media_type
FROM messages AS m LEFT OUTER JOIN users AS u ON u.id = m.sender_id
WHERE m.chat_id = ?{since}{until}
ORDER BY m.date {order}, m.message_id {order}
"""


def row_sender(row: ActivityRow) -> Sender | None:
    """The sender of ``row``, named as a full read names it: the message's sender name,
    else the stored user's first and last names; None when the row names no sender."""
    sender_id, name, first, last, username, is_bot = row[2:8]
    if sender_id is None and name is None:
        return None
    if name is None:
        name = " ".join(part for part in (first, last) if part)
    return Sender(id=sender_id, name=name, username=username, is_bot=bool(is_bot))


async def iter_activity(
    store: Store,
    chat_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    newest_first: bool = True,
    batch: int = BATCH,
) -> AsyncGenerator[Sequence[ActivityRow], None]:
    """Batches of the stored messages of ``chat_id`` with ``since <= date < until``,
    newest first unless ``newest_first=False`` (ties by message id the same way)."""
    path = _sqlite_file(store)
    source: AsyncGenerator[Sequence[ActivityRow], None]
    if path is not None:
        source = _read_sqlite(store, path, chat_id, since, until, newest_first, batch)
    else:
        source = _read_engine(store, chat_id, since, until, newest_first, batch)
    batches: asyncio.Queue[Sequence[ActivityRow] | Exception | None] = asyncio.Queue(maxsize=1)

    async def read() -> None:
        try:
            async for part in source:
                await batches.put(part)
        except Exception as exc:
            await batches.put(exc)
        else:
            await batches.put(None)
        finally:  # stopped early: the cursor and the connection close now
            await source.aclose()

    reader = asyncio.create_task(read())
    try:
        while (item := await batches.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


def _sqlite_file(store: Store) -> str | None:
    """The database file when the store is SQLite on a plain file path (else None)."""
    if store.backend != "sqlite":
        return None
    database = store.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


async def _read_sqlite(
    store: Store,
    path: str,
    chat_id: int,
    since: datetime | None,
    until: datetime | None,
    newest_first: bool,
    batch: int,
) -> AsyncGenerator[Sequence[ActivityRow], None]:
    to_database: Callable[[Any], Any] | None = messages.c.date.type.bind_processor(
        store.engine.dialect
    )
    bound = [to_database(when) if to_database else when for when in (since, until)]
    query = _SQLITE_QUERY.format(
        since=" AND m.date >= ?" if since is not None else "",
        until=" AND m.date < ?" if until is not None else "",
        order="DESC" if newest_first else "ASC",
    )
    params = [chat_id, *(value for value in bound if value is not None)]
    # One thread owns the connection: a fetch still running when the caller stops
    # is over before the connection closes.
    loop = asyncio.get_running_loop()
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tgpilot-activity")
    doing = "reading messages"
    connection: sqlite3.Connection | None = None
    try:
        connection = await loop.run_in_executor(
            worker, partial(sqlite3.connect, path, check_same_thread=False)
        )
        cursor = await loop.run_in_executor(worker, connection.execute, query, params)
        while part := await loop.run_in_executor(worker, _fetch, cursor, batch):
            yield part
    except sqlite3.Error as exc:
        raise store_error(store.url, exc, doing) from exc
    finally:
        if connection is not None:
            await loop.run_in_executor(worker, connection.close)
        worker.shutdown(wait=False)


def _fetch(cursor: sqlite3.Cursor, size: int) -> list[ActivityRow]:
    """The next rows, dates read as the store's column type reads them (naive UTC text
    to aware UTC)."""
    parse, utc = datetime.fromisoformat, UTC
    return [
        (a, parse(b).replace(tzinfo=utc), c, d, e, f, g, h, i, j, k, m)
        for a, b, c, d, e, f, g, h, i, j, k, m in cursor.fetchmany(size)
    ]


async def _read_engine(
    store: Store,
    chat_id: int,
    since: datetime | None,
    until: datetime | None,
    newest_first: bool,
    batch: int,
) -> AsyncGenerator[Sequence[ActivityRow], None]:
    order = (
        (messages.c.date.desc(), messages.c.message_id.desc())
        if newest_first
        else (messages.c.date.asc(), messages.c.message_id.asc())
    )
    statement = (
        select(*_SELECTED)
        .select_from(messages.outerjoin(users, users.c.id == messages.c.sender_id))
        .where(messages.c.chat_id == chat_id)
        .order_by(*order)
        .execution_options(yield_per=batch)
    )
    if since is not None:
        statement = statement.where(messages.c.date >= as_utc(since))
    if until is not None:
        statement = statement.where(messages.c.date < as_utc(until))
    async with (
        async_failures_as_store_error(store.url, "reading messages"),
        store.engine.connect() as connection,
    ):
        result = await connection.stream(statement)
        try:
            async for part in result.partitions():
                yield cast(Sequence[ActivityRow], part)
        finally:
            await result.close()
