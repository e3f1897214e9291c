"""What the long-running handlers of ``tgpilot run`` ask of the account, beyond commands.

A mixin of :class:`~tgpilot.gateways.telegram.gateway.TelegramGateway`: the account-wide
update feed and the catch-up reads behind it, editing a message (for streamed replies;
an unchanged text is not an error), the typing indicator, and notes to Saved Messages.
Like every gateway method, each translates Telethon errors into tgpilot's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from datetime import datetime
from pathlib import Path

from telethon import errors
from telethon.tl import functions, types

from tgpilot.gateways.telegram.account_feed import (
    AccountFeed,
    AccountUpdate,
    missed_updates,
    recent_dialog_tops,
)
from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import chat_from_entity, message_from_telethon
from tgpilot.gateways.telegram.errors import telegram_errors
from tgpilot.gateways.telegram.flood import flood_waits_raise
from tgpilot.gateways.telegram.sent_ledger import SentLedger
from tgpilot.models import Chat, Message


class RuntimeOperations:
    """Gateway methods for ``tgpilot run`` (see the module docstring)."""

    client: PolicyClient
    session_path: Path
    sent: SentLedger

    @asynccontextmanager
    async def account_feed(self) -> AsyncIterator[AccountFeed]:
        """New and edited messages of every chat as Telegram pushes them (the session
        must have been opened with updates on)."""
        feed = AccountFeed(self.client)
        feed.open()
        try:
            yield feed
        finally:
            feed.close()

    async def recent_dialogs(self, limit: int) -> list[tuple[Chat, int, datetime | None]]:
        """The newest ``limit`` dialogs with the id and date of their top messages."""
        with telegram_errors(str(self.session_path)):
            return await recent_dialog_tops(self.client, limit)

    async def missed_updates(
        self, chat: Chat, *, min_id: int, limit: int, since: datetime | None = None
    ) -> list[AccountUpdate]:
        """``chat``'s messages above ``min_id`` (from ``since`` on), oldest first."""
        with telegram_errors(str(self.session_path)):
            return await missed_updates(self.client, chat, min_id=min_id, limit=limit, since=since)

    async def edit_message(
        self, chat: Chat, message_id: int, text: str, *, wait_on_flood: bool = True
    ) -> None:
        """Replace the text of one of the account's messages. Without ``wait_on_flood`` a
        flood wait raises ``FloodWaitTooLong`` at once instead of being sat out."""
        waits = nullcontext() if wait_on_flood else flood_waits_raise()
        with telegram_errors(str(self.session_path)), waits:
            peer = await self.client.get_input_entity(chat.id)
            # an unchanged text: a retried edit that had already gone through
            with contextlib.suppress(errors.MessageNotModifiedError):
                await self.client.edit_message(
                    peer, message_id, text, parse_mode=None, link_preview=False
                )

    async def show_typing(self, chat: Chat) -> None:
        """Show "typing…" in ``chat`` (Telegram clears it after a few seconds)."""
        with telegram_errors(str(self.session_path)):
            peer = await self.client.get_input_entity(chat.id)
            await self.client(
                functions.messages.SetTypingRequest(peer, types.SendMessageTypingAction())
            )

    async def note_to_self(self, text: str) -> Message:
        """Post ``text`` to the account's Saved Messages; returns the message."""
        with telegram_errors(str(self.session_path)):
            me = await self.client.get_me()
            chat = chat_from_entity(me)
            async with self.sent.sending(chat.id):
                sent = await self.client.send_message(
                    types.InputPeerSelf(), text, parse_mode=None, link_preview=False
                )
                self.sent.add(chat.id, sent.id)
        return message_from_telethon(sent, chat)
