"""The Telegram gateway: what services may ask of the account, in domain objects.

Opened by :func:`tgpilot.gateways.telegram.session.open_session` (lock, server check,
connect, authorisation); services receive a :class:`TelegramGateway` and never see
Telethon. Each method translates Telethon errors into tgpilot's typed errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from tgpilot.gateways.telegram import (
    dialogs,
    history,
    login,
    message_lookup,
    moderation,
    reactions,
    users,
)
from tgpilot.gateways.telegram.chat_profile import ChatProfile, chat_profile
from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import account_from_user, message_from_telethon
from tgpilot.gateways.telegram.errors import telegram_errors
from tgpilot.gateways.telegram.events import NewMessages
from tgpilot.gateways.telegram.flood import FloodPolicy
from tgpilot.gateways.telegram.login import LoginPrompts
from tgpilot.gateways.telegram.media import MediaDownloader
from tgpilot.gateways.telegram.participants import MemberSearch, search_participants
from tgpilot.gateways.telegram.resolve import AliasTarget, ChatDirectory, ChatResolver
from tgpilot.gateways.telegram.runtime_ops import RuntimeOperations
from tgpilot.gateways.telegram.sent_ledger import SentLedger
from tgpilot.models import Account, AllowedReactions, Chat, ChatRights, Dialog, Message


class TelegramGateway(RuntimeOperations):
    """One connected, authorised account session."""

    def __init__(
        self,
        client: PolicyClient,
        *,
        session_path: Path,
        aliases: Mapping[str, AliasTarget] | None = None,
        directory: ChatDirectory | None = None,
        reactions_cache: Path | None = None,
    ) -> None:
        """``reactions_cache``: the JSON file keeping the server's reaction list for 24 h
        (None: asked once per session)."""
        self.client = client
        self.session_path = session_path
        self.resolver = ChatResolver(client, aliases or {}, directory)
        self.media = MediaDownloader(client)
        self.sent = SentLedger()
        self.server_reactions = reactions.ServerReactionsCache(
            reactions_cache, client.flood_policy.clock
        )

    @property
    def flood_policy(self) -> FloodPolicy:
        return self.client.flood_policy

    async def me(self) -> Account:
        """The logged-in account."""
        with telegram_errors(str(self.session_path)):
            user = await self.client.get_me()
        return account_from_user(user)

    async def resolve_chat(
        self, text: str | None = None, *, title_contains: str | None = None
    ) -> Chat:
        """The one chat a CHAT argument (or ``--title-contains``) names."""
        with telegram_errors(str(self.session_path)):
            if title_contains is not None:
                return await self.resolver.resolve_title(title_contains)
            return await self.resolver.resolve(text or "")

    async def list_dialogs(
        self,
        scan: int | None,
        *,
        concurrency: int = 8,
        progress: dialogs.ProgressCallback | None = None,
    ) -> list[Dialog]:
        """The newest ``scan`` dialogs (None = all), last-message dates filled in."""
        with telegram_errors(str(self.session_path)):
            rows = [row async for row in dialogs.iter_dialogs(self.client, scan, progress)]
            return await dialogs.fill_missing_dates(self.client, rows, concurrency)

    async def history(
        self,
        chat: Chat,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        min_id: int = 0,
        offset_id: int = 0,
        search: str | None = None,
    ) -> AsyncIterator[Message]:
        """Messages of ``chat`` in [since, until), newest first (below ``offset_id``);
        with ``search``, only those Telegram's in-chat search finds for it."""
        with telegram_errors(str(self.session_path)):
            async for message in history.iter_history(
                self.client,
                chat,
                since=since,
                until=until,
                limit=limit,
                min_id=min_id,
                offset_id=offset_id,
                search=search,
                remember=self.media.remember,
            ):
                yield message

    async def download_media(self, message: Message, path: Path) -> int:
        """Save a message's media file at ``path``; returns the size in bytes."""
        with telegram_errors(str(self.session_path)):
            return await self.media.download(message, path)

    async def send_message(
        self,
        chat: Chat,
        text: str,
        *,
        reply_to: int | None = None,
        silent: bool = False,
        link_preview: bool = True,
    ) -> Message:
        """Send ``text`` to ``chat`` as the account; returns the message Telegram made."""
        with telegram_errors(str(self.session_path)):
            peer = await self.client.get_input_entity(chat.id)
            async with self.sent.sending(chat.id):
                sent = await self.client.send_message(
                    peer,
                    text,
                    reply_to=reply_to,
                    silent=silent,
                    link_preview=link_preview,
                    parse_mode=None,
                )
                self.sent.add(chat.id, sent.id)
        return message_from_telethon(sent, chat)

    async def get_messages(self, chat: Chat, ids: Sequence[int]) -> list[Message | None]:
        """``chat``'s messages with these ids, in the order given (None where missing);
        100 ids per request. The account's own reactions have ``mine`` set."""
        with telegram_errors(str(self.session_path)):
            return await message_lookup.get_messages(
                self.client, chat, ids, remember=self.media.remember
            )

    async def messages_after(self, chat: Chat, message_id: int, limit: int) -> list[Message]:
        """The ``limit`` messages of ``chat`` right after ``message_id``, oldest first."""
        with telegram_errors(str(self.session_path)):
            return await message_lookup.messages_after(self.client, chat, message_id, limit)

    async def allowed_reactions(self, chat: Chat) -> AllowedReactions:
        """The reactions ``chat`` accepts, in the server's spelling ("all" = the server's
        list, cached 24 h); check a wanted one with ``AllowedReactions.require``."""
        with telegram_errors(str(self.session_path)):
            return await reactions.allowed_reactions(self.client, chat, self.server_reactions)

    async def send_reaction(
        self, chat: Chat, message_id: int, emoji: Sequence[str], *, big: bool = False
    ) -> None:
        """Set the account's reactions on a message to exactly ``emoji`` (server
        spelling; empty removes them). A refused one is ``TelegramError``
        (``REACTION_INVALID``, ``MESSAGE_ID_INVALID``, ...)."""
        with telegram_errors(str(self.session_path)):
            await reactions.send_reaction(self.client, chat, message_id, emoji, big=big)

    async def delete_messages(self, chat: Chat, ids: Sequence[int]) -> int:
        """Delete at most 100 messages of ``chat`` for everyone, in one request (more is a
        ``ValueError``: batching, pacing and auditing are the caller's); returns how
        many Telegram deleted."""
        with telegram_errors(str(self.session_path)):
            return await moderation.delete_messages(self.client, chat, ids)

    async def my_rights(self, chat: Chat) -> ChatRights:
        """The account's admin standing in ``chat`` (nothing in private chats)."""
        with telegram_errors(str(self.session_path)):
            return await moderation.my_rights(self.client, chat)

    async def participants(
        self, chat: Chat, search: str, *, limit: int | None = None
    ) -> MemberSearch:
        """Members of ``chat`` Telegram finds for ``search`` (its own, server-side match
        from the start of a word), and the chat's member count."""
        with telegram_errors(str(self.session_path)):
            return await search_participants(self.client, chat, search, limit=limit)

    async def user_about(self, user_id: int) -> str | None:
        """The profile "about" text of a user the session has seen (None: none or unknown)."""
        with telegram_errors(str(self.session_path)):
            return await users.user_about(self.client, user_id)

    async def chat_profile(self, chat: Chat) -> ChatProfile:
        """``chat``'s description (a user's bio) and member count, from its full info."""
        with telegram_errors(str(self.session_path)):
            return await chat_profile(self.client, chat)

    @asynccontextmanager
    async def new_messages(self, chat: Chat) -> AsyncIterator[NewMessages]:
        """New messages of ``chat`` as Telegram pushes them (the session must have been
        opened with updates on)."""
        stream = NewMessages(self.client, chat)
        stream.open()
        try:
            yield stream
        finally:
            stream.close()

    async def reconnect(self) -> None:
        """Connect again after the connection dropped (retried by the flood policy)."""
        with telegram_errors(str(self.session_path)):
            await self.client.ensure_connected()

    async def log_out(self) -> None:
        """End the session on Telegram's side (the caller deletes the file)."""
        with telegram_errors(str(self.session_path)):
            await self.client.log_out()

    async def is_authorized(self) -> bool:
        """True if the session is logged in."""
        with telegram_errors(str(self.session_path)):
            return bool(await self.client.is_user_authorized())

    async def log_in(
        self, prompts: LoginPrompts, *, phone: str | None, password: str | None
    ) -> Account:
        """Run the login dialogue (code, then two-step password if the account has one)."""
        with telegram_errors(str(self.session_path)):
            return await login.log_in(self.client, prompts, phone=phone, password=password)

    def data_center(self) -> str:
        """The data centre the session is connected to, e.g. ``dc 2 (149.154.167.51:443)``."""
        session = self.client.session
        return f"dc {session.dc_id} ({session.server_address}:{session.port})"
