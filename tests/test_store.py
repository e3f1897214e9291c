"""The store on SQLite, MariaDB and PostgreSQL (DESIGN "Storage"; spec §3.3, §3.5, §5;
scenarios 21–23): migrations, idempotent batched upserts, import semantics, JSON and
Unicode round trips, streaming windows, sync state and masked StoreErrors."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from tgpilot.core.errors import StoreError
from tgpilot.models import Chat, ChatType, Dialog, Message, Reaction, Sender
from tgpilot.store import (
    ChatRecord,
    Store,
    SyncState,
    UpsertCounts,
    UserRecord,
    upgrade_database,
)
from tgpilot.store import messages as message_rows
from tgpilot.store.migrate import head_revision, include_object
from tgpilot.store.schema import chats, messages, metadata
from tgpilot.store.urls import database_url

T0 = datetime(2025, 1, 1, tzinfo=UTC)
FETCHED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TEAM = -1001234567890
ALICE = Sender(101, "Alice Smith", "alice")
BORIS = Sender(102, "Борис Петров", None)
BOT = Sender(103, "Helper Bot", "helper_bot", is_bot=True)
SENDERS = (ALICE, BORIS, BOT)


def make_messages(count: int, chat_id: int = TEAM, *, start: int = 1) -> list[Message]:
    """``count`` messages, one a minute from T0, with varied senders and reactions."""
    made = []
    for i in range(start, start + count):
        made.append(
            Message(
                chat_id=chat_id,
                id=i,
                date=T0 + timedelta(minutes=i),
                text=f"message {i}",
                sender=SENDERS[i % len(SENDERS)],
                reply_to_id=i - 1 if i % 10 == 0 else None,
                views=i * 3,
                forwards=i % 4,
                replies=i % 5,
                reactions=(Reaction("emoji", 1 + i % 3, emoji="👍"),) if i % 2 else (),
                is_outgoing=i % 7 == 0,
            )
        )
    return made


@contextmanager
def before_each_statement(hook: Callable[..., None]) -> Iterator[None]:
    """``hook(conn, cursor, statement, params, context, many)`` before every statement
    any engine sends inside the block: the store's own and its writer's (a SQLite file
    is written through a connection of its own)."""
    event.listen(Engine, "before_cursor_execute", hook)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", hook)


@contextmanager
def recorded(store: Store) -> Iterator[list[str]]:
    """Every SQL statement the store sends to the database inside the block."""
    statements: list[str] = []

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        statements.append(statement)

    with before_each_statement(before):
        yield statements


def writes(statements: list[str]) -> list[str]:
    """The statements that can change a stored row (an insert of missing rows cannot)."""
    return [
        s
        for s in statements
        if s.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE")
        and not s.rstrip().upper().endswith("DO NOTHING")
    ]


async def stored_row(store: Store, chat_id: int, message_id: int) -> dict[str, Any]:
    async with store.engine.connect() as conn:
        result = await conn.execute(
            select(messages).where(
                messages.c.chat_id == chat_id, messages.c.message_id == message_id
            )
        )
        return dict(result.mappings().one())


async def all_messages(store: Store, chat_id: int = TEAM) -> list[Message]:
    return [m async for m in store.iter_messages(chat_id, newest_first=False)]


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("configured", "driver", "backend"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite", "sqlite"),
        ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite", "sqlite"),
        ("mysql://u:p@h/db", "mysql+aiomysql", "mysql"),
        ("mysql+pymysql://u:p@h/db", "mysql+aiomysql", "mysql"),
        ("mariadb://u:p@h:3307/db", "mysql+aiomysql", "mysql"),
        ("postgresql://u@h/db", "postgresql+psycopg", "postgresql"),
        ("postgres://u@h/db", "postgresql+psycopg", "postgresql"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg", "postgresql"),
    ],
)
def test_plain_urls_are_rewritten_to_the_async_drivers(
    configured: str, driver: str, backend: str
) -> None:
    parsed = database_url(configured)
    assert parsed.url.drivername == driver
    assert parsed.backend == backend
    if backend == "mysql":
        assert parsed.url.query["charset"] == "utf8mb4"


def test_unknown_database_url_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        database_url("oracle://scott:tiger-secret@db/x")
    assert "tiger-secret" not in str(caught.value)
    assert "oracle://scott:***@db/x" in str(caught.value)


# --------------------------------------------------------------------------- migrations


async def test_migrations_create_the_schema_and_upgrade_twice_is_a_no_op(store_url: str) -> None:
    assert await upgrade_database(store_url) == (None, head_revision())
    assert await upgrade_database(store_url) == (head_revision(), head_revision())

    async with await Store.open(store_url) as opened:
        assert await opened.revision() == head_revision()
        async with opened.engine.connect() as conn:
            schema = await conn.run_sync(_describe_schema)
        backend = opened.backend
        fts = await _fulltext_objects(opened)

    assert {"chats", "messages", "users", "sync_state", "alembic_version"} <= schema["tables"]
    assert {
        "chat_id", "message_id", "date", "edit_date", "sender_id", "sender_name", "text",
        "reply_to_id", "forward_from_id", "forward_from_name", "views", "forwards",
        "replies_count", "reactions", "reactions_total", "media_type", "media_path",
        "media_size", "is_outgoing", "is_service", "source", "fetched_at",
    } <= schema["columns"]["messages"]  # fmt: skip
    assert {
        "id", "raw_id", "type", "title", "username", "members_count", "unread_count",
        "last_message_at", "is_verified", "is_restricted", "is_creator", "is_admin",
        "source", "created_at", "updated_at",
    } <= schema["columns"]["chats"]  # fmt: skip
    assert {"id", "username", "first_name", "last_name", "is_bot", "updated_at"} <= schema[
        "columns"
    ]["users"]
    assert {
        "chat_id", "newest_id", "oldest_id", "backfill_complete", "last_run_at", "last_error"
    } <= schema["columns"]["sync_state"]  # fmt: skip
    assert schema["pk"]["messages"] == ["chat_id", "message_id"]
    assert schema["fk"]["messages"] == [(["chat_id"], "chats", ["id"])]
    assert ["chat_id", "date"] in schema["indexes"]["messages"]
    assert ["sender_id"] in schema["indexes"]["messages"]
    assert ["type"] in schema["indexes"]["chats"]
    assert ["username"] in schema["indexes"]["chats"]
    if backend == "mysql":
        assert "mediumtext" in schema["types"]["messages.text"].lower()
        assert fts == {"charset": "utf8mb4", "fulltext": ["text"]}
    elif backend == "postgresql":
        assert "gin" in fts["index"] and "to_tsvector('simple'" in fts["index"]
    else:
        assert {"messages_fts", "messages_fts_insert", "messages_fts_update"} <= fts["objects"]


def _describe_schema(conn: Connection) -> dict[str, Any]:
    inspector = inspect(conn)
    tables = set(inspector.get_table_names())
    wanted = ("chats", "messages", "users", "sync_state")
    return {
        "tables": tables,
        "columns": {t: {c["name"] for c in inspector.get_columns(t)} for t in wanted},
        "types": {
            f"messages.{c['name']}": str(c["type"]) for c in inspector.get_columns("messages")
        },
        "pk": {t: inspector.get_pk_constraint(t)["constrained_columns"] for t in wanted},
        "fk": {
            "messages": [
                (fk["constrained_columns"], fk["referred_table"], fk["referred_columns"])
                for fk in inspector.get_foreign_keys("messages")
            ]
        },
        "indexes": {
            t: [i["column_names"] for i in inspector.get_indexes(t) if i["column_names"]]
            for t in wanted
        },
    }


async def _fulltext_objects(store: Store) -> dict[str, Any]:
    async with store.engine.connect() as conn:
        if store.backend == "mysql":
            charset = (
                await conn.execute(
                    text(
                        "SELECT CCSA.character_set_name FROM information_schema.TABLES T "
                        "JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA "
                        "ON CCSA.collation_name = T.table_collation "
                        "WHERE T.table_schema = DATABASE() AND T.table_name = 'messages'"
                    )
                )
            ).scalar_one()
            fulltext = (
                await conn.execute(text("SHOW INDEX FROM messages WHERE Index_type = 'FULLTEXT'"))
            ).mappings()
            return {"charset": charset, "fulltext": [row["Column_name"] for row in fulltext]}
        if store.backend == "postgresql":
            index = (
                await conn.execute(
                    text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_messages_text_tsv'")
                )
            ).scalar_one()
            return {"index": index}
        names = (await conn.execute(text("SELECT name FROM sqlite_master"))).scalars()
        return {"objects": set(names)}


async def test_the_table_definitions_match_what_the_migrations_create(store: Store) -> None:
    def differences(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        return list(compare_metadata(context, metadata))

    async with store.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_open_migrates_on_first_use_and_sqlite_gets_wal_and_foreign_keys(
    store_url: str,
) -> None:
    async with await Store.open(store_url) as opened:
        assert await opened.revision() == head_revision()
        if opened.backend == "sqlite":
            assert database_url(store_url).sqlite_path.is_file()  # type: ignore[union-attr]
            async with opened.engine.connect() as conn:
                assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
                assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
                assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() >= 1000
        if opened.backend == "postgresql":
            async with opened.engine.connect() as conn:
                mode = (await conn.execute(text("SHOW plan_cache_mode"))).scalar()
                assert mode == "force_custom_plan"  # batch lookups never get a generic plan


async def test_open_without_migrate_leaves_an_empty_database_alone(store_url: str) -> None:
    async with await Store.open(store_url, migrate=False) as opened:
        assert await opened.revision() is None
        with pytest.raises(StoreError):
            await opened.count_messages(TEAM)
        assert await opened.upgrade() == (None, head_revision())
        assert await opened.count_messages(TEAM) == 0


# --------------------------------------------------------------------------- scenario 21


async def test_archive_upserts_are_idempotent_and_count_what_changed(store: Store) -> None:
    batch = make_messages(250)
    assert await store.upsert_messages(batch, fetched_at=FETCHED) == UpsertCounts(250, 0, 0)
    assert await store.count_messages(TEAM) == 250

    later = FETCHED + timedelta(hours=1)
    with recorded(store) as statements:
        again = await store.upsert_messages(batch, fetched_at=later)
    assert again == UpsertCounts(0, 0, 250)
    assert writes(statements) == []
    assert (await stored_row(store, TEAM, 1))["fetched_at"] == FETCHED  # not rewritten

    edited = dataclasses.replace(
        batch[99], text="message 100 (edited)", edit_date=T0 + timedelta(days=1)
    )
    reacted = dataclasses.replace(
        batch[199], reactions=(Reaction("emoji", 5, emoji="🔥"), Reaction("paid", 2))
    )
    changed = [*batch[:99], edited, *batch[100:199], reacted, *batch[200:]]
    assert await store.upsert_messages(changed, fetched_at=later) == UpsertCounts(0, 2, 248)

    both = dataclasses.replace(
        changed[49], text="fifty, edited", reactions=(Reaction("emoji", 1, emoji="❤"),), views=999
    )
    assert await store.upsert_messages([both], fetched_at=later) == UpsertCounts(0, 1, 0)

    stored = {m.id: m for m in await all_messages(store)}
    assert len(stored) == 250
    assert stored[100].text == "message 100 (edited)"
    assert stored[100].edit_date == T0 + timedelta(days=1)
    assert stored[200].reactions == (Reaction("emoji", 5, emoji="🔥"), Reaction("paid", 2))
    assert stored[200].reactions_total == 7
    assert stored[50].text == "fifty, edited" and stored[50].views == 999
    row = await stored_row(store, TEAM, 200)
    assert row["reactions_total"] == 7 and row["fetched_at"] == later


def message_statements(statements: list[str]) -> tuple[list[str], list[str]]:
    """The SELECTs and INSERTs of ``messages`` among ``statements``."""
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")
               and "FROM messages" in s]  # fmt: skip
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO MESSAGES")]
    return selects, inserts


async def test_each_batch_is_one_select_and_one_upsert_not_a_statement_per_row(
    store: Store,
) -> None:
    batch = make_messages(2500)
    with recorded(store) as statements:
        counts = await store.upsert_messages(batch, fetched_at=FETCHED, batch_size=1000)
    assert counts == UpsertCounts(2500, 0, 0)
    selects, inserts = message_statements(statements)
    if store.backend == "sqlite":  # new rows: one multi-row insert per batch, nothing read
        assert (len(selects), len(inserts)) == (0, 3)
    else:
        assert len(selects) == 3  # one per batch
        assert 3 <= len(inserts) <= 9  # executemany per batch (drivers may split a few)
    assert len(statements) < 40


def test_message_values_follow_the_column_order_of_the_table() -> None:
    assert tuple(messages.columns.keys()) == message_rows.COLUMNS


async def test_a_batch_of_stored_and_new_messages_counts_each_once(store: Store) -> None:
    assert await store.upsert_messages(make_messages(100), fetched_at=FETCHED) == UpsertCounts(100)
    edited = dataclasses.replace(make_messages(1, start=7)[0], text="seven, edited")
    batch = [*make_messages(100)[:6], edited, *make_messages(143, start=8)]
    with recorded(store) as statements:
        counts = await store.upsert_messages(batch, fetched_at=FETCHED)
    assert counts == UpsertCounts(inserted=50, updated=1, unchanged=99)
    assert await store.count_messages(TEAM) == 150
    stored = {m.id: m for m in await all_messages(store)}
    assert stored[7].text == "seven, edited" and stored[150].text == "message 150"
    selects, inserts = message_statements(statements)
    assert len(selects) == 1 and len(writes(inserts)) == 1


async def test_batches_commit_so_a_failure_keeps_the_batches_before_it(store: Store) -> None:
    batch = make_messages(250)
    seen: list[UpsertCounts] = []
    upserts = 0

    def fail_second_messages_upsert(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        nonlocal upserts
        if statement.lstrip().upper().startswith("INSERT INTO MESSAGES"):
            upserts += 1
            if upserts == 2:
                raise store.engine.dialect.loaded_dbapi.OperationalError("killed after one batch")

    with (
        before_each_statement(fail_second_messages_upsert),
        pytest.raises(StoreError, match="killed after one batch"),
    ):
        await store.upsert_messages(batch, fetched_at=FETCHED, batch_size=100, on_batch=seen.append)
    assert seen == [UpsertCounts(100, 0, 0)]
    assert await store.count_messages(TEAM) == 100

    resumed = await store.upsert_messages(batch, fetched_at=FETCHED, batch_size=100)
    assert resumed == UpsertCounts(150, 0, 100)
    assert await store.count_messages(TEAM) == 250


# --------------------------------------------------------------------------- scenario 22


def team_records(unread: int | None = 3) -> list[ChatRecord]:
    return [
        ChatRecord(TEAM, 1234567890, ChatType.SUPERGROUP, "Team", None, 42, unread, T0,
                   is_admin=True),
        ChatRecord(-4567, 4567, ChatType.GROUP, "Family", None, 5, 0, None),
        ChatRecord(-1009876543210, 9876543210, ChatType.CHANNEL, "News", "example_news", 1000,
                   12, T0),
        ChatRecord(5555, 5555, ChatType.USER, "Friend", "friend", None, 1, T0),
        ChatRecord(7777, 7777, ChatType.BOT, "Helper Bot", "helper_bot", None, None, None),
    ]  # fmt: skip


async def test_chat_rows_insert_then_stay_unchanged_and_never_lose_known_values(
    store: Store,
) -> None:
    assert await store.upsert_chats(team_records()) == UpsertCounts(5, 0, 0)
    with recorded(store) as statements:
        assert await store.upsert_chats(team_records()) == UpsertCounts(0, 0, 5)
    assert writes(statements) == []

    missing = [dataclasses.replace(r, unread_count=None) for r in team_records()]
    assert await store.upsert_chats(missing) == UpsertCounts(0, 0, 5)
    zeroed = [
        dataclasses.replace(r, unread_count=0, members_count=0, last_message_at=None, username=None)
        for r in team_records()
    ]
    # 0 fills a NULL (Friend's and the bot's members, the bot's unread) but replaces nothing
    assert await store.upsert_chats(zeroed) == UpsertCounts(0, 2, 3)
    assert await store.upsert_chats(zeroed) == UpsertCounts(0, 0, 5)
    team = await store.chat_record(TEAM)
    assert team is not None
    assert (team.unread_count, team.members_count, team.last_message_at) == (3, 42, T0)
    assert team.is_admin is True  # unknown flags keep the stored value
    news = await store.chat_record(-1009876543210)
    assert news is not None and news.username == "example_news"

    renamed = [dataclasses.replace(team_records()[0], title="Team 2", unread_count=9)]
    assert await store.upsert_chats(renamed) == UpsertCounts(0, 1, 0)
    assert await store.chat(TEAM) == Chat(TEAM, 1234567890, ChatType.SUPERGROUP, "Team 2")
    team = await store.chat_record(TEAM)
    assert team is not None and team.unread_count == 9

    known = await store.known_chats()
    assert [c.title for c in known] == ["Family", "Friend", "Helper Bot", "News", "Team 2"]
    assert await store.chat(424242) is None


async def test_messages_chat_id_joins_chats_id(store: Store) -> None:
    await store.upsert_chats(team_records())
    await store.upsert_messages(make_messages(5, TEAM) + make_messages(3, 5555), fetched_at=FETCHED)
    async with store.engine.connect() as conn:
        result = await conn.execute(
            select(chats.c.title, func.count())
            .select_from(messages.join(chats, messages.c.chat_id == chats.c.id))
            .group_by(chats.c.title)
            .order_by(chats.c.title)
        )
        assert [tuple(r) for r in result] == [("Friend", 3), ("Team", 5)]


async def test_messages_of_an_unknown_chat_get_a_placeholder_row_completed_later(
    store: Store,
) -> None:
    assert await store.upsert_messages(make_messages(3), fetched_at=FETCHED) == UpsertCounts(3)
    placeholder = await store.chat(TEAM)
    assert placeholder == Chat(TEAM, 1234567890, ChatType.CHANNEL, "")
    dialog = Dialog(Chat(TEAM, 1234567890, ChatType.SUPERGROUP, "Team"), unread=4)
    assert await store.upsert_chats([ChatRecord.from_dialog(dialog)]) == UpsertCounts(0, 1, 0)
    assert await store.chat(TEAM) == dialog.chat


# --------------------------------------------------------------------------- import (§3.5)


async def test_import_rows_only_fill_null_columns_of_live_rows(store: Store) -> None:
    live = Message(TEAM, 7, T0, "live text", sender=ALICE, views=None, media_type=None)
    await store.upsert_messages([live], fetched_at=FETCHED)
    imported = Message(
        TEAM,
        7,
        T0 + timedelta(hours=5),
        "imported text",
        sender=Sender(999, "Someone Else"),
        views=10,
        forward_from_name="Origin",
        media_type="photo",
        reactions=(Reaction("emoji", 3, emoji="👍"),),
    )
    counts = await store.upsert_messages(
        [imported], source="import", fetched_at=FETCHED, media_paths={(TEAM, 7): "/x/photo.jpg"}
    )
    assert counts == UpsertCounts(0, 1, 0)
    row = await stored_row(store, TEAM, 7)
    assert (row["text"], row["date"], row["sender_id"], row["sender_name"]) == (
        "live text",
        T0,
        101,
        "Alice Smith",
    )
    assert (row["views"], row["forward_from_name"], row["media_type"], row["media_path"]) == (
        10,
        "Origin",
        "photo",
        "/x/photo.jpg",
    )
    assert row["reactions"] == [] and row["source"] == "live"

    again = await store.upsert_messages(
        [imported], source="import", fetched_at=FETCHED, media_paths={(TEAM, 7): "/x/photo.jpg"}
    )
    assert again == UpsertCounts(0, 0, 1)


async def test_import_inserts_then_live_takes_over_and_reimport_is_unchanged(store: Store) -> None:
    desktop = make_messages(20)
    assert await store.upsert_messages(
        desktop, source="import", fetched_at=FETCHED
    ) == UpsertCounts(20)
    assert await store.upsert_messages(
        desktop, source="import", fetched_at=FETCHED
    ) == UpsertCounts(0, 0, 20)
    assert (await stored_row(store, TEAM, 1))["source"] == "import"
    live = [dataclasses.replace(m, views=(m.views or 0) + 1) for m in desktop[:5]]
    assert await store.upsert_messages(live, fetched_at=FETCHED) == UpsertCounts(0, 5, 0)
    assert (await stored_row(store, TEAM, 1))["source"] == "live"
    assert await store.upsert_messages(
        desktop, source="import", fetched_at=FETCHED
    ) == UpsertCounts(0, 0, 20)

    chat = ChatRecord(TEAM, 1234567890, ChatType.SUPERGROUP, "Team (live)", unread_count=2)
    await store.upsert_chats([chat])
    from_export = ChatRecord(TEAM, 1234567890, ChatType.SUPERGROUP, "Team (export)", "team_x",
                             members_count=40, source="import")  # fmt: skip
    assert await store.upsert_chats([from_export]) == UpsertCounts(0, 1, 0)
    assert await store.upsert_chats([from_export]) == UpsertCounts(0, 0, 1)
    record = await store.chat_record(TEAM)
    assert record is not None
    assert (record.title, record.username, record.members_count, record.source) == (
        "Team (live)",
        "team_x",
        40,
        "live",
    )
    with pytest.raises(ValueError, match="unknown source"):
        await store.upsert_messages(desktop, source="desktop", fetched_at=FETCHED)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- round trips


async def test_reactions_json_round_trips_emoji_custom_and_paid(store: Store) -> None:
    reactions = (
        Reaction("emoji", 3, emoji="❤️", mine=True),
        Reaction("custom_emoji", 2, document_id=5368324170671202286),
        Reaction("paid", 50, mine=True),
        Reaction("emoji", 1, emoji="👨‍👩‍👧"),
    )
    message = Message(TEAM, 1, T0, "with reactions", reactions=reactions)
    await store.upsert_messages([message, Message(TEAM, 2, T0, "none")], fetched_at=FETCHED)
    first, second = await all_messages(store)
    assert first.reactions == reactions
    assert first.reactions_total == 56
    assert second.reactions == ()
    row = await stored_row(store, TEAM, 1)
    assert row["reactions"] == [
        {"type": "emoji", "emoji": "❤️", "count": 3, "mine": True},
        {"type": "custom_emoji", "document_id": 5368324170671202286, "count": 2, "mine": False},
        {"type": "paid", "count": 50, "mine": True},
        {"type": "emoji", "emoji": "👨‍👩‍👧", "count": 1, "mine": False},
    ]
    assert row["reactions_total"] == 56
    cleared = dataclasses.replace(message, reactions=())
    assert await store.upsert_messages([cleared], fetched_at=FETCHED) == UpsertCounts(0, 1, 0)
    assert (await stored_row(store, TEAM, 1))["reactions_total"] == 0


async def test_emoji_and_cyrillic_text_round_trip_whole_messages(store: Store) -> None:
    long_text = "Привет, мир! 🎉🚀 " * 4000  # 68k characters: over a MySQL TEXT
    original = Message(
        chat_id=TEAM,
        id=42,
        date=datetime(2025, 2, 3, 4, 5, 6, 789000, tzinfo=UTC),
        text=long_text,
        sender=BORIS,
        reply_to_id=41,
        forward_from_id=-1009876543210,
        forward_from_name="Новости 📰",
        edit_date=datetime(2025, 2, 3, 5, 0, tzinfo=UTC),
        media_type="document",
        media_size=123_456_789_012,
        media_name="отчёт 2025.pdf",
        views=10,
        forwards=2,
        replies=3,
        reactions=(Reaction("emoji", 1, emoji="🤝"),),
        is_outgoing=True,
    )
    service = Message(TEAM, 43, T0, "", sender=BOT, is_service=True, service_action="pin_message")
    await store.upsert_messages([original, service], fetched_at=FETCHED)
    stored = {m.id: m for m in await all_messages(store)}
    assert stored[42] == original
    assert stored[43] == service
    assert stored[42].date.tzinfo is UTC
    assert await store.upsert_messages([original, service], fetched_at=FETCHED) == UpsertCounts(
        0, 0, 2
    )
    boris = await store.user(102)
    assert boris == UserRecord(102, "Борис Петров", None, None, False)


async def test_times_are_stored_utc_and_come_back_aware(store: Store) -> None:
    moscow = timezone(timedelta(hours=3))
    aware = Message(TEAM, 1, datetime(2025, 6, 1, 15, 0, tzinfo=moscow), "aware")
    naive = Message(TEAM, 2, datetime(2025, 6, 1, 12, 30), "naive is UTC")
    await store.upsert_messages([aware, naive], fetched_at=FETCHED)
    first, second = await all_messages(store)
    assert first.date == datetime(2025, 6, 1, 12, 0, tzinfo=UTC) and first.date.tzinfo is UTC
    assert second.date == datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
    assert await store.upsert_messages([aware, naive], fetched_at=FETCHED) == UpsertCounts(0, 0, 2)


async def test_users_keep_known_values_when_a_sender_carries_less(store: Store) -> None:
    assert await store.upsert_users([UserRecord(101, "Alice", "Smith", "alice")]) == UpsertCounts(1)
    assert await store.upsert_users([UserRecord(101, "Alice", None, None)]) == UpsertCounts(0, 0, 1)
    assert await store.upsert_users([UserRecord(101, "Alicia", None, "alicia")]) == UpsertCounts(
        0, 1, 0
    )
    assert await store.user(101) == UserRecord(101, "Alicia", "Smith", "alicia")
    await store.upsert_messages(
        [Message(TEAM, 1, T0, "hi", sender=Sender(101, "Alicia"))], fetched_at=FETCHED
    )
    (message,) = await all_messages(store)
    assert message.sender == Sender(101, "Alicia", "alicia")


# --------------------------------------------------------------------------- reading


async def test_iter_messages_windows_order_and_limit(store: Store) -> None:
    await store.upsert_messages(make_messages(100), fetched_at=FETCHED)
    await store.upsert_messages(make_messages(5, 5555), fetched_at=FETCHED)
    since, until = T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)

    newest = [m.id async for m in store.iter_messages(TEAM, since=since, until=until)]
    assert newest == list(range(19, 9, -1))  # since inclusive, until exclusive
    oldest = [
        m.id async for m in store.iter_messages(TEAM, since=since, newest_first=False, limit=3)
    ]
    assert oldest == [10, 11, 12]
    assert [m.id async for m in store.iter_messages(TEAM, limit=2)] == [100, 99]
    assert len([m async for m in store.iter_messages(TEAM, limit=0)]) == 100
    assert [m.id async for m in store.iter_messages(5555)] == [5, 4, 3, 2, 1]
    assert [m async for m in store.iter_messages(424242)] == []


async def test_iter_messages_streams_in_chunks_across_equal_dates(store: Store) -> None:
    same_minute = [Message(TEAM, i, T0, f"m{i}") for i in range(1, 24)]
    await store.upsert_messages(same_minute + make_messages(10, start=100), fetched_at=FETCHED)
    with recorded(store) as statements:
        chunked = [
            m.id
            async for m in message_rows.iter_messages(
                store.engine, TEAM, chunk=5, newest_first=False
            )
        ]
    assert chunked == [*range(1, 24), *range(100, 110)]
    assert len([s for s in statements if "FROM messages" in s]) == 7  # 33 rows, 5 per query
    newest = [m.id async for m in message_rows.iter_messages(store.engine, TEAM, chunk=4, limit=15)]
    assert newest == [*range(109, 99, -1), 23, 22, 21, 20, 19]


async def test_sync_state_round_trip(store: Store) -> None:
    assert await store.get_sync_state(TEAM) is None
    state = SyncState(TEAM, newest_id=250, oldest_id=101, backfill_complete=False,
                      last_run_at=FETCHED, last_error=None)  # fmt: skip
    await store.save_sync_state(state)
    assert await store.get_sync_state(TEAM) == state
    done = dataclasses.replace(
        state, oldest_id=1, backfill_complete=True, last_error="FloodWait 30 s"
    )
    await store.save_sync_state(done)
    assert await store.get_sync_state(TEAM) == done


async def test_a_batch_commits_its_sync_state_with_its_messages_or_neither(store: Store) -> None:
    def batch_of(messages: list[Message]) -> message_rows.MessageBatch:
        batch = store.message_batch(fetched_at=FETCHED)
        for message in messages:
            batch.add(message)
        return batch

    def fail_messages_insert(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO MESSAGES"):
            raise store.engine.dialect.loaded_dbapi.OperationalError("disk full")

    with before_each_statement(fail_messages_insert), pytest.raises(StoreError, match="disk full"):
        await store.upsert_batch(batch_of(make_messages(10)), sync_state=SyncState(TEAM, 10, 1))
    assert await store.get_sync_state(TEAM) is None
    assert await store.count_messages(TEAM) == 0

    counts = await store.upsert_batch(
        batch_of(make_messages(10)), sync_state=SyncState(TEAM, 10, 1)
    )
    assert counts == UpsertCounts(10)
    assert await store.get_sync_state(TEAM) == SyncState(TEAM, 10, 1)
    assert await store.count_messages(TEAM) == 10


async def test_a_sqlite_file_is_written_through_one_kept_connection_on_one_thread(
    tmp_path: Path,
) -> None:
    connections: list[object] = []
    writers: set[str] = set()

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        connections.append(dbapi_connection)

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "BEGIN IMMEDIATE")):
            writers.add(threading.current_thread().name)

    async with await Store.open(f"sqlite:///{tmp_path / 'tgpilot.db'}") as store:
        event.listen(Engine, "connect", on_connect)
        try:
            with before_each_statement(before):
                await store.upsert_chats(team_records()[:1])
                assert await store.upsert_messages(
                    make_messages(2500), fetched_at=FETCHED, batch_size=1000
                ) == UpsertCounts(2500)
                await store.save_sync_state(SyncState(TEAM, 2500, 1, backfill_complete=True))
        finally:
            event.remove(Engine, "connect", on_connect)
        assert await store.count_messages(TEAM) == 2500
    assert len(connections) == 1  # opened by the first write, kept for every later one
    assert len(writers) == 1 and next(iter(writers)).startswith("tgpilot-store-writer")


async def test_an_in_memory_sqlite_store_writes_on_its_one_connection() -> None:
    async with await Store.open("sqlite://") as store:
        assert await store.upsert_messages(make_messages(30), fetched_at=FETCHED) == UpsertCounts(
            30
        )
        await store.save_sync_state(SyncState(TEAM, 30, 1))
        assert await store.count_messages(TEAM) == 30
        assert await store.get_sync_state(TEAM) == SyncState(TEAM, 30, 1)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2025, 6, 1, 12, 30, 5, 123456, tzinfo=UTC),
        datetime(2025, 6, 1, 15, 30, tzinfo=timezone(timedelta(hours=3))),
        datetime(2025, 6, 1, 12, 30),
        datetime(5, 1, 2, 3, 4, 5, 6),
        None,
    ],
)
def test_sqlite_times_are_bound_as_sqlalchemys_own_datetime_text(value: datetime | None) -> None:
    from sqlalchemy.dialects.sqlite import DATETIME, aiosqlite, pysqlite

    from tgpilot.store.types import UTCDateTime, naive_utc

    for dialect in (pysqlite.dialect(), aiosqlite.dialect()):
        fused = UTCDateTime().bind_processor(dialect)
        own = DATETIME().bind_processor(dialect)
        assert fused is not None and own is not None
        expected = own(naive_utc(value)) if value is not None else None
        assert fused(value) == expected


# --------------------------------------------------------------------------- errors (§5)


async def test_store_error_names_the_masked_url_and_the_database_message(store_url: str) -> None:
    backend = database_url(store_url).backend
    if backend == "sqlite":
        garbage = database_url(store_url).sqlite_path
        assert garbage is not None
        garbage.parent.mkdir(parents=True, exist_ok=True)
        garbage.write_bytes(b"this is not a database, just some text " * 100)
        with pytest.raises(StoreError) as caught:
            await Store.open(f"sqlite:///{garbage}")
        assert caught.value.message == (
            f"database sqlite:///{garbage} (opening): file is not a database"
        )
        return
    if backend == "mysql":
        bad = "mysql://root:hunter2-secret@127.0.0.1:3306/whatever"
        expected, said = "mysql://root:***@127.0.0.1:3306/whatever", "Access denied"
    else:
        bad = "postgresql://postgres:hunter2-secret@127.0.0.1:1/whatever"
        expected, said = "postgresql://postgres:***@127.0.0.1:1/whatever", "onnection refused"
    with pytest.raises(StoreError) as caught:
        await Store.open(bad)
    message = caught.value.message
    assert expected in message
    assert said in message
    assert "hunter2" not in message
    assert caught.value.exit_code == 1


async def test_failures_during_operations_are_store_errors(store: Store) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(text("DROP TABLE sync_state"))
    with pytest.raises(StoreError) as caught:
        await store.get_sync_state(TEAM)
    assert caught.value.message.startswith(f"database {store.url} (reading sync state): ")
    assert "sync_state" in caught.value.message
