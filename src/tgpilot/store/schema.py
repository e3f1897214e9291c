"""The tables of the Telegram archive as SQLAlchemy Core objects (spec telegram-cli §3.3).

These definitions are what queries are built from; the database itself is created
and changed only by the Alembic migrations in :mod:`tgpilot.store.migrations`, which
also add the full-text objects per backend (FTS5 table and triggers on SQLite,
FULLTEXT index on MySQL, GIN index on PostgreSQL). Ids are marked chat ids
(BIGINT); times are naive UTC in the database (see :mod:`tgpilot.store.types`).
The viral-question tables (spec telegram-cli §4.5) come with migration 0002, the LLM
usage and response-cache tables (spec ai.md §1.5) with migration 0003, the CRM
tables (spec ai.md §4.3) with migration 0004, the ``tgpilot run`` cursors and
the auto-responder tables (spec ai.md §4.8) with migration 0005, message
transcripts (spec ai.md §4.11) with migration 0006, the Linear mirror, ``linear_links``
and ``bot_users`` (spec linear-and-bots.md §4) with migration 0007.

Beyond the spec's columns, ``messages`` keeps ``media_name`` and ``service_action``
so that a stored :class:`~tgpilot.models.Message` reads back whole.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from tgpilot.store.types import JSON_DOCUMENT, LONG_TEXT, UTCDateTime

MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}
"""InnoDB with 4-byte UTF-8 (emoji) on MariaDB/MySQL; ignored elsewhere."""

TITLE_LENGTH = 255
USERNAME_LENGTH = 64
NAME_LENGTH = 255
TYPE_LENGTH = 16
MEDIA_TYPE_LENGTH = 32
MEDIA_NAME_LENGTH = 512
MEDIA_PATH_LENGTH = 1024
SERVICE_ACTION_LENGTH = 64
ERROR_LENGTH = 4000

metadata = MetaData()

chats = Table(
    "chats",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("raw_id", BigInteger, nullable=False),
    Column("type", String(TYPE_LENGTH), nullable=False),
    Column("title", String(TITLE_LENGTH), nullable=False),
    Column("username", String(USERNAME_LENGTH), nullable=True),
    Column("members_count", Integer, nullable=True),
    Column("unread_count", Integer, nullable=True),
    Column("last_message_at", UTCDateTime, nullable=True),
    Column("is_verified", Boolean, nullable=False, server_default=false()),
    Column("is_restricted", Boolean, nullable=False, server_default=false()),
    Column("is_creator", Boolean, nullable=False, server_default=false()),
    Column("is_admin", Boolean, nullable=False, server_default=false()),
    Column("source", String(TYPE_LENGTH), nullable=False, server_default=text("'live'")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_chats_type", "type"),
    Index("ix_chats_username", "username"),
    **MYSQL_TABLE_OPTIONS,
)

messages = Table(
    "messages",
    metadata,
    Column(
        "chat_id",
        BigInteger,
        ForeignKey("chats.id", name="fk_messages_chat_id_chats"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("date", UTCDateTime, nullable=False),
    Column("edit_date", UTCDateTime, nullable=True),
    Column("sender_id", BigInteger, nullable=True),
    Column("sender_name", String(NAME_LENGTH), nullable=True),
    Column("text", LONG_TEXT, nullable=False),
    Column("reply_to_id", BigInteger, nullable=True),
    Column("forward_from_id", BigInteger, nullable=True),
    Column("forward_from_name", String(NAME_LENGTH), nullable=True),
    Column("views", BigInteger, nullable=True),
    Column("forwards", BigInteger, nullable=True),
    Column("replies_count", BigInteger, nullable=True),
    Column("reactions", JSON_DOCUMENT, nullable=False),
    Column("reactions_total", Integer, nullable=False, server_default=text("0")),
    Column("media_type", String(MEDIA_TYPE_LENGTH), nullable=True),
    Column("media_path", String(MEDIA_PATH_LENGTH), nullable=True),
    Column("media_size", BigInteger, nullable=True),
    Column("media_name", String(MEDIA_NAME_LENGTH), nullable=True),
    Column("is_outgoing", Boolean, nullable=False, server_default=false()),
    Column("is_service", Boolean, nullable=False, server_default=false()),
    Column("service_action", String(SERVICE_ACTION_LENGTH), nullable=True),
    Column("source", String(TYPE_LENGTH), nullable=False, server_default=text("'live'")),
    Column("fetched_at", UTCDateTime, nullable=False),
    Index("ix_messages_chat_id_date", "chat_id", "date"),
    Index("ix_messages_sender_id", "sender_id"),
    **MYSQL_TABLE_OPTIONS,
)

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("username", String(USERNAME_LENGTH), nullable=True),
    Column("first_name", String(NAME_LENGTH), nullable=True),
    Column("last_name", String(NAME_LENGTH), nullable=True),
    Column("is_bot", Boolean, nullable=False, server_default=false()),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_users_username", "username"),
    **MYSQL_TABLE_OPTIONS,
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("newest_id", BigInteger, nullable=True),
    Column("oldest_id", BigInteger, nullable=True),
    Column("backfill_complete", Boolean, nullable=False, server_default=false()),
    Column("last_run_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    **MYSQL_TABLE_OPTIONS,
)

MESSAGES_FTS = "messages_fts"
"""SQLite: the FTS5 table indexing ``messages.text`` (external content, by rowid)."""

MESSAGES_FULLTEXT_INDEX = "ix_messages_text_fulltext"
"""MariaDB/MySQL: the FULLTEXT index on ``messages.text``."""

MESSAGES_TSVECTOR_INDEX = "ix_messages_text_tsv"
"""PostgreSQL: the GIN index on ``to_tsvector('simple', text)``."""

TS_CONFIG = "simple"
"""PostgreSQL text-search configuration: lower-cases, no stemming, no stop words."""

VIRAL_KEY_LENGTH = 64
VIRAL_CHAT_REF_LENGTH = 255
VIRAL_STATUS_LENGTH = 16
TEXT_HASH_LENGTH = 64

viral_chats = Table(
    "viral_chats",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(VIRAL_KEY_LENGTH), nullable=False),
    Column("chat_ref", String(VIRAL_CHAT_REF_LENGTH), nullable=False),
    Column("chat_id", BigInteger, nullable=True),
    Column("description", Text, nullable=True),
    Column("expected_reactions_min", Integer, nullable=True),
    Column("expected_reactions_max", Integer, nullable=True),
    Column("expected_comments", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("key", name="uq_viral_chats_key"),
    **MYSQL_TABLE_OPTIONS,
)

viral_questions = Table(
    "viral_questions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "chat_key",
        String(VIRAL_KEY_LENGTH),
        ForeignKey("viral_chats.key", name="fk_viral_questions_chat_key_viral_chats"),
        nullable=False,
    ),
    Column("question_text", Text, nullable=False),
    Column("text_hash", String(TEXT_HASH_LENGTH), nullable=False),
    Column("status", String(VIRAL_STATUS_LENGTH), nullable=False, server_default=text("'draft'")),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("tags", JSON_DOCUMENT, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("sent_message_id", BigInteger, nullable=True),
    Column("reactions_received", Integer, nullable=True),
    Column("comments_received", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("chat_key", "text_hash", name="uq_viral_questions_chat_key_text_hash"),
    CheckConstraint(
        "status IN ('draft', 'active', 'sent', 'archived')", name="ck_viral_questions_status"
    ),
    Index("ix_viral_questions_status", "status"),
    **MYSQL_TABLE_OPTIONS,
)
"""Questions are upserted by ``(chat_key, question_text)``, enforced through
``text_hash`` (SHA-256 of the text, hex): MariaDB/MySQL cannot index a TEXT column
whole, and a prefix index would not make it unique."""

Index("ix_viral_questions_priority", viral_questions.c.priority.desc())

LLM_NAME_LENGTH = 128
LLM_MODEL_LENGTH = 255
LLM_STATUS_LENGTH = 32
LLM_HASH_LENGTH = 64

llm_usage = Table(
    "llm_usage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", UTCDateTime, nullable=False),
    Column("command", String(LLM_NAME_LENGTH), nullable=False),
    Column("provider", String(TYPE_LENGTH), nullable=False),
    Column("model", String(LLM_MODEL_LENGTH), nullable=False),
    Column("operation", String(TYPE_LENGTH), nullable=False),
    Column("prompt_name", String(LLM_NAME_LENGTH), nullable=True),
    Column("prompt_hash", String(LLM_HASH_LENGTH), nullable=True),
    Column("input_tokens", Integer, nullable=False, server_default=text("0")),
    Column("output_tokens", Integer, nullable=False, server_default=text("0")),
    Column("cached_tokens", Integer, nullable=False, server_default=text("0")),
    Column("cost_usd", Double, nullable=True),
    Column("latency_ms", Integer, nullable=False, server_default=text("0")),
    Column("retries", Integer, nullable=False, server_default=text("0")),
    Column("status", String(LLM_STATUS_LENGTH), nullable=False),
    Column("cache_hit", Boolean, nullable=False, server_default=false()),
    Index("ix_llm_usage_time", "time"),
    Index("ix_llm_usage_command", "command"),
    **MYSQL_TABLE_OPTIONS,
)
"""One row per LLM call (spec ai.md §1.5), failures and cache hits included; a null
``cost_usd`` means the model's price is unknown. Migration 0003."""

llm_cache = Table(
    "llm_cache",
    metadata,
    Column("key", String(LLM_HASH_LENGTH), primary_key=True, autoincrement=False),
    Column("provider", String(TYPE_LENGTH), nullable=False),
    Column("model", String(LLM_MODEL_LENGTH), nullable=False),
    Column("answer", LONG_TEXT, nullable=False),
    Column("usage", JSON_DOCUMENT, nullable=False),
    Column("finish_reason", String(LLM_STATUS_LENGTH), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)
"""Answers to non-streaming requests by request hash (SHA-256 hex of provider, endpoint,
model, messages and parameters), so a re-run pays only for calls that failed."""

CRM_FIELD_LENGTH = 255
CRM_ENUM_LENGTH = 32
CRM_METHOD_LENGTH = 8
CRM_KEY_LENGTH = 64


def _crm_provenance() -> list[Column[Any]]:
    """Where a CRM record comes from: the chat, the messages, when, which model, how."""
    return [
        Column("chat_id", BigInteger, nullable=False),
        Column("chat_title", String(TITLE_LENGTH), nullable=False),
        Column("message_ids", JSON_DOCUMENT, nullable=False),
        Column("extracted_at", UTCDateTime, nullable=False),
        Column("model", String(LLM_MODEL_LENGTH), nullable=True),
        Column("method", String(CRM_METHOD_LENGTH), nullable=False),
    ]


crm_contacts = Table(
    "crm_contacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_hash", String(CRM_KEY_LENGTH), nullable=False),
    Column("name", String(CRM_FIELD_LENGTH), nullable=False),
    Column("company", String(CRM_FIELD_LENGTH), nullable=False),
    Column("role", String(CRM_FIELD_LENGTH), nullable=False),
    Column("phone", String(CRM_FIELD_LENGTH), nullable=False),
    Column("email", String(CRM_FIELD_LENGTH), nullable=False),
    Column("telegram", String(CRM_FIELD_LENGTH), nullable=False),
    Column("interests", JSON_DOCUMENT, nullable=False),
    Column("temperature", String(CRM_ENUM_LENGTH), nullable=False),
    Column("notes", Text, nullable=False),
    Column("urls", JSON_DOCUMENT, nullable=False),
    *_crm_provenance(),
    UniqueConstraint("key_hash", name="uq_crm_contacts_key_hash"),
    **MYSQL_TABLE_OPTIONS,
)
"""CRM contacts (spec ai.md §4.3), one per natural key — E.164 phone, else e-mail, else
Telegram username, else name + company — through ``key_hash`` (SHA-256 hex of the key).
Migration 0004."""

crm_deals = Table(
    "crm_deals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_hash", String(CRM_KEY_LENGTH), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("stage", String(CRM_ENUM_LENGTH), nullable=False),
    Column("value", Double, nullable=True),
    Column("currency", String(CRM_ENUM_LENGTH), nullable=True),
    Column("next_action", Text, nullable=False),
    Column("deadline", Date, nullable=True),
    *_crm_provenance(),
    UniqueConstraint("key_hash", name="uq_crm_deals_key_hash"),
    **MYSQL_TABLE_OPTIONS,
)
"""CRM deals, one per chat + case-folded title (``key_hash``). Migration 0004."""

crm_actions = Table(
    "crm_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_hash", String(CRM_KEY_LENGTH), nullable=False),
    Column("task", Text, nullable=False),
    Column("assignee", String(CRM_FIELD_LENGTH), nullable=False),
    Column("due_date", Date, nullable=True),
    *_crm_provenance(),
    UniqueConstraint("key_hash", name="uq_crm_actions_key_hash"),
    **MYSQL_TABLE_OPTIONS,
)
"""CRM action items, one per chat + task (``key_hash``). Migration 0004."""

RUN_NAME_LENGTH = 64
AUTOANSWER_STATE_LENGTH = 16

run_cursors = Table(
    "run_cursors",
    metadata,
    Column("handler", String(RUN_NAME_LENGTH), primary_key=True, autoincrement=False),
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("last_id", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)
"""Per ``tgpilot run`` handler and chat, the newest message id handled, so reconnects
and restarts resume without gaps or repeats (spec ai.md §4.8). Migration 0005."""

run_handlers = Table(
    "run_handlers",
    metadata,
    Column("name", String(RUN_NAME_LENGTH), primary_key=True, autoincrement=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("alive_at", UTCDateTime, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)
"""When each ``tgpilot run`` handler started (kept across restarts shorter than its
``max_age``) and was last seen alive. Migration 0005."""

autoanswer_replies = Table(
    "autoanswer_replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("kind", String(AUTOANSWER_STATE_LENGTH), nullable=False),
    Column("source_ids", JSON_DOCUMENT, nullable=False),
    Column("reply_to_id", BigInteger, nullable=False),
    Column("state", String(AUTOANSWER_STATE_LENGTH), nullable=False),
    Column("placeholder_id", BigInteger, nullable=True),
    Column("reply_ids", JSON_DOCUMENT, nullable=False),
    Column("chars", Integer, nullable=False, server_default=text("0")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("error", Text, nullable=True),
    Index("ix_autoanswer_replies_chat_created", "chat_id", "created_at"),
    Index("ix_autoanswer_replies_state", "state"),
    **MYSQL_TABLE_OPTIONS,
)
"""Every auto-responder answer (``reply``, ``away`` text or ``draft``), written as an
intent *before* anything is sent and moved through ``intent`` → ``streaming`` →
``sent`` (or ``failed``/``abandoned``/``drafted``): the cooldown and hourly caps count
these rows, and a restart finishes or abandons the ones left in flight, so no message
is ever answered twice. No message text is kept here. Migration 0005."""

autoanswer_drafts = Table(
    "autoanswer_drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("chat_title", String(TITLE_LENGTH), nullable=False),
    Column("reply_to_id", BigInteger, nullable=False),
    Column("source_ids", JSON_DOCUMENT, nullable=False),
    Column("text", LONG_TEXT, nullable=False),
    Column("status", String(AUTOANSWER_STATE_LENGTH), nullable=False),
    Column("notice_id", BigInteger, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("sent_ids", JSON_DOCUMENT, nullable=False),
    Column("error", Text, nullable=True),
    CheckConstraint(
        "status IN ('pending', 'approved', 'sending', 'sent', 'rejected', 'expired', 'failed')",
        name="ck_autoanswer_drafts_status",
    ),
    Index("ix_autoanswer_drafts_status", "status"),
    **MYSQL_TABLE_OPTIONS,
)
"""Draft-mode answers awaiting ``autoanswer drafts approve|reject`` (spec ai.md §4.8);
pending drafts expire after 24 h. Migration 0005."""

autoanswer_chats = Table(
    "autoanswer_chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("paused_until", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)
"""Per chat, until when the auto-responder stays silent after the owner wrote there
by hand (``pause_after_manual_s``). Migration 0005."""

message_transcripts = Table(
    "message_transcripts",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("text", LONG_TEXT, nullable=False),
    Column("language", String(16), nullable=True),
    Column("provider", String(32), nullable=False),
    Column("model", String(128), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)
"""Voice, audio and round-video transcripts, one per message (spec ai.md §4.11): kept
apart from ``messages`` so a re-sync of the message never loses its transcript; read
by analysis and RAG with ``--with-transcripts`` and by the responder with
``autoanswer.voice``. Migration 0006."""

# --------------------------------------------------------------------------- Linear mirror

LINEAR_ID_LENGTH = 64
LINEAR_KEY_LENGTH = 32
LINEAR_TYPE_LENGTH = 32
LINEAR_COLOR_LENGTH = 32
LINEAR_URL_LENGTH = 1024
LINEAR_SOURCE_LENGTH = 64
LINEAR_EXTERNAL_KEY_LENGTH = 255
LINEAR_ENTITY_LENGTH = 32


def _linear_id(name: str = "id", *, primary: bool = False, nullable: bool = True) -> Column[Any]:
    if primary:
        return Column(name, String(LINEAR_ID_LENGTH), primary_key=True, autoincrement=False)
    return Column(name, String(LINEAR_ID_LENGTH), nullable=nullable)


def _synced_at() -> Column[Any]:
    return Column("synced_at", UTCDateTime, nullable=False)


linear_teams = Table(
    "linear_teams",
    metadata,
    _linear_id(primary=True),
    Column("key", String(LINEAR_KEY_LENGTH), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("description", Text, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    _synced_at(),
    UniqueConstraint("key", name="uq_linear_teams_key"),
    **MYSQL_TABLE_OPTIONS,
)
"""The Linear mirror (spec linear-and-bots.md §1.7, §4): rows keyed by Linear id, written
by ``linear mirror`` only when a value changed (``synced_at`` is when the row was last
written). Migration 0007, like every ``linear_*`` table below."""

linear_users = Table(
    "linear_users",
    metadata,
    _linear_id(primary=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("display_name", String(NAME_LENGTH), nullable=True),
    Column("email", String(NAME_LENGTH), nullable=True),
    Column("active", Boolean, nullable=False, server_default=false()),
    _synced_at(),
    Index("ix_linear_users_email", "email"),
    **MYSQL_TABLE_OPTIONS,
)

linear_states = Table(
    "linear_states",
    metadata,
    _linear_id(primary=True),
    _linear_id("team_id"),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("type", String(LINEAR_TYPE_LENGTH), nullable=False),
    Column("position", Double, nullable=True),
    Column("color", String(LINEAR_COLOR_LENGTH), nullable=True),
    _synced_at(),
    Index("ix_linear_states_team_id", "team_id"),
    **MYSQL_TABLE_OPTIONS,
)

linear_labels = Table(
    "linear_labels",
    metadata,
    _linear_id(primary=True),
    _linear_id("team_id"),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("color", String(LINEAR_COLOR_LENGTH), nullable=True),
    _linear_id("parent_id"),
    Column("archived_at", UTCDateTime, nullable=True),
    _synced_at(),
    Index("ix_linear_labels_team_id", "team_id"),
    **MYSQL_TABLE_OPTIONS,
)
"""Issue labels; ``team_id`` NULL for workspace labels."""

linear_projects = Table(
    "linear_projects",
    metadata,
    _linear_id(primary=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("description", Text, nullable=True),
    Column("state", String(LINEAR_TYPE_LENGTH), nullable=True),
    Column("start_date", Date, nullable=True),
    Column("target_date", Date, nullable=True),
    Column("progress", Double, nullable=True),
    Column("url", String(LINEAR_URL_LENGTH), nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("archived_at", UTCDateTime, nullable=True),
    _synced_at(),
    **MYSQL_TABLE_OPTIONS,
)

linear_project_teams = Table(
    "linear_project_teams",
    metadata,
    Column("project_id", String(LINEAR_ID_LENGTH), primary_key=True, autoincrement=False),
    Column("team_id", String(LINEAR_ID_LENGTH), primary_key=True, autoincrement=False),
    _synced_at(),
    **MYSQL_TABLE_OPTIONS,
)
"""Every team of each project (a project can span teams)."""

linear_issues = Table(
    "linear_issues",
    metadata,
    _linear_id(primary=True),
    Column("identifier", String(LINEAR_KEY_LENGTH), nullable=False),
    Column("number", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", LONG_TEXT, nullable=True),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("priority_label", String(LINEAR_TYPE_LENGTH), nullable=True),
    Column("estimate", Double, nullable=True),
    _linear_id("team_id", nullable=False),
    _linear_id("state_id"),
    _linear_id("project_id"),
    _linear_id("assignee_id"),
    _linear_id("creator_id"),
    _linear_id("parent_id"),
    Column("due_date", Date, nullable=True),
    Column("url", String(LINEAR_URL_LENGTH), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("completed_at", UTCDateTime, nullable=True),
    Column("canceled_at", UTCDateTime, nullable=True),
    Column("archived_at", UTCDateTime, nullable=True),
    _synced_at(),
    UniqueConstraint("identifier", name="uq_linear_issues_identifier"),
    Index("ix_linear_issues_team_id", "team_id"),
    Index("ix_linear_issues_project_id", "project_id"),
    Index("ix_linear_issues_assignee_id", "assignee_id"),
    Index("ix_linear_issues_state_id", "state_id"),
    Index("ix_linear_issues_priority", "priority"),
    Index("ix_linear_issues_due_date", "due_date"),
    Index("ix_linear_issues_updated_at", "updated_at"),
    **MYSQL_TABLE_OPTIONS,
)

linear_issue_labels = Table(
    "linear_issue_labels",
    metadata,
    Column("issue_id", String(LINEAR_ID_LENGTH), primary_key=True, autoincrement=False),
    Column("label_id", String(LINEAR_ID_LENGTH), primary_key=True, autoincrement=False),
    _synced_at(),
    **MYSQL_TABLE_OPTIONS,
)
"""Every label of each issue."""

linear_mirror_state = Table(
    "linear_mirror_state",
    metadata,
    Column("entity", String(LINEAR_ENTITY_LENGTH), primary_key=True, autoincrement=False),
    Column("scope", String(LINEAR_ID_LENGTH), primary_key=True, autoincrement=False),
    Column("watermark", UTCDateTime, nullable=False),
    _synced_at(),
    **MYSQL_TABLE_OPTIONS,
)
"""The incremental mirror's watermarks: per entity (``issues``, ``projects``) and scope
(a team id, or ``*`` for the whole workspace), the newest ``updatedAt`` stored."""

linear_links = Table(
    "linear_links",
    metadata,
    Column("source", String(LINEAR_SOURCE_LENGTH), primary_key=True, autoincrement=False),
    Column(
        "external_key", String(LINEAR_EXTERNAL_KEY_LENGTH), primary_key=True, autoincrement=False
    ),
    _linear_id("issue_id"),
    Column("fingerprint", String(TEXT_HASH_LENGTH), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_linear_links_fingerprint", "fingerprint"),
    **MYSQL_TABLE_OPTIONS,
)
"""What made which Linear issue: ``(source, external_key)`` — ``tg`` and
``<chat_id>/<message_id>`` for the chat listener and ``from-chats``, a backlog file's
``source`` and item key for ``linear sync`` — reserved before the create (``issue_id``
NULL while pending), so a retried or redelivered create never makes a second issue.
``fingerprint``: SHA-256 of the normalised text, for same-text dedupe."""

LINEAR_ISSUES_FLAT = "linear_issues_flat"
"""The view of issues with team key, state, project, assignee and labels (migration 0007)."""

# --------------------------------------------------------------------------- Bot API users

BOT_LANGUAGE_LENGTH = 16

bot_users = Table(
    "bot_users",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("username", String(USERNAME_LENGTH), nullable=True),
    Column("first_name", String(NAME_LENGTH), nullable=True),
    Column("last_name", String(NAME_LENGTH), nullable=True),
    Column("language_code", String(BOT_LANGUAGE_LENGTH), nullable=True),
    Column("is_bot", Boolean, nullable=False, server_default=false()),
    Column("is_premium", Boolean, nullable=False, server_default=false()),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)
"""Everyone who wrote to one of the Bot API bots (spec linear-and-bots.md §2.2, §4),
upserted on every update: an absent field is NULL, never ``""``. Migration 0007."""
