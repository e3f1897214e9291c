"""The plain records the store takes and gives besides the shared domain dataclasses.

``ChatRecord`` is a chat plus what the dialog list and full-chat requests tell about
it (counts, flags); ``UserRecord`` a row of ``users``; ``SyncState`` the archive
bookmark of one chat; ``UpsertCounts`` what a batch of upserts did; ``SearchHit`` one
result of ``search --archive``. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tgpilot.models import Chat, ChatType, Dialog, Sender

SOURCE_LIVE = "live"
"""Rows fetched from Telegram; they win over imported rows."""

SOURCE_IMPORT = "import"
"""Rows read from a Telegram Desktop export; they only fill NULL columns of live rows."""

SOURCES = (SOURCE_LIVE, SOURCE_IMPORT)


@dataclass(frozen=True)
class UpsertCounts:
    """How many rows of a batch were inserted, updated, or already stored as given."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def describe(self) -> str:
        """``inserted I, updated U, unchanged K`` as the CLI prints it."""
        return f"inserted {self.inserted}, updated {self.updated}, unchanged {self.unchanged}"


@dataclass(frozen=True)
class ChatRecord:
    """A row of ``chats``: the :class:`Chat` fields plus counts, flags and source.

    ``None`` means "not known here": an upsert never replaces a stored value with
    ``None`` (nor, for ``members_count``, ``unread_count`` and ``last_message_at``,
    with 0). Flags left ``None`` keep the stored value (false for a new row).
    """

    id: int
    raw_id: int
    type: ChatType
    title: str
    username: str | None = None
    members_count: int | None = None
    unread_count: int | None = None
    last_message_at: datetime | None = None
    is_verified: bool | None = None
    is_restricted: bool | None = None
    is_creator: bool | None = None
    is_admin: bool | None = None
    source: str = SOURCE_LIVE

    @classmethod
    def from_chat(cls, chat: Chat, *, source: str = SOURCE_LIVE) -> ChatRecord:
        return cls(chat.id, chat.raw_id, chat.type, chat.title, chat.username, source=source)

    @classmethod
    def from_dialog(cls, dialog: Dialog, *, source: str = SOURCE_LIVE) -> ChatRecord:
        chat = dialog.chat
        return cls(
            chat.id,
            chat.raw_id,
            chat.type,
            chat.title,
            chat.username,
            unread_count=dialog.unread,
            last_message_at=dialog.last_message_at,
            source=source,
        )

    def to_chat(self) -> Chat:
        return Chat(self.id, self.raw_id, self.type, self.title, self.username)


@dataclass(frozen=True)
class UserRecord:
    """A row of ``users``: anyone seen sending a message (marked id; bots included)."""

    id: int
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    is_bot: bool = False

    @classmethod
    def from_sender(cls, sender: Sender) -> UserRecord:
        """The user row a message's sender gives: its display name goes to ``first_name``."""
        if sender.id is None:
            raise ValueError("a sender without id has no users row")
        return cls(sender.id, sender.name or None, None, sender.username, sender.is_bot)

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class SyncState:
    """Where ``archive sync`` stands in one chat: ids seen, backfill done, last outcome."""

    chat_id: int
    newest_id: int | None = None
    oldest_id: int | None = None
    backfill_complete: bool = False
    last_run_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class SearchHit:
    """One message found by :meth:`Store.search`; higher ``rank`` is more relevant."""

    chat_id: int
    message_id: int
    date: datetime
    sender_name: str | None
    text: str
    rank: float
