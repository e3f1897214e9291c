"""Where the store's write transactions run: one function per transaction, one hand-off.

A write transaction is a plain function of a SQLAlchemy :class:`~sqlalchemy.engine.
Connection` (users, chats, a batch of messages, the sync state — see
:meth:`tgpilot.store.Store.upsert_batch`). :func:`writer_for` picks how to run it:

- **SQLite file** (:class:`ThreadWriter`): one dedicated writer connection through the
  standard driver, opened on the first write and kept open for the store's life, used
  only from one worker thread. A whole transaction is one hand-off to that thread. The
  asyncio driver of SQLite runs every driver call (cursor, execute, close, BEGIN,
  COMMIT…) on its own thread and comes back through the event loop, about ten trips per
  batch, each waiting for the loop and the GIL while history pages stream in — enough
  to make the writer, not Telegram, the slow side of ``archive sync``.
- **MariaDB/MySQL, PostgreSQL, in-memory SQLite** (:class:`AsyncEngineWriter`): the
  same function on a connection of the async engine (``run_sync``); those drivers are
  asynchronous themselves (and an in-memory database has only the one connection).

Either way the transaction begins with ``BEGIN IMMEDIATE`` on SQLite (see
:mod:`tgpilot.store.engine`), commits when the function returns and rolls back when it
raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from tgpilot.store.engine import IMMEDIATE, create_sync_sqlite_engine
from tgpilot.store.urls import DatabaseURL

T = TypeVar("T")
Work = Callable[[Connection], T]


class Writer(Protocol):
    """Runs write transactions."""

    async def run(self, work: Work[T]) -> T:
        """Run ``work`` in one transaction (committed if it returns); its result."""
        ...

    async def close(self) -> None:
        """Release what the writer holds (after its last transaction)."""
        ...


class AsyncEngineWriter:
    """Transactions on connections of the async engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(**{IMMEDIATE: True})

    async def run(self, work: Work[T]) -> T:
        async with self._engine.begin() as connection:
            return await connection.run_sync(work)

    async def close(self) -> None:
        return None


class ThreadWriter:
    """Transactions on one SQLite connection owned by one worker thread."""

    def __init__(self, database: DatabaseURL) -> None:
        self._database = database
        self._executor: ThreadPoolExecutor | None = None
        self._engine: Engine | None = None
        self._immediate: Engine | None = None

    async def run(self, work: Work[T]) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="tgpilot-store-writer")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transaction, work)

    def _transaction(self, work: Work[T]) -> T:
        if self._immediate is None:
            self._engine = create_sync_sqlite_engine(self._database)
            self._immediate = self._engine.execution_options(**{IMMEDIATE: True})
        with self._immediate.begin() as connection:
            return work(connection)

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(executor, self._dispose)
        finally:
            executor.shutdown(wait=True)

    def _dispose(self) -> None:
        engine, self._engine, self._immediate = self._engine, None, None
        if engine is not None:
            engine.dispose()


def writer_for(database: DatabaseURL, engine: AsyncEngine) -> Writer:
    """The writer for ``database``: a thread of its own for a SQLite file, else the
    async engine."""
    if database.backend == "sqlite" and database.sqlite_path is not None:
        return ThreadWriter(database)
    return AsyncEngineWriter(engine)
