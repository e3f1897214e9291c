"""The domain objects every layer shares: chats, senders, messages, reactions, dialogs.

Gateways convert the outside world's objects into these frozen dataclasses; nothing
outside ``gateways/`` ever sees a Telethon or provider type (DESIGN rule 1).
Chat ids are always *marked* (Bot-API) ids: user positive, basic group negative,
channel/supergroup ``-100<raw>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from tgpilot.core.errors import ReactionNotAllowed


class ChatType(StrEnum):
    """The five kinds of chat tgpilot distinguishes."""

    USER = "user"
    BOT = "bot"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"

    def satisfies(self, wanted: ChatType) -> bool:
        """True if a chat of this type meets a ``type:`` constraint (group ⊇ supergroup)."""
        if wanted is ChatType.GROUP:
            return self in (ChatType.GROUP, ChatType.SUPERGROUP)
        return self is wanted


CHANNEL_ID_OFFSET = 1_000_000_000_000


def marked_id(raw_id: int, chat_type: ChatType) -> int:
    """The Bot-API (marked) id of a chat from its raw id and kind."""
    if chat_type in (ChatType.USER, ChatType.BOT):
        return raw_id
    if chat_type is ChatType.GROUP:
        return -raw_id
    return -(CHANNEL_ID_OFFSET + raw_id)


@dataclass(frozen=True)
class Chat:
    """A chat the account can see: user, bot, basic group, supergroup or channel."""

    id: int
    raw_id: int
    type: ChatType
    title: str
    username: str | None = None


@dataclass(frozen=True)
class Account:
    """The logged-in user of a session."""

    id: int
    first_name: str
    last_name: str | None
    username: str | None
    phone: str | None

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or f"User {self.id}"

    def describe(self) -> str:
        handle = f"@{self.username}" if self.username else "(no username)"
        return f"{self.name} ({handle}, id {self.id})"


@dataclass(frozen=True)
class Dialog:
    """One row of the account's dialog list."""

    chat: Chat
    unread: int = 0
    last_message_at: datetime | None = None
    error: str | None = None
    pinned: bool = False
    archived: bool = False


@dataclass(frozen=True)
class Reaction:
    """One reaction count on a message: ``emoji``, ``custom_emoji``, ``paid`` or ``unknown``."""

    type: str
    count: int
    emoji: str | None = None
    document_id: int | None = None
    mine: bool = False


@dataclass(frozen=True)
class Sender:
    """Who sent a message: a user, a bot, or a chat posting as itself."""

    id: int | None
    name: str
    username: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a chat, with everything export and archive need.

    ``media_path`` is where a local copy of the media file is kept: only messages read
    back from the archive carry it (an absolute path, stored by ``archive sync
    --media`` or ``import --media link|copy``). ``link_urls`` are the targets of the
    message's text links (entities whose URL is not part of ``text``, such as
    ``[here](https://…)``); URLs written out in the text are not repeated there.
    Slotted: history reads build one per message, and a slotted instance is smaller
    and quicker to make.
    """

    chat_id: int
    id: int
    date: datetime
    text: str = ""
    sender: Sender | None = None
    reply_to_id: int | None = None
    forward_from_id: int | None = None
    forward_from_name: str | None = None
    edit_date: datetime | None = None
    media_type: str | None = None
    media_size: int | None = None
    media_name: str | None = None
    media_mime: str | None = None
    media_path: str | None = None
    views: int | None = None
    forwards: int | None = None
    replies: int | None = None
    reactions: tuple[Reaction, ...] = field(default=())
    is_outgoing: bool = False
    is_service: bool = False
    service_action: str | None = None
    link_urls: tuple[str, ...] = ()

    @property
    def reactions_total(self) -> int:
        return sum(r.count for r in self.reactions)


VARIATION_SELECTOR_16 = "\ufe0f"


def normalise_emoji(emoji: str) -> str:
    """An emoji as compared against a chat's allowed reactions: without U+FE0F
    (``❤️`` and ``❤`` are the same reaction)."""
    return emoji.strip().replace(VARIATION_SELECTOR_16, "")


@dataclass(frozen=True)
class AllowedReactions:
    """Which reactions a chat accepts: ``all`` (the server's list), ``some`` or ``none``.

    ``emoji`` is in the server's spelling: the server's reaction list for ``all``, the
    chat's own list for ``some``, empty for ``none``. ``allow_custom``: custom emoji
    reactions are accepted too (``all`` only).
    """

    kind: Literal["all", "some", "none"]
    emoji: tuple[str, ...] = ()
    allow_custom: bool = False

    def server_spelling(self, emoji: str) -> str | None:
        """The allowed reaction ``emoji`` stands for, as the server spells it, or None."""
        wanted = normalise_emoji(emoji)
        return next((e for e in self.emoji if normalise_emoji(e) == wanted), None)

    def require(self, emoji: str, chat_title: str) -> str:
        """The server's spelling of ``emoji``; :class:`ReactionNotAllowed` if the chat
        does not accept it (``❤️`` where ``❤`` is allowed gives ``❤``)."""
        spelled = self.server_spelling(emoji)
        if spelled is None:
            raise ReactionNotAllowed(emoji, chat_title, self.emoji)
        return spelled


@dataclass(frozen=True)
class ChatRights:
    """What the account may do in a chat beyond its own messages.

    Users and bots: nothing (the account deletes its own messages only). A creator
    holds every right.
    """

    is_creator: bool = False
    is_admin: bool = False
    can_delete_messages: bool = False
    can_ban_users: bool = False
