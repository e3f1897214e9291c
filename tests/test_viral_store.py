"""The viral tables on SQLite, MariaDB and PostgreSQL (spec telegram-cli §4.5): migration
0002, upserts by chat key + text (through the text hash), send order, sent/failed state,
engagement counts, and the foreign key to ``viral_chats.key``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tgpilot.core.errors import StoreError
from tgpilot.store import Store, UpsertCounts
from tgpilot.store.migrate import head_revision
from tgpilot.store.schema import viral_questions
from tgpilot.store.viral import (
    EngagementCounts,
    QuestionStatus,
    ViralChatSpec,
    ViralQuestionSpec,
    ViralRepository,
    text_hash,
)

T0 = datetime(2025, 2, 1, 9, 30, tzinfo=UTC)
BOOKS = ViralChatSpec("book-club", "@example_book_club", "Readers", (50, 100), 30)
DEV = ViralChatSpec("dev-talk", "@example_dev_talk")
LONG_TEXT = "🚀 Что бы вы изменили? " * 170  # ~4000 characters, 4-byte emoji included


def question(
    text: str,
    chat: str = "book-club",
    status: QuestionStatus = QuestionStatus.ACTIVE,
    priority: int = 0,
    tags: tuple[str, ...] = (),
) -> ViralQuestionSpec:
    return ViralQuestionSpec(chat, text, status, priority, tags)


def by_text(questions: list[Any]) -> dict[str, Any]:
    return {q.text: q for q in questions}


async def test_migration_0002_creates_the_viral_tables(store: Store) -> None:
    assert await store.revision() == head_revision()

    def describe(conn: Connection) -> dict[str, Any]:
        inspector = inspect(conn)
        return {
            "chats": {c["name"] for c in inspector.get_columns("viral_chats")},
            "questions": {c["name"] for c in inspector.get_columns("viral_questions")},
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]))
                for i in inspector.get_indexes("viral_questions")
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints("viral_chats")
            ),
            "fk": [
                (fk["constrained_columns"], fk["referred_table"], fk["referred_columns"])
                for fk in inspector.get_foreign_keys("viral_questions")
            ],
        }

    async with store.engine.connect() as conn:
        schema = await conn.run_sync(describe)
    assert schema["chats"] == {
        "id", "key", "chat_ref", "chat_id", "description", "expected_reactions_min",
        "expected_reactions_max", "expected_comments", "created_at",
    }  # fmt: skip
    assert schema["questions"] == {
        "id", "chat_key", "question_text", "text_hash", "status", "priority", "tags",
        "created_at", "sent_at", "sent_message_id", "reactions_received",
        "comments_received", "last_error",
    }  # fmt: skip
    assert ("ix_viral_questions_status", ("status",)) in schema["indexes"]
    assert ("ix_viral_questions_priority", ("priority",)) in schema["indexes"]
    assert schema["unique"] == [("key",)]
    assert schema["fk"] == [(["chat_key"], "viral_chats", ["key"])]


async def test_import_is_an_idempotent_upsert_by_chat_key_and_text(store: Store) -> None:
    repo = ViralRepository(store)
    specs = [
        question("Which book changed how you work?", priority=10, tags=("books",)),
        question(LONG_TEXT, status=QuestionStatus.DRAFT),
        question("Which book changed how you work?", chat="dev-talk"),  # same text, other chat
    ]
    counts = await repo.import_specs([BOOKS, DEV], specs, T0)
    assert counts.chats == UpsertCounts(2, 0, 0)
    assert counts.questions == UpsertCounts(3, 0, 0)

    again = await repo.import_specs([BOOKS, DEV], specs, T0 + timedelta(hours=1))
    assert (again.chats, again.questions) == (UpsertCounts(0, 0, 2), UpsertCounts(0, 0, 3))

    changed = [question("Which book changed how you work?", priority=3, tags=("books", "work"))]
    renamed = ViralChatSpec("dev-talk", "@example_dev_talk", expected_comments=5)
    counts = await repo.import_specs([renamed], changed, T0 + timedelta(hours=2))
    assert (counts.chats, counts.questions) == (UpsertCounts(0, 1, 0), UpsertCounts(0, 1, 0))

    stored = await repo.questions()
    assert len(stored) == 3
    books = next(q for q in stored if q.chat_key == "book-club" and q.text.startswith("Which"))
    assert (books.priority, books.tags, books.created_at) == (3, ("books", "work"), T0)
    assert by_text(await repo.questions(QuestionStatus.DRAFT))[LONG_TEXT].text == LONG_TEXT
    chats = {c.key: c for c in await repo.chats()}
    assert chats["dev-talk"].expected_comments == 5
    books_chat = chats["book-club"]
    assert (books_chat.expected_reactions_min, books_chat.expected_reactions_max) == (50, 100)
    assert books_chat.description == "Readers"


async def test_text_hash_is_the_unique_key(store: Store) -> None:
    repo = ViralRepository(store)
    await repo.import_specs([BOOKS], [question("Same?")], T0)
    row = {
        "chat_key": "book-club",
        "question_text": "Same?",
        "text_hash": text_hash("Same?"),
        "tags": [],
        "created_at": T0,
    }
    with pytest.raises(IntegrityError):
        async with store.engine.begin() as conn:
            await conn.execute(insert(viral_questions), [row])
    other = {**row, "question_text": "Same? ", "text_hash": text_hash("Same? ")}
    async with store.engine.begin() as conn:
        await conn.execute(insert(viral_questions), [other])


async def test_questions_need_a_known_chat(store: Store) -> None:
    repo = ViralRepository(store)
    with pytest.raises(StoreError):
        await repo.import_specs([], [question("Orphan?", chat="nowhere")], T0)
    assert await repo.questions() == []


async def test_send_order_filters_and_limits(store: Store) -> None:
    repo = ViralRepository(store)
    await repo.import_specs(
        [BOOKS, DEV],
        [
            question("low", priority=1),
            question("high", priority=50),
            question("mid first", priority=10),
            question("mid second", priority=10, chat="dev-talk"),
            question("draft", priority=99, status=QuestionStatus.DRAFT),
            question("archived", priority=99, status=QuestionStatus.ARCHIVED),
        ],
        T0,
    )
    assert [q.text for q in await repo.sendable()] == ["high", "mid first", "mid second", "low"]
    assert [q.text for q in await repo.sendable(limit=2)] == ["high", "mid first"]
    assert [q.text for q in await repo.sendable("dev-talk")] == ["mid second"]
    assert [q.status for q in await repo.questions()][:2] == [
        QuestionStatus.DRAFT,
        QuestionStatus.ARCHIVED,
    ]


async def test_sent_and_failed_state(store: Store) -> None:
    repo = ViralRepository(store)
    await repo.import_specs([BOOKS], [question("one", priority=2), question("two")], T0)
    one, two = await repo.sendable()
    await repo.record_error(two.id, "Telegram error CHAT_WRITE_FORBIDDEN on SendMessageRequest")
    await repo.mark_sent(one.id, T0 + timedelta(minutes=5), 42)

    sent = await repo.question(one.id)
    assert sent is not None
    assert (sent.status, sent.sent_at, sent.sent_message_id) == (
        QuestionStatus.SENT,
        T0 + timedelta(minutes=5),
        42,
    )
    failed = await repo.question(two.id)
    assert failed is not None
    assert failed.status is QuestionStatus.ACTIVE and failed.sent_at is None
    assert failed.last_error is not None and "CHAT_WRITE_FORBIDDEN" in failed.last_error
    assert [q.text for q in await repo.sendable()] == ["two"]
    assert [q.id for q in await repo.sent()] == [one.id]
    assert await repo.question(9999) is None

    await repo.mark_sent(two.id, T0 + timedelta(minutes=6), 43)
    retried = await repo.question(two.id)
    assert retried is not None and retried.last_error is None


async def test_reimport_never_unsends_but_may_archive(store: Store) -> None:
    repo = ViralRepository(store)
    await repo.import_specs([BOOKS], [question("asked?")], T0)
    (asked,) = await repo.sendable()
    await repo.mark_sent(asked.id, T0, 7)
    counts = await repo.import_specs([], [question("asked?", priority=4)], T0)
    assert counts.questions == UpsertCounts(0, 1, 0)  # priority only
    stored = await repo.question(asked.id)
    assert stored is not None and (stored.status, stored.priority) == (QuestionStatus.SENT, 4)
    archive = question("asked?", status=QuestionStatus.ARCHIVED, priority=4)
    await repo.import_specs([], [archive], T0)
    await repo.import_specs([], [question("asked?", priority=4)], T0)
    stored = await repo.question(asked.id)
    assert stored is not None and stored.status is QuestionStatus.ARCHIVED
    assert await repo.sendable() == []


async def test_chat_ids_and_engagement(store: Store) -> None:
    repo = ViralRepository(store)
    await repo.import_specs([BOOKS], [question("q1"), question("q2")], T0)
    await repo.set_chat_id("book-club", -1001111111111)
    assert (await repo.chats())[0].chat_id == -1001111111111
    await repo.import_specs([BOOKS], [], T0)  # same reference: the id stays
    assert (await repo.chats())[0].chat_id == -1001111111111
    moved = ViralChatSpec("book-club", "@other_book_club", "Readers", (50, 100), 30)
    await repo.import_specs([moved], [], T0)  # a new reference is resolved afresh
    assert (await repo.chats())[0].chat_id is None

    q1, q2 = await repo.sendable()
    await repo.mark_sent(q1.id, T0, 10)
    await repo.mark_sent(q2.id, T0, 11)
    await repo.save_engagement([EngagementCounts(q1.id, 60, 35), EngagementCounts(q2.id, 0, 2)])
    await repo.save_engagement([])
    stored = {q.id: q for q in await repo.sent()}
    assert (stored[q1.id].reactions_received, stored[q1.id].comments_received) == (60, 35)
    assert (stored[q2.id].reactions_received, stored[q2.id].comments_received) == (0, 2)
