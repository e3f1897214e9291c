"""The archive as a message source: the same newest-first stream the live gateway gives.

Export, stats and search take a ``MessageSource``; this one reads the store, so
``--archive`` commands need no session, no lock and no network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from tgpilot.models import Chat, Message
from tgpilot.store import Store


class ArchiveSource:
    """Messages of archived chats, newest first."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @property
    def store(self) -> Store:
        """The store read (for lean reads such as :mod:`tgpilot.store.activity`)."""
        return self._store

    async def history(
        self,
        chat: Chat,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Message]:
        """Stored messages of ``chat`` in [since, until), newest first, at most ``limit``."""
        async for message in self._store.iter_messages(
            chat.id, since=since, until=until, limit=limit or None, newest_first=True
        ):
            yield message
