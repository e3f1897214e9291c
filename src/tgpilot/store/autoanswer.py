"""The auto-responder's tables: replies (as intents), drafts and per-chat pauses.

A reply row is written **before** anything is sent, in the same transaction that moves
the responder's cursor past the messages it answers; it then moves through
``intent`` → ``streaming`` (placeholder sent) → ``sent``, or ends ``failed``
(nothing delivered) or ``abandoned`` (cleaned up after a crash). So a message is
either waiting in the cursor's future or owned by exactly one reply row — never
answered twice, even across ``kill -9``. The cooldown and hourly caps are counted
from these rows. Drafts move ``pending`` → ``approved``/``rejected``/``expired``;
an approved draft is claimed (``sending``) by exactly one sender, then ``sent`` or
``failed``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tgpilot.store.repository import Repository
from tgpilot.store.run_state import advance_cursor
from tgpilot.store.schema import (
    ERROR_LENGTH,
    TITLE_LENGTH,
    autoanswer_chats,
    autoanswer_drafts,
    autoanswer_replies,
)
from tgpilot.store.text import clip
from tgpilot.store.types import as_utc
from tgpilot.store.upsert import upsert_statement

if TYPE_CHECKING:
    pass

ReplyKind = Literal["reply", "away", "draft"]
ReplyState = Literal["intent", "streaming", "sent", "drafted", "failed", "abandoned"]
DraftStatus = Literal["pending", "approved", "sending", "sent", "rejected", "expired", "failed"]

UNFINISHED: tuple[ReplyState, ...] = ("intent", "streaming")
"""Reply states a crash can leave behind."""


@dataclass(frozen=True)
class ReplyRecord:
    """One ``autoanswer_replies`` row."""

    id: int
    chat_id: int
    kind: ReplyKind
    source_ids: tuple[int, ...]
    reply_to_id: int
    state: ReplyState
    placeholder_id: int | None
    reply_ids: tuple[int, ...]
    chars: int
    created_at: datetime
    updated_at: datetime
    error: str | None


@dataclass(frozen=True)
class DraftRecord:
    """One ``autoanswer_drafts`` row."""

    id: int
    chat_id: int
    chat_title: str
    reply_to_id: int
    source_ids: tuple[int, ...]
    text: str
    status: DraftStatus
    notice_id: int | None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    sent_at: datetime | None
    sent_ids: tuple[int, ...]
    error: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "chat_id": self.chat_id,
            "chat_title": self.chat_title,
            "reply_to_id": self.reply_to_id,
            "source_ids": list(self.source_ids),
            "text": self.text,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "sent_ids": list(self.sent_ids),
            "error": self.error,
        }


def _ids(value: object) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, list) else ()


def _reply(row: Mapping[Any, Any]) -> ReplyRecord:
    return ReplyRecord(
        id=int(row["id"]),
        chat_id=int(row["chat_id"]),
        kind=row["kind"],
        source_ids=_ids(row["source_ids"]),
        reply_to_id=int(row["reply_to_id"]),
        state=row["state"],
        placeholder_id=row["placeholder_id"],
        reply_ids=_ids(row["reply_ids"]),
        chars=int(row["chars"]),
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        error=row["error"],
    )


def _draft(row: Mapping[Any, Any]) -> DraftRecord:
    return DraftRecord(
        id=int(row["id"]),
        chat_id=int(row["chat_id"]),
        chat_title=row["chat_title"],
        reply_to_id=int(row["reply_to_id"]),
        source_ids=_ids(row["source_ids"]),
        text=row["text"],
        status=row["status"],
        notice_id=row["notice_id"],
        created_at=as_utc(row["created_at"]),
        expires_at=as_utc(row["expires_at"]),
        decided_at=as_utc(row["decided_at"]) if row["decided_at"] else None,
        sent_at=as_utc(row["sent_at"]) if row["sent_at"] else None,
        sent_ids=_ids(row["sent_ids"]),
        error=row["error"],
    )


@dataclass(frozen=True)
class CursorMove:
    """The responder's cursor moved in the transaction that records a reply."""

    handler: str
    chat_id: int
    last_id: int


class AutoanswerRepository(Repository):
    """Reads and writes the auto-responder tables of one open store."""

    # ----------------------------------------------------------------- replies

    async def start_reply(
        self,
        chat_id: int,
        kind: ReplyKind,
        source_ids: Sequence[int],
        reply_to_id: int,
        now: datetime,
        *,
        cursor: CursorMove | None = None,
    ) -> int:
        """Record the intent to answer ``source_ids`` (and move the cursor past them, in
        the same transaction); returns the row id."""
        values = {
            "chat_id": chat_id,
            "kind": kind,
            "source_ids": list(source_ids),
            "reply_to_id": reply_to_id,
            "state": "intent",
            "placeholder_id": None,
            "reply_ids": [],
            "chars": 0,
            "created_at": as_utc(now),
            "updated_at": as_utc(now),
            "error": None,
        }
        async with self._guard("recording a reply"), self._writer.begin() as conn:
            result = await conn.execute(insert(autoanswer_replies).values(values))
            if cursor is not None:
                await advance_cursor(
                    conn, self._backend, cursor.handler, cursor.chat_id, cursor.last_id, now
                )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    async def update_reply(
        self,
        reply_id: int,
        now: datetime,
        *,
        state: ReplyState | None = None,
        placeholder_id: int | None = None,
        reply_ids: Sequence[int] | None = None,
        chars: int | None = None,
        error: str | None = None,
    ) -> None:
        """Change a reply row (only the values given)."""
        values: dict[str, Any] = {"updated_at": as_utc(now)}
        if state is not None:
            values["state"] = state
        if placeholder_id is not None:
            values["placeholder_id"] = placeholder_id
        if reply_ids is not None:
            values["reply_ids"] = list(reply_ids)
        if chars is not None:
            values["chars"] = chars
        if error is not None:
            values["error"] = clip(error, ERROR_LENGTH)
        statement = update(autoanswer_replies).where(autoanswer_replies.c.id == reply_id)
        async with self._guard("updating a reply"), self._writer.begin() as conn:
            await conn.execute(statement.values(values))

    async def replies_since(self, since: datetime) -> list[ReplyRecord]:
        """Reply rows created at or after ``since``, oldest first."""
        statement = (
            select(autoanswer_replies)
            .where(autoanswer_replies.c.created_at >= as_utc(since))
            .order_by(autoanswer_replies.c.created_at, autoanswer_replies.c.id)
        )
        return await self._replies(statement)

    async def unfinished_replies(self) -> list[ReplyRecord]:
        """Replies a crash left in flight (``intent`` or ``streaming``), oldest first."""
        statement = (
            select(autoanswer_replies)
            .where(autoanswer_replies.c.state.in_(UNFINISHED))
            .order_by(autoanswer_replies.c.id)
        )
        return await self._replies(statement)

    async def _replies(self, statement: Any) -> list[ReplyRecord]:
        async with self._guard("reading replies"), self._engine.connect() as conn:
            return [_reply(row) for row in (await conn.execute(statement)).mappings()]

    # ----------------------------------------------------------------- pauses

    async def pauses(self, now: datetime) -> dict[int, datetime]:
        """Chats paused beyond ``now``: chat id → paused until."""
        statement = select(autoanswer_chats).where(autoanswer_chats.c.paused_until > as_utc(now))
        async with self._guard("reading pauses"), self._engine.connect() as conn:
            rows = (await conn.execute(statement)).mappings().all()
        return {int(row["chat_id"]): as_utc(row["paused_until"]) for row in rows}

    async def pause(self, chat_id: int, until: datetime, now: datetime) -> None:
        """Keep the responder silent in ``chat_id`` until ``until``."""
        row = {"chat_id": chat_id, "paused_until": as_utc(until), "updated_at": as_utc(now)}
        async with self._guard("pausing a chat"), self._writer.begin() as conn:
            await conn.execute(upsert_statement(self._backend, autoanswer_chats), [row])

    # ----------------------------------------------------------------- drafts

    async def add_draft(
        self,
        *,
        chat_id: int,
        chat_title: str,
        reply_to_id: int,
        source_ids: Sequence[int],
        text: str,
        now: datetime,
        expires_at: datetime,
    ) -> int:
        """Store a pending draft; returns its id."""
        values = {
            "chat_id": chat_id,
            "chat_title": clip(chat_title, TITLE_LENGTH) or "",
            "reply_to_id": reply_to_id,
            "source_ids": list(source_ids),
            "text": text,
            "status": "pending",
            "notice_id": None,
            "created_at": as_utc(now),
            "expires_at": as_utc(expires_at),
            "decided_at": None,
            "sent_at": None,
            "sent_ids": [],
            "error": None,
        }
        async with self._guard("storing a draft"), self._writer.begin() as conn:
            result = await conn.execute(insert(autoanswer_drafts).values(values))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    async def set_draft_notice(self, draft_id: int, notice_id: int) -> None:
        """Remember the Saved Messages notification of a draft."""
        statement = (
            update(autoanswer_drafts)
            .where(autoanswer_drafts.c.id == draft_id)
            .values(notice_id=notice_id)
        )
        async with self._guard("updating a draft"), self._writer.begin() as conn:
            await conn.execute(statement)

    async def drafts(self, statuses: Sequence[DraftStatus] = ()) -> list[DraftRecord]:
        """Drafts (with one of ``statuses``, if given), oldest first."""
        statement = select(autoanswer_drafts).order_by(autoanswer_drafts.c.id)
        if statuses:
            statement = statement.where(autoanswer_drafts.c.status.in_(list(statuses)))
        async with self._guard("reading drafts"), self._engine.connect() as conn:
            return [_draft(row) for row in (await conn.execute(statement)).mappings()]

    async def draft(self, draft_id: int) -> DraftRecord | None:
        """One draft, or None."""
        statement = select(autoanswer_drafts).where(autoanswer_drafts.c.id == draft_id)
        async with self._guard("reading a draft"), self._engine.connect() as conn:
            row = (await conn.execute(statement)).mappings().first()
        return _draft(row) if row is not None else None

    async def move_draft(
        self,
        draft_id: int,
        expected: Sequence[DraftStatus],
        status: DraftStatus,
        now: datetime,
        **values: Any,
    ) -> bool:
        """Set a draft's status (and other columns) only if it is in an ``expected``
        status — a compare-and-set, so two senders can never both claim one draft."""
        changes = {"status": status, **values}
        if "error" in changes:
            changes["error"] = clip(changes["error"], ERROR_LENGTH)
        if status in ("approved", "rejected") and "decided_at" not in changes:
            changes["decided_at"] = as_utc(now)
        statement = (
            update(autoanswer_drafts)
            .where(autoanswer_drafts.c.id == draft_id)
            .where(autoanswer_drafts.c.status.in_(list(expected)))
            .values(changes)
        )
        async with self._guard("updating a draft"), self._writer.begin() as conn:
            return await _changed(conn, statement)

    async def expire_drafts(self, now: datetime) -> int:
        """Mark pending drafts past their expiry ``expired``; returns how many."""
        statement = (
            update(autoanswer_drafts)
            .where(autoanswer_drafts.c.status == "pending")
            .where(autoanswer_drafts.c.expires_at <= as_utc(now))
            .values(status="expired", decided_at=as_utc(now))
        )
        async with self._guard("expiring drafts"), self._writer.begin() as conn:
            result = await conn.execute(statement)
            return int(result.rowcount or 0)


async def _changed(conn: AsyncConnection, statement: Any) -> bool:
    result = await conn.execute(statement)
    return bool(result.rowcount)
