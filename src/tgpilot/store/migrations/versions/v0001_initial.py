"""Initial schema: chats, messages, users, sync_state and full-text search per backend.

Revision ID: 0001
Revises:
Create Date: 2026-11-01

Full text: SQLite gets an FTS5 table ``messages_fts`` with external content on
``messages`` (by rowid) kept by triggers; MariaDB/MySQL a FULLTEXT index on
``messages.text``; PostgreSQL a GIN index on ``to_tsvector('simple', text)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def _time() -> sa.types.TypeEngine[Any]:
    """Naive UTC; microseconds kept on MySQL too."""
    return sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _long_text() -> sa.types.TypeEngine[Any]:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _flag(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())


_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "text, content='messages', content_rowid='rowid', tokenize='unicode61')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.rowid, new.text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text); "
    "END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text); "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.rowid, new.text); END",
)


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("raw_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("members_count", sa.Integer(), nullable=True),
        sa.Column("unread_count", sa.Integer(), nullable=True),
        sa.Column("last_message_at", _time(), nullable=True),
        _flag("is_verified"),
        _flag("is_restricted"),
        _flag("is_creator"),
        _flag("is_admin"),
        sa.Column("source", sa.String(16), nullable=False, server_default=sa.text("'live'")),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        **_MYSQL,
    )
    op.create_index("ix_chats_type", "chats", ["type"])
    op.create_index("ix_chats_username", "chats", ["username"])

    op.create_table(
        "messages",
        sa.Column("chat_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("date", _time(), nullable=False),
        sa.Column("edit_date", _time(), nullable=True),
        sa.Column("sender_id", sa.BigInteger(), nullable=True),
        sa.Column("sender_name", sa.String(255), nullable=True),
        sa.Column("text", _long_text(), nullable=False),
        sa.Column("reply_to_id", sa.BigInteger(), nullable=True),
        sa.Column("forward_from_id", sa.BigInteger(), nullable=True),
        sa.Column("forward_from_name", sa.String(255), nullable=True),
        sa.Column("views", sa.BigInteger(), nullable=True),
        sa.Column("forwards", sa.BigInteger(), nullable=True),
        sa.Column("replies_count", sa.BigInteger(), nullable=True),
        sa.Column("reactions", _json(), nullable=False),
        sa.Column("reactions_total", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("media_type", sa.String(32), nullable=True),
        sa.Column("media_path", sa.String(1024), nullable=True),
        sa.Column("media_size", sa.BigInteger(), nullable=True),
        sa.Column("media_name", sa.String(512), nullable=True),
        _flag("is_outgoing"),
        _flag("is_service"),
        sa.Column("service_action", sa.String(64), nullable=True),
        sa.Column("source", sa.String(16), nullable=False, server_default=sa.text("'live'")),
        sa.Column("fetched_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "message_id", name="pk_messages"),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], name="fk_messages_chat_id_chats"),
        **_MYSQL,
    )
    op.create_index("ix_messages_chat_id_date", "messages", ["chat_id", "date"])
    op.create_index("ix_messages_sender_id", "messages", ["sender_id"])

    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("first_name", sa.String(255), nullable=True),
        sa.Column("last_name", sa.String(255), nullable=True),
        _flag("is_bot"),
        sa.Column("updated_at", _time(), nullable=False),
        **_MYSQL,
    )
    op.create_index("ix_users_username", "users", ["username"])

    op.create_table(
        "sync_state",
        sa.Column("chat_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("newest_id", sa.BigInteger(), nullable=True),
        sa.Column("oldest_id", sa.BigInteger(), nullable=True),
        _flag("backfill_complete"),
        sa.Column("last_run_at", _time(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        **_MYSQL,
    )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_FTS:
            op.execute(statement)
    elif dialect in ("mysql", "mariadb"):
        op.create_index("ix_messages_text_fulltext", "messages", ["text"], mysql_prefix="FULLTEXT")
    elif dialect == "postgresql":
        op.create_index(
            "ix_messages_text_tsv",
            "messages",
            [sa.text("to_tsvector('simple'::regconfig, text)")],
            postgresql_using="gin",
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    op.drop_table("sync_state")
    op.drop_table("users")
    op.drop_table("messages")
    op.drop_table("chats")
