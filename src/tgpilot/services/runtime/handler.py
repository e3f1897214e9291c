"""The interfaces of ``tgpilot run``'s tenants: message handlers and background services.

A :class:`MessageHandler` is given every new (and edited) message it :meth:`wants`, in
order per chat, on its own queue (one slow or failing handler never holds up another).
It names the chats it follows (:meth:`~MessageHandler.scope`): a fixed set (a
moderated chat, an exported chat) or ``None`` for "any chat" (the auto-responder, a
command listener). After each reconnect and at start the host reads the messages above
the handler's cursor in those chats, so nothing is missed; the dispatcher drops what
it has already delivered, so nothing is repeated.

By default the dispatcher moves the handler's cursor after :meth:`handle` returns
(success or failure: a message that crashes a handler is not retried forever). A
handler that finishes its work later — the auto-responder answers a burst after the
debounce window — sets ``manages_cursor`` and moves it itself through
:class:`~tgpilot.services.runtime.cursors.CursorBook`, only once the work is owned
by the store.

A :class:`BackgroundService` is a task that runs as long as the host (polling the
store for approved drafts; later an MCP server using the same gateway).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from tgpilot.gateways.telegram.account_feed import AccountUpdate
from tgpilot.models import Chat
from tgpilot.services.runtime.cursors import CursorBook


@dataclass(frozen=True)
class Delivery:
    """One update as a handler receives it."""

    update: AccountUpdate
    received_at: float
    """The host's monotonic clock when the update reached it (latency metrics)."""
    caught_up: bool = False
    """Read from history after a (re)connect rather than pushed."""


class MessageHandler(Protocol):
    """A tenant that reacts to messages (see the module docstring)."""

    @property
    def name(self) -> str:
        """Short, stable name: metrics label, cursor key, log prefix."""
        ...

    @property
    def manages_cursor(self) -> bool:
        """True if the handler moves its own cursor (else the dispatcher does)."""
        ...

    async def start(self, cursors: CursorBook) -> None:
        """Prepare (resolve chats, check rights, recover unfinished work)."""
        ...

    def scope(self) -> Mapping[int, Chat] | None:
        """The chats followed (``None``: every chat)."""
        ...

    def catch_up_since(self) -> datetime | None:
        """Older messages are never wanted after a reconnect (``None``: no bound)."""
        ...

    def wants(self, update: AccountUpdate) -> bool:
        """A cheap filter run by the dispatcher before queueing."""
        ...

    async def handle(self, delivery: Delivery) -> None:
        """React to one message; exceptions are logged and counted by the dispatcher."""
        ...

    async def stop(self, timeout: float) -> None:
        """Finish work in flight within ``timeout`` seconds, then give up on the rest."""
        ...


class BackgroundService(Protocol):
    """A task hosted for the life of the process."""

    @property
    def name(self) -> str: ...

    async def run(self) -> None:
        """Work until cancelled; an exception is logged and the service restarted."""
        ...


@runtime_checkable
class CountsOwnFailures(Protocol):
    """A handler whose work goes on beyond :meth:`MessageHandler.handle` (the
    auto-responder's per-chat lanes) and counts the failures there itself."""

    failures: int
