"""Opening a ``--source`` for a command, and reading its chats (spec ai.md §3
"Sources").

``--source`` is declared once (:data:`SourceOpt`), and ``--chats a,b`` read by
:func:`split_chats`. :func:`open_source` turns a parsed
:class:`~tgpilot.services.sources.SourceSpec` into a chat resolver and a message
source: the live account through the gateway (session, lock, credentials, network),
the archive through the store, or a Telegram Desktop export read from disk — the last
two with no session, no lock and no credentials; ``with_transcripts``
(:data:`WithTranscriptsFlag`) makes spoken messages read as their stored transcripts.
Of an open source,
:func:`listed_chats` lists every chat, :func:`live_account` is the logged-in account
(live only) and :func:`mine_lookup` asks which messages are the account's (live only).
A :class:`ChatReader` reads chats one by one, each window behind a progress bar; a
chat that fails while it is read (``CHANNEL_PRIVATE``, a lost connection…) is reported
on stderr and skipped, so the others still make a report (exit 3) — bad usage and
flood waits over the threshold still stop the command.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.core.errors import FloodWaitTooLong, TgpilotError, UsageError

if TYPE_CHECKING:
    from tgpilot.cli.context import AppContext
    from tgpilot.models import Account, Chat, Message
    from tgpilot.services.ai.review import SkippedChat
    from tgpilot.services.ai.tasks.local import MineLookup
    from tgpilot.services.export.run import MessageSource
    from tgpilot.services.sources import KeepFn, MessageWindow, ResolveFn, SourceSpec

SourceOpt = Annotated[
    str, typer.Option("--source", help="telegram | store | PATH of a Telegram Desktop export.")
]


def split_chats(text: str) -> list[str]:
    """``--chats a,b`` → the names, each once, in order (none: a usage error)."""
    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise UsageError("--chats: give at least one chat")
    return names


@dataclass(frozen=True)
class OpenSource:
    """An open source: what was asked for, how to find chats in it, and its messages
    (``origin``: the source itself when ``messages`` wraps it with transcripts)."""

    spec: SourceSpec
    resolve: ResolveFn
    messages: MessageSource
    origin: MessageSource | None = None

    @property
    def underlying(self) -> MessageSource:
        """The gateway, archive or export the messages come from."""
        return self.origin if self.origin is not None else self.messages


WithTranscriptsFlag = Annotated[
    bool,
    typer.Option(
        "--with-transcripts",
        help="Voice/audio/round messages count as texts by their stored transcripts.",
    ),
]


@asynccontextmanager
async def open_source(
    app_ctx: AppContext, spec: SourceSpec, *, with_transcripts: bool = False
) -> AsyncIterator[OpenSource]:
    """The source ``spec`` names, open for the duration of the block; with
    ``with_transcripts`` its spoken messages read as their transcripts in the store."""
    async with _open_plain(app_ctx, spec) as opened:
        if not with_transcripts:
            yield opened
            return
        from tgpilot.services.sources import TranscribedSource
        from tgpilot.store.transcripts import TranscriptRepository

        async with app_ctx.open_store() as store:
            wrapped = TranscribedSource(opened.messages, TranscriptRepository(store))
            yield OpenSource(spec, opened.resolve, wrapped, origin=opened.messages)


@asynccontextmanager
async def _open_plain(app_ctx: AppContext, spec: SourceSpec) -> AsyncIterator[OpenSource]:
    from tgpilot.services.sources import DesktopExportSource, OfflineChatResolver, SourceKind

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


@dataclass(frozen=True)
class ListedChat:
    """A chat of a source and, when the source knows it, its last message's time."""

    chat: Chat
    last_at: datetime | None = None


async def listed_chats(app_ctx: AppContext, opened: OpenSource) -> list[ListedChat]:
    """Every chat of the open source: the live account's dialogs (newest first), an
    export's chats (in file order) or the store's (by title)."""
    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.services.sources import DesktopExportSource

    source = opened.underlying
    if isinstance(source, TelegramGateway):
        return [ListedChat(d.chat, d.last_message_at) for d in await source.list_dialogs(None)]
    if isinstance(source, DesktopExportSource):
        return [ListedChat(chat) for chat in source.chats]
    async with app_ctx.open_store() as store:
        return [ListedChat(chat) for chat in await store.known_chats()]


async def live_account(opened: OpenSource) -> Account | None:
    """The logged-in account of a live source (None offline)."""
    from tgpilot.gateways.telegram.gateway import TelegramGateway

    if isinstance(opened.underlying, TelegramGateway):
        return await opened.underlying.me()
    return None


def mine_lookup(opened: OpenSource) -> MineLookup | None:
    """Which message ids of a chat are the account's, asked of the live account."""
    from tgpilot.gateways.telegram.gateway import TelegramGateway

    gateway = opened.underlying
    if not isinstance(gateway, TelegramGateway):
        return None

    async def lookup(chat: Chat, ids: Sequence[int]) -> set[int]:
        found = await gateway.get_messages(chat, ids)
        return {m.id for m in found if m is not None and m.is_outgoing}

    return lookup


def is_chat_failure(error: TgpilotError) -> bool:
    """True for an error that spoils one chat only (an RPC error, a lost connection, a
    failing store); bad usage and a flood wait over the threshold stop the command."""
    return not isinstance(error, UsageError | FloodWaitTooLong)


@dataclass
class ChatReader:
    """Reads the windows of chats of an open source; a chat that fails is reported on
    stderr, remembered in :attr:`skipped`, and left out."""

    app_ctx: AppContext
    opened: OpenSource
    window: MessageWindow
    keep: KeepFn | None = None
    skipped: list[SkippedChat] = field(default_factory=list)

    async def read(self, chat: Chat) -> tuple[Message, ...] | None:
        """The window's kept messages of ``chat``, oldest first (None: it failed)."""
        from tgpilot.core.output import progress_bar
        from tgpilot.services.sources import read_window

        try:
            with progress_bar(self.app_ctx.output, f"reading {chat.title}") as progress:
                read = await read_window(
                    self.opened.messages, chat, self.window, self.keep, progress=progress
                )
        except TgpilotError as error:
            if not is_chat_failure(error):
                raise
            self.skip(chat, error)
            return None
        return read.messages

    def skip(self, chat: Chat, error: TgpilotError) -> None:
        """Report ``chat`` as skipped because of ``error``."""
        from tgpilot.services.ai.review import SkippedChat

        self.app_ctx.output.warn(f"{chat.title}: skipped: {error.message}")
        self.skipped.append(SkippedChat(chat.id, chat.title, error.message))

    def fail_if_all_skipped(self, covered: int) -> None:
        """A TgpilotError (exit 1) when chats were skipped and the report would cover
        none (``covered`` chats)."""
        if self.skipped and not covered:
            raise TgpilotError(
                f"none of the {len(self.skipped)} chats could be read",
                hint="see the skipped chats above",
            )
