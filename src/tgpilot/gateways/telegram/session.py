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
from tgpilot.core.paths import remove_session_files
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
    discard_unauthorised_on_error: bool = False
    """Logging in: if the command fails, delete a session file that holds no login —
    before the lock is released, so no other process can see it half-made."""
    reactions_cache: Path | None = None
    """Where the server's reaction list is kept for 24 h (e.g. ``cache/reactions-<account>
    .json``); None keeps it for the session only."""


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
    created = not spec.session_path.exists()
    lock = SessionLock(options.lock_file, options.command, clock=options.clock)
    await lock.acquire(options.lock_wait)
    try:
        spec.session_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        client = options.factory(spec)
        assert isinstance(client, PolicyClient), "the client factory must build a PolicyClient"
        client.flood_policy = FloodPolicy(
            max_wait=options.max_flood_wait, clock=options.clock, notice=options.notice
        )
        discard = False
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
                reactions_cache=options.reactions_cache,
            )
        except BaseException:
            if options.discard_unauthorised_on_error:
                discard = await _holds_no_login(client, created)
            raise
        finally:
            await client.disconnect()
            if discard:
                remove_session_files(spec.session_path, options.server_file)
            else:
                secure_session_file(spec.session_path)
    finally:
        lock.release()


async def _holds_no_login(client: PolicyClient, created: bool) -> bool:
    """True if the session is known to be unauthorised — or, when its state cannot be
    learnt (no connection), if this very command created the file."""
    if not client.is_connected():
        return created
    try:
        return not await client.is_user_authorized()
    except Exception:
        return created


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
