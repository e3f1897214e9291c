"""Conversion of Telethon objects into tgpilot's frozen domain dataclasses.

The only place that knows Telethon's entity, message and reaction shapes; everything
above the gateway sees :mod:`tgpilot.models` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from telethon import utils
from telethon.tl import types

from tgpilot.gateways.telegram.service_actions import desktop_action_name
from tgpilot.models import Account, Chat, ChatType, Message, Reaction, Sender


def chat_type_of(entity: Any) -> ChatType:
    """The tgpilot chat type of a Telethon user/chat/channel entity."""
    if isinstance(entity, types.User):
        return ChatType.BOT if entity.bot else ChatType.USER
    if isinstance(entity, types.Chat | types.ChatForbidden | types.ChatEmpty):
        return ChatType.GROUP
    if isinstance(entity, types.Channel | types.ChannelForbidden):
        return ChatType.SUPERGROUP if entity.megagroup else ChatType.CHANNEL
    raise TypeError(f"not a chat entity: {type(entity).__name__}")


def full_name(entity: Any) -> str:
    """First and last name of a user, or the title of a chat ("" when neither is known)."""
    if isinstance(entity, types.User):
        return " ".join(p for p in (entity.first_name, entity.last_name) if p).strip()
    return (getattr(entity, "title", None) or "").strip()


def chat_from_entity(entity: Any) -> Chat:
    """A :class:`Chat` from a Telethon entity (user, bot, group, supergroup, channel)."""
    kind = chat_type_of(entity)
    username = getattr(entity, "username", None)
    if not username and getattr(entity, "usernames", None):
        active = [u.username for u in entity.usernames if getattr(u, "active", False)]
        username = active[0] if active else None
    title = full_name(entity)
    if not title:
        title = f"@{username}" if username else f"{kind.value.capitalize()} {entity.id}"
    return Chat(
        id=utils.get_peer_id(entity),
        raw_id=entity.id,
        type=kind,
        title=title,
        username=username or None,
    )


def account_from_user(user: Any) -> Account:
    """The logged-in account from Telethon's ``get_me()`` result."""
    return Account(
        id=user.id,
        first_name=user.first_name or "",
        last_name=user.last_name or None,
        username=user.username or None,
        phone=user.phone or None,
    )


def sender_from_entity(entity: Any, signature: str | None = None) -> Sender:
    """The sender shown for a message: full name, else @username, else ``User <id>``.

    A chat posting as itself shows its title plus ``(<signature>)`` when signed.
    """
    if isinstance(entity, types.User):
        name = full_name(entity) or (f"@{entity.username}" if entity.username else "")
        return Sender(
            id=entity.id,
            name=name or f"User {entity.id}",
            username=entity.username or None,
            is_bot=bool(entity.bot),
        )
    title = full_name(entity) or f"Chat {entity.id}"
    if signature:
        title = f"{title} ({signature})"
    return Sender(
        id=utils.get_peer_id(entity),
        name=title,
        username=getattr(entity, "username", None) or None,
    )


def reaction_from_count(count: Any) -> Reaction:
    """One ``ReactionCount`` of a message as a :class:`Reaction`; unknown kinds are kept."""
    reaction = count.reaction
    mine = count.chosen_order is not None
    if isinstance(reaction, types.ReactionEmoji):
        return Reaction("emoji", count.count, emoji=reaction.emoticon, mine=mine)
    if isinstance(reaction, types.ReactionCustomEmoji):
        return Reaction("custom_emoji", count.count, document_id=reaction.document_id, mine=mine)
    if isinstance(reaction, types.ReactionPaid):
        return Reaction("paid", count.count, mine=mine)
    return Reaction("unknown", count.count, mine=mine)


ReactionCache = dict[tuple[tuple[type, object, int, bool], ...], tuple[Reaction, ...]]
"""Reaction tuples already converted in one history read, by what they are made of."""


def reactions_of(message: Any, cache: ReactionCache | None = None) -> tuple[Reaction, ...]:
    """All reactions of a message in server order; empty counts are dropped. With
    ``cache``, messages showing the same reactions share one tuple."""
    holder = getattr(message, "reactions", None)
    if holder is None or not holder.results:
        return ()
    if cache is None:
        return tuple(reaction_from_count(c) for c in holder.results if c.count > 0)
    key = tuple(
        (
            type(c.reaction),
            getattr(c.reaction, "emoticon", None) or getattr(c.reaction, "document_id", None),
            c.count,
            c.chosen_order is not None,
        )
        for c in holder.results
    )
    reactions = cache.get(key)
    if reactions is None:
        reactions = cache[key] = tuple(
            reaction_from_count(c) for c in holder.results if c.count > 0
        )
    return reactions


_DOCUMENT_KINDS = (
    ("sticker", types.DocumentAttributeSticker),
    ("round", types.DocumentAttributeVideo),
    ("voice", types.DocumentAttributeAudio),
    ("audio", types.DocumentAttributeAudio),
    ("animation", types.DocumentAttributeAnimated),
    ("video", types.DocumentAttributeVideo),
)


def _document_kind(document: Any) -> str:
    attrs = list(getattr(document, "attributes", []) or [])
    for kind, attr_type in _DOCUMENT_KINDS:
        for attr in attrs:
            if not isinstance(attr, attr_type):
                continue
            if kind == "round" and not attr.round_message:
                continue
            if kind == "voice" and not attr.voice:
                continue
            return kind
    return "document"


def media_of(message: Any) -> tuple[str | None, int | None, str | None, str | None]:
    """(kind, size in bytes, original file name, MIME type) of a message's media.

    Kinds are classified in the order sticker, round, voice, audio, animation, video,
    document; photos are ``photo``; web pages, polls, locations and contacts ``other``.
    """
    media = getattr(message, "media", None)
    if media is None or isinstance(media, types.MessageMediaEmpty):
        return None, None, None, None
    if isinstance(media, types.MessageMediaPhoto):
        photo = media.photo
        sizes = getattr(photo, "sizes", None) or []
        size = max((_photo_size_bytes(s) for s in sizes), default=None)
        return "photo", size, None, "image/jpeg"
    if isinstance(media, types.MessageMediaDocument) and isinstance(media.document, types.Document):
        document = media.document
        name = next(
            (
                a.file_name
                for a in document.attributes
                if isinstance(a, types.DocumentAttributeFilename)
            ),
            None,
        )
        return _document_kind(document), document.size, name, document.mime_type or None
    return "other", None, None, None


def _photo_size_bytes(size: Any) -> int:
    if isinstance(size, types.PhotoSize):
        return int(size.size)
    if isinstance(size, types.PhotoSizeProgressive):
        return int(max(size.sizes, default=0))
    if isinstance(size, types.PhotoCachedSize | types.PhotoStrippedSize):
        return len(size.bytes)
    return 0


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _forward_origin(message: Any, origin: Any) -> tuple[int | None, str | None]:
    """The forward's origin id and name; ``origin`` is the origin's entity if known."""
    fwd = message.fwd_from
    origin_id = utils.get_peer_id(fwd.from_id) if fwd.from_id is not None else None
    name = fwd.from_name
    if name is None and origin is not None:
        name = sender_from_entity(origin, fwd.post_author).name
    return origin_id, name


SenderCache = dict[tuple[type, int, str | None], Sender]
"""Senders already converted in one history read, by entity class, id and signature."""


def _sender_of(message: Any, entity: Any, chat: Chat, senders: SenderCache | None) -> Sender | None:
    post_author = message.post_author
    if entity is not None:
        if senders is None:
            return sender_from_entity(entity, post_author)
        key = (entity.__class__, entity.id, post_author)
        sender = senders.get(key)
        if sender is None:
            sender = senders[key] = sender_from_entity(entity, post_author)
        return sender
    if message.sender_id is not None:
        return Sender(id=message.sender_id, name=f"User {message.sender_id}")
    if message.post:
        return Sender(
            id=chat.id, name=f"{chat.title} ({post_author})" if post_author else chat.title
        )
    return None


_EPOCH = datetime.fromtimestamp(0, UTC)


def link_urls_of(message: Any) -> tuple[str, ...]:
    """The targets of a message's text links (``MessageEntityTextUrl``: the URL is not
    in the text), in text order. Plain URL entities are left out: they are the text."""
    entities = getattr(message, "entities", None)
    if not entities:
        return ()
    return tuple(e.url for e in entities if isinstance(e, types.MessageEntityTextUrl) and e.url)


def message_from_telethon(
    message: Any,
    chat: Chat,
    senders: SenderCache | None = None,
    reactions: ReactionCache | None = None,
) -> Message:
    """A :class:`Message` from a Telethon ``Message`` or ``MessageService`` that Telethon
    finished (its sender and forward resolved, as ``get_messages`` and ``send_message``
    return them).

    ``senders`` and ``reactions`` (optional) remember converted senders and reactions
    across several messages, where the same few people write most messages and the
    same few reactions recur.
    """
    forward = message.forward
    origin = (forward.sender or forward.chat) if forward is not None else None
    sender = _sender_of(message, message.sender, chat, senders)
    return _message(message, chat, sender, origin, bool(message.out), reactions)


class PageConverter:
    """Converts the raw messages of one chat's history pages (``messages.getHistory``
    results Telethon parsed but did not finish): senders and forward origins are
    looked up in each page's users and chats, as Telethon's own iterator does, and
    senders and reactions already converted are reused.

    ``self_id`` is the account's id (None if unknown): in the account's own chat
    (Saved Messages), messages that are not forwards are outgoing, as Telethon shows them.
    """

    def __init__(self, chat: Chat, self_id: int | None) -> None:
        self._chat = chat
        self._own_chat = self_id is not None and chat.id == self_id
        self._senders: SenderCache = {}
        self._reactions: ReactionCache = {}

    def convert(self, message: Any, entities: Mapping[int, Any]) -> Message:
        """``message`` of a page whose users and chats are ``entities`` (by peer id)."""
        sender_id = message.sender_id
        fwd = message.fwd_from
        origin = None
        if fwd is not None and fwd.from_id is not None:
            origin = entities.get(utils.get_peer_id(fwd.from_id))
        outgoing = bool(message.out) or (self._own_chat and fwd is None)
        entity = entities.get(sender_id) if sender_id is not None else None
        sender = _sender_of(message, entity, self._chat, self._senders)
        return _message(message, self._chat, sender, origin, outgoing, self._reactions)


def _message(
    message: Any,
    chat: Chat,
    sender: Sender | None,
    origin: Any,
    outgoing: bool,
    reactions: ReactionCache | None,
) -> Message:
    """The :class:`Message` of a Telethon message sent by ``sender``, whose forward's
    origin entity is ``origin`` (None: unknown)."""
    if message.media is None:
        media_type = media_size = media_name = media_mime = None
    else:
        media_type, media_size, media_name, media_mime = media_of(message)
    if message.fwd_from is None:
        forward_id = forward_name = None
    else:
        forward_id, forward_name = _forward_origin(message, origin)
    is_service = isinstance(message, types.MessageService)
    replies = message.replies
    date = message.date
    edit_date = message.edit_date
    # Positional, in the field order of Message (the hot path of every history read).
    return Message(
        chat.id,
        message.id,
        _EPOCH if date is None else date if date.tzinfo else date.replace(tzinfo=UTC),
        message.message or "",
        sender,
        message.reply_to_msg_id,
        forward_id,
        forward_name,
        _utc(edit_date) if edit_date is not None else None,
        media_type,
        media_size,
        media_name,
        media_mime,
        None,  # media_path: no local file
        message.views,
        message.forwards,
        replies.replies if replies is not None else None,
        reactions_of(message, reactions) if message.reactions is not None else (),
        outgoing,
        is_service,
        desktop_action_name(message.action) if is_service else None,
        link_urls_of(message) if message.entities else (),
    )
