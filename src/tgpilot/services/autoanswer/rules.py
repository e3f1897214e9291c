"""Which incoming messages the auto-responder may answer at all (spec ai.md §4.8).

Never answered: outgoing messages; messages older than the handler's start or
``max_age_s``; blank text; media without text (a voice, audio or round-video message
is answered when voice replies are available: ``voice`` on and a speech provider
configured); service messages;
bots, channels, the Telegram service account (777000) and the account itself; chats
and senders the allow/deny lists exclude (deny wins); group messages when
``private_only`` is on, and otherwise group messages that do not mention the account.
These rules need no store and no clock beyond "now"; the cooldown, caps and working
hours are checked when a burst is answered (:mod:`.ledger`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tgpilot.core.config.settings import AutoanswerSettings, ChatAlias
from tgpilot.gateways.telegram.account_feed import AccountUpdate
from tgpilot.models import Chat, ChatType, Message
from tgpilot.store.transcripts import SPOKEN_MEDIA

SERVICE_ACCOUNT_ID = 777000
"""Telegram's own notifications account."""

PRIVATE = (ChatType.USER,)
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)


@dataclass(frozen=True)
class PeerMatcher:
    """A set of chats/users named by id (any form) or username."""

    ids: frozenset[int]
    usernames: frozenset[str]

    @classmethod
    def parse(cls, entries: Iterable[str], aliases: Mapping[str, ChatAlias]) -> PeerMatcher:
        """Entries are ids (marked or raw), ``@username``/``username`` or alias names."""
        ids: set[int] = set()
        names: set[str] = set()
        for raw in entries:
            entry = raw.strip()
            alias = aliases.get(entry.lower())
            if alias is not None:
                if alias.id is not None:
                    ids.update(_id_forms(alias.id))
                if alias.username:
                    names.add(alias.username.lstrip("@").lower())
                continue
            try:
                ids.update(_id_forms(int(entry)))
            except ValueError:
                names.add(entry.lstrip("@").lower())
        return cls(frozenset(ids), frozenset(names))

    def __bool__(self) -> bool:
        return bool(self.ids or self.usernames)

    def matches(self, chat: Chat, message: Message) -> bool:
        """True if the chat or the sender is named."""
        sender = message.sender
        candidates_ids = {chat.id, chat.raw_id}
        names = {chat.username.lower()} if chat.username else set()
        if sender is not None:
            if sender.id is not None:
                candidates_ids.add(sender.id)
            if sender.username:
                names.add(sender.username.lower())
        return bool(candidates_ids & self.ids or names & self.usernames)


def _id_forms(value: int) -> set[int]:
    """A marked or raw id as every form it can be compared in (raw ids are ambiguous
    between users and chats, so a raw id matches the raw id of a group or channel)."""
    forms = {value}
    text = str(abs(value))
    if value < 0 and text.startswith("100") and len(text) > 10:
        forms.add(int(text[3:]))
    elif value < 0:
        forms.add(-value)
    return forms


@dataclass(frozen=True)
class Audience:
    """Who may be answered: the static rules of the module docstring."""

    settings: AutoanswerSettings
    allow: PeerMatcher
    deny: PeerMatcher
    me_id: int
    voice: bool = False
    """Voice replies are available (``voice`` on and a transcriber)."""

    @classmethod
    def from_settings(
        cls,
        settings: AutoanswerSettings,
        aliases: Mapping[str, ChatAlias],
        me_id: int,
        *,
        voice: bool = False,
    ) -> Audience:
        return cls(
            settings,
            PeerMatcher.parse(settings.allow, aliases),
            PeerMatcher.parse(settings.deny, aliases),
            me_id,
            voice,
        )

    def chat_reason(self, chat: Chat, message: Message) -> str | None:
        """Why nothing in this chat (from this sender) is ever answered, or None."""
        if chat.type in (ChatType.BOT, ChatType.CHANNEL):
            return f"{chat.type.value} chat"
        if chat.id in (SERVICE_ACCOUNT_ID, self.me_id):
            return "service account" if chat.id == SERVICE_ACCOUNT_ID else "own chat"
        if chat.type in GROUPS and self.settings.private_only:
            return "group (private_only)"
        if self.deny and self.deny.matches(chat, message):
            return "denied"
        if self.allow and not self.allow.matches(chat, message):
            return "not allowed"
        return None

    def reason(self, update: AccountUpdate, *, started: datetime, now: datetime) -> str | None:
        """Why this incoming message is never answered, or None if it may be."""
        message, chat = update.message, update.chat
        if message.is_outgoing:
            return "outgoing"
        if message.is_service:
            return "service message"
        sender = message.sender
        if sender is not None and (sender.is_bot or sender.id in (SERVICE_ACCOUNT_ID, self.me_id)):
            return "bot" if sender.is_bot else "service account or self"
        found = self.chat_reason(chat, message)
        if found is not None:
            return found
        if chat.type in GROUPS and not update.mentioned:
            return "group message without a mention"
        if message.date < started.replace(microsecond=0):
            return "before the start"
        if now - message.date > timedelta(seconds=self.settings.max_age_s):
            return "too old"
        if not message.text.strip():
            if self.voice and message.media_type in SPOKEN_MEDIA:
                return None
            return "media without text" if message.media_type else "blank"
        return None
