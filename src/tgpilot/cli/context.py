"""Per-invocation state shared by every command: global options, config, output, runtime.

The root callback builds one :class:`AppContext`; commands get it from ``ctx.obj``.
Config is loaded on first use (``--help`` loads nothing); heavy modules (Telethon,
services) are imported inside the methods that need them, so ``tgpilot --help`` stays
fast. :class:`Runtime` is the seam tests use to put fakes under the real code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tgpilot.core.clock import Clock, SystemClock
from tgpilot.core.config import Config, ConfigOptions, load_config
from tgpilot.core.output import Output

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.client import ClientFactory, ServerSpec
    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.models import Chat
    from tgpilot.services.dialog_cache import DialogCache
    from tgpilot.services.export.run import Downloader, MessageSource
    from tgpilot.store import Store

T = TypeVar("T")


@dataclass
class Runtime:
    """What the outside world is made of for this run (real by default, fakes in tests)."""

    client_factory: ClientFactory | None = None
    clock: Clock = field(default_factory=SystemClock)
    argv: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChatSource:
    """A resolved chat, its message source, and how to fetch media (live only)."""

    chat: Chat
    messages: MessageSource
    download: Downloader | None


@dataclass
class GlobalOptions:
    """The options every command accepts before its name (spec §0)."""

    config_file: Path | None = None
    env_file: Path | None = None
    account: str = "default"
    lock_wait: float | None = None
    max_flood_wait: int | None = None
    tz: str | None = None
    json: bool = False
    verbose: bool = False


class AppContext:
    """Everything a command needs, built lazily."""

    def __init__(self, options: GlobalOptions, runtime: Runtime) -> None:
        self.options = options
        self.runtime = runtime
        self.output = Output(json_mode=options.json, verbose=options.verbose)

    def use_json(self, flag: bool) -> bool:
        """Honour a command-level ``--json`` as well as the global one."""
        if flag and not self.output.json_mode:
            self.output.json_mode = True
        return self.output.json_mode

    @property
    def config_options(self) -> ConfigOptions:
        o = self.options
        return ConfigOptions(
            config_file=o.config_file,
            env_file=o.env_file,
            account=o.account,
            flags={
                "session.lock_wait": o.lock_wait,
                "flood.max_wait": o.max_flood_wait,
                "output.timezone": o.tz,
            },
        )

    @cached_property
    def config(self) -> Config:
        """The validated configuration (a ``ConfigError`` if anything is wrong)."""
        return load_config(self.config_options)

    @property
    def command_line(self) -> str:
        """How this command was invoked, for the lock holder record."""
        return " ".join(["tgpilot", *self.runtime.argv])

    def dialog_cache(self) -> DialogCache:
        from tgpilot.services.dialog_cache import DialogCache

        paths = self.config.paths_resolved
        return DialogCache(paths.dialog_cache, self.config.account, self.output.warn)

    @asynccontextmanager
    async def open_store(self) -> AsyncIterator[Store]:
        """The configured database, migrated to the newest schema on first use."""
        from tgpilot.store import Store

        config = self.config
        config.paths_resolved.ensure_private_dirs()
        store = await Store.open(config.store.url.get_secret_value(), clock=self.runtime.clock)
        try:
            yield store
        finally:
            await store.close()

    @asynccontextmanager
    async def open_chat_source(
        self, chat: str | None, title_contains: str | None, *, archive: bool
    ) -> AsyncIterator[ChatSource]:
        """The chat a command names and where its messages come from: the live account
        (session, lock, network) or, with ``archive``, the store (none of those)."""
        if archive:
            from tgpilot.services.archive.chats import ArchiveChatResolver
            from tgpilot.services.archive.source import ArchiveSource

            async with self.open_store() as store:
                resolver = ArchiveChatResolver(await store.known_chats(), self.config.chats)
                resolved = resolver.resolve(chat, title_contains=title_contains)
                yield ChatSource(resolved, ArchiveSource(store), None)
            return
        async with self.open_gateway() as gateway:
            resolved = await gateway.resolve_chat(chat, title_contains=title_contains)
            yield ChatSource(resolved, gateway, gateway.download_media)

    def server_spec(self, *, with_key: bool = False) -> ServerSpec | None:
        """The configured Telegram server (None = production)."""
        from tgpilot.gateways.telegram.client import ServerSpec

        server = self.config.telegram.server
        if server is None:
            return None
        return ServerSpec(
            dc_id=server.dc_id,
            address=server.address,
            port=server.port,
            rsa_key_pem=server.rsa_key_pem() if with_key else None,
        )

    def open_gateway(
        self,
        *,
        require_auth: bool = True,
        receive_updates: bool = False,
        discard_unauthorised_on_error: bool = False,
    ) -> AbstractAsyncContextManager[TelegramGateway]:
        """Lock and connect the account session (credentials required)."""
        from tgpilot.gateways.telegram.client import ClientSpec, create_client
        from tgpilot.gateways.telegram.resolve import AliasTarget
        from tgpilot.gateways.telegram.session import SessionOptions, open_session

        config = self.config
        api_id, api_hash = config.require_api_credentials()
        paths = config.paths_resolved
        paths.ensure_private_dirs()
        aliases = {
            name: AliasTarget(id=a.id, username=a.username, link=a.link, type=a.type)
            for name, a in config.chats.items()
        }
        options = SessionOptions(
            spec=ClientSpec(
                session_path=paths.session_file,
                api_id=api_id,
                api_hash=api_hash,
                server=self.server_spec(with_key=True),
                receive_updates=receive_updates,
            ),
            lock_file=paths.lock_file,
            server_file=paths.server_file,
            command=self.command_line,
            lock_wait=config.session.lock_wait,
            max_flood_wait=config.flood.max_wait,
            require_auth=require_auth,
            factory=self.runtime.client_factory or create_client,
            clock=self.runtime.clock,
            notice=self.output.info,
            aliases=aliases,
            directory=self.dialog_cache(),
            reactions_cache=paths.reactions_cache,
            discard_unauthorised_on_error=discard_unauthorised_on_error,
        )
        return open_session(options)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine to completion."""
    return asyncio.run(coro)
