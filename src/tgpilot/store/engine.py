"""Creating the async engine for a database URL, with each backend set up the same way.

SQLite: the file and its parent folders are created; every connection runs in WAL
mode with foreign keys on, a busy timeout and ``synchronous=NORMAL``; transactions are
begun by us (``BEGIN``, or ``BEGIN IMMEDIATE`` on the writer) so that a read-then-write
batch never dead-locks against another writer; a ``tgpilot_casefold`` SQL function
gives Unicode case folding. MariaDB/MySQL: utf8mb4, pre-ping and recycled connections.
PostgreSQL: pre-ping, and ``plan_cache_mode=force_custom_plan`` (generic plans of
the batch lookups go wrong on the stale statistics a bulk load leaves). JSON columns
are (de)serialised with orjson everywhere.

A SQLite file also gets a blocking engine of one connection through the standard
driver, set up the same way (:func:`create_sync_sqlite_engine`): the store's writer
thread (:mod:`tgpilot.store.writer`).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import create_engine as create_blocking_engine
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool, StaticPool

from tgpilot.store.urls import DatabaseURL

SQLITE_BUSY_TIMEOUT_MS = 10_000
IMMEDIATE = "tgpilot_immediate"
"""Execution option: on SQLite, begin the transaction with ``BEGIN IMMEDIATE``."""

CASEFOLD_FUNCTION = "tgpilot_casefold"
PG_CUSTOM_PLANS = "-c plan_cache_mode=force_custom_plan"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _casefold(value: object) -> str | None:
    return value.casefold() if isinstance(value, str) else None


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_sqlite_begin)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()
    dbapi_connection.create_function(CASEFOLD_FUNCTION, 1, _casefold, deterministic=True)


def _on_sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(database: DatabaseURL) -> AsyncEngine:
    """An engine for ``database`` (see the module docstring for per-backend setup)."""
    options: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if database.backend == "sqlite":
        path = database.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        else:
            options["poolclass"] = StaticPool  # one shared in-memory database
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        options["pool_pre_ping"] = True
        options["pool_recycle"] = 3600
    if database.backend == "postgresql":
        # Prepared statements, but planned with their values every time: a generic plan
        # made while the statistics are stale (right after a bulk load) can scan a
        # whole chat for every batch lookup.
        given = database.url.query.get("options")
        given_text = " ".join(given) if isinstance(given, tuple) else (given or "")
        options["connect_args"] = {"options": f"{given_text} {PG_CUSTOM_PLANS}".strip()}
    engine = create_async_engine(database.url, **options)
    if database.backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
    return engine


def create_sync_sqlite_engine(database: DatabaseURL) -> Engine:
    """A blocking engine of one pooled connection to ``database`` (a SQLite file) through
    the standard ``sqlite3`` driver, set up like :func:`create_engine`'s connections; for
    the one thread that writes (the connection is not shared between threads)."""
    if database.backend != "sqlite" or database.sqlite_path is None:
        raise ValueError("a blocking writer engine is for SQLite files only")
    engine = create_blocking_engine(
        database.url.set(drivername="sqlite+pysqlite"),
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=0,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine
