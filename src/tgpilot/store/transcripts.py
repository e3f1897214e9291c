"""The ``message_transcripts`` table: what a voice, audio or round-video message said.

One row per message (spec ai.md §4.11), kept apart from ``messages`` so a re-sync of
the message never loses its transcript. Written by ``transcribe CHAT:MSG``, ``transcribe
CHAT --all`` and the auto-responder (``autoanswer.voice``); read by analysis and RAG
only with ``--with-transcripts`` and by the responder. :func:`spoken_text` is the one
place that says how a transcript reads where a message's text would be
(:func:`as_spoken`, :meth:`TranscriptRepository.apply`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy.sql.elements import ColumnElement

from tgpilot.models import Message
from tgpilot.store.batches import chunked
from tgpilot.store.repository import Repository
from tgpilot.store.schema import message_transcripts, messages
from tgpilot.store.types import as_utc
from tgpilot.store.upsert import upsert_statement

if TYPE_CHECKING:
    pass

SPOKEN_MEDIA = ("voice", "audio", "round")
"""The media kinds that have something to transcribe."""

SPOKEN_LABELS = {"voice": "voice message", "audio": "audio", "round": "video message"}
"""How a transcript is introduced where the message's text would be."""

ID_BATCH = 500
"""Message ids per ``IN (...)`` lookup."""


def spoken_text(media_type: str | None, caption: str, transcript: str) -> str:
    """A spoken message's text with its transcript: ``[voice message] …`` (after the
    caption, if it had one)."""
    label = SPOKEN_LABELS.get(media_type or "", "voice message")
    said = f"[{label}] {transcript.strip()}"
    return f"{caption.strip()}\n{said}" if caption.strip() else said


def as_spoken(message: Message, transcript: str | None) -> Message:
    """``message`` reading as its transcript (see :func:`spoken_text`) when it is a
    spoken message and ``transcript`` says something; otherwise ``message`` itself."""
    if transcript is None or not transcript.strip() or message.media_type not in SPOKEN_MEDIA:
        return message
    return replace(message, text=spoken_text(message.media_type, message.text, transcript))


@dataclass(frozen=True)
class StoredTranscript:
    """One ``message_transcripts`` row."""

    chat_id: int
    message_id: int
    text: str
    language: str | None
    provider: str
    model: str | None
    created_at: datetime


@dataclass(frozen=True)
class SpokenMessage:
    """An archived voice, audio or round-video message (without a transcript)."""

    message_id: int
    date: datetime
    media_type: str
    media_size: int | None


class TranscriptRepository(Repository):
    """Reads and writes transcripts in one open store."""

    async def save(
        self,
        chat_id: int,
        message_id: int,
        *,
        text: str,
        provider: str,
        model: str | None,
        language: str | None,
        now: datetime,
    ) -> None:
        """Store (or replace) the transcript of one message."""
        row = {
            "chat_id": chat_id,
            "message_id": message_id,
            "text": text,
            "language": language[:16] if language else None,
            "provider": provider[:32],
            "model": model[:128] if model else None,
            "created_at": as_utc(now),
        }
        statement = upsert_statement(self._backend, message_transcripts)
        async with self._guard("saving a transcript"), self._writer.begin() as conn:
            await conn.execute(statement, [row])

    async def get_many(self, chat_id: int, ids: Sequence[int]) -> dict[int, StoredTranscript]:
        """The stored transcripts of these messages of a chat, by message id."""
        found: dict[int, StoredTranscript] = {}
        table = message_transcripts
        async with self._guard("reading transcripts"), self._engine.connect() as conn:
            for part in chunked(sorted(set(ids)), ID_BATCH):
                statement = select(table).where(
                    (table.c.chat_id == chat_id) & table.c.message_id.in_(part)
                )
                for row in (await conn.execute(statement)).mappings():
                    found[int(row["message_id"])] = _transcript(row)
        return found

    async def apply(self, chat_id: int, messages: Sequence[Message]) -> list[Message]:
        """``messages`` (of one chat) with each spoken one that has a stored transcript
        reading as it (:func:`as_spoken`); one lookup for all of them."""
        spoken = [m.id for m in messages if m.media_type in SPOKEN_MEDIA]
        if not spoken:
            return list(messages)
        found = await self.get_many(chat_id, spoken)
        return [as_spoken(m, found[m.id].text) if m.id in found else m for m in messages]

    async def of_chat(self, chat_id: int) -> dict[int, str]:
        """Every transcript of a chat: message id → text."""
        table = message_transcripts
        statement = select(table.c.message_id, table.c.text).where(table.c.chat_id == chat_id)
        async with self._guard("reading transcripts"), self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return {int(message_id): str(text) for message_id, text in rows}

    async def latest(self, chat_id: int) -> datetime | None:
        """When the chat's newest transcript was stored (None: it has none)."""
        table = message_transcripts
        statement = select(func.max(table.c.created_at)).where(table.c.chat_id == chat_id)
        async with self._guard("reading transcripts"), self._engine.connect() as conn:
            value = (await conn.execute(statement)).scalar()
        return as_utc(value) if value is not None else None

    async def transcribed(
        self, chat_id: int, *, after: datetime | None = None, upto: datetime | None = None
    ) -> list[tuple[int, datetime]]:
        """``(message id, message date)`` of the chat's archived messages with a
        transcript stored after ``after`` (None: any) and at or before ``upto``, oldest
        message first."""
        table = message_transcripts
        where: ColumnElement[bool] = table.c.chat_id == chat_id
        if after is not None:
            where = and_(where, table.c.created_at > as_utc(after))
        if upto is not None:
            where = and_(where, table.c.created_at <= as_utc(upto))
        statement = (
            select(messages.c.message_id, messages.c.date)
            .select_from(
                table.join(
                    messages,
                    (messages.c.chat_id == table.c.chat_id)
                    & (messages.c.message_id == table.c.message_id),
                )
            )
            .where(where)
            .order_by(messages.c.date, messages.c.message_id)
        )
        async with self._guard("reading transcripts"), self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return [(int(message_id), as_utc(date)) for message_id, date in rows]

    async def untranscribed(
        self, chat_id: int, *, since: datetime | None = None, limit: int | None = None
    ) -> list[SpokenMessage]:
        """The chat's archived voice, audio and round-video messages (dated ``since`` or
        later) that have no transcript yet, newest first, at most ``limit`` (None or 0:
        all)."""
        table = message_transcripts
        joined = messages.outerjoin(
            table,
            (table.c.chat_id == messages.c.chat_id) & (table.c.message_id == messages.c.message_id),
        )
        where: ColumnElement[bool] = and_(
            messages.c.chat_id == chat_id,
            messages.c.media_type.in_(SPOKEN_MEDIA),
            table.c.message_id.is_(None),
        )
        if since is not None:
            where = and_(where, messages.c.date >= as_utc(since))
        statement = (
            select(
                messages.c.message_id,
                messages.c.date,
                messages.c.media_type,
                messages.c.media_size,
            )
            .select_from(joined)
            .where(where)
            .order_by(messages.c.date.desc(), messages.c.message_id.desc())
        )
        if limit:
            statement = statement.limit(limit)
        async with self._guard("reading voice messages"), self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return [
            SpokenMessage(int(i), as_utc(date), str(kind), int(size) if size is not None else None)
            for i, date, kind, size in rows
        ]


def _transcript(values: Mapping[Any, Any]) -> StoredTranscript:
    return StoredTranscript(
        chat_id=int(values["chat_id"]),
        message_id=int(values["message_id"]),
        text=str(values["text"]),
        language=values["language"],
        provider=str(values["provider"]),
        model=values["model"],
        created_at=as_utc(values["created_at"]),
    )
