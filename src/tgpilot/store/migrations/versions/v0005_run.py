"""``tgpilot run`` and the auto-responder: cursors, handler starts, replies, drafts, pauses.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

``run_cursors`` keeps the newest message id each handler has handled per chat (so a
reconnect or restart resumes without gaps or repeats); ``run_handlers`` when each
handler started; ``autoanswer_replies`` every answer as an intent written before
sending (spec ai.md §4.8); ``autoanswer_drafts`` draft-mode answers; and
``autoanswer_chats`` the pause after the owner wrote by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
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


def _long_text() -> sa.types.TypeEngine[Any]:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "run_cursors",
        sa.Column("handler", sa.String(64), primary_key=True, autoincrement=False),
        sa.Column("chat_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        **_MYSQL,
    )
    op.create_table(
        "run_handlers",
        sa.Column("name", sa.String(64), primary_key=True, autoincrement=False),
        sa.Column("started_at", _time(), nullable=False),
        sa.Column("alive_at", _time(), nullable=False),
        **_MYSQL,
    )
    op.create_table(
        "autoanswer_replies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_ids", _json(), nullable=False),
        sa.Column("reply_to_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("placeholder_id", sa.BigInteger(), nullable=True),
        sa.Column("reply_ids", _json(), nullable=False),
        sa.Column("chars", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        **_MYSQL,
    )
    op.create_index(
        "ix_autoanswer_replies_chat_created", "autoanswer_replies", ["chat_id", "created_at"]
    )
    op.create_index("ix_autoanswer_replies_state", "autoanswer_replies", ["state"])
    op.create_table(
        "autoanswer_drafts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_title", sa.String(255), nullable=False),
        sa.Column("reply_to_id", sa.BigInteger(), nullable=False),
        sa.Column("source_ids", _json(), nullable=False),
        sa.Column("text", _long_text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notice_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.Column("decided_at", _time(), nullable=True),
        sa.Column("sent_at", _time(), nullable=True),
        sa.Column("sent_ids", _json(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'sending', 'sent', 'rejected', 'expired', 'failed')",
            name="ck_autoanswer_drafts_status",
        ),
        **_MYSQL,
    )
    op.create_index("ix_autoanswer_drafts_status", "autoanswer_drafts", ["status"])
    op.create_table(
        "autoanswer_chats",
        sa.Column("chat_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("paused_until", _time(), nullable=True),
        sa.Column("updated_at", _time(), nullable=False),
        **_MYSQL,
    )


def downgrade() -> None:
    op.drop_table("autoanswer_chats")
    op.drop_index("ix_autoanswer_drafts_status", table_name="autoanswer_drafts")
    op.drop_table("autoanswer_drafts")
    op.drop_index("ix_autoanswer_replies_state", table_name="autoanswer_replies")
    op.drop_index("ix_autoanswer_replies_chat_created", table_name="autoanswer_replies")
    op.drop_table("autoanswer_replies")
    op.drop_table("run_handlers")
    op.drop_table("run_cursors")
