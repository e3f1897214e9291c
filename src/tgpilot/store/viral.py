"""The viral-question tables: chats with expected engagement, and questions to post there.

Spec telegram-cli §4.5. :class:`ViralRepository` works on an open
:class:`~tgpilot.store.Store`'s engine. ``viral import`` upserts chats by ``key`` and
questions by chat key + text (through ``text_hash``, see
:data:`~tgpilot.store.schema.viral_questions`), in one transaction, counting what was
inserted, updated or already stored as given. A question that has been sent keeps its
send record: an import may archive it but never makes it ``draft`` or ``active`` again,
so re-importing a file never sends a question twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tgpilot.store.records import UpsertCounts
from tgpilot.store.repository import Repository
from tgpilot.store.schema import ERROR_LENGTH, viral_chats, viral_questions
from tgpilot.store.text import clip
from tgpilot.store.types import as_utc

if TYPE_CHECKING:
    pass


class QuestionStatus(StrEnum):
    """Where a question stands: only ``active`` ones are sent."""

    DRAFT = "draft"
    ACTIVE = "active"
    SENT = "sent"
    ARCHIVED = "archived"


def text_hash(text: str) -> str:
    """The SHA-256 (hex) of a question's text: its half of the natural key."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ViralChatSpec:
    """A chat as a questions file declares it."""

    key: str
    chat_ref: str
    description: str | None = None
    expected_reactions: tuple[int, int] | None = None
    expected_comments: int | None = None


@dataclass(frozen=True)
class ViralQuestionSpec:
    """A question as a questions file declares it."""

    chat_key: str
    text: str
    status: QuestionStatus = QuestionStatus.DRAFT
    priority: int = 0
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ViralChat:
    """A row of ``viral_chats``; ``chat_id`` is the marked id ``chat_ref`` last resolved to."""

    id: int
    key: str
    chat_ref: str
    chat_id: int | None
    description: str | None
    expected_reactions_min: int | None
    expected_reactions_max: int | None
    expected_comments: int | None
    created_at: datetime


@dataclass(frozen=True)
class ViralQuestion:
    """A row of ``viral_questions``."""

    id: int
    chat_key: str
    text: str
    status: QuestionStatus
    priority: int
    tags: tuple[str, ...]
    created_at: datetime
    sent_at: datetime | None = None
    sent_message_id: int | None = None
    reactions_received: int | None = None
    comments_received: int | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class ViralImportCounts:
    """What an import did to chats and to questions."""

    chats: UpsertCounts = field(default_factory=UpsertCounts)
    questions: UpsertCounts = field(default_factory=UpsertCounts)


@dataclass(frozen=True)
class EngagementCounts:
    """Reactions and comments a sent question has received."""

    question_id: int
    reactions: int
    comments: int


def _chat_from_row(row: Mapping[Any, Any]) -> ViralChat:
    return ViralChat(
        id=int(row["id"]),
        key=row["key"],
        chat_ref=row["chat_ref"],
        chat_id=row["chat_id"],
        description=row["description"],
        expected_reactions_min=row["expected_reactions_min"],
        expected_reactions_max=row["expected_reactions_max"],
        expected_comments=row["expected_comments"],
        created_at=row["created_at"],
    )


def _question_from_row(row: Mapping[Any, Any]) -> ViralQuestion:
    return ViralQuestion(
        id=int(row["id"]),
        chat_key=row["chat_key"],
        text=row["question_text"],
        status=QuestionStatus(row["status"]),
        priority=int(row["priority"]),
        tags=tuple(row["tags"] or ()),
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        sent_message_id=row["sent_message_id"],
        reactions_received=row["reactions_received"],
        comments_received=row["comments_received"],
        last_error=row["last_error"],
    )


_CHAT_FIELDS = (
    "chat_ref",
    "description",
    "expected_reactions_min",
    "expected_reactions_max",
    "expected_comments",
)
"""The ``viral_chats`` columns a questions file sets."""


def _chat_values(spec: ViralChatSpec) -> dict[str, Any]:
    low, high = spec.expected_reactions or (None, None)
    values = (spec.chat_ref, spec.description, low, high, spec.expected_comments)
    return dict(zip(_CHAT_FIELDS, values, strict=True))


def merged_status(stored: ViralQuestion, wanted: QuestionStatus) -> QuestionStatus:
    """The status an import leaves: a question once sent is only ever sent or archived."""
    if stored.sent_at is not None and wanted is not QuestionStatus.ARCHIVED:
        return stored.status
    return wanted


_ORDER = (viral_questions.c.priority.desc(), viral_questions.c.id)
"""Send order: priority, highest first, then the order questions were added."""


class ViralRepository(Repository):
    """Reads and writes the viral tables of one open store."""

    # ----------------------------------------------------------------- import

    async def import_specs(
        self,
        chats: Sequence[ViralChatSpec],
        questions: Sequence[ViralQuestionSpec],
        now: datetime,
    ) -> ViralImportCounts:
        """Upsert ``chats`` by key, then ``questions`` by chat key + text, in one
        transaction. Every question's chat key must be among ``chats`` or stored."""
        created = as_utc(now)
        async with self._guard("importing viral questions"), self._writer.begin() as conn:
            chat_counts = await self._upsert_chats(conn, chats, created)
            question_counts = await self._upsert_questions(conn, questions, created)
        return ViralImportCounts(chat_counts, question_counts)

    async def _upsert_chats(
        self, conn: AsyncConnection, specs: Sequence[ViralChatSpec], now: datetime
    ) -> UpsertCounts:
        if not specs:
            return UpsertCounts()
        result = await conn.execute(
            select(viral_chats).where(viral_chats.c.key.in_([s.key for s in specs]))
        )
        stored = {row["key"]: _chat_from_row(row) for row in result.mappings()}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for spec in specs:
            values = _chat_values(spec)
            old = stored.get(spec.key)
            if old is None:
                inserts.append({**values, "key": spec.key, "chat_id": None, "created_at": now})
            elif any(getattr(old, name) != value for name, value in values.items()):
                # A new reference is resolved afresh at the next send.
                chat_id = old.chat_id if old.chat_ref == spec.chat_ref else None
                changed = {**values, "chat_id": chat_id}
                updates.append({"b_key": spec.key, **{f"b_{k}": v for k, v in changed.items()}})
        if inserts:
            await conn.execute(insert(viral_chats), inserts)
        if updates:
            statement = (
                update(viral_chats)
                .where(viral_chats.c.key == bindparam("b_key"))
                .values({name: bindparam(f"b_{name}") for name in (*_CHAT_FIELDS, "chat_id")})
            )
            await conn.execute(statement, updates)
        return UpsertCounts(len(inserts), len(updates), len(specs) - len(inserts) - len(updates))

    async def _upsert_questions(
        self, conn: AsyncConnection, specs: Sequence[ViralQuestionSpec], now: datetime
    ) -> UpsertCounts:
        if not specs:
            return UpsertCounts()
        keys = sorted({spec.chat_key for spec in specs})
        result = await conn.execute(
            select(viral_questions).where(viral_questions.c.chat_key.in_(keys))
        )
        stored = {
            (row["chat_key"], row["text_hash"]): _question_from_row(row)
            for row in result.mappings()
        }
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for spec in specs:
            digest = text_hash(spec.text)
            old = stored.get((spec.chat_key, digest))
            if old is None:
                inserts.append(
                    {
                        "chat_key": spec.chat_key,
                        "question_text": spec.text,
                        "text_hash": digest,
                        "status": spec.status.value,
                        "priority": spec.priority,
                        "tags": list(spec.tags),
                        "created_at": now,
                    }
                )
                continue
            status = merged_status(old, spec.status)
            if (old.status, old.priority, old.tags) != (status, spec.priority, spec.tags):
                updates.append(
                    {
                        "b_id": old.id,
                        "b_status": status.value,
                        "b_priority": spec.priority,
                        "b_tags": list(spec.tags),
                    }
                )
        if inserts:
            await conn.execute(insert(viral_questions), inserts)
        if updates:
            statement = (
                update(viral_questions)
                .where(viral_questions.c.id == bindparam("b_id"))
                .values(
                    status=bindparam("b_status"),
                    priority=bindparam("b_priority"),
                    tags=bindparam("b_tags"),
                )
            )
            await conn.execute(statement, updates)
        return UpsertCounts(len(inserts), len(updates), len(specs) - len(inserts) - len(updates))

    # ----------------------------------------------------------------- reads

    async def chats(self) -> list[ViralChat]:
        """Every viral chat, by key."""
        async with self._guard("reading viral chats"), self._engine.connect() as conn:
            result = await conn.execute(select(viral_chats).order_by(viral_chats.c.key))
            return [_chat_from_row(row) for row in result.mappings()]

    async def questions(self, status: QuestionStatus | None = None) -> list[ViralQuestion]:
        """Questions (with ``status`` only, if given), highest priority first, then by id."""
        statement = select(viral_questions).order_by(*_ORDER)
        if status is not None:
            statement = statement.where(viral_questions.c.status == status.value)
        async with self._guard("reading viral questions"), self._engine.connect() as conn:
            result = await conn.execute(statement)
            return [_question_from_row(row) for row in result.mappings()]

    async def sendable(
        self, chat_key: str | None = None, limit: int | None = None
    ) -> list[ViralQuestion]:
        """The ``active`` questions never sent (of one chat, if given), in send order."""
        statement = (
            select(viral_questions)
            .where(viral_questions.c.status == QuestionStatus.ACTIVE.value)
            .where(viral_questions.c.sent_at.is_(None))
            .order_by(*_ORDER)
        )
        if chat_key is not None:
            statement = statement.where(viral_questions.c.chat_key == chat_key)
        if limit is not None:
            statement = statement.limit(limit)
        async with self._guard("reading viral questions"), self._engine.connect() as conn:
            result = await conn.execute(statement)
            return [_question_from_row(row) for row in result.mappings()]

    async def sent(self) -> list[ViralQuestion]:
        """Questions that went out (a message id is known), by chat key then id."""
        statement = (
            select(viral_questions)
            .where(viral_questions.c.sent_message_id.is_not(None))
            .order_by(viral_questions.c.chat_key, viral_questions.c.id)
        )
        async with self._guard("reading viral questions"), self._engine.connect() as conn:
            result = await conn.execute(statement)
            return [_question_from_row(row) for row in result.mappings()]

    async def question(self, question_id: int) -> ViralQuestion | None:
        """One question by id, or None."""
        statement = select(viral_questions).where(viral_questions.c.id == question_id)
        async with self._guard("reading a viral question"), self._engine.connect() as conn:
            row = (await conn.execute(statement)).mappings().first()
        return _question_from_row(row) if row is not None else None

    # ----------------------------------------------------------------- writes

    async def set_chat_id(self, key: str, chat_id: int) -> None:
        """Remember the marked id a chat's reference resolved to."""
        statement = update(viral_chats).where(viral_chats.c.key == key).values(chat_id=chat_id)
        async with self._guard("saving a viral chat id"), self._writer.begin() as conn:
            await conn.execute(statement)

    async def mark_sent(self, question_id: int, sent_at: datetime, message_id: int) -> None:
        """A question went out as ``message_id``: now ``sent``, its last error cleared."""
        statement = (
            update(viral_questions)
            .where(viral_questions.c.id == question_id)
            .values(
                status=QuestionStatus.SENT.value,
                sent_at=as_utc(sent_at),
                sent_message_id=message_id,
                last_error=None,
            )
        )
        async with self._guard("marking a viral question sent"), self._writer.begin() as conn:
            await conn.execute(statement)

    async def record_error(self, question_id: int, error: str) -> None:
        """A send failed: keep the question as it is, with ``last_error``."""
        statement = (
            update(viral_questions)
            .where(viral_questions.c.id == question_id)
            .values(last_error=clip(error, ERROR_LENGTH))
        )
        async with self._guard("recording a viral send error"), self._writer.begin() as conn:
            await conn.execute(statement)

    async def save_engagement(self, counts: Sequence[EngagementCounts]) -> None:
        """Store the reactions and comments each sent question has received."""
        if not counts:
            return
        statement = (
            update(viral_questions)
            .where(viral_questions.c.id == bindparam("b_id"))
            .values(
                reactions_received=bindparam("b_reactions"),
                comments_received=bindparam("b_comments"),
            )
        )
        rows = [
            {"b_id": c.question_id, "b_reactions": c.reactions, "b_comments": c.comments}
            for c in counts
        ]
        async with self._guard("saving viral question stats"), self._writer.begin() as conn:
            await conn.execute(statement, rows)
