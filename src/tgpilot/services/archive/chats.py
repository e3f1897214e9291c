"""Resolving CHAT arguments against the archive, with no session and no network.

The offline twin of the gateway's resolver (spec telegram-cli §2) for ``--archive``
commands: aliases (their id, username or link), ``t.me`` links, ``@username`` and raw
or marked ids are looked up among the chats the store knows; ``--title-contains`` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tgpilot.core.config import ChatAlias
from tgpilot.core.errors import AmbiguousChat, ChatCandidate, ChatNotFound, ConfigError
from tgpilot.gateways.telegram.links import (
    candidates_for,
    parse_int,
    parse_link,
    parse_username,
)
from tgpilot.models import CHANNEL_ID_OFFSET, Chat


class ArchiveChatResolver:
    """Finds chats among those stored in the archive."""

    def __init__(self, chats: Sequence[Chat], aliases: Mapping[str, ChatAlias]) -> None:
        self._chats = list(chats)
        self._aliases = dict(aliases)

    def resolve(self, text: str | None, *, title_contains: str | None = None) -> Chat:
        """The one archived chat ``text`` (or ``title_contains``) names."""
        if title_contains is not None:
            return self._by_title(title_contains)
        stripped = (text or "").strip()
        alias = self._aliases.get(stripped)
        target = stripped
        if alias is not None:
            target = str(alias.id) if alias.id is not None else (alias.username or alias.link or "")
        found = self._lookup(target)
        if len(found) > 1:
            raise AmbiguousChat(
                stripped,
                [ChatCandidate(c.title, c.id, c.type.value) for c in found],
                hint="pass the marked id",
            )
        if not found:
            raise ChatNotFound(
                stripped,
                "no archived chat matches it (run `tgpilot archive sync` or `tgpilot import`)",
            )
        chat = found[0]
        if alias is not None and alias.type is not None and not chat.type.satisfies(alias.type):
            raise ConfigError(
                f"chats.{stripped}: declared type {alias.type.value}, "
                f"but {chat.title} is a {chat.type.value}"
            )
        return chat

    def _lookup(self, text: str) -> list[Chat]:
        link = parse_link(text)
        if link is not None and link.username:
            return self._by_username(link.username)
        if link is not None and link.channel_raw_id is not None:
            return self._by_ids([-(CHANNEL_ID_OFFSET + link.channel_raw_id)])
        username = parse_username(text)
        if username is not None:
            return self._by_username(username)
        number = parse_int(text)
        if number is not None:
            return self._by_ids(candidates_for(number))
        return []

    def _by_username(self, username: str) -> list[Chat]:
        wanted = username.casefold()
        return [c for c in self._chats if c.username and c.username.casefold() == wanted]

    def _by_ids(self, ids: list[int]) -> list[Chat]:
        return [c for c in self._chats if c.id in ids]

    def _by_title(self, fragment: str) -> Chat:
        needle = fragment.casefold().strip()
        matches = [c for c in self._chats if needle and needle in c.title.casefold()]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ChatNotFound(fragment, "no archived chat title contains it")
        raise AmbiguousChat(fragment, [ChatCandidate(c.title, c.id, c.type.value) for c in matches])
