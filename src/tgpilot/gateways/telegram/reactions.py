"""Reactions: which ones a chat accepts, and setting the account's own (spec §4.1).

A chat allows ``all`` reactions, ``some`` (its own list) or ``none``; "all" means the
server's list (``messages.getAvailableReactions``), kept for 24 h in a small JSON file
(``{fetched_at, hash, emoji}``) so a run of commands asks once a day. A stale entry is
refreshed with its hash, so an unchanged list costs a ``NotModified`` answer only.
Sending sets the account's reactions on a message to exactly the list given
(``messages.sendReaction`` replaces; an empty list removes them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from telethon.tl import functions, types

from tgpilot.core.clock import Clock
from tgpilot.core.output import atomic_write, iso_time
from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.models import AllowedReactions, Chat, ChatType

SERVER_LIST_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class ServerReactions:
    """The server's reaction list as fetched: when, its hash, the emoji (server spelling)."""

    fetched_at: datetime
    hash: int
    emoji: tuple[str, ...]


class ServerReactionsCache:
    """The server's reaction list: in memory, in ``path`` (if given) for 24 h, else asked."""

    def __init__(self, path: Path | None, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self._entry: ServerReactions | None = None

    async def emoji(self, client: PolicyClient) -> tuple[str, ...]:
        """The reactions "all" stands for (active ones, in the server's order)."""
        now = self.clock.now()
        cached = self._entry or self._load()
        if cached is not None and timedelta(0) <= now - cached.fetched_at < SERVER_LIST_TTL:
            self._entry = cached
            return cached.emoji
        answer = await client(
            functions.messages.GetAvailableReactionsRequest(hash=cached.hash if cached else 0)
        )
        if cached is not None and isinstance(answer, types.messages.AvailableReactionsNotModified):
            fresh = replace(cached, fetched_at=now)
        else:
            fresh = ServerReactions(
                fetched_at=now,
                hash=answer.hash,
                emoji=tuple(r.reaction for r in answer.reactions if not r.inactive),
            )
        self._entry = fresh
        self._save(fresh)
        return fresh.emoji

    def _load(self) -> ServerReactions | None:
        if self.path is None:
            return None
        try:
            raw = orjson.loads(self.path.read_bytes())
            return ServerReactions(
                fetched_at=datetime.fromisoformat(raw["fetched_at"]),
                hash=int(raw["hash"]),
                emoji=tuple(str(e) for e in raw["emoji"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or unreadable: fetch again and rewrite it

    def _save(self, entry: ServerReactions) -> None:
        if self.path is None:
            return
        document = {
            "fetched_at": iso_time(entry.fetched_at),
            "hash": entry.hash,
            "emoji": list(entry.emoji),
        }
        with contextlib.suppress(OSError), atomic_write(self.path, mode=0o600) as handle:
            handle.write(orjson.dumps(document).decode())


async def allowed_reactions(
    client: PolicyClient, chat: Chat, server: ServerReactionsCache
) -> AllowedReactions:
    """The reactions ``chat`` accepts. Private chats accept all; groups, supergroups and
    channels say so in their full info (one request). A chat that states nothing allows
    none."""
    setting: Any
    if chat.type in (ChatType.USER, ChatType.BOT):
        setting = types.ChatReactionsAll(allow_custom=False)
    elif chat.type is ChatType.GROUP:
        full = await client(functions.messages.GetFullChatRequest(chat_id=chat.raw_id))
        setting = full.full_chat.available_reactions
    else:
        peer = await client.get_input_entity(chat.id)
        full = await client(functions.channels.GetFullChannelRequest(channel=peer))
        setting = full.full_chat.available_reactions
    if isinstance(setting, types.ChatReactionsAll):
        return AllowedReactions(
            "all", await server.emoji(client), allow_custom=bool(setting.allow_custom)
        )
    if isinstance(setting, types.ChatReactionsSome):
        emoji = tuple(r.emoticon for r in setting.reactions if isinstance(r, types.ReactionEmoji))
        return AllowedReactions("some", emoji)
    return AllowedReactions("none")


async def send_reaction(
    client: PolicyClient, chat: Chat, message_id: int, emoji: Sequence[str], *, big: bool
) -> None:
    """Make ``emoji`` (server spelling) exactly the account's reactions on a message."""
    peer = await client.get_input_entity(chat.id)
    await client(
        functions.messages.SendReactionRequest(
            peer=peer,
            msg_id=message_id,
            big=big,
            reaction=[types.ReactionEmoji(emoticon=e) for e in emoji],
        )
    )
