"""One export run: select a chat's messages, download media, write the file atomically.

Selection (spec §3.2): the newest ``limit`` messages in [since, until), read newest
first (ceil(N/100) history requests), spooled to disk, then written **oldest first**
into a temporary file renamed into place at the end (``-`` streams to stdout). The
message source is live Telegram or the archive; both yield domain messages newest
first, so the run cannot tell them apart.

Media (spec §3.2 "Media"): a live export downloads the selected kinds into the media
folder (:class:`~tgpilot.services.export.media.MediaFetcher`). A message read from the
archive may carry the path of a file stored with it (``archive sync --media``,
``import --media link|copy``): that file is linked as it is, whatever ``--media`` says,
and counted as already present; a stored path whose file is gone is skipped. Either
way the entry shows ``[<kind>: <path relative to the output file>]``, or ``[<kind>]``
without a file.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, TextIO
from zoneinfo import ZoneInfo

from tgpilot.core.errors import UsageError
from tgpilot.core.names import safe_name
from tgpilot.core.output import atomic_write
from tgpilot.models import Chat, Message
from tgpilot.services.export.desktop_json import DesktopJsonWriter
from tgpilot.services.export.formats import (
    CsvWriter,
    ExportHeader,
    ExportItem,
    FormatWriter,
    JsonlWriter,
    MarkdownWriter,
    TranscriptWriter,
)
from tgpilot.services.export.media import Downloader as Downloader
from tgpilot.services.export.media import MediaFetcher, MediaSelection, MediaTally
from tgpilot.services.export.spool import ReverseSpool

FORMATS = ("md", "transcript", "json", "jsonl", "csv")
STDOUT = Path("-")
STORED_FILE_MISSING = "stored file missing"
"""The skip reason of an archived message whose stored media file is gone."""


class MessageSource(Protocol):
    """Where messages come from: the live account or the archive, newest first."""

    def history(
        self,
        chat: Chat,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Message]: ...


@dataclass(frozen=True)
class ExportOptions:
    """Everything ``export`` was asked for, validated."""

    format: str = "md"
    out: Path | None = None
    limit: int = 3000
    since: datetime | None = None
    until: datetime | None = None
    text_only: bool = False
    include_service: bool = False
    media: MediaSelection = field(default_factory=MediaSelection)
    media_dir: Path | None = None
    prompt: str | None = None
    ids: bool = False
    timestamps: bool = True

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise UsageError(
                f"--format: unknown format {self.format!r}; allowed: {', '.join(FORMATS)}"
            )
        if self.limit < 0:
            raise UsageError("--limit must be 0 (all) or positive")
        if self.since and self.until and self.since >= self.until:
            raise UsageError("--since must be before --until")
        if self.media.enabled and self.out == STDOUT and self.media_dir is None:
            raise UsageError("--media with --out - needs --media-dir")

    def writer(self, tz: ZoneInfo) -> FormatWriter:
        if self.format == "md":
            return MarkdownWriter(tz)
        if self.format == "transcript":
            return TranscriptWriter(tz, self.prompt, ids=self.ids, timestamps=self.timestamps)
        if self.format == "jsonl":
            return JsonlWriter()
        if self.format == "json":
            return DesktopJsonWriter(tz)
        return CsvWriter()


@dataclass
class ExportResult:
    """What an export wrote."""

    path: Path
    count: int
    media: MediaTally
    newest_id: int = 0
    """The newest message id read (written or not): where ``--watch`` goes on from."""

    def describe(self) -> str:
        where = "stdout" if self.path == STDOUT else str(self.path)
        return f"exported {self.count} messages to {where} ({self.media.describe()})"


def default_output(chat: Chat, options: ExportOptions, exports_dir: Path) -> Path:
    """``<paths.exports>/<safe name>.<ext>`` (``.txt`` for transcripts)."""
    extension = options.writer(ZoneInfo("UTC")).extension
    return exports_dir / f"{safe_name(chat.title, fallback=f'chat_{chat.raw_id}')}.{extension}"


def keep(message: Message, options: ExportOptions) -> bool:
    """The content rules: service messages need ``--include-service``; messages with no
    text and no media are dropped; ``--text-only`` drops text-less messages."""
    if message.is_service:
        return options.include_service
    if options.text_only:
        return bool(message.text)
    return bool(message.text or message.media_type)


async def export_chat(
    chat: Chat,
    source: MessageSource,
    options: ExportOptions,
    *,
    exports_dir: Path,
    tz: ZoneInfo,
    now: Callable[[], datetime],
    download: Downloader | None = None,
    warn: Callable[[str], None] = lambda _m: None,
) -> ExportResult:
    """Export ``chat`` as ``options`` say; returns where and how much was written."""
    out = options.out or default_output(chat, options, exports_dir)
    media = _MediaLinks(out, options, download, warn)
    writer = options.writer(tz)
    newest: datetime | None = None
    oldest: datetime | None = None
    newest_id = 0
    show_media = not options.text_only
    with ReverseSpool() as spool:
        render, append = writer.render_bytes, spool.append
        async for message in source.history(
            chat, since=options.since, until=options.until, limit=options.limit or None
        ):
            if message.id > newest_id:
                newest_id = message.id
            if not keep(message, options):
                continue
            media_path = None
            if show_media and message.media_type:
                media_path = await media.link(message)
            append(render(ExportItem(message, media_path, show_media)))
            if newest is None:
                newest = message.date
            oldest = message.date
        header = ExportHeader(chat, tz, now(), spool.count, first=oldest, last=newest)
        if out == STDOUT:
            _write(sys.stdout, writer, header, spool)
            sys.stdout.flush()
        else:
            with atomic_write(out) as handle:
                _write(handle, writer, header, spool)
    return ExportResult(out, header.count, media.tally, newest_id)


def _write(handle: TextIO, writer: FormatWriter, header: ExportHeader, spool: ReverseSpool) -> None:
    """Head, the entries oldest first joined by the format's separator, tail. The
    spooled UTF-8 goes straight to a UTF-8 stream's bytes (decoded for any other)."""
    binary = getattr(handle, "buffer", None)
    if binary is not None and codecs.lookup(handle.encoding or "ascii").name == "utf-8":
        handle.flush()
        write: Callable[[bytes], object] = binary.write
    else:

        def write(data: bytes) -> object:
            return handle.write(data.decode())

    write(writer.begin(header).encode())
    separator = writer.separator.encode()
    first = True
    for entry in spool.reversed():
        if separator and not first:
            write(separator)
        write(entry)
        first = False
    write(writer.end().encode())


class _MediaLinks:
    """The media file each exported message links to, as a path relative to the output
    (to the working directory when writing to stdout)."""

    def __init__(
        self,
        out: Path,
        options: ExportOptions,
        download: Downloader | None,
        warn: Callable[[str], None],
    ) -> None:
        self._base = Path.cwd() if out == STDOUT else out.parent
        self.tally = MediaTally()
        folder = _media_dir(options, out)
        self._fetcher = (
            MediaFetcher(options.media, folder, download, tally=self.tally, warn=warn)
            if folder is not None
            else None
        )

    async def link(self, message: Message) -> str | None:
        """The relative path of ``message``'s media file, or None without one."""
        if message.media_path is not None:
            return self._stored(message.media_path)
        if self._fetcher is None:
            return None
        fetched = await self._fetcher.fetch(message)
        return os.path.relpath(fetched.path, self._base) if fetched is not None else None

    def _stored(self, stored: str) -> str | None:
        path = Path(stored)
        if not path.is_file():
            self.tally.skipped[STORED_FILE_MISSING] += 1
            return None
        self.tally.kept += 1
        return os.path.relpath(path, self._base)


def _media_dir(options: ExportOptions, out: Path) -> Path | None:
    if not options.media.enabled:
        return None
    if options.media_dir is not None:
        return options.media_dir
    return out.with_name(f"{out.stem}_media")
