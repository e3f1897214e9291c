"""CRM records: ``crm_contacts``, ``crm_deals`` and ``crm_actions`` (spec ai.md §4.3).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

Each table is keyed by the SHA-256 of its record's natural key (``key_hash``) and keeps
the record's provenance: chat, message ids, time, model and method (``llm``/``regex``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
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


def _provenance() -> list[sa.Column[Any]]:
    return [
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_title", sa.String(255), nullable=False),
        sa.Column("message_ids", _json(), nullable=False),
        sa.Column("extracted_at", _time(), nullable=False),
        sa.Column("model", sa.String(255), nullable=True),
        sa.Column("method", sa.String(8), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "crm_contacts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("company", sa.String(255), nullable=False),
        sa.Column("role", sa.String(255), nullable=False),
        sa.Column("phone", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("telegram", sa.String(255), nullable=False),
        sa.Column("interests", _json(), nullable=False),
        sa.Column("temperature", sa.String(32), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("urls", _json(), nullable=False),
        *_provenance(),
        sa.UniqueConstraint("key_hash", name="uq_crm_contacts_key_hash"),
        **_MYSQL,
    )
    op.create_table(
        "crm_deals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("currency", sa.String(32), nullable=True),
        sa.Column("next_action", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        *_provenance(),
        sa.UniqueConstraint("key_hash", name="uq_crm_deals_key_hash"),
        **_MYSQL,
    )
    op.create_table(
        "crm_actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("assignee", sa.String(255), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        *_provenance(),
        sa.UniqueConstraint("key_hash", name="uq_crm_actions_key_hash"),
        **_MYSQL,
    )


def downgrade() -> None:
    op.drop_table("crm_actions")
    op.drop_table("crm_deals")
    op.drop_table("crm_contacts")
