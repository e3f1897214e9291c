"""The ``chats`` table: dialog rows upserted by ``db export-chats``, archive and import.

Rules (spec telegram-cli §3.3, scenario 22): an update never replaces a known value
with NULL, nor ``members_count``/``unread_count``/``last_message_at`` with 0; flags
not known (None) keep their stored value; an imported row only fills NULL columns of
a live one. Messages of a chat that has no row yet get a placeholder row (the
foreign key needs one) that a later upsert completes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from tgpilot.models import CHANNEL_ID_OFFSET, Chat, ChatType
from tgpilot.store.batches import Classified, Row, classify, last_by_key, merge_by_source
from tgpilot.store.records import SOURCE_LIVE, ChatRecord
from tgpilot.store.schema import TITLE_LENGTH, USERNAME_LENGTH, chats
from tgpilot.store.text import clip
from tgpilot.store.upsert import insert_missing_statement, upsert_statement
from tgpilot.store.urls import Backend

_FLAGS = ("is_verified", "is_restricted", "is_creator", "is_admin")
_NULLABLE = ("username", "members_count", "unread_count", "last_message_at", *_FLAGS)
_NEVER_ZERO = ("members_count", "unread_count", "last_message_at")
_COMPARED = (
    "raw_id",
    "type",
    "title",
    "username",
    "members_count",
    "unread_count",
    "last_message_at",
    *_FLAGS,
    "source",
)
_KEEP_ON_UPDATE = ("created_at",)


def chat_row(record: ChatRecord, now: datetime) -> Row:
    """The row for ``record``; unknown flags stay None until merged (False when new)."""
    return {
        "id": record.id,
        "raw_id": record.raw_id,
        "type": str(record.type),
        "title": clip(record.title, TITLE_LENGTH) or "",
        "username": clip(record.username, USERNAME_LENGTH),
        "members_count": record.members_count,
        "unread_count": record.unread_count,
        "last_message_at": record.last_message_at,
        "is_verified": record.is_verified,
        "is_restricted": record.is_restricted,
        "is_creator": record.is_creator,
        "is_admin": record.is_admin,
        "source": record.source,
        "created_at": now,
        "updated_at": now,
    }


def _merge(new: Row, old: Mapping[str, Any]) -> Row:
    return merge_by_source(new, old, _NULLABLE, zero=_NEVER_ZERO)


def _complete(row: Row, now: datetime) -> Row:
    for flag in _FLAGS:
        if row.get(flag) is None:
            row[flag] = False
    row["updated_at"] = now
    return row


def write_chats(
    connection: Connection, backend: Backend, records: Iterable[ChatRecord], now: datetime
) -> Classified:
    """Upsert ``records`` (one batch) on an open transaction: one SELECT, one upsert."""
    incoming = last_by_key((chat_row(r, now) for r in records), lambda row: int(row["id"]))
    if not incoming:
        return Classified()
    result = connection.execute(select(chats).where(chats.c.id.in_(list(incoming))))
    stored = {int(row.id): dict(row._mapping) for row in result}
    classified = classify(incoming, stored, _merge, _COMPARED)
    if classified.writes:
        rows = [_complete(row, now) for row in classified.writes]
        connection.execute(upsert_statement(backend, chats, _KEEP_ON_UPDATE), rows)
    return classified


def placeholder_chat(chat_id: int, source: str = SOURCE_LIVE) -> ChatRecord:
    """A minimal row for a chat known only by its marked id (kind guessed from the id)."""
    if chat_id > 0:
        return ChatRecord(chat_id, chat_id, ChatType.USER, "", source=source)
    if chat_id <= -CHANNEL_ID_OFFSET:
        return ChatRecord(
            chat_id, -chat_id - CHANNEL_ID_OFFSET, ChatType.CHANNEL, "", source=source
        )
    return ChatRecord(chat_id, -chat_id, ChatType.GROUP, "", source=source)


def ensure_chats(
    connection: Connection,
    backend: Backend,
    chat_ids: Iterable[int],
    source: str,
    now: datetime,
) -> None:
    """Give every chat in ``chat_ids`` a row, inserting placeholders for missing ones."""
    wanted = set(chat_ids)
    if not wanted:
        return
    result = connection.execute(select(chats.c.id).where(chats.c.id.in_(list(wanted))))
    missing = wanted - {int(chat_id) for chat_id in result.scalars()}
    if missing:
        rows = [_complete(chat_row(placeholder_chat(i, source), now), now) for i in missing]
        connection.execute(insert_missing_statement(backend, chats), rows)


def record_from_row(row: Mapping[Any, Any]) -> ChatRecord:
    return ChatRecord(
        id=int(row["id"]),
        raw_id=int(row["raw_id"]),
        type=ChatType(row["type"]),
        title=row["title"],
        username=row["username"],
        members_count=row["members_count"],
        unread_count=row["unread_count"],
        last_message_at=row["last_message_at"],
        is_verified=bool(row["is_verified"]),
        is_restricted=bool(row["is_restricted"]),
        is_creator=bool(row["is_creator"]),
        is_admin=bool(row["is_admin"]),
        source=row["source"],
    )


def chat_from_row(row: Mapping[Any, Any]) -> Chat:
    return Chat(
        id=int(row["id"]),
        raw_id=int(row["raw_id"]),
        type=ChatType(row["type"]),
        title=row["title"],
        username=row["username"],
    )
