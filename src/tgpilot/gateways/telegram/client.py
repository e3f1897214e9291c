"""Building the Telethon client: one factory, the only place a ``TelegramClient`` is made.

The factory is a seam: services and the CLI receive a ``ClientFactory``; production
uses :func:`create_client`, tests wrap it to put the fake Telegram beneath Telethon's
request layer (``tests/fakes/telegram``). The client class routes every request through
the gateway's :class:`~tgpilot.gateways.telegram.flood.FloodPolicy`, so Telethon's
high-level iterators retry the very request that hit a flood wait.
"""

from __future__ import annotations

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

    async def _call(
        self,
        sender: Any,
        request: Any,
        ordered: bool = False,
        flood_sleep_threshold: int | None = None,
    ) -> Any:
        parent_call = super()._call

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
        if not self.is_connected():
            await self.connect()


ClientFactory = Callable[[ClientSpec], TelegramClient]


def create_client(spec: ClientSpec) -> PolicyClient:
    """A Telethon client with tgpilot's policies: no auto-sleep on floods, no catch-up.

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
