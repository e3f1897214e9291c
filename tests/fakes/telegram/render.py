"""Turning the world's plain records into real Telethon TL objects, as one viewer sees them.

A :class:`Renderer` is made per answer. Rendering a message or dialog also notes every
user and chat it references, so the answer can carry them in its ``users``/``chats``
vectors exactly like Telegram does (and Telethon's entity cache fills up from them).
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from telethon.tl import types

from .mentions import mentions_viewer
from .model import (
    ADMIN_RIGHTS,
    ActionRec,
    ChatRec,
    DialogRec,
    EntityRec,
    ForwardRec,
    MediaRec,
    MessageRec,
    ReactionRec,
    UserRec,
    marked_channel,
    marked_group,
    split_marked,
)

if TYPE_CHECKING:
    from .world import FakeTelegram

_FAR_FUTURE = datetime(2038, 1, 1, tzinfo=UTC)

_ENTITY_TYPES: dict[str, type] = {
    "url": types.MessageEntityUrl,
    "bold": types.MessageEntityBold,
    "italic": types.MessageEntityItalic,
    "underline": types.MessageEntityUnderline,
    "strike": types.MessageEntityStrike,
    "spoiler": types.MessageEntitySpoiler,
    "code": types.MessageEntityCode,
    "mention": types.MessageEntityMention,
    "hashtag": types.MessageEntityHashtag,
    "cashtag": types.MessageEntityCashtag,
    "bot_command": types.MessageEntityBotCommand,
    "email": types.MessageEntityEmail,
    "phone": types.MessageEntityPhone,
    "blockquote": types.MessageEntityBlockquote,
}

_DEFAULT_MIME: dict[str, str] = {
    "photo": "image/jpeg",
    "video": "video/mp4",
    "round": "video/mp4",
    "gif": "video/mp4",
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
    "sticker": "image/webp",
    "document": "application/octet-stream",
}


def stable_hash(*parts: object) -> int:
    """A deterministic signed 64-bit value (access hashes, photo/document ids)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def peer_tl(marked: int) -> types.PeerUser | types.PeerChat | types.PeerChannel:
    """The ``Peer`` for a marked id."""
    kind, raw = split_marked(marked)
    if kind == "user":
        return types.PeerUser(raw)
    if kind == "group":
        return types.PeerChat(raw)
    return types.PeerChannel(raw)


def media_mime(media: MediaRec) -> str:
    """The MIME type of a media stub (given, guessed from its file name, or by kind)."""
    if media.mime_type:
        return media.mime_type
    if media.kind == "document" and media.file_name:
        guessed, _ = mimetypes.guess_type(media.file_name)
        if guessed:
            return guessed
    return _DEFAULT_MIME[media.kind]


def photo_thumb_size(media: MediaRec) -> int:
    """Byte size of the small ``m`` thumbnail of a photo stub (the ``y`` size is the photo)."""
    return max(1, media.size // 10)


class Renderer:
    """Builds TL objects for one answer and collects the entities they reference."""

    def __init__(self, world: FakeTelegram, viewer: int | None, dc_id: int) -> None:
        self.world = world
        self.viewer = viewer
        self.dc_id = dc_id
        self._peers: dict[int, None] = {}

    # entities -------------------------------------------------------------------

    def note(self, marked: int | None) -> None:
        """Reference a peer so it is included in ``users``/``chats``."""
        if marked is not None and marked != 0:
            self._peers[marked] = None

    def users(self) -> list[types.User]:
        """Every referenced user, in first-reference order."""
        out = []
        for marked in self._peers:
            rec = self.world.peer(marked)
            if isinstance(rec, UserRec):
                out.append(self.user(rec))
        return out

    def chats(self) -> list[types.Chat | types.Channel]:
        """Every referenced basic group, supergroup and channel."""
        out = []
        for marked in self._peers:
            rec = self.world.peer(marked)
            if isinstance(rec, ChatRec):
                out.append(self.chat(rec))
        return out

    def user(self, rec: UserRec) -> types.User:
        is_self = rec.id == self.viewer
        return types.User(
            id=rec.id,
            is_self=is_self,
            contact=rec.contact,
            mutual_contact=rec.contact,
            deleted=rec.deleted,
            bot=rec.bot,
            verified=rec.verified,
            premium=rec.premium,
            access_hash=self.world.access_hash("user", rec.id),
            first_name=None if rec.deleted else rec.first_name,
            last_name=None if rec.deleted else rec.last_name,
            username=rec.username,
            phone=rec.phone if (is_self or rec.contact) else None,
            status=None if rec.bot or rec.deleted else types.UserStatusRecently(),
            bot_info_version=1 if rec.bot else None,
        )

    def chat(self, rec: ChatRec) -> types.Chat | types.Channel:
        admin_rights = self._admin_rights(rec)
        count = rec.participants_count
        if count is None:
            count = max(len(rec.members), 1)
        if rec.kind == "group":
            return types.Chat(
                id=rec.id,
                title=rec.title,
                photo=types.ChatPhotoEmpty(),
                participants_count=count,
                date=rec.date,
                version=1,
                creator=rec.creator,
                left=rec.left,
                admin_rights=admin_rights,
            )
        return types.Channel(
            id=rec.id,
            title=rec.title,
            photo=types.ChatPhotoEmpty(),
            date=rec.date,
            creator=rec.creator,
            left=rec.left,
            broadcast=rec.kind == "channel",
            megagroup=rec.kind == "supergroup",
            signatures=rec.signatures,
            slowmode_enabled=bool(rec.slowmode_seconds),
            forum=rec.forum,
            verified=rec.verified,
            access_hash=self.world.access_hash("channel", rec.id),
            username=rec.username,
            admin_rights=admin_rights,
            participants_count=count,
        )

    @staticmethod
    def _admin_rights(rec: ChatRec) -> types.ChatAdminRights | None:
        if rec.creator:
            return types.ChatAdminRights(
                **{name: True for name in sorted(ADMIN_RIGHTS) if name != "anonymous"}
            )
        if rec.admin_rights is None:
            return None
        return types.ChatAdminRights(**dict.fromkeys(sorted(rec.admin_rights), True))

    def reactions_setting(self, rec: ChatRec) -> types.TypeChatReactions:
        """The chat's ``available_reactions`` (all/some/none)."""
        policy = rec.reactions
        if policy.kind == "all":
            return types.ChatReactionsAll(allow_custom=policy.allow_custom)
        if policy.kind == "none":
            return types.ChatReactionsNone()
        return types.ChatReactionsSome([types.ReactionEmoji(e) for e in policy.emoji])

    # messages -------------------------------------------------------------------

    def message(self, rec: MessageRec) -> types.Message | types.MessageService:
        """The TL message, noting the chat, sender, forward origin and action users."""
        chat = self.world.peer(rec.chat)
        self.note(rec.chat)
        from_id = self._from_id(rec, chat)
        if from_id is not None:
            self.note(marked_of_peer(from_id))
        reply_to = types.MessageReplyHeader(reply_to_msg_id=rec.reply_to) if rec.reply_to else None
        post = isinstance(chat, ChatRec) and chat.kind == "channel"
        if rec.action is not None:
            return types.MessageService(
                id=rec.id,
                peer_id=peer_tl(rec.chat),
                date=rec.date,
                action=self._action(rec.action),
                out=rec.out,
                silent=rec.silent,
                post=post,
                from_id=from_id,
                reply_to=reply_to,
            )
        return types.Message(
            id=rec.id,
            peer_id=peer_tl(rec.chat),
            date=rec.date,
            message=rec.text,
            out=rec.out,
            silent=rec.silent,
            post=post,
            pinned=rec.pinned,
            from_id=from_id,
            fwd_from=self._forward(rec.fwd_from),
            reply_to=reply_to,
            media=self.media(rec.media, rec.date) if rec.media else None,
            entities=[self._entity(e) for e in rec.entities] or None,
            # One flag carries both counters on the wire: either both are sent or neither.
            views=rec.views if rec.views is not None or rec.forwards is None else 0,
            forwards=rec.forwards if rec.forwards is not None or rec.views is None else 0,
            replies=self._replies(rec, chat),
            edit_date=rec.edit_date,
            post_author=rec.post_author,
            grouped_id=rec.grouped_id,
            reactions=self._reactions(rec.reactions, chat),
            mentioned=mentions_viewer(self.world, self.viewer, rec),
        )

    def _from_id(
        self, rec: MessageRec, chat: UserRec | ChatRec | None
    ) -> types.PeerUser | types.PeerChat | types.PeerChannel | None:
        if isinstance(chat, UserRec):
            # Private chats: incoming messages carry no from_id (layer 119+).
            return peer_tl(self.viewer) if rec.out and self.viewer else None
        if rec.sender is None:
            return None
        return peer_tl(rec.sender)

    def _forward(self, fwd: ForwardRec | None) -> types.MessageFwdHeader | None:
        if fwd is None:
            return None
        self.note(fwd.from_peer)
        return types.MessageFwdHeader(
            date=fwd.date,
            from_id=peer_tl(fwd.from_peer) if fwd.from_peer else None,
            from_name=fwd.from_name,
            channel_post=fwd.channel_post,
            post_author=fwd.post_author,
        )

    @staticmethod
    def _replies(rec: MessageRec, chat: UserRec | ChatRec | None) -> types.MessageReplies | None:
        if rec.replies is None:
            return None
        # Comment threads need a linked discussion group, which the fake does not model:
        # reply counters are plain counts (``comments`` and ``channel_id`` unset).
        return types.MessageReplies(
            replies=rec.replies, replies_pts=chat.pts if isinstance(chat, ChatRec) else 0,
        )  # fmt: skip

    @staticmethod
    def _reactions(
        reactions: list[ReactionRec] | None, chat: UserRec | ChatRec | None
    ) -> types.MessageReactions | None:
        if reactions is None:
            return None
        results = [
            types.ReactionCount(reaction=reaction_tl(r), count=r.count, chosen_order=r.chosen_order)
            for r in reactions
        ]
        can_see_list = isinstance(chat, UserRec) or (
            isinstance(chat, ChatRec) and chat.kind != "channel"
        )
        return types.MessageReactions(results=results, can_see_list=can_see_list)

    def _action(self, action: ActionRec) -> types.TypeMessageAction:
        for user in action.users:
            self.note(user)
        kind = action.kind
        if kind == "chat_create":
            return types.MessageActionChatCreate(title=action.title or "", users=list(action.users))
        if kind == "channel_create":
            return types.MessageActionChannelCreate(title=action.title or "")
        if kind == "add_user":
            return types.MessageActionChatAddUser(users=list(action.users))
        if kind == "delete_user":
            return types.MessageActionChatDeleteUser(user_id=action.users[0])
        if kind == "joined_by_link":
            return types.MessageActionChatJoinedByLink(inviter_id=action.users[0])
        if kind == "edit_title":
            return types.MessageActionChatEditTitle(title=action.title or "")
        if kind == "pin":
            return types.MessageActionPinMessage()
        if kind == "history_clear":
            return types.MessageActionHistoryClear()
        if kind == "custom":
            return types.MessageActionCustomAction(message=action.text or "")
        raise ValueError(f"unknown service action {kind!r}")

    def _entity(self, e: EntityRec) -> types.TypeMessageEntity:
        if e.kind == "text_url":
            return types.MessageEntityTextUrl(e.offset, e.length, url=e.url or "")
        if e.kind == "pre":
            return types.MessageEntityPre(e.offset, e.length, language="")
        if e.kind == "mention_name":
            self.note(e.user_id)
            return types.MessageEntityMentionName(e.offset, e.length, user_id=e.user_id or 0)
        if e.kind == "custom_emoji":
            return types.MessageEntityCustomEmoji(e.offset, e.length, e.document_id or 0)
        try:
            return _ENTITY_TYPES[e.kind](e.offset, e.length)
        except KeyError:
            raise ValueError(f"unknown message entity kind {e.kind!r}") from None

    # media ----------------------------------------------------------------------

    def media(self, media: MediaRec, date: datetime) -> types.TypeMessageMedia:
        """``MessageMediaPhoto`` or ``MessageMediaDocument`` for a media stub."""
        if media.kind == "photo":
            return types.MessageMediaPhoto(photo=self.photo(media, date), spoiler=media.spoiler)
        return types.MessageMediaDocument(
            document=self.document(media, date),
            video=media.kind in ("video", "round"),
            round=media.kind == "round",
            voice=media.kind == "voice",
            spoiler=media.spoiler,
        )

    def photo(self, media: MediaRec, date: datetime) -> types.Photo:
        return types.Photo(
            id=media.id,
            access_hash=self.world.access_hash("photo", media.id),
            file_reference=file_reference(media.id),
            date=date,
            sizes=[
                types.PhotoSize("m", 320, 240, photo_thumb_size(media)),
                types.PhotoSize("y", media.width, media.height, media.size),
            ],
            dc_id=self.dc_id,
        )

    def document(self, media: MediaRec, date: datetime) -> types.Document:
        attributes: list[types.TypeDocumentAttribute] = []
        kind = media.kind
        if kind in ("video", "round", "gif"):
            attributes.append(
                types.DocumentAttributeVideo(
                    duration=media.duration,
                    w=media.width,
                    h=media.height,
                    round_message=kind == "round",
                    supports_streaming=True,
                )
            )
        if kind == "gif":
            attributes.append(types.DocumentAttributeAnimated())
        if kind in ("voice", "audio"):
            attributes.append(
                types.DocumentAttributeAudio(duration=int(media.duration), voice=kind == "voice")
            )
        if kind == "sticker":
            attributes.append(types.DocumentAttributeImageSize(512, 512))
            attributes.append(
                types.DocumentAttributeSticker(alt="🙂", stickerset=types.InputStickerSetEmpty())
            )
        if media.file_name:
            attributes.append(types.DocumentAttributeFilename(media.file_name))
        return types.Document(
            id=media.id,
            access_hash=self.world.access_hash("document", media.id),
            file_reference=file_reference(media.id),
            date=date,
            mime_type=media_mime(media),
            size=media.size,
            dc_id=self.dc_id,
            attributes=attributes,
        )

    # dialogs --------------------------------------------------------------------

    def dialog(self, rec: DialogRec, top: MessageRec | None) -> types.Dialog:
        """The TL dialog; notes its peer. ``top`` is its top message (maybe hidden)."""
        self.note(rec.peer)
        chat = self.world.peer(rec.peer)
        top_id = top.id if top else 0
        read_inbox = rec.read_inbox_max_id
        if read_inbox is None:
            read_inbox = max(0, top_id - rec.unread_count)
        read_outbox = top_id if rec.read_outbox_max_id is None else rec.read_outbox_max_id
        return types.Dialog(
            peer=peer_tl(rec.peer),
            top_message=top_id,
            read_inbox_max_id=read_inbox,
            read_outbox_max_id=read_outbox,
            unread_count=rec.unread_count,
            unread_mentions_count=rec.unread_mentions_count,
            unread_reactions_count=rec.unread_reactions_count,
            unread_poll_votes_count=0,
            notify_settings=types.PeerNotifySettings(mute_until=_FAR_FUTURE if rec.muted else None),
            pinned=rec.pinned,
            unread_mark=rec.unread_mark,
            pts=chat.pts if isinstance(chat, ChatRec) and chat.is_channel_type else None,
            folder_id=rec.folder_id or None,
        )

    def messages(self, recs: Iterable[MessageRec]) -> list[types.TypeMessage]:
        return [self.message(m) for m in recs]


def reaction_tl(r: ReactionRec) -> types.TypeReaction:
    """``ReactionEmoji``, ``ReactionCustomEmoji`` or ``ReactionPaid``."""
    if r.kind == "emoji":
        return types.ReactionEmoji(r.emoji or "")
    if r.kind == "custom":
        return types.ReactionCustomEmoji(r.document_id or 0)
    return types.ReactionPaid()


def file_reference(media_id: int) -> bytes:
    """A stable opaque file reference for a photo or document."""
    return b"\x01" + (media_id & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")


def marked_of_peer(peer: types.PeerUser | types.PeerChat | types.PeerChannel) -> int:
    """The marked id of a ``Peer``."""
    if isinstance(peer, types.PeerUser):
        return peer.user_id
    if isinstance(peer, types.PeerChat):
        return marked_group(peer.chat_id)
    return marked_channel(peer.channel_id)
