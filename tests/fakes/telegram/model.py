"""The world's plain data: users, chats, dialogs, messages, media, reactions, logins.

Records hold only plain Python values (ints, strings, datetimes, tuples) so a world
pickles across processes; TL objects are built from them when a request is answered
(``render.py``). Chats are identified by their *marked* (Bot-API) id everywhere:
user ``id``, basic group ``-id``, channel/supergroup ``-100<id>``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from telethon.tl import types

ChatKind = Literal["group", "supergroup", "channel"]
MediaKind = Literal["photo", "video", "document", "voice", "audio", "sticker", "gif", "round"]
ReactionKind = Literal["emoji", "custom", "paid"]

_CHANNEL_MARK = 1_000_000_000_000

#: Every flag of ``ChatAdminRights`` — the rights an admin may hold.
ADMIN_RIGHTS: frozenset[str] = frozenset(
    inspect.signature(types.ChatAdminRights.__init__).parameters
) - {"self"}

#: Telegram's default reaction list (messages.getAvailableReactions), server spelling.
DEFAULT_AVAILABLE_REACTIONS: tuple[str, ...] = (
    "👍", "👎", "❤", "🔥", "🥰", "👏", "😁", "🤔", "🤯", "😱", "🤬", "😢", "🎉", "🤩",
    "🤮", "💩", "🙏", "👌", "🕊", "🤡", "🥱", "🥴", "😍", "🐳", "❤\u200d🔥", "🌚", "🌭",
    "💯", "🤣", "⚡", "🍌", "🏆", "💔", "🤨", "😐", "🍓", "🍾", "💋", "🖕", "😈", "😴",
    "😭", "🤓", "👻", "👨\u200d💻", "👀", "🎃", "🙈", "😇", "😨", "🤝", "✍", "🤗", "🫡",
    "🎅", "🎄", "☃", "💅", "🤪", "🗿", "🆒", "💘", "🙉", "🦄", "😘", "💊", "🙊", "😎",
    "👾", "🤷\u200d♂", "🤷", "🤷\u200d♀", "😡",
)  # fmt: skip


def marked_user(user_id: int) -> int:
    """Marked id of a user (the id itself)."""
    return user_id


def marked_group(chat_id: int) -> int:
    """Marked id of a basic group."""
    return -chat_id


def marked_channel(channel_id: int) -> int:
    """Marked id of a channel or supergroup (``-100<id>``)."""
    return -(_CHANNEL_MARK + channel_id)


def split_marked(marked: int) -> tuple[Literal["user", "group", "channel"], int]:
    """``(kind, raw id)`` of a marked id: kind is ``user``, ``group`` or ``channel``."""
    if marked > 0:
        return "user", marked
    if marked < -_CHANNEL_MARK:
        return "channel", -marked - _CHANNEL_MARK
    if marked < 0:
        return "group", -marked
    raise ValueError("0 is not a peer id")


@dataclass
class UserRec:
    """A Telegram user or bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    phone: str | None = None
    bot: bool = False
    contact: bool = False
    premium: bool = False
    deleted: bool = False
    pts: int = 0  # the channel's (or, elsewhere, the account's) pts that added it
    verified: bool = False
    about: str | None = None

    @property
    def marked_id(self) -> int:
        return self.id

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass
class ReactionPolicy:
    """Which reactions a chat allows: ``all`` (optionally custom emoji), ``some`` or ``none``."""

    kind: Literal["all", "some", "none"] = "all"
    emoji: tuple[str, ...] = ()
    allow_custom: bool = False


@dataclass
class ChatRec:
    """A basic group, a supergroup or a broadcast channel.

    ``admin_rights`` is ``None`` when the account is not an admin, else the set of
    ``ChatAdminRights`` flag names it holds; a creator holds all of them.
    """

    id: int
    kind: ChatKind
    title: str
    date: datetime
    username: str | None = None
    about: str = ""
    creator: bool = False
    admin_rights: frozenset[str] | None = None
    reactions: ReactionPolicy = field(default_factory=ReactionPolicy)
    participants_count: int | None = None
    members: tuple[int, ...] = ()
    left: bool = False
    signatures: bool = False
    slowmode_seconds: int | None = None
    forum: bool = False
    verified: bool = False
    pts: int = 1

    @property
    def marked_id(self) -> int:
        return marked_group(self.id) if self.kind == "group" else marked_channel(self.id)

    @property
    def is_channel_type(self) -> bool:
        """True for supergroups and broadcast channels (``types.Channel``)."""
        return self.kind != "group"

    def has_right(self, right: str) -> bool:
        """Whether the account holds admin right ``right`` here (creators hold all)."""
        if right not in ADMIN_RIGHTS:
            raise ValueError(f"unknown admin right {right!r}; known: {sorted(ADMIN_RIGHTS)}")
        return self.creator or (self.admin_rights is not None and right in self.admin_rights)


@dataclass
class MediaRec:
    """A media attachment stub: what it is, how big, and its file name."""

    kind: MediaKind
    size: int
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 1280
    height: int = 720
    duration: float = 0.0
    id: int = 0  # assigned when the message is added
    spoiler: bool = False


@dataclass
class ReactionRec:
    """One reaction count on a message: emoji, custom emoji (document id) or paid (stars)."""

    kind: ReactionKind
    count: int
    emoji: str | None = None
    document_id: int | None = None
    chosen_order: int | None = None  # set when the account itself chose this reaction

    @property
    def mine(self) -> bool:
        return self.chosen_order is not None


@dataclass
class EntityRec:
    """A text entity: ``url``, ``text_url`` (with ``url``), ``bold``, ``mention``, …"""

    kind: str
    offset: int
    length: int
    url: str | None = None
    user_id: int | None = None
    document_id: int | None = None


@dataclass
class ForwardRec:
    """Where a forwarded message came from: a peer (marked id) or a hidden name."""

    date: datetime
    from_peer: int | None = None
    from_name: str | None = None
    channel_post: int | None = None
    post_author: str | None = None


@dataclass
class ActionRec:
    """A service message action.

    ``kind``: ``chat_create``, ``channel_create``, ``add_user``, ``delete_user``,
    ``joined_by_link``, ``edit_title``, ``pin``, ``history_clear``, ``custom``.
    """

    kind: str
    title: str | None = None
    users: tuple[int, ...] = ()
    text: str | None = None


@dataclass
class MessageRec:
    """One message in one chat. ``sender`` is a marked id; ``None`` = the chat itself."""

    chat: int
    id: int
    date: datetime
    text: str = ""
    sender: int | None = None
    out: bool = False
    reply_to: int | None = None
    fwd_from: ForwardRec | None = None
    edit_date: datetime | None = None
    media: MediaRec | None = None
    views: int | None = None
    forwards: int | None = None
    replies: int | None = None
    reactions: list[ReactionRec] | None = None  # None: no reactions field; []: empty
    action: ActionRec | None = None
    entities: list[EntityRec] = field(default_factory=list)
    post_author: str | None = None
    pinned: bool = False
    silent: bool = False
    grouped_id: int | None = None
    deleted: bool = False

    @property
    def is_service(self) -> bool:
        return self.action is not None


@dataclass
class DeletionRec:
    """Messages deleted in one go, as the update Telegram sends for it.

    ``chat`` is the chat's marked id. Channels and supergroups count ``pts`` per
    channel; private chats and basic groups share the account's ``pts``.
    """

    chat: int
    ids: tuple[int, ...]
    pts: int
    pts_count: int


@dataclass
class DialogRec:
    """The account's dialog with one peer.

    ``hide_top_message`` keeps the top message out of ``messages.getDialogs`` answers
    (as Telegram sometimes does), so the client must fetch it on its own.
    """

    peer: int
    pinned: bool = False
    pinned_order: int = 0
    folder_id: int = 0
    unread_count: int = 0
    unread_mentions_count: int = 0
    unread_reactions_count: int = 0
    unread_mark: bool = False
    read_inbox_max_id: int | None = None
    read_outbox_max_id: int | None = None
    muted: bool = False
    hide_top_message: bool = False


@dataclass
class PasswordRec:
    """A 2FA password, stored as the SRP verifier the server keeps (plus the salts)."""

    salt1: bytes
    salt2: bytes
    g: int
    p: bytes
    verifier: int
    hint: str | None = None


@dataclass
class AuthRec:
    """An authorised auth key: the user and the server address it was authorised on."""

    user_id: int
    server: tuple[str, int] | None = None


@dataclass
class SentCodeRec:
    """A login code sent to a phone (``phone_code_hash`` → this)."""

    phone: str
    code: str
    issued_at: datetime
    expired: bool = False


@dataclass
class ConnectionRecord:
    """What one client connection asked for: where, and its initConnection parameters."""

    ip: str
    port: int
    dc_id: int
    auth_key_id: int | None
    rsa_fingerprints: tuple[int, ...] = ()
    init: dict[str, object] = field(default_factory=dict)
