"""The ``sync_state`` table: per chat, how far ``archive sync`` has got."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from tgpilot.store.records import SyncState
from tgpilot.store.schema import ERROR_LENGTH, sync_state
from tgpilot.store.text import clip
from tgpilot.store.types import as_utc
from tgpilot.store.upsert import upsert_statement
from tgpilot.store.urls import Backend


def state_from_row(row: Mapping[Any, Any]) -> SyncState:
    return SyncState(
        chat_id=int(row["chat_id"]),
        newest_id=row["newest_id"],
        oldest_id=row["oldest_id"],
        backfill_complete=bool(row["backfill_complete"]),
        last_run_at=row["last_run_at"],
        last_error=row["last_error"],
    )


async def read_sync_state(connection: AsyncConnection, chat_id: int) -> SyncState | None:
    result = await connection.execute(select(sync_state).where(sync_state.c.chat_id == chat_id))
    row = result.mappings().first()
    return state_from_row(row) if row is not None else None


def write_sync_state(connection: Connection, backend: Backend, state: SyncState) -> None:
    """Store ``state`` as given (every column replaced)."""
    row = {
        "chat_id": state.chat_id,
        "newest_id": state.newest_id,
        "oldest_id": state.oldest_id,
        "backfill_complete": bool(state.backfill_complete),
        "last_run_at": as_utc(state.last_run_at) if state.last_run_at is not None else None,
        "last_error": clip(state.last_error, ERROR_LENGTH),
    }
    connection.execute(upsert_statement(backend, sync_state), [row])
