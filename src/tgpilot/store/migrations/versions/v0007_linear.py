"""The Linear mirror, its watermarks, ``linear_links``, the view ``linear_issues_flat``,
and ``bot_users`` (spec linear-and-bots.md §1.4–§1.7, §2.2, §4).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

The view joins each issue with its team key, state, project, assignee and its labels
(names sorted, joined by ", "), written per dialect: ``group_concat`` on SQLite,
``GROUP_CONCAT … SEPARATOR`` on MariaDB/MySQL, ``string_agg`` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}

_ID = 64
_NAME = 255
_URL = 1024


def _time() -> sa.types.TypeEngine[Any]:
    """Naive UTC; microseconds kept on MySQL too."""
    return sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _long_text() -> sa.types.TypeEngine[Any]:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def _id(name: str = "id", *, primary: bool = False, nullable: bool = True) -> sa.Column[Any]:
    if primary:
        return sa.Column(name, sa.String(_ID), primary_key=True, autoincrement=False)
    return sa.Column(name, sa.String(_ID), nullable=nullable)


def _synced_at() -> sa.Column[Any]:
    return sa.Column("synced_at", _time(), nullable=False)


_LABELS = {
    "sqlite": (
        "(SELECT group_concat(name, ', ') FROM (SELECT l.name AS name "
        "FROM linear_issue_labels il JOIN linear_labels l ON l.id = il.label_id "
        "WHERE il.issue_id = i.id ORDER BY l.name))"
    ),
    "mysql": (
        "(SELECT GROUP_CONCAT(l.name ORDER BY l.name SEPARATOR ', ') "
        "FROM linear_issue_labels il JOIN linear_labels l ON l.id = il.label_id "
        "WHERE il.issue_id = i.id)"
    ),
    "postgresql": (
        "(SELECT string_agg(l.name, ', ' ORDER BY l.name) "
        "FROM linear_issue_labels il JOIN linear_labels l ON l.id = il.label_id "
        "WHERE il.issue_id = i.id)"
    ),
}


def _flat_view(dialect: str) -> str:
    labels = _LABELS["mysql" if dialect in ("mysql", "mariadb") else dialect]
    return (
        "CREATE VIEW linear_issues_flat AS SELECT "
        "i.id, i.identifier, i.number, i.title, i.description, i.priority, "
        "i.priority_label, i.estimate, i.due_date, i.url, i.created_at, i.updated_at, "
        "i.started_at, i.completed_at, i.canceled_at, i.archived_at, "
        "i.team_id, t.key AS team_key, t.name AS team_name, "
        "i.state_id, s.name AS state_name, s.type AS state_type, "
        "i.project_id, p.name AS project_name, "
        "i.assignee_id, u.name AS assignee_name, u.email AS assignee_email, "
        f"{labels} AS labels "
        "FROM linear_issues i "
        "LEFT JOIN linear_teams t ON t.id = i.team_id "
        "LEFT JOIN linear_states s ON s.id = i.state_id "
        "LEFT JOIN linear_projects p ON p.id = i.project_id "
        "LEFT JOIN linear_users u ON u.id = i.assignee_id"
    )


def upgrade() -> None:
    op.create_table(
        "linear_teams",
        _id(primary=True),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("name", sa.String(_NAME), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", _time(), nullable=True),
        _synced_at(),
        sa.UniqueConstraint("key", name="uq_linear_teams_key"),
        **_MYSQL,
    )
    op.create_table(
        "linear_users",
        _id(primary=True),
        sa.Column("name", sa.String(_NAME), nullable=False),
        sa.Column("display_name", sa.String(_NAME), nullable=True),
        sa.Column("email", sa.String(_NAME), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.false()),
        _synced_at(),
        **_MYSQL,
    )
    op.create_index("ix_linear_users_email", "linear_users", ["email"])
    op.create_table(
        "linear_states",
        _id(primary=True),
        _id("team_id"),
        sa.Column("name", sa.String(_NAME), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("position", sa.Double(), nullable=True),
        sa.Column("color", sa.String(32), nullable=True),
        _synced_at(),
        **_MYSQL,
    )
    op.create_index("ix_linear_states_team_id", "linear_states", ["team_id"])
    op.create_table(
        "linear_labels",
        _id(primary=True),
        _id("team_id"),
        sa.Column("name", sa.String(_NAME), nullable=False),
        sa.Column("color", sa.String(32), nullable=True),
        _id("parent_id"),
        sa.Column("archived_at", _time(), nullable=True),
        _synced_at(),
        **_MYSQL,
    )
    op.create_index("ix_linear_labels_team_id", "linear_labels", ["team_id"])
    op.create_table(
        "linear_projects",
        _id(primary=True),
        sa.Column("name", sa.String(_NAME), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("state", sa.String(32), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("progress", sa.Double(), nullable=True),
        sa.Column("url", sa.String(_URL), nullable=True),
        sa.Column("updated_at", _time(), nullable=True),
        sa.Column("archived_at", _time(), nullable=True),
        _synced_at(),
        **_MYSQL,
    )
    op.create_table(
        "linear_project_teams",
        sa.Column("project_id", sa.String(_ID), primary_key=True, autoincrement=False),
        sa.Column("team_id", sa.String(_ID), primary_key=True, autoincrement=False),
        _synced_at(),
        **_MYSQL,
    )
    op.create_table(
        "linear_issues",
        _id(primary=True),
        sa.Column("identifier", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", _long_text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("priority_label", sa.String(32), nullable=True),
        sa.Column("estimate", sa.Double(), nullable=True),
        _id("team_id", nullable=False),
        _id("state_id"),
        _id("project_id"),
        _id("assignee_id"),
        _id("creator_id"),
        _id("parent_id"),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("url", sa.String(_URL), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("started_at", _time(), nullable=True),
        sa.Column("completed_at", _time(), nullable=True),
        sa.Column("canceled_at", _time(), nullable=True),
        sa.Column("archived_at", _time(), nullable=True),
        _synced_at(),
        sa.UniqueConstraint("identifier", name="uq_linear_issues_identifier"),
        **_MYSQL,
    )
    for column in (
        "team_id", "project_id", "assignee_id", "state_id", "priority", "due_date", "updated_at"
    ):  # fmt: skip
        op.create_index(f"ix_linear_issues_{column}", "linear_issues", [column])
    op.create_table(
        "linear_issue_labels",
        sa.Column("issue_id", sa.String(_ID), primary_key=True, autoincrement=False),
        sa.Column("label_id", sa.String(_ID), primary_key=True, autoincrement=False),
        _synced_at(),
        **_MYSQL,
    )
    op.create_table(
        "linear_mirror_state",
        sa.Column("entity", sa.String(32), primary_key=True, autoincrement=False),
        sa.Column("scope", sa.String(_ID), primary_key=True, autoincrement=False),
        sa.Column("watermark", _time(), nullable=False),
        _synced_at(),
        **_MYSQL,
    )
    op.create_table(
        "linear_links",
        sa.Column("source", sa.String(64), primary_key=True, autoincrement=False),
        sa.Column("external_key", sa.String(255), primary_key=True, autoincrement=False),
        _id("issue_id"),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        **_MYSQL,
    )
    op.create_index("ix_linear_links_fingerprint", "linear_links", ["fingerprint"])
    op.execute(_flat_view(op.get_bind().dialect.name))
    op.create_table(
        "bot_users",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("first_name", sa.String(_NAME), nullable=True),
        sa.Column("last_name", sa.String(_NAME), nullable=True),
        sa.Column("language_code", sa.String(16), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("is_premium", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("first_seen_at", _time(), nullable=False),
        sa.Column("last_seen_at", _time(), nullable=False),
        **_MYSQL,
    )


def downgrade() -> None:
    op.drop_table("bot_users")
    op.execute("DROP VIEW IF EXISTS linear_issues_flat")
    op.drop_index("ix_linear_links_fingerprint", table_name="linear_links")
    op.drop_table("linear_links")
    op.drop_table("linear_mirror_state")
    op.drop_table("linear_issue_labels")
    for column in (
        "team_id", "project_id", "assignee_id", "state_id", "priority", "due_date", "updated_at"
    ):  # fmt: skip
        op.drop_index(f"ix_linear_issues_{column}", table_name="linear_issues")
    op.drop_table("linear_issues")
    op.drop_table("linear_project_teams")
    op.drop_table("linear_projects")
    op.drop_index("ix_linear_labels_team_id", table_name="linear_labels")
    op.drop_table("linear_labels")
    op.drop_index("ix_linear_states_team_id", table_name="linear_states")
    op.drop_table("linear_states")
    op.drop_index("ix_linear_users_email", table_name="linear_users")
    op.drop_table("linear_users")
    op.drop_table("linear_teams")
