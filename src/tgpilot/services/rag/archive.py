"""Reading the archive for semantic search: which chats, and their messages in order.

A thin read-only view over :class:`~tgpilot.store.Store` (the store's own streaming
reads), so the RAG services need nothing else from it and tests can hand them any
object with these two methods.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol

from tgpilot.models import Chat, Message


class ArchiveReader(Protocol):
    """The archive as the RAG services read it."""

    async def chats(self) -> list[Chat]:
        """Every archived chat."""
        ...

    def messages(self, chat_id: int, *, since: datetime | None = None) -> AsyncIterator[Message]:
        """A chat's messages from ``since`` on, oldest first."""
        ...


class StoreArchive:
    """:class:`ArchiveReader` over the store."""

    def __init__(self, store: StoreReads) -> None:
        self._store = store

    async def chats(self) -> list[Chat]:
        return await self._store.known_chats()

    async def messages(
        self, chat_id: int, *, since: datetime | None = None
    ) -> AsyncIterator[Message]:
        async for message in self._store.iter_messages(chat_id, since=since, newest_first=False):
            yield message


class StoreReads(Protocol):
    """The two store reads used here (:class:`tgpilot.store.Store` has them)."""

    async def known_chats(self) -> list[Chat]: ...

    def iter_messages(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> AsyncIterator[Message]: ...
