"""Opening a ``--source`` for a command (spec ai.md §3 "Sources").

:func:`open_source` turns a parsed :class:`~tgpilot.services.sources.SourceSpec` into a
chat resolver and a message source: the live account through the gateway (session,
lock, credentials, network), the archive through the store, or a Telegram Desktop
export read from disk — the last two with no session, no lock and no credentials.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tgpilot.services.sources import ResolveFn, SourceKind, SourceSpec

if TYPE_CHECKING:
    from tgpilot.cli.context import AppContext
    from tgpilot.services.export.run import MessageSource


@dataclass(frozen=True)
class OpenSource:
    """An open source: what was asked for, how to find chats in it, and its messages."""

    spec: SourceSpec
    resolve: ResolveFn
    messages: MessageSource


@asynccontextmanager
async def open_source(app_ctx: AppContext, spec: SourceSpec) -> AsyncIterator[OpenSource]:
    """The source ``spec`` names, open for the duration of the block."""
    from tgpilot.services.sources import DesktopExportSource, OfflineChatResolver

    config = app_ctx.config
    if spec.kind is SourceKind.TELEGRAM:
        async with app_ctx.open_gateway() as gateway:
            yield OpenSource(spec, gateway.resolve_chat, gateway)
        return
    if spec.kind is SourceKind.STORE:
        from tgpilot.services.archive.source import ArchiveSource

        async with app_ctx.open_store() as store:
            resolver = OfflineChatResolver(await store.known_chats(), config.chats)
            yield OpenSource(spec, resolver.resolve, ArchiveSource(store))
        return
    assert spec.path is not None
    export = await DesktopExportSource.open(spec.path, tz=config.output.tz)
    resolver = OfflineChatResolver(export.chats, config.chats)
    yield OpenSource(spec, resolver.resolve, export)
