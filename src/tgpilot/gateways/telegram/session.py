"""Opening the account session: lock, server check, client, connection, authorisation.

Everything that opens the session goes through :func:`open_session` (DESIGN "The
account session"): it takes the session lock first, refuses a session made on another
server, builds the client through the injected factory, applies the flood policy,
connects and — unless logging in — checks authorisation before yielding the gateway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tgpilot.core.clock import Clock, SystemClock
from tgpilot.core.errors import NotAuthorized
from tgpilot.core.session_lock import SessionLock
from tgpilot.gateways.telegram import server
from tgpilot.gateways.telegram.client import ClientFactory, ClientSpec, PolicyClient, create_client
from tgpilot.gateways.telegram.errors import telegram_errors
from tgpilot.gateways.telegram.flood import FloodPolicy
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.gateways.telegram.resolve import AliasTarget, ChatDirectory


@dataclass
class SessionOptions:
    """How to open one account's session for one command."""

    spec: ClientSpec
    lock_file: Path
    server_file: Path
    command: str
    lock_wait: float = 15.0
    max_flood_wait: int = 300
    require_auth: bool = True
    factory: ClientFactory = create_client
    clock: Clock = field(default_factory=SystemClock)
    notice: Callable[[str], None] = lambda _message: None
    aliases: Mapping[str, AliasTarget] = field(default_factory=dict)
    directory: ChatDirectory | None = None


def secure_session_file(path: Path) -> None:
    """Session files hold the account's key: owner read/write only."""
    if path.exists():
        path.chmod(0o600)


@asynccontextmanager
async def open_session(options: SessionOptions) -> AsyncIterator[TelegramGateway]:
    """Lock, connect and yield a gateway for the account; always disconnects and unlocks."""
    spec = options.spec
    if options.require_auth and not spec.session_path.exists():
        raise NotAuthorized(str(spec.session_path))
    server.check_server(options.server_file, spec.server, spec.session_path)
    lock = SessionLock(options.lock_file, options.command, clock=options.clock)
    await lock.acquire(options.lock_wait)
    try:
        spec.session_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        client = options.factory(spec)
        assert isinstance(client, PolicyClient), "the client factory must build a PolicyClient"
        client.flood_policy = FloodPolicy(
            max_wait=options.max_flood_wait, clock=options.clock, notice=options.notice
        )
        try:
            if not options.server_file.exists():
                session = client.session
                server.check_unrecorded(
                    (session.dc_id, session.server_address, session.port),
                    session.auth_key is not None,
                    spec.server,
                    spec.session_path,
                )
            await _connect(client, spec)
            secure_session_file(spec.session_path)
            if options.require_auth:
                with telegram_errors(str(spec.session_path)):
                    authorised = await client.is_user_authorized()
                if not authorised:
                    raise NotAuthorized(str(spec.session_path))
            if not options.server_file.exists():
                server.write_record(options.server_file, spec.server)
            yield TelegramGateway(
                client,
                session_path=spec.session_path,
                aliases=options.aliases,
                directory=options.directory,
            )
        finally:
            await client.disconnect()
            secure_session_file(spec.session_path)
    finally:
        lock.release()


async def _connect(client: PolicyClient, spec: ClientSpec) -> None:
    if spec.server is not None:
        if spec.server.rsa_key_pem:
            server.register_rsa_key(spec.server.rsa_key_pem)
        session = client.session
        current = (session.dc_id, session.server_address, session.port)
        wanted = (spec.server.dc_id, spec.server.address, spec.server.port)
        if current != wanted:
            session.set_dc(*wanted)
    with telegram_errors(str(spec.session_path)):
        await client.connect()
