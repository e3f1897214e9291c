"""What ``tgpilot run`` remembers between connections and restarts.

``run_cursors``: per handler and chat, the newest message id handled — a cursor only
moves forward, so catching up after a reconnect or a restart hands each handler the
messages above it, once. ``run_handlers``: when each handler started and was last seen
alive; a restart within ``keep_start_s`` of the last heartbeat keeps the old start, so
messages that arrived while the process was down still count as "after the start".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tgpilot.store.repository import Repository
from tgpilot.store.schema import run_cursors, run_handlers
from tgpilot.store.types import as_utc
from tgpilot.store.upsert import upsert_statement
from tgpilot.store.urls import Backend

if TYPE_CHECKING:
    pass


async def advance_cursor(
    conn: AsyncConnection, backend: Backend, handler: str, chat_id: int, last_id: int, now: datetime
) -> None:
    """Move ``handler``'s cursor in ``chat_id`` to ``last_id`` unless it is already past it
    (inside the caller's transaction)."""
    where = (run_cursors.c.handler == handler) & (run_cursors.c.chat_id == chat_id)
    stored = (await conn.execute(select(run_cursors.c.last_id).where(where))).scalar()
    if stored is not None and int(stored) >= last_id:
        return
    row = {"handler": handler, "chat_id": chat_id, "last_id": last_id, "updated_at": as_utc(now)}
    await conn.execute(upsert_statement(backend, run_cursors), [row])


class RunStateRepository(Repository):
    """Reads and writes the ``tgpilot run`` tables of one open store."""

    async def cursors(self, handler: str) -> dict[int, int]:
        """``handler``'s cursors: chat id → newest message id handled."""
        statement = select(run_cursors.c.chat_id, run_cursors.c.last_id).where(
            run_cursors.c.handler == handler
        )
        async with self._guard("reading run cursors"), self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return {int(chat): int(last) for chat, last in rows}

    async def advance(self, handler: str, chat_id: int, last_id: int, now: datetime) -> None:
        """Move a cursor forward (never back)."""
        async with self._guard("saving a run cursor"), self._writer.begin() as conn:
            await advance_cursor(conn, self._backend, handler, chat_id, last_id, now)

    async def handler_start(self, name: str, now: datetime, keep_start_s: float) -> datetime:
        """When handler ``name`` counts as started: its previous start if it was alive
        within ``keep_start_s`` before ``now``, else ``now`` (recorded either way)."""
        where = run_handlers.c.name == name
        async with self._guard("recording a handler start"), self._writer.begin() as conn:
            row = (await conn.execute(select(run_handlers).where(where))).mappings().first()
            if row is not None and as_utc(row["alive_at"]) >= now - timedelta(seconds=keep_start_s):
                started = as_utc(row["started_at"])
            else:
                started = now
            values = {"name": name, "started_at": started, "alive_at": as_utc(now)}
            await conn.execute(upsert_statement(self._backend, run_handlers), [values])
        return started

    async def heartbeat(self, names: list[str], now: datetime) -> None:
        """Note that these handlers are alive at ``now``."""
        if not names:
            return
        statement = (
            update(run_handlers).where(run_handlers.c.name.in_(names)).values(alive_at=as_utc(now))
        )
        async with self._guard("recording a heartbeat"), self._writer.begin() as conn:
            await conn.execute(statement)
