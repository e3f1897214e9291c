"""The Telegram session behind the MCP tools (spec §6 "Session").

Tools ask a :class:`SessionProvider` for the gateway with ``async with
provider.gateway() as gateway``. Two providers exist:

- :class:`LazySession` (``tgpilot mcp serve``): start-up touches no Telegram. The first
  call that needs it opens the session — the shared lock (waiting
  ``session.lock_wait``, then ``SessionBusy`` naming the holder), the connection, the
  authorisation check — and keeps that one client for every later call. Once
  ``mcp.idle_release`` seconds pass with no call in flight, it disconnects and releases
  the lock, so a CLI command or ``tgpilot run`` can take the account; the next call
  takes it again.
- :class:`SharedSession` (inside ``tgpilot run``): the host's already-connected
  gateway; ``run`` holds the lock for its whole life, so nothing is taken here.

Archive-only tools never ask for a gateway, so they work with no session file at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Protocol

from tgpilot.core.clock import Clock
from tgpilot.core.errors import SessionBusy

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway

log = logging.getLogger("tgpilot.mcp")

GatewayOpener = Callable[[], AbstractAsyncContextManager["TelegramGateway"]]
"""Opens the account session (lock, connect, authorise) for as long as the block runs."""


class SessionProvider(Protocol):
    """Where the tools get the connected account from."""

    def gateway(self) -> AbstractAsyncContextManager[TelegramGateway]:
        """The connected gateway for the length of one tool call."""
        ...

    async def close(self) -> None:
        """Let the session go (server shutdown)."""
        ...


class LazySession:
    """The session opened on first use and released after ``idle_release`` idle seconds."""

    def __init__(
        self,
        opener: GatewayOpener,
        idle_release: float,
        clock: Clock,
        waited: Callable[[float], None] | None = None,
    ) -> None:
        """``waited(seconds)`` hears how long each opening took to take the session
        (lock and connection), or to give up on a busy lock."""
        self._opener = opener
        self._waited = waited
        self._idle_release = idle_release
        self._clock = clock
        self._stack: AsyncExitStack | None = None
        self._gateway: TelegramGateway | None = None
        self._opening = asyncio.Lock()
        self._in_flight = 0
        self._last_used = 0.0
        self._watcher: asyncio.Task[None] | None = None

    @property
    def is_open(self) -> bool:
        """Whether the session (and so the lock) is held now."""
        return self._gateway is not None

    @asynccontextmanager
    async def gateway(self) -> AsyncIterator[TelegramGateway]:
        self._in_flight += 1
        try:
            yield await self._open()
        finally:
            self._in_flight -= 1
            self._last_used = self._clock.monotonic()

    async def _open(self) -> TelegramGateway:
        async with self._opening:
            if self._gateway is not None:
                return self._gateway
            stack = AsyncExitStack()
            started = self._clock.monotonic()
            try:
                gateway = await stack.enter_async_context(self._opener())
            except BaseException as exc:
                await stack.aclose()
                if isinstance(exc, SessionBusy):
                    self._report_wait(started)
                raise
            self._report_wait(started)
            self._stack, self._gateway = stack, gateway
            self._last_used = self._clock.monotonic()
            self._watcher = asyncio.create_task(self._release_when_idle())
            log.info("session opened (released after %.0f s idle)", self._idle_release)
            return gateway

    def _report_wait(self, started: float) -> None:
        if self._waited is not None:
            self._waited(self._clock.monotonic() - started)

    async def _release_when_idle(self) -> None:
        while True:
            idle_for = self._clock.monotonic() - self._last_used
            if self._in_flight or idle_for < self._idle_release:
                await self._clock.sleep(max(self._idle_release - idle_for, 0.05))
                continue
            async with self._opening:
                idle_for = self._clock.monotonic() - self._last_used
                if self._in_flight == 0 and idle_for >= self._idle_release:
                    self._watcher = None
                    try:
                        await self._shut()
                    except Exception:
                        log.exception("releasing the idle session failed")
                    else:
                        log.info("session released after %.0f s idle", self._idle_release)
                    return

    async def _shut(self) -> None:
        stack, self._stack, self._gateway = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def close(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await self._shut()


class SharedSession:
    """The gateway ``tgpilot run`` already holds (its lock, its connection)."""

    def __init__(self, gateway: TelegramGateway) -> None:
        self._gateway = gateway

    @asynccontextmanager
    async def gateway(self) -> AsyncIterator[TelegramGateway]:
        yield self._gateway

    async def close(self) -> None:
        """Nothing to release: the host owns the session."""
