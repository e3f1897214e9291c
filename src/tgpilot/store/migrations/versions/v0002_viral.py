"""Viral questions: ``viral_chats`` and ``viral_questions`` (spec telegram-cli §4.5).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-20

Questions are upserted by chat key and text. The text is a TEXT column, which
MariaDB/MySQL cannot put a whole-column unique index on, so the natural key is
``(chat_key, text_hash)`` with ``text_hash`` the SHA-256 of the text in hex — the same
on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
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


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "viral_chats",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("chat_ref", sa.String(255), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("expected_reactions_min", sa.Integer(), nullable=True),
        sa.Column("expected_reactions_max", sa.Integer(), nullable=True),
        sa.Column("expected_comments", sa.Integer(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.UniqueConstraint("key", name="uq_viral_chats_key"),
        **_MYSQL,
    )
    op.create_table(
        "viral_questions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("chat_key", sa.String(64), nullable=False),
        sa.Column("question_text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default=sa.text("'draft'")),
        sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("sent_at", _time(), nullable=True),
        sa.Column("sent_message_id", sa.BigInteger(), nullable=True),
        sa.Column("reactions_received", sa.Integer(), nullable=True),
        sa.Column("comments_received", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_key"], ["viral_chats.key"], name="fk_viral_questions_chat_key_viral_chats"
        ),
        sa.UniqueConstraint("chat_key", "text_hash", name="uq_viral_questions_chat_key_text_hash"),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'sent', 'archived')",
            name="ck_viral_questions_status",
        ),
        **_MYSQL,
    )
    op.create_index("ix_viral_questions_status", "viral_questions", ["status"])
    op.create_index("ix_viral_questions_priority", "viral_questions", [sa.text("priority DESC")])


def downgrade() -> None:
    op.drop_table("viral_questions")
    op.drop_table("viral_chats")
