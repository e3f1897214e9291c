"""The ``messages`` table: batched idempotent upserts and streaming reads.

Writing (``archive sync``, ``import``): a batch of ~1000 messages is one transaction
with one SELECT of the stored rows, then one bulk upsert of the new and changed rows
(:class:`~tgpilot.store.batches.BulkInsert`) — never a statement per row; on SQLite a
batch of new messages is a single insert (:func:`write_messages`). The senders
go to ``users`` and a chat without a row gets a placeholder (foreign key). A live row
takes edits, reactions, views, forwards and reply counts; a None never erases a known
value; an imported row only fills NULL columns of a live one. Rows whose stored values
already match are not written at all (``fetched_at`` is not compared). ``media_path``
is the absolute path of a local copy of the media file (``archive sync --media``,
``import --media link|copy``); read back, it is :attr:`Message.media_path
<tgpilot.models.Message.media_path>`.

Reading: :func:`iter_messages` pages through a chat by keyset ``(date, message_id)``
in chunks, so memory stays flat and no connection is held between chunks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from tgpilot.models import Message, Reaction, Sender
from tgpilot.store.batches import (
    BulkInsert,
    Row,
    Statement,
    bulk_insert_missing,
    bulk_upsert,
    classify,
    execute_statements,
    merge_by_source,
)
from tgpilot.store.records import SOURCES, UpsertCounts, UserRecord
from tgpilot.store.schema import (
    MEDIA_NAME_LENGTH,
    MEDIA_PATH_LENGTH,
    MEDIA_TYPE_LENGTH,
    NAME_LENGTH,
    SERVICE_ACTION_LENGTH,
    messages,
    users,
)
from tgpilot.store.text import clip
from tgpilot.store.types import as_utc
from tgpilot.store.urls import Backend

MessageKey = tuple[int, int]

READ_CHUNK = 1000

_NULLABLE = (
    "edit_date",
    "sender_id",
    "sender_name",
    "reply_to_id",
    "forward_from_id",
    "forward_from_name",
    "views",
    "forwards",
    "replies_count",
    "media_type",
    "media_path",
    "media_size",
    "media_name",
    "service_action",
)
_COMPARED = tuple(c.name for c in messages.columns if c.name != "fetched_at")


# --------------------------------------------------------------------------- rows


def reactions_document(reactions: Iterable[Reaction]) -> list[dict[str, Any]]:
    """Reactions as stored: ``[{type, emoji | document_id, count, mine}]`` in order."""
    document: list[dict[str, Any]] = []
    for reaction in reactions:
        item: dict[str, Any] = {"type": reaction.type}
        if reaction.emoji is not None:
            item["emoji"] = reaction.emoji
        if reaction.document_id is not None:
            item["document_id"] = reaction.document_id
        item["count"] = reaction.count
        item["mine"] = reaction.mine
        document.append(item)
    return document


def reactions_from_document(document: object) -> tuple[Reaction, ...]:
    """The :class:`Reaction` tuple of a stored reactions document (tolerates NULL)."""
    if not isinstance(document, list):
        return ()
    reactions: list[Reaction] = []
    for item in document:
        if not isinstance(item, dict):
            continue
        document_id = item.get("document_id")
        reactions.append(
            Reaction(
                type=str(item.get("type", "unknown")),
                count=int(item.get("count", 0)),
                emoji=item.get("emoji"),
                document_id=int(document_id) if document_id is not None else None,
                mine=bool(item.get("mine", False)),
            )
        )
    return tuple(reactions)


COLUMNS = (
    "chat_id",
    "message_id",
    "date",
    "edit_date",
    "sender_id",
    "sender_name",
    "text",
    "reply_to_id",
    "forward_from_id",
    "forward_from_name",
    "views",
    "forwards",
    "replies_count",
    "reactions",
    "reactions_total",
    "media_type",
    "media_path",
    "media_size",
    "media_name",
    "is_outgoing",
    "is_service",
    "service_action",
    "source",
    "fetched_at",
)
"""The columns of ``messages`` in table order: the order of :func:`message_values`."""


def message_values(
    message: Message, *, source: str, fetched_at: datetime, media_path: str | None = None
) -> tuple[Any, ...]:
    """The ``messages`` row of ``message`` as values in :data:`COLUMNS` order (times
    aware UTC, strings cut to their column, reactions a tuple of plain dicts): only
    values the garbage collector need not follow."""
    sender = message.sender
    reactions = message.reactions
    return (
        message.chat_id,
        message.id,
        as_utc(message.date),
        as_utc(message.edit_date) if message.edit_date is not None else None,
        sender.id if sender is not None else None,
        clip(sender.name, NAME_LENGTH) if sender is not None else None,
        message.text or "",
        message.reply_to_id,
        message.forward_from_id,
        clip(message.forward_from_name, NAME_LENGTH),
        message.views,
        message.forwards,
        message.replies,
        tuple(reactions_document(reactions)) if reactions else (),
        message.reactions_total if reactions else 0,
        clip(message.media_type, MEDIA_TYPE_LENGTH),
        clip(media_path, MEDIA_PATH_LENGTH),
        message.media_size,
        clip(message.media_name, MEDIA_NAME_LENGTH),
        bool(message.is_outgoing),
        bool(message.is_service),
        clip(message.service_action, SERVICE_ACTION_LENGTH),
        source,
        as_utc(fetched_at),
    )


def message_from_row(row: Mapping[Any, Any]) -> Message:
    """A stored row (joined with ``users`` when available) as a :class:`Message`."""
    sender: Sender | None = None
    sender_id = row["sender_id"]
    name = row["sender_name"]
    if sender_id is not None or name is not None:
        if name is None:
            name = " ".join(p for p in (row.get("user_first_name"), row.get("user_last_name")) if p)
        sender = Sender(
            id=int(sender_id) if sender_id is not None else None,
            name=name or "",
            username=row.get("user_username"),
            is_bot=bool(row.get("user_is_bot") or False),
        )
    return Message(
        chat_id=int(row["chat_id"]),
        id=int(row["message_id"]),
        date=row["date"],
        text=row["text"] or "",
        sender=sender,
        reply_to_id=row["reply_to_id"],
        forward_from_id=row["forward_from_id"],
        forward_from_name=row["forward_from_name"],
        edit_date=row["edit_date"],
        media_type=row["media_type"],
        media_size=row["media_size"],
        media_name=row["media_name"],
        media_path=row["media_path"],
        views=row["views"],
        forwards=row["forwards"],
        replies=row["replies_count"],
        reactions=reactions_from_document(row["reactions"]),
        is_outgoing=bool(row["is_outgoing"]),
        is_service=bool(row["is_service"]),
        service_action=row["service_action"],
    )


class MessageBatch:
    """Messages gathered for one transaction, each turned into its row as it is added.

    While it fills up (as history is read) and while it waits on the database, a batch
    holds plain values and the few distinct senders, not the messages themselves: those
    would live long enough to reach the oldest garbage-collector generation, making
    its full collections (which visit every object) more frequent. A message added
    twice keeps its last version.
    """

    def __init__(self, *, source: str, fetched_at: datetime) -> None:
        self.source = check_source(source)
        self._fetched_at = as_utc(fetched_at)
        self.rows: dict[MessageKey, tuple[Any, ...]] = {}
        self._senders: dict[int, Sender] = {}

    def add(self, message: Message, media_path: str | None = None) -> None:
        """Add ``message`` with the path of its stored media file (default: the
        message's own ``media_path``; None keeps a path stored before)."""
        self.rows[(message.chat_id, message.id)] = message_values(
            message,
            source=self.source,
            fetched_at=self._fetched_at,
            media_path=message.media_path if media_path is None else media_path,
        )
        sender = message.sender
        if sender is not None and sender.id is not None:
            self._senders[sender.id] = sender

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def chat_ids(self) -> set[int]:
        return {chat_id for chat_id, _ in self.rows}

    @property
    def message_ids(self) -> list[int]:
        return [message_id for _, message_id in self.rows]

    def senders(self) -> list[UserRecord]:
        """The ``users`` rows the senders give (senders with an id; the last seen)."""
        return [UserRecord.from_sender(sender) for sender in self._senders.values()]


# --------------------------------------------------------------------------- writing


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
    return source


def _merge(new: Row, old: Mapping[str, Any]) -> Row:
    return merge_by_source(new, old, _NULLABLE)


def _stored_filter(keys: Iterable[MessageKey]) -> ColumnElement[bool]:
    by_chat: dict[int, list[int]] = {}
    for chat_id, message_id in keys:
        by_chat.setdefault(chat_id, []).append(message_id)
    return or_(
        *(
            and_(messages.c.chat_id == chat_id, messages.c.message_id.in_(ids))
            for chat_id, ids in by_chat.items()
        )
    )


def _plan(
    rows: Mapping[MessageKey, tuple[Any, ...]],
    stored: Mapping[MessageKey, Mapping[str, Any]],
    writer: BulkInsert,
) -> tuple[list[Statement], UpsertCounts]:
    """The statements that write what is new or differs in ``rows``, and the counts.

    New rows go to the writer as they are; only those already stored are merged and
    compared as dicts (:func:`~tgpilot.store.batches.classify`).
    """
    writes = [row for key, row in rows.items() if key not in stored]
    known: dict[MessageKey, Row] = {}
    for key, row in rows.items():
        if key in stored:
            known[key] = values = dict(zip(COLUMNS, row, strict=True))
            values["reactions"] = list(values["reactions"])  # as a stored document reads
    classified = classify(known, stored, _merge, _COMPARED)
    writes.extend(tuple(row[name] for name in COLUMNS) for row in classified.writes)
    counts = UpsertCounts(len(rows) - len(known), classified.updated, classified.unchanged)
    return writer.statements(writes), counts


_INSERT_FIRST: tuple[Backend, ...] = ("sqlite",)
"""Backends where a batch is first inserted where missing, and read back only when
some of it was stored already (see :func:`write_messages`)."""


def write_messages(connection: Connection, backend: Backend, batch: MessageBatch) -> UpsertCounts:
    """Upsert one batch of messages on an open transaction (chats must exist).

    The stored rows of the batch are read in one SELECT, merged and compared, and the
    new and changed rows written in one bulk upsert. On SQLite the batch is first
    inserted where missing (``ON CONFLICT DO NOTHING``): when the driver counts every
    row inserted — the first sync of a chat, a backfill — that one statement is all;
    otherwise the batch is read back and upserted as above, the rows it just inserted
    comparing unchanged.
    """
    rows = batch.rows
    if not rows:
        return UpsertCounts()
    dialect = connection.dialect
    inserted = 0
    if backend in _INSERT_FIRST:
        missing = bulk_insert_missing(backend, messages, dialect)
        inserted = execute_statements(connection, missing.statements([*rows.values()]))
        if inserted == len(rows):
            return UpsertCounts(inserted)
    result = connection.execute(select(messages).where(_stored_filter(rows)))
    stored = {(int(r.chat_id), int(r.message_id)): dict(r._mapping) for r in result}
    statements, counts = _plan(rows, stored, bulk_upsert(backend, messages, dialect))
    execute_statements(connection, statements)
    return UpsertCounts(counts.inserted + inserted, counts.updated, counts.unchanged - inserted)


# --------------------------------------------------------------------------- reading


def _joined_columns() -> list[Any]:
    return [
        *messages.columns,
        users.c.username.label("user_username"),
        users.c.first_name.label("user_first_name"),
        users.c.last_name.label("user_last_name"),
        users.c.is_bot.label("user_is_bot"),
    ]


async def iter_messages(
    engine: AsyncEngine,
    chat_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    newest_first: bool = True,
    chunk: int = READ_CHUNK,
) -> AsyncIterator[Message]:
    """Messages of ``chat_id`` with ``since <= date < until``, at most ``limit`` (None or
    0: all), newest or oldest first, read ``chunk`` rows per query."""
    if limit is not None and limit < 0:
        raise ValueError("limit must be 0 (all) or more")
    remaining = limit or None
    after: tuple[datetime, int] | None = None
    order = (
        (messages.c.date.desc(), messages.c.message_id.desc())
        if newest_first
        else (messages.c.date.asc(), messages.c.message_id.asc())
    )
    base = (
        select(*_joined_columns())
        .select_from(messages.outerjoin(users, users.c.id == messages.c.sender_id))
        .where(messages.c.chat_id == chat_id)
        .order_by(*order)
    )
    if since is not None:
        base = base.where(messages.c.date >= as_utc(since))
    if until is not None:
        base = base.where(messages.c.date < as_utc(until))
    while True:
        size = chunk if remaining is None else min(chunk, remaining)
        statement = base.limit(size)
        if after is not None:
            date, message_id = after
            if newest_first:
                statement = statement.where(
                    or_(
                        messages.c.date < date,
                        and_(messages.c.date == date, messages.c.message_id < message_id),
                    )
                )
            else:
                statement = statement.where(
                    or_(
                        messages.c.date > date,
                        and_(messages.c.date == date, messages.c.message_id > message_id),
                    )
                )
        async with engine.connect() as connection:
            rows = [dict(r._mapping) for r in await connection.execute(statement)]
        for row in rows:
            yield message_from_row(row)
        if len(rows) < size:
            return
        if remaining is not None:
            remaining -= len(rows)
            if remaining <= 0:
                return
        last = rows[-1]
        after = (last["date"], int(last["message_id"]))


async def iter_missing_media(
    engine: AsyncEngine,
    chat_id: int,
    kinds: Iterable[str],
    max_size: int,
    *,
    chunk: int = READ_CHUNK,
) -> AsyncIterator[list[int]]:
    """Ids of ``chat_id``'s stored messages with media of ``kinds`` no larger than
    ``max_size`` (or of unknown size) and no stored file, newest first, ``chunk`` at a
    time (no connection is held between chunks)."""
    base = (
        select(messages.c.message_id)
        .where(
            messages.c.chat_id == chat_id,
            messages.c.media_type.in_(sorted(kinds)),
            messages.c.media_path.is_(None),
            or_(messages.c.media_size.is_(None), messages.c.media_size <= max_size),
        )
        .order_by(messages.c.message_id.desc())
        .limit(chunk)
    )
    below: int | None = None
    while True:
        statement = base if below is None else base.where(messages.c.message_id < below)
        async with engine.connect() as connection:
            ids = [int(i) for i in (await connection.execute(statement)).scalars()]
        if ids:
            yield ids
        if len(ids) < chunk:
            return
        below = ids[-1]


async def count_messages(connection: AsyncConnection, chat_id: int) -> int:
    result = await connection.execute(
        select(func.count()).select_from(messages).where(messages.c.chat_id == chat_id)
    )
    return int(result.scalar_one())
