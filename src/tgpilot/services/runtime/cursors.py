"""Each handler's cursor per chat: the newest message id it has handled.

Kept in memory for the dispatcher's duplicate check and written through to the store
(``run_cursors``) so a restart resumes where the last process stopped. Cursors only
move forward.
"""

from __future__ import annotations

from tgpilot.core.clock import Clock
from tgpilot.store.run_state import RunStateRepository


class CursorBook:
    """Cursors of every handler of one ``tgpilot run``."""

    def __init__(self, repository: RunStateRepository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock
        self._cursors: dict[str, dict[int, int]] = {}

    async def load(self, handler: str) -> dict[int, int]:
        """Read ``handler``'s cursors from the store (once per process)."""
        if handler not in self._cursors:
            self._cursors[handler] = await self._repository.cursors(handler)
        return self._cursors[handler]

    def get(self, handler: str, chat_id: int) -> int | None:
        """``handler``'s cursor in ``chat_id`` (None: it has never handled a message there)."""
        return self._cursors.get(handler, {}).get(chat_id)

    def remember(self, handler: str, chat_id: int, last_id: int) -> None:
        """Move the in-memory cursor only (the store was written by the caller, e.g. in
        the transaction that recorded the work)."""
        known = self._cursors.setdefault(handler, {})
        if known.get(chat_id, 0) < last_id:
            known[chat_id] = last_id

    async def mark(self, handler: str, chat_id: int, last_id: int) -> None:
        """Move ``handler``'s cursor in ``chat_id`` to ``last_id`` (never back)."""
        if (self.get(handler, chat_id) or 0) >= last_id:
            return
        await self._repository.advance(handler, chat_id, last_id, self._clock.now())
        self.remember(handler, chat_id, last_id)
