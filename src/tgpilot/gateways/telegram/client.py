"""Building the Telethon client: one factory, the only place a ``TelegramClient`` is made.

The factory is a seam: services and the CLI receive a ``ClientFactory``; production
uses :func:`create_client`, tests wrap it to put the fake Telegram beneath Telethon's
request layer (``tests/fakes/telegram``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from telethon import TelegramClient

from tgpilot import __version__


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


ClientFactory = Callable[[ClientSpec], TelegramClient]


def create_client(spec: ClientSpec) -> TelegramClient:
    """A Telethon client with tgpilot's policies: no auto-sleep on floods, no catch-up.

    Telethon's own flood sleeping is off (``flood_sleep_threshold=0``): the gateway's
    single flood-wait policy decides (spec telegram-cli §1.5).
    """
    return TelegramClient(
        str(spec.session_path),
        spec.api_id,
        spec.api_hash,
        flood_sleep_threshold=0,
        receive_updates=spec.receive_updates,
        catch_up=False,
        request_retries=3,
        connection_retries=3,
        retry_delay=1,
        device_model="tgpilot",
        app_version=__version__,
        system_version="tgpilot",
        lang_code="en",
        system_lang_code="en",
    )
