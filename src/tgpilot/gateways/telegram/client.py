"""Building the Telethon client: one factory, the only place a ``TelegramClient`` is made.

The factory is a seam: services and the CLI receive a ``ClientFactory``; production
uses :func:`create_client`, tests wrap it to put the fake Telegram beneath Telethon's
request layer (``tests/fakes/telegram``). The client class routes every request through
the gateway's :class:`~tgpilot.gateways.telegram.flood.FloodPolicy`, so Telethon's
high-level iterators retry the very request that hit a flood wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telethon import TelegramClient

from tgpilot import __version__
from tgpilot.gateways.telegram.flood import FloodPolicy


@dataclass(frozen=True)
class ServerSpec:
    """A non-default Telegram data centre (test servers, staging)."""

    dc_id: int
    address: str
    port: int = 443
    rsa_key_pem: str | None = None


@dataclass(frozen=True)
class ClientSpec:
    """Everything needed to build a client for one account session."""

    session_path: Path
    api_id: int
    api_hash: str
    server: ServerSpec | None = None
    receive_updates: bool = False


class PolicyClient(TelegramClient):  # type: ignore[misc]
    """A Telethon client whose every request obeys tgpilot's flood-wait policy."""

    flood_policy: FloodPolicy
    _connect_guard: asyncio.Lock | None = None

    async def _call(
        self,
        sender: Any,
        request: Any,
        ordered: bool = False,
        flood_sleep_threshold: int | None = None,
    ) -> Any:
        parent_call = super()._call
        if self._in_own_loop():
            # Telethon's update and keep-alive loops handle floods and lost connections
            # themselves (a getDifference that fails waits and retries, or ends with the
            # connection): our policy's reconnect must not run inside them.
            return await parent_call(sender, request, ordered, flood_sleep_threshold)

        async def send() -> Any:
            try:
                return await parent_call(sender, request, ordered, flood_sleep_threshold)
            except BaseException:
                # We wait out floods ourselves (possibly on a fake clock): forget
                # Telethon's own record so the retry is really sent.
                self._flood_waited_requests.clear()
                raise

        return await self.flood_policy.run(send, request, self._reconnect)

    async def _reconnect(self) -> None:
        """Bring a dropped connection back before a request is retried."""
        await self.ensure_connected()

    async def ensure_connected(self) -> None:
        """Connect again if the connection dropped. Concurrent callers (a request being
        retried, the update feed) share one attempt: two ``connect()`` calls racing
        would start two update loops."""
        if self._connect_guard is None:
            self._connect_guard = asyncio.Lock()
        async with self._connect_guard:
            if not self.is_connected():
                await self._end_own_loops()
                await self.connect()

    def _own_loops(self) -> list[asyncio.Task[Any]]:
        """Telethon's update and keep-alive tasks of the last connection."""
        names = ("_updates_handle", "_keepalive_handle")
        return [t for t in (getattr(self, n, None) for n in names) if isinstance(t, asyncio.Task)]

    def _in_own_loop(self) -> bool:
        return asyncio.current_task() in self._own_loops()

    async def _end_own_loops(self) -> None:
        """Stop the previous connection's loops before connecting again: a loop still
        waiting out a failed request would otherwise go on beside the new one (two
        loops applying one update state is fatal to both)."""
        current = asyncio.current_task()
        for task in self._own_loops():
            if task is not current and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


ClientFactory = Callable[[ClientSpec], TelegramClient]


def create_client(spec: ClientSpec) -> PolicyClient:
    """A Telethon client with tgpilot's policies: no auto-sleep on floods, no catch-up.

    Pushed updates are handed to event handlers one at a time, in the order Telegram
    sent them (``sequential_updates``), so followers see each chat's messages in order.
    Telethon's own flood sleeping is off (``flood_sleep_threshold=0``): the gateway's
    single flood-wait policy decides (spec telegram-cli §1.5). Callers replace
    ``flood_policy`` with one carrying the command's clock, threshold and notices.
    """
    client = PolicyClient(
        str(spec.session_path),
        spec.api_id,
        spec.api_hash,
        flood_sleep_threshold=0,
        receive_updates=spec.receive_updates,
        sequential_updates=spec.receive_updates,
        catch_up=False,
        request_retries=3,
        raise_last_call_error=True,
        connection_retries=3,
        retry_delay=1,
        device_model="tgpilot",
        app_version=__version__,
        system_version="tgpilot",
        lang_code="en",
        system_lang_code="en",
    )
    client.flood_policy = FloodPolicy()
    return client
