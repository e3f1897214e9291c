"""Which archived messages changed since a moment (for incremental re-indexing).

A message row is rewritten only when something in it changed — an edit, reactions,
counts — and then gets the writer's ``fetched_at`` (see :mod:`tgpilot.store.messages`).
So the newest ``fetched_at`` of a chat is a *change mark*: rows written after a mark are
exactly the ones that are new or changed since. ``rag index`` keeps the mark of its
last run per chat and re-chunks only around the changed messages. The mark is read
before the messages, and rows are taken up to it, so a row written during a run is
taken by the next one — unless a writer commits late a row stamped at or before the
mark already read (a sync started earlier still running); such an edit waits until the
message is written again.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from tgpilot.store.repository import Repository
from tgpilot.store.schema import messages
from tgpilot.store.types import as_utc

if TYPE_CHECKING:
    pass


class MessageChanges(Repository):
    """Change marks and changed messages of one open store."""

    async def mark(self, chat_id: int) -> datetime | None:
        """The newest ``fetched_at`` of the chat's messages (None: none stored)."""
        statement = select(func.max(messages.c.fetched_at)).where(messages.c.chat_id == chat_id)
        async with self._guard("reading a change mark"), self._engine.connect() as conn:
            value = (await conn.execute(statement)).scalar()
        return as_utc(value) if value is not None else None

    async def changed(
        self, chat_id: int, *, after: datetime, upto: datetime, below_id: int
    ) -> list[tuple[int, datetime]]:
        """``(message id, date)`` of the chat's messages with an id below ``below_id``
        written after ``after`` and at or before ``upto``, oldest first."""
        statement = (
            select(messages.c.message_id, messages.c.date)
            .where(
                (messages.c.chat_id == chat_id)
                & (messages.c.message_id < below_id)
                & (messages.c.fetched_at > as_utc(after))
                & (messages.c.fetched_at <= as_utc(upto))
            )
            .order_by(messages.c.date, messages.c.message_id)
        )
        async with self._guard("reading changed messages"), self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return [(int(message_id), as_utc(date)) for message_id, date in rows]
