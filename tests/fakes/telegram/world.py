"""``FakeTelegram``: a scripted Telegram world seen from one account, and its builder API.

The world holds plain data only (``model.py``): users, groups, supergroups, channels,
the account's dialog list, every chat's messages, login codes, 2FA passwords and which
auth keys are logged in. ``client_factory()`` builds the production Telethon client and
puts a :class:`~tests.fakes.telegram.sender.FakeSender` beneath it, so requests are
answered from this world with real TL objects (see ``server.py`` and ``handlers/``).
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import os
import pickle
import random
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telethon.crypto import AuthKey
from telethon.sessions import SQLiteSession

from tests.fakes.clock import DEFAULT_START, FakeClock

from . import srp
from .edits import EditRec, edit_update
from .faults import Faults
from .model import (
    ADMIN_RIGHTS,
    DEFAULT_AVAILABLE_REACTIONS,
    ActionRec,
    AuthRec,
    ChatKind,
    ChatRec,
    ConnectionRecord,
    DeletionRec,
    DialogRec,
    EntityRec,
    ForwardRec,
    MediaRec,
    MessageRec,
    PasswordRec,
    ReactionPolicy,
    ReactionRec,
    SentCodeRec,
    UserRec,
    marked_channel,
    marked_group,
    split_marked,
)
from .render import stable_hash

if TYPE_CHECKING:
    from telethon import TelegramClient

    from tgpilot.core.clock import Clock
    from tgpilot.gateways.telegram.client import ClientSpec

    from .sender import FakeSender

#: Telethon's default data centre (DC 2, production IPv4).
DEFAULT_DC: tuple[int, str, int] = (2, "149.154.167.51", 443)

#: The sentinel for a paid (Telegram Stars) reaction in ``add_message(reactions=...)``.
PAID = "paid"

PeerRef = int | UserRec | ChatRec
ReactionSpec = ReactionRec | tuple[Any, ...]
EntitySpec = EntityRec | tuple[Any, ...]

#: Requests that change the account's state, by qualified name (as counted in
#: ``requests_qualified``): sending, editing, forwarding, deleting, reacting, voting,
#: reading, pinning, membership and admin changes, contacts, profile, logging out.
#: Counted when sent, handled by the fake or not (see ``mutating_requests()``).
MUTATING_REQUESTS: frozenset[str] = frozenset(
    {
        "messages.SendMessageRequest",
        "messages.SendMediaRequest",
        "messages.SendMultiMediaRequest",
        "messages.ForwardMessagesRequest",
        "messages.EditMessageRequest",
        "messages.DeleteMessagesRequest",
        "channels.DeleteMessagesRequest",
        "messages.DeleteHistoryRequest",
        "channels.DeleteHistoryRequest",
        "channels.DeleteParticipantHistoryRequest",
        "messages.SendReactionRequest",
        "messages.SendPaidReactionRequest",
        "messages.SendVoteRequest",
        "messages.ReadHistoryRequest",
        "channels.ReadHistoryRequest",
        "messages.ReadReactionsRequest",
        "messages.ReadMentionsRequest",
        "messages.UpdatePinnedMessageRequest",
        "messages.UnpinAllMessagesRequest",
        "channels.EditBannedRequest",
        "channels.EditAdminRequest",
        "messages.EditChatAdminRequest",
        "messages.AddChatUserRequest",
        "messages.DeleteChatUserRequest",
        "channels.InviteToChannelRequest",
        "channels.JoinChannelRequest",
        "channels.LeaveChannelRequest",
        "messages.ImportChatInviteRequest",
        "contacts.AddContactRequest",
        "contacts.DeleteContactsRequest",
        "contacts.BlockRequest",
        "account.UpdateProfileRequest",
        "account.UpdateUsernameRequest",
        "auth.LogOutRequest",
        "auth.ResetAuthorizationsRequest",
    }
)

_URL_RE = re.compile(r"(?:https?://|t\.me/)[^\s<>\"']+", re.IGNORECASE)
_TEST_PHONE_RE = re.compile(r"^99966(\d)\d{4}$")


def normalise_phone(phone: str) -> str:
    """Digits only, as Telegram stores phone numbers (``+1 555-0100`` → ``15550100``)."""
    return re.sub(r"\D", "", phone)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class DialogEntry:
    """One dialog as listed: its record, its top message (if any) and its sort key."""

    dialog: DialogRec
    top: MessageRec | None
    key: tuple[float, int, int]


class FakeTelegram:
    """A scripted in-memory Telegram world, plugged in beneath Telethon's request layer.

    Build it, then hand ``world.client_factory()`` to code that takes a
    ``ClientFactory``. ``requests``/``request_log`` count what the client sent,
    ``faults`` injects errors and disconnects, ``connections`` records where clients
    connected.
    """

    def __init__(self, *, seed: int = 0, now: datetime | None = None, test_mode: bool = False):
        self.seed = seed
        self.now: datetime = now or DEFAULT_START
        self.test_mode = test_mode
        self.users: dict[int, UserRec] = {}
        self.groups: dict[int, ChatRec] = {}
        self.channels: dict[int, ChatRec] = {}
        self.me_id: int | None = None
        self.dialogs: dict[int, DialogRec] = {}
        self.messages: dict[int, dict[int, MessageRec]] = {}
        self._ids: dict[int, list[int]] = {}
        self._history: dict[int, list[MessageRec]] = {}  # newest first, rebuilt on change
        self._private_ids: dict[int, int] = {}
        self._media: dict[int, tuple[int, int]] = {}
        self._next_private_id = 1
        self._next_media_id = 1_000_001
        self._auto_dates = 0
        self.pts = 1
        self.deletions: list[DeletionRec] = []
        self.edits: list[EditRec] = []
        self.typing: list[tuple[int, datetime]] = []
        self.available_reactions: list[str] = list(DEFAULT_AVAILABLE_REACTIONS)
        # login
        self.login_codes: dict[str, str] = {}
        self.expire_codes: dict[str, int] = {}
        self.code_ttl = 600.0
        self.sent_codes: dict[str, SentCodeRec] = {}
        self.passwords: dict[int, PasswordRec] = {}
        self.auth: dict[int, AuthRec] = {}
        self.pending_password: dict[int, int] = {}
        self.srp_challenges: dict[int, tuple[int, int, srp.SrpChallenge]] = {}
        # behaviour switches
        self.dialogs_final_page_as_slice = False
        # observation and faults
        self.faults = Faults(seed)
        self.requests: Counter[str] = Counter()
        self.requests_qualified: Counter[str] = Counter()
        self.request_log: list[str] = []
        self.unhandled: list[str] = []
        self.connections: list[ConnectionRecord] = []
        self.rng = random.Random(seed)
        self._senders: list[FakeSender] = []
        self.request_sink: Callable[[str], None] | None = None
        self.on_served: Callable[[str], None] | None = None
        """Called with the qualified request name after each request is answered."""

    # pickling -------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_senders"] = []
        state["request_sink"] = None
        state["on_served"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, default in (("on_served", None), ("edits", []), ("typing", [])):
            state.setdefault(name, default)  # worlds saved before these existed
        self.__dict__.update(state)

    def save(self, path: Path | str) -> None:
        """Write the world to ``path`` (pickle, atomically)."""
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        Path(tmp).replace(path)

    @classmethod
    def load(cls, path: Path | str) -> FakeTelegram:
        """Read a world written by :meth:`save`."""
        with Path(path).open("rb") as fh:
            world = pickle.load(fh)
        if not isinstance(world, cls):
            raise TypeError(f"{path} does not hold a FakeTelegram")
        return world

    def auth_snapshot(self) -> dict[int, AuthRec]:
        """A copy of the authorised-keys table (to diff after a run)."""
        return {k: replace(v) for k, v in self.auth.items()}

    def merge_auth_into(self, path: Path | str, before: dict[int, AuthRec]) -> bool:
        """Apply this world's auth changes since ``before`` to the world saved at ``path``.

        Other processes may have changed the file meanwhile; only the keys this
        process added, changed or removed are written (under an exclusive lock).
        Returns whether anything changed.
        """
        added = {k: v for k, v in self.auth.items() if before.get(k) != v}
        removed = [k for k in before if k not in self.auth]
        if not added and not removed:
            return False
        path = Path(path)
        lock_path = path.with_name(path.name + ".lock")
        with lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                fresh = FakeTelegram.load(path)
                fresh.auth.update(added)
                for key in removed:
                    fresh.auth.pop(key, None)
                fresh.save(path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return True

    # ids and lookups --------------------------------------------------------------

    def access_hash(self, kind: str, raw_id: int) -> int:
        """The deterministic access hash of a user, channel, photo or document."""
        return stable_hash(self.seed, kind, raw_id)

    def peer(self, marked: int) -> UserRec | ChatRec | None:
        """The user or chat with this marked id, or None."""
        kind, raw = split_marked(marked)
        if kind == "user":
            return self.users.get(raw)
        if kind == "group":
            return self.groups.get(raw)
        return self.channels.get(raw)

    def ref(self, ref: PeerRef) -> int:
        """The marked id of a peer given as a record or a marked id (which must exist)."""
        marked = ref.marked_id if isinstance(ref, UserRec | ChatRec) else int(ref)
        if self.peer(marked) is None:
            raise KeyError(f"no user or chat with marked id {marked}")
        return marked

    def find_username(self, username: str) -> int | None:
        """Marked id of the peer with this username (case-insensitive), or None."""
        wanted = username.lower()
        for rec in self._all_peers():
            if rec.username and rec.username.lower() == wanted:
                return rec.marked_id
        return None

    def user_by_phone(self, phone: str) -> UserRec | None:
        digits = normalise_phone(phone)
        for rec in self.users.values():
            if rec.phone and normalise_phone(rec.phone) == digits:
                return rec
        return None

    def _all_peers(self) -> Iterator[UserRec | ChatRec]:
        yield from self.users.values()
        yield from self.groups.values()
        yield from self.channels.values()

    @property
    def me(self) -> UserRec:
        """The account's own user."""
        if self.me_id is None:
            raise LookupError("the world has no account; call add_me() or set_me()")
        return self.users[self.me_id]

    # builders: entities ------------------------------------------------------------

    def add_user(
        self,
        id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        phone: str | None = None,
        bot: bool = False,
        *,
        contact: bool = False,
        premium: bool = False,
        verified: bool = False,
        deleted: bool = False,
        about: str | None = None,
        dialog: bool = False,
        **dialog_options: Any,
    ) -> UserRec:
        """Add a user (or bot). ``dialog=True`` also puts a dialog with them in the list."""
        if id <= 0:
            raise ValueError("user ids are positive")
        if id in self.users:
            raise ValueError(f"user {id} already exists")
        self._check_username(username)
        rec = UserRec(
            id=id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            phone=normalise_phone(phone) if phone else None,
            bot=bot,
            contact=contact,
            premium=premium,
            verified=verified,
            deleted=deleted,
            about=about,
        )
        self.users[id] = rec
        if dialog:
            self.add_dialog(rec, **dialog_options)
        return rec

    def add_me(
        self,
        id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        phone: str | None = None,
        *,
        password: str | None = None,
        hint: str | None = None,
        premium: bool = False,
    ) -> UserRec:
        """Add the account's own user (and optionally its 2FA password)."""
        rec = self.add_user(id, first_name, last_name, username, phone, premium=premium)
        self.set_me(rec)
        if password is not None:
            self.set_password(rec, password, hint=hint)
        return rec

    def set_me(self, user: PeerRef) -> UserRec:
        """Make an existing user the account the world is seen from."""
        marked = self.ref(user)
        if marked <= 0:
            raise ValueError("the account must be a user")
        self.me_id = marked
        return self.users[marked]

    def add_group(
        self,
        id: int,
        title: str,
        *,
        members: Iterable[PeerRef] = (),
        creator: bool = False,
        admin_rights: Iterable[str] | None = None,
        reactions: str | Iterable[str] | ReactionPolicy = "all",
        about: str = "",
        date: datetime | None = None,
        participants_count: int | None = None,
        dialog: bool = True,
        **dialog_options: Any,
    ) -> ChatRec:
        """Add a basic group (marked id ``-id``); by default the account is in it."""
        return self._add_chat(
            "group",
            id,
            title,
            username=None,
            members=members,
            creator=creator,
            admin_rights=admin_rights,
            reactions=reactions,
            about=about,
            date=date,
            participants_count=participants_count,
            dialog=dialog,
            dialog_options=dialog_options,
        )

    def add_supergroup(
        self,
        id: int,
        title: str,
        username: str | None = None,
        *,
        members: Iterable[PeerRef] = (),
        creator: bool = False,
        admin_rights: Iterable[str] | None = None,
        reactions: str | Iterable[str] | ReactionPolicy = "all",
        about: str = "",
        date: datetime | None = None,
        participants_count: int | None = None,
        slowmode_seconds: int | None = None,
        forum: bool = False,
        dialog: bool = True,
        **dialog_options: Any,
    ) -> ChatRec:
        """Add a supergroup (marked id ``-100<id>``); ``dialog=False`` = not joined."""
        return self._add_chat(
            "supergroup",
            id,
            title,
            username=username,
            members=members,
            creator=creator,
            admin_rights=admin_rights,
            reactions=reactions,
            about=about,
            date=date,
            participants_count=participants_count,
            dialog=dialog,
            dialog_options=dialog_options,
            slowmode_seconds=slowmode_seconds,
            forum=forum,
        )

    def add_channel(
        self,
        id: int,
        title: str,
        username: str | None = None,
        *,
        creator: bool = False,
        admin_rights: Iterable[str] | None = None,
        reactions: str | Iterable[str] | ReactionPolicy = "all",
        about: str = "",
        date: datetime | None = None,
        participants_count: int | None = None,
        signatures: bool = False,
        dialog: bool = True,
        **dialog_options: Any,
    ) -> ChatRec:
        """Add a broadcast channel (marked id ``-100<id>``); ``dialog=False`` = not joined."""
        return self._add_chat(
            "channel",
            id,
            title,
            username=username,
            members=(),
            creator=creator,
            admin_rights=admin_rights,
            reactions=reactions,
            about=about,
            date=date,
            participants_count=participants_count,
            dialog=dialog,
            dialog_options=dialog_options,
            signatures=signatures,
        )

    def _add_chat(
        self,
        kind: ChatKind,
        id: int,
        title: str,
        *,
        username: str | None,
        members: Iterable[PeerRef],
        creator: bool,
        admin_rights: Iterable[str] | None,
        reactions: str | Iterable[str] | ReactionPolicy,
        about: str,
        date: datetime | None,
        participants_count: int | None,
        dialog: bool,
        dialog_options: dict[str, Any],
        **extra: Any,
    ) -> ChatRec:
        if id <= 0:
            raise ValueError("raw chat ids are positive; the marked id is derived")
        table = self.groups if kind == "group" else self.channels
        if id in table:
            raise ValueError(f"{kind} {id} already exists")
        self._check_username(username)
        rights = None
        if admin_rights is not None:
            rights = frozenset(admin_rights)
            unknown = rights - ADMIN_RIGHTS
            if unknown:
                raise ValueError(f"unknown admin rights {sorted(unknown)}")
        member_ids = tuple(self.ref(m) for m in members)
        if self.me_id is not None and dialog and self.me_id not in member_ids:
            member_ids = (self.me_id, *member_ids)
        rec = ChatRec(
            id=id,
            kind=kind,
            title=title,
            date=date or (self.now - timedelta(days=365)),
            username=username,
            about=about,
            creator=creator,
            admin_rights=rights,
            reactions=reaction_policy(reactions),
            participants_count=participants_count,
            members=member_ids,
            left=not dialog,
            **extra,
        )
        table[id] = rec
        if dialog:
            self.add_dialog(rec, **dialog_options)
        return rec

    def _check_username(self, username: str | None) -> None:
        if username is not None and self.find_username(username) is not None:
            raise ValueError(f"username @{username} is taken")

    def set_admin_rights(
        self, chat: PeerRef, rights: Iterable[str] | None, *, creator: bool = False
    ) -> ChatRec:
        """Change the account's standing in a chat: ``rights`` (``ChatAdminRights`` flag
        names; None = not an admin) and whether it created the chat (holding all)."""
        rec = self.peer(self.ref(chat))
        if not isinstance(rec, ChatRec):
            raise ValueError("admin rights belong to groups, supergroups and channels")
        frozen = None if rights is None else frozenset(rights)
        if frozen is not None and frozen - ADMIN_RIGHTS:
            raise ValueError(f"unknown admin rights {sorted(frozen - ADMIN_RIGHTS)}")
        rec.admin_rights = frozen
        rec.creator = creator
        return rec

    # builders: dialogs ---------------------------------------------------------------

    def add_dialog(
        self,
        peer: PeerRef,
        *,
        pinned: bool = False,
        folder: int = 0,
        unread: int = 0,
        unread_mentions: int = 0,
        unread_reactions: int = 0,
        unread_mark: bool = False,
        muted: bool = False,
        hide_top_message: bool = False,
        read_inbox_max_id: int | None = None,
        read_outbox_max_id: int | None = None,
    ) -> DialogRec:
        """Put ``peer`` in the account's dialog list (``folder=1`` is the archive)."""
        marked = self.ref(peer)
        order = sum(1 for d in self.dialogs.values() if d.pinned and d.folder_id == folder)
        rec = DialogRec(
            peer=marked,
            pinned=pinned,
            pinned_order=order if pinned else 0,
            folder_id=folder,
            unread_count=unread,
            unread_mentions_count=unread_mentions,
            unread_reactions_count=unread_reactions,
            unread_mark=unread_mark,
            muted=muted,
            hide_top_message=hide_top_message,
            read_inbox_max_id=read_inbox_max_id,
            read_outbox_max_id=read_outbox_max_id,
        )
        self.dialogs[marked] = rec
        chat = self.peer(marked)
        if isinstance(chat, ChatRec):
            chat.left = False
        return rec

    def dialog(self, peer: PeerRef) -> DialogRec:
        """The dialog record with ``peer`` (edit it to change unread counts etc.)."""
        return self.dialogs[self.ref(peer)]

    def remove_dialog(self, peer: PeerRef) -> None:
        self.dialogs.pop(self.ref(peer), None)

    def dialog_entries(self, folder_id: int | None) -> list[DialogEntry]:
        """The dialogs in ``folder_id`` (None: every folder), unsorted, with sort keys.

        The key orders dialogs as Telegram does: by top message date, then id, then peer.
        """
        out = []
        for rec in self.dialogs.values():
            if folder_id is not None and rec.folder_id != folder_id:
                continue
            top = self.top_message(rec.peer)
            if top is not None:
                ts = top.date.timestamp()
            else:
                chat = self.peer(rec.peer)
                ts = chat.date.timestamp() if isinstance(chat, ChatRec) else 0.0
            out.append(DialogEntry(rec, top, (ts, top.id if top else 0, rec.peer)))
        return out

    # builders: messages --------------------------------------------------------------

    def add_message(
        self,
        chat: PeerRef,
        id: int | None = None,
        *,
        text: str = "",
        date: datetime | None = None,
        sender: PeerRef | None = None,
        out: bool | None = None,
        reply_to: int | None = None,
        fwd_from: ForwardRec | PeerRef | str | None = None,
        edit_date: datetime | None = None,
        media: MediaRec | None = None,
        views: int | None = None,
        forwards: int | None = None,
        replies: int | None = None,
        reactions: Iterable[ReactionSpec] | None = None,
        action: ActionRec | str | None = None,
        entities: Iterable[EntitySpec] | None = None,
        post_author: str | None = None,
        pinned: bool = False,
        silent: bool = False,
        grouped_id: int | None = None,
    ) -> MessageRec:
        """Add a message to ``chat`` (a record or marked id).

        - ``id``: per-chat in channels/supergroups; account-wide for private chats and
          basic groups (as on Telegram). Default: the next free one.
        - ``date``: default an automatic, strictly increasing time before ``world.now``.
        - ``sender``: a user, or a chat posting as itself. Defaults: the other user in a
          private chat, the account in groups, the channel itself in broadcasts.
        - ``reactions``: ``ReactionRec``s or tuples ``(reaction, count[, mine])`` where
          reaction is an emoji string, a custom emoji document id (int) or ``PAID``.
        - ``entities``: ``EntityRec``s or ``(kind, offset, length[, url])``; default:
          URLs in the text are detected as ``url`` entities, as the server does.
        - ``action``: an ``ActionRec`` or a kind name (``"pin"``, ...) for a service message.
        """
        marked = self.ref(chat)
        peer = self.peer(marked)
        assert peer is not None
        channel_type = isinstance(peer, ChatRec) and peer.is_channel_type
        store = self.messages.setdefault(marked, {})
        ids = self._ids.setdefault(marked, [])
        self._history.pop(marked, None)
        if id is None:
            id = (ids[-1] + 1 if ids else 1) if channel_type else self._next_private_id
        elif id <= 0:
            raise ValueError("message ids are positive")
        if channel_type:
            if id in store:
                raise ValueError(f"message {id} already exists in {marked}")
        elif id in self._private_ids:
            raise ValueError(
                f"message id {id} is taken (private chats and basic groups share one "
                "account-wide id sequence)"
            )
        sender_id = self._default_sender(peer) if sender is None else self.ref(sender)
        if isinstance(peer, UserRec) and sender_id not in (peer.id, self.me_id):
            raise ValueError("a private chat's messages come from the account or the other user")
        if out is None:
            out = sender_id is not None and sender_id == self.me_id
        if date is None:
            date = self._auto_date()
        if media is not None:
            media = replace(media, id=self._next_media_id)
            self._next_media_id += 1
        if isinstance(action, str):
            action = ActionRec(kind=action)
        rec = MessageRec(
            chat=marked,
            id=id,
            date=date,
            text=text,
            sender=sender_id,
            out=out,
            reply_to=reply_to,
            fwd_from=self._forward(fwd_from, date),
            edit_date=edit_date,
            media=media,
            views=views,
            forwards=forwards,
            replies=replies,
            reactions=None if reactions is None else parse_reactions(reactions),
            action=action,
            entities=detect_entities(text) if entities is None else parse_entities(entities),
            post_author=post_author,
            pinned=pinned,
            silent=silent,
            grouped_id=grouped_id,
        )
        store[id] = rec
        bisect.insort(ids, id)
        if media is not None:
            self._media[media.id] = (marked, id)
        if channel_type:
            assert isinstance(peer, ChatRec)
            peer.pts += 1
            rec.pts = peer.pts
        else:
            self._private_ids[id] = marked
            self._next_private_id = max(self._next_private_id, id + 1)
            self.pts += 1
            rec.pts = self.pts
        if isinstance(peer, UserRec) and marked not in self.dialogs:
            self.add_dialog(marked)
        self._announce(rec, peer)
        return rec

    def _announce(self, rec: MessageRec, peer: UserRec | ChatRec) -> None:
        """Push a new message to every connected, logged-in client, as Telegram does:
        ``updateNewChannelMessage`` with the channel's pts for channels and supergroups,
        ``updateNewMessage`` with the account's pts otherwise (one pts per message)."""
        from telethon.tl import types

        from .render import Renderer

        for sender in self.live_senders():
            viewer = self.authorized_user(sender.key_id, sender.server)
            if viewer is None:
                continue
            renderer = Renderer(self, viewer, sender.dc_id)
            message = renderer.message(rec)
            update: Any
            if isinstance(peer, ChatRec) and peer.is_channel_type:
                update = types.UpdateNewChannelMessage(message, pts=peer.pts, pts_count=1)
            else:
                update = types.UpdateNewMessage(message, pts=self.pts, pts_count=1)
            sender.push_update(
                types.Updates(
                    updates=[update],
                    users=renderer.users(),
                    chats=renderer.chats(),
                    date=rec.date,
                    seq=0,
                )
            )

    def _default_sender(self, peer: UserRec | ChatRec) -> int | None:
        if isinstance(peer, UserRec):
            return peer.id
        if peer.kind == "channel":
            return None
        return self.me_id

    def _auto_date(self) -> datetime:
        self._auto_dates += 1
        return self.now - timedelta(days=30) + timedelta(minutes=self._auto_dates)

    def _forward(self, fwd: ForwardRec | PeerRef | str | None, date: datetime) -> ForwardRec | None:
        if fwd is None or isinstance(fwd, ForwardRec):
            return fwd
        if isinstance(fwd, str):
            return ForwardRec(date=date - timedelta(hours=1), from_name=fwd)
        return ForwardRec(date=date - timedelta(hours=1), from_peer=self.ref(fwd))

    def message(self, chat: PeerRef, id: int) -> MessageRec:
        """The message ``id`` in ``chat``."""
        return self.messages[self.ref(chat)][id]

    def history(self, chat: PeerRef) -> list[MessageRec]:
        """The chat's existing messages, newest first (as getHistory walks them).

        Kept between requests (paging a 100k-message chat must not copy it per page);
        adding or deleting a message rebuilds it. Do not mutate the returned list.
        """
        marked = self.ref(chat)
        cached = self._history.get(marked)
        if cached is None:
            store = self.messages.get(marked, {})
            ids = self._ids.get(marked, [])
            cached = [store[i] for i in reversed(ids) if not store[i].deleted]
            self._history[marked] = cached
        return cached

    def messages_since_pts(self, pts: int, channel: int | None = None) -> list[MessageRec]:
        """Messages added after ``pts``: of one channel, or of the account's private chats
        and basic groups (what ``getChannelDifference``/``getDifference`` return)."""
        if channel is not None:
            found = [m for m in self.history(channel) if m.pts > pts]
        else:
            found = []
            for marked in set(self._private_ids.values()):
                found.extend(m for m in self.history(marked) if m.pts > pts)
        return sorted(found, key=lambda m: m.pts)

    def top_message(self, chat: PeerRef) -> MessageRec | None:
        """The newest existing message of a chat."""
        marked = chat if isinstance(chat, int) else self.ref(chat)
        store = self.messages.get(marked)
        if not store:
            return None
        for i in reversed(self._ids[marked]):
            if not store[i].deleted:
                return store[i]
        return None

    def private_message(self, id: int) -> MessageRec | None:
        """A private-chat or basic-group message by its account-wide id."""
        chat = self._private_ids.get(id)
        if chat is None:
            return None
        rec = self.messages[chat][id]
        return None if rec.deleted else rec

    # edits ----------------------------------------------------------------------------

    def edit_message(
        self, chat: PeerRef, id: int, text: str, *, date: datetime | None = None
    ) -> MessageRec:
        """Change a message's text as Telegram does for an edit: ``edit_date`` set, URL
        entities detected again, the pts moved on (the channel's, else the account's),
        the edit kept for ``getDifference`` and pushed to every connected client."""
        marked = self.ref(chat)
        peer = self.peer(marked)
        rec = self.message(marked, id)
        rec.text = text
        rec.entities = detect_entities(text)
        rec.edit_date = date or self.now
        if isinstance(peer, ChatRec) and peer.is_channel_type:
            peer.pts += 1
            pts = peer.pts
        else:
            self.pts += 1
            pts = self.pts
        edit = EditRec(chat=marked, id=id, pts=pts)
        self.edits.append(edit)
        self._announce_edit(edit)
        return rec

    def edits_since_pts(self, pts: int, channel: int | None = None) -> list[EditRec]:
        """Edits after ``pts``: of one channel, or of the account's private chats and
        basic groups (what ``getChannelDifference``/``getDifference`` return)."""
        if channel is not None:
            return [e for e in self.edits if e.chat == channel and e.pts > pts]
        return [e for e in self.edits if e.pts > pts and split_marked(e.chat)[0] != "channel"]

    def _announce_edit(self, edit: EditRec) -> None:
        from telethon.tl import types

        from .render import Renderer

        rec = self.messages[edit.chat][edit.id]
        for sender in self.live_senders():
            viewer = self.authorized_user(sender.key_id, sender.server)
            if viewer is None:
                continue
            renderer = Renderer(self, viewer, sender.dc_id)
            update = edit_update(renderer, rec, self.peer(edit.chat), edit.pts)
            sender.push_update(
                types.Updates(
                    updates=[update],
                    users=renderer.users(),
                    chats=renderer.chats(),
                    date=rec.edit_date or self.now,
                    seq=0,
                )
            )

    def drop_connections(self) -> int:
        """Lose every client's connection (as a network outage does); returns how many."""
        senders = self.live_senders()
        for sender in senders:
            sender.drop()
        return len(senders)

    def delete_message(self, chat: PeerRef, id: int) -> None:
        """Delete a message (it disappears from history and lookups)."""
        self.message(chat, id).deleted = True
        self._history.pop(self.ref(chat), None)

    def delete_messages(self, chat: PeerRef, ids: Iterable[int]) -> list[int]:
        """Delete messages of ``chat`` as Telegram does: the existing ones among ``ids``
        go (returned, in order), the pts moves on by their number (the channel's for
        channels and supergroups, else the account's), the deletion is recorded for
        ``getDifference`` and pushed to every connected client."""
        marked = self.ref(chat)
        peer = self.peer(marked)
        store = self.messages.get(marked, {})
        gone = [i for i in dict.fromkeys(ids) if i in store and not store[i].deleted]
        if not gone:
            return []
        for i in gone:
            store[i].deleted = True
        self._history.pop(marked, None)
        if isinstance(peer, ChatRec) and peer.is_channel_type:
            peer.pts += len(gone)
            pts = peer.pts
        else:
            self.pts += len(gone)
            pts = self.pts
        deletion = DeletionRec(chat=marked, ids=tuple(gone), pts=pts, pts_count=len(gone))
        self.deletions.append(deletion)
        self._announce_deletion(deletion)
        return gone

    def deletions_since_pts(self, pts: int, channel: int | None = None) -> list[DeletionRec]:
        """Deletions after ``pts``: of one channel, or of the account's private chats and
        basic groups (what ``getChannelDifference``/``getDifference`` return)."""
        if channel is not None:
            return [d for d in self.deletions if d.chat == channel and d.pts > pts]
        return [d for d in self.deletions if d.pts > pts and split_marked(d.chat)[0] != "channel"]

    def _announce_deletion(self, deletion: DeletionRec) -> None:
        """Push ``updateDeleteChannelMessages`` (channels, supergroups) or
        ``updateDeleteMessages`` to every connected, logged-in client."""
        from telethon.tl import types

        kind, raw = split_marked(deletion.chat)
        update: Any
        if kind == "channel":
            update = types.UpdateDeleteChannelMessages(
                channel_id=raw,
                messages=list(deletion.ids),
                pts=deletion.pts,
                pts_count=deletion.pts_count,
            )
        else:
            update = types.UpdateDeleteMessages(
                messages=list(deletion.ids), pts=deletion.pts, pts_count=deletion.pts_count
            )
        for sender in self.live_senders():
            if self.authorized_user(sender.key_id, sender.server) is None:
                continue
            sender.push_update(
                types.Updates(updates=[update], users=[], chats=[], date=self.now, seq=0)
            )

    def set_my_reactions(
        self, chat: PeerRef, id: int, reactions: Iterable[str | int]
    ) -> MessageRec:
        """Make ``reactions`` (emoji, or custom emoji document ids) exactly the account's
        reactions on a message, as ``messages.sendReaction`` does: its previous ones lose
        a count (and vanish at zero), the new ones gain one, ``chosen_order`` follows the
        order given. An empty list removes them. Paid reactions are left alone.
        """
        rec = self.message(chat, id)
        wanted = list(dict.fromkeys(reactions))
        kept: list[ReactionRec] = []
        for old in rec.reactions or []:
            if old.mine and old.kind != "paid":
                old = replace(old, count=old.count - 1, chosen_order=None)
            if old.count > 0:
                kept.append(old)
        for order, reaction in enumerate(wanted):
            new = (
                ReactionRec("custom", 0, document_id=reaction)
                if isinstance(reaction, int)
                else ReactionRec("emoji", 0, emoji=reaction)
            )
            key = (new.kind, new.emoji, new.document_id)
            same = next((r for r in kept if (r.kind, r.emoji, r.document_id) == key), None)
            if same is None:
                kept.append(new)
                same = new
            same.count += 1
            same.chosen_order = order
        if kept or rec.reactions is not None:
            rec.reactions = kept
        return rec

    def my_reactions(self, chat: PeerRef, id: int) -> list[str | int]:
        """The account's reactions on a message (emoji, custom emoji ids), in chosen order."""
        mine = [r for r in self.message(chat, id).reactions or [] if r.mine and r.kind != "paid"]
        mine.sort(key=lambda r: r.chosen_order or 0)
        return [(r.emoji or "") if r.kind == "emoji" else (r.document_id or 0) for r in mine]

    def media_location(self, media_id: int) -> MessageRec | None:
        """The message carrying media ``media_id``."""
        where = self._media.get(media_id)
        if where is None:
            return None
        return self.messages[where[0]][where[1]]

    # builders: login -----------------------------------------------------------------

    def set_login_code(self, phone: str, code: str) -> None:
        """The code Telegram "sends" to ``phone`` on every ``auth.sendCode``."""
        self.login_codes[normalise_phone(phone)] = code

    def code_for(self, phone: str) -> str:
        """The login code for ``phone``: set, or test-DC style ``99966XYYYY`` → ``XXXXX``."""
        digits = normalise_phone(phone)
        if digits in self.login_codes:
            return self.login_codes[digits]
        m = _TEST_PHONE_RE.match(digits)
        return m.group(1) * 5 if m else "12345"

    def expire_next_code(self, phone: str, count: int = 1) -> None:
        """The next ``count`` codes sent to ``phone`` are expired when used."""
        digits = normalise_phone(phone)
        self.expire_codes[digits] = self.expire_codes.get(digits, 0) + count

    def set_password(self, user: PeerRef, password: str, hint: str | None = None) -> None:
        """Enable 2FA for ``user``; the server keeps only the SRP verifier."""
        self.passwords[self.ref(user)] = srp.make_password(password, self.rng, hint)

    # authorisation -------------------------------------------------------------------

    def authorize_key(
        self, key_id: int, user_id: int, server: tuple[str, int] | None = None
    ) -> None:
        """Mark an auth key as logged in as ``user_id`` (on ``server``; None = anywhere)."""
        self.auth[key_id] = AuthRec(user_id=user_id, server=server)

    def authorized_user(self, key_id: int | None, server: tuple[str, int] | None) -> int | None:
        """The user an auth key is logged in as on ``server``, or None."""
        if key_id is None:
            return None
        rec = self.auth.get(key_id)
        if rec is None or (rec.server is not None and server is not None and rec.server != server):
            return None
        return rec.user_id

    def authorize_session_file(
        self,
        path: Path | str,
        user_id: int | None = None,
        dc: tuple[int, str, int] = DEFAULT_DC,
    ) -> Path:
        """Write a real Telethon SQLite session at ``path`` that is already logged in.

        Returns the session file's path (Telethon adds ``.session`` if missing).
        """
        user = self.me_id if user_id is None else user_id
        if user is None or user not in self.users:
            raise LookupError("authorize_session_file needs the account (add_me) or a user id")
        dc_id, ip, port = dc
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        session = SQLiteSession(str(path))
        try:
            session.set_dc(dc_id, ip, port)
            key = AuthKey(os.urandom(256))
            session.auth_key = key
            session.save()
            filename = session.filename
        finally:
            session.close()
        self.authorize_key(key.key_id, user, (ip, port))
        return Path(filename)

    def log_out_key(self, key_id: int) -> None:
        self.auth.pop(key_id, None)
        self.pending_password.pop(key_id, None)

    # plumbing ------------------------------------------------------------------------

    def client_factory(self, clock: Clock | FakeClock | None = None) -> ClientFactoryFn:
        """A ``ClientSpec -> TelegramClient`` factory: the production client, fake beneath.

        Calls the real ``create_client(spec)`` and replaces its ``_sender`` with a
        ``FakeSender`` answering from this world. ``clock`` (optional) is the world's
        notion of "now" for answers (code expiry, ``updates.State.date``, ...).
        """
        from tgpilot.gateways.telegram.client import create_client

        from .sender import FakeSender

        def factory(spec: ClientSpec) -> TelegramClient:
            client = create_client(spec)
            client._sender = FakeSender(self, client, clock=clock)
            return client

        return factory

    def record_request(self, name: str, qualified: str | None = None) -> None:
        """Count one request: by class name and by namespaced name (``channels.X``)."""
        self.requests[name] += 1
        self.requests_qualified[qualified or name] += 1
        self.request_log.append(name)
        if self.request_sink is not None:
            self.request_sink(name)

    def mutating_requests(self) -> Counter[str]:
        """Requests sent so far that change the account's state (``MUTATING_REQUESTS``),
        by qualified name; empty when a command only read."""
        return Counter(
            {n: c for n, c in self.requests_qualified.items() if n in MUTATING_REQUESTS and c}
        )

    def reset_counts(self) -> None:
        """Forget counted requests (and unhandled ones)."""
        self.requests.clear()
        self.requests_qualified.clear()
        self.request_log.clear()
        self.unhandled.clear()

    def live_senders(self) -> list[FakeSender]:
        """Senders currently connected to this world (to push updates to)."""
        return list(self._senders)

    def push_update(self, update: Any) -> int:
        """Deliver an ``Updates`` TL object to every connected client; returns how many."""
        senders = self.live_senders()
        for sender in senders:
            sender.push_update(update)
        return len(senders)

    def attach(self, sender: FakeSender) -> None:
        if sender not in self._senders:
            self._senders.append(sender)

    def detach(self, sender: FakeSender) -> None:
        with contextlib.suppress(ValueError):
            self._senders.remove(sender)


ClientFactoryFn = Callable[["ClientSpec"], "TelegramClient"]


def reaction_policy(spec: str | Iterable[str] | ReactionPolicy) -> ReactionPolicy:
    """``"all"``, ``"all+custom"``, ``"none"``, or an iterable of emoji (``some``)."""
    if isinstance(spec, ReactionPolicy):
        return spec
    if spec == "all":
        return ReactionPolicy("all")
    if spec == "all+custom":
        return ReactionPolicy("all", allow_custom=True)
    if spec == "none":
        return ReactionPolicy("none")
    if isinstance(spec, str):
        raise ValueError(f"reactions: 'all', 'all+custom', 'none' or a list of emoji, not {spec!r}")
    return ReactionPolicy("some", emoji=tuple(spec))


def parse_reactions(specs: Iterable[ReactionSpec]) -> list[ReactionRec]:
    """Reaction specs → records; ``mine`` reactions get chosen_order 0, 1, ..."""
    out: list[ReactionRec] = []
    order = 0
    for spec in specs:
        if isinstance(spec, ReactionRec):
            out.append(spec)
            continue
        reaction, count, *rest = spec
        mine = bool(rest and rest[0])
        chosen = order if mine else None
        if mine:
            order += 1
        if reaction == PAID:
            out.append(ReactionRec("paid", count, chosen_order=chosen))
        elif isinstance(reaction, int):
            out.append(ReactionRec("custom", count, document_id=reaction, chosen_order=chosen))
        elif isinstance(reaction, str):
            out.append(ReactionRec("emoji", count, emoji=reaction, chosen_order=chosen))
        else:
            raise TypeError(f"reaction must be an emoji, a custom emoji id or PAID: {reaction!r}")
    return out


def parse_entities(specs: Iterable[EntitySpec]) -> list[EntityRec]:
    out = []
    for spec in specs:
        if isinstance(spec, EntityRec):
            out.append(spec)
        else:
            kind, offset, length, *rest = spec
            out.append(EntityRec(kind, offset, length, url=rest[0] if rest else None))
    return out


def detect_entities(text: str) -> list[EntityRec]:
    """URL entities for links in ``text`` (offsets in UTF-16 code units, as Telegram)."""
    out = []
    for m in _URL_RE.finditer(text):
        url = m.group(0).rstrip(".,;:!?)")
        offset = _utf16_len(text[: m.start()])
        out.append(EntityRec("url", offset, _utf16_len(url)))
    return out


def photo(size: int = 200_000, *, width: int = 1280, height: int = 960) -> MediaRec:
    """A photo stub of ``size`` bytes (its largest size)."""
    return MediaRec("photo", size, width=width, height=height)


def video(
    size: int = 1_000_000, file_name: str | None = None, *, duration: float = 10.0
) -> MediaRec:
    return MediaRec("video", size, file_name=file_name, duration=duration)


def document(
    size: int = 10_000, file_name: str = "file.bin", *, mime_type: str | None = None
) -> MediaRec:
    return MediaRec("document", size, file_name=file_name, mime_type=mime_type)


def voice(size: int = 20_000, *, duration: float = 3.0) -> MediaRec:
    return MediaRec("voice", size, duration=duration)


def audio(
    size: int = 3_000_000, file_name: str = "track.mp3", *, duration: float = 180.0
) -> MediaRec:
    return MediaRec("audio", size, file_name=file_name, duration=duration)


def sticker(size: int = 30_000) -> MediaRec:
    return MediaRec("sticker", size, width=512, height=512)


def gif(size: int = 500_000, file_name: str | None = None) -> MediaRec:
    return MediaRec("gif", size, file_name=file_name, duration=2.0)


def round_video(size: int = 800_000, *, duration: float = 8.0) -> MediaRec:
    return MediaRec("round", size, duration=duration, width=384, height=384)


__all__ = [
    "DEFAULT_DC",
    "MUTATING_REQUESTS",
    "PAID",
    "DialogEntry",
    "FakeClock",
    "FakeTelegram",
    "audio",
    "document",
    "gif",
    "marked_channel",
    "marked_group",
    "normalise_phone",
    "photo",
    "round_video",
    "sticker",
    "video",
    "voice",
]
