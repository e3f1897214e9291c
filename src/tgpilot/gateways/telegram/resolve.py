"""The single chat resolver: every CHAT argument becomes one :class:`Chat` (spec §2).

Steps, the first applicable deciding: alias (its target resolved by steps 2–4), link,
username, numeric id (raw or marked), and — only when asked explicitly — title.
Numeric ids are looked up in the in-process cache, the chat directory (the dialog
cache; later the store), Telethon's session entity cache, and finally one dialog walk
whose results are remembered, so a second lookup costs no request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from telethon import errors
from telethon.tl import functions, types

from tgpilot.core.errors import AmbiguousChat, ChatCandidate, ChatNotFound, ConfigError
from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import chat_from_entity
from tgpilot.gateways.telegram.dialogs import iter_dialogs
from tgpilot.gateways.telegram.links import (
    candidates_for,
    parse_int,
    parse_link,
    parse_username,
)
from tgpilot.models import CHANNEL_ID_OFFSET, Chat, ChatType


@dataclass(frozen=True)
class AliasTarget:
    """What a ``chats:`` alias in the config points at: exactly one of id/username/link."""

    id: int | None = None
    username: str | None = None
    link: str | None = None
    type: ChatType | None = None

    @property
    def text(self) -> str:
        if self.id is not None:
            return str(self.id)
        return self.username or self.link or ""


class ChatDirectory(Protocol):
    """Chats known without asking Telegram (dialog cache, archive)."""

    def known_chats(self) -> Iterable[Chat]:
        """Every chat the directory knows."""
        ...


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute), for alias suggestions."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


class ChatResolver:
    """Resolves CHAT arguments for one connected client; remembers what it learned."""

    def __init__(
        self,
        client: PolicyClient,
        aliases: Mapping[str, AliasTarget],
        directory: ChatDirectory | None = None,
    ) -> None:
        self._client = client
        self._aliases = dict(aliases)
        self._directory = directory
        self._by_id: dict[int, Chat] = {}
        self._walked: list[Chat] | None = None
        self.dialog_walks = 0

    async def resolve(self, text: str) -> Chat:
        """The chat a CHAT argument names (steps 1–4 of spec §2)."""
        stripped = text.strip()
        if stripped in self._aliases:
            return await self._resolve_alias(stripped, self._aliases[stripped])
        chat = await self._resolve_target(stripped)
        if chat is None:
            raise ChatNotFound(
                text,
                "not an alias, link, username or id",
                await self._suggestions(stripped),
            )
        return chat

    async def resolve_title(self, fragment: str) -> Chat:
        """The one dialog whose title (or full name) contains ``fragment``, case-folded."""
        needle = fragment.casefold().strip()
        if not needle:
            raise ChatNotFound(fragment, "an empty --title-contains matches nothing")
        matches = [c for c in await self._walk() if needle in c.title.casefold()]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ChatNotFound(fragment, "no dialog title contains it")
        raise AmbiguousChat(
            fragment,
            [ChatCandidate(c.title, c.id, c.type.value) for c in matches],
            hint="make --title-contains longer, or pass the id",
        )

    async def _resolve_alias(self, name: str, target: AliasTarget) -> Chat:
        chat = await self._resolve_target(target.text)
        if chat is None:
            raise ChatNotFound(
                name, f"alias {name!r} points at {target.text!r}, which is not found"
            )
        if target.type is not None and not chat.type.satisfies(target.type):
            raise ConfigError(
                f"chats.{name}: declared type {target.type.value}, "
                f"but {chat.title} is a {chat.type.value}"
            )
        return chat

    async def _resolve_target(self, text: str) -> Chat | None:
        link = parse_link(text)
        if link is not None:
            if link.username:
                return await self._by_username(link.username)
            if link.channel_raw_id is not None:
                return await self._by_number(-(CHANNEL_ID_OFFSET + link.channel_raw_id), text)
            if link.invite_hash:
                return await self._by_invite(link.invite_hash, text)
        username = parse_username(text)
        if username is not None:
            return await self._by_username(username)
        number = parse_int(text)
        if number is not None:
            return await self._by_number(number, text)
        return None

    async def _by_username(self, username: str) -> Chat | None:
        try:
            entity = await self._client.get_entity(username)
        except (ValueError, errors.UsernameNotOccupiedError, errors.UsernameInvalidError):
            return None
        return self._remember(chat_from_entity(entity))

    async def _by_invite(self, invite_hash: str, text: str) -> Chat | None:
        try:
            invite = await self._client(functions.messages.CheckChatInviteRequest(invite_hash))
        except (errors.InviteHashExpiredError, errors.InviteHashInvalidError):
            raise ChatNotFound(text, "the invite link is expired or invalid") from None
        if isinstance(invite, types.ChatInviteAlready | types.ChatInvitePeek):
            return self._remember(chat_from_entity(invite.chat))
        raise ChatNotFound(text, "the account is not a member (tgpilot never joins chats)")

    async def _by_number(self, number: int, text: str) -> Chat | None:
        wanted = candidates_for(number)
        found = self._known(wanted)
        if not found:
            found = await self._from_session(wanted)
        if not found:
            walked = await self._walk()
            found = [c for c in walked if c.id in wanted]
        if len(found) > 1:
            raise AmbiguousChat(
                text,
                [ChatCandidate(c.title, c.id, c.type.value) for c in found],
                hint="pass the marked id (" + ", ".join(str(c.id) for c in found) + ")",
            )
        return found[0] if found else None

    def _known(self, wanted: list[int]) -> list[Chat]:
        found = {cid: self._by_id[cid] for cid in wanted if cid in self._by_id}
        if self._directory is not None and len(found) < len(wanted):
            for chat in self._directory.known_chats():
                if chat.id in wanted:
                    found.setdefault(chat.id, chat)
        return [found[cid] for cid in wanted if cid in found]

    async def _from_session(self, wanted: list[int]) -> list[Chat]:
        session: Any = self._client.session
        peers = []
        for marked in wanted:
            row = session.get_entity_rows_by_id(marked, exact=True)
            if row:
                peers.append(session.get_input_entity(marked))
        chats = []
        for peer in peers:
            try:
                entity = await self._client.get_entity(peer)
            except (ValueError, errors.RPCError):
                continue
            chats.append(self._remember(chat_from_entity(entity)))
        return chats

    async def _walk(self) -> list[Chat]:
        if self._walked is None:
            self.dialog_walks += 1
            self._walked = [
                self._remember(d.chat) async for d, _peer in iter_dialogs(self._client, None)
            ]
        return self._walked

    def _remember(self, chat: Chat) -> Chat:
        self._by_id[chat.id] = chat
        return chat

    async def _suggestions(self, text: str) -> list[ChatCandidate]:
        folded = text.casefold()
        out: list[ChatCandidate] = []
        for name, target in self._aliases.items():
            if edit_distance(folded, name.casefold()) <= 2:
                kind = target.type.value if target.type else "alias"
                out.append(ChatCandidate(name, target.id, kind))
        known = list(self._by_id.values())
        if self._directory is not None:
            known.extend(self._directory.known_chats())
        seen: set[int] = set()
        for chat in known:
            if folded and folded in chat.title.casefold() and chat.id not in seen:
                seen.add(chat.id)
                out.append(ChatCandidate(chat.title, chat.id, chat.type.value))
        return out[:5]
