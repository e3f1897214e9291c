"""One chat's local analysis: read the window, select, measure, report (spec ai.md §4.1).

:func:`analyze_locally` reads the window's messages from any
:class:`~tgpilot.services.export.run.MessageSource` (live, archive or Desktop export),
keeps those the :class:`~tgpilot.services.ai.analyze.selection.Selection` accepts (the
limit counting kept ones, newest first), computes the metrics and builds the local
report.

With ``keep_messages`` (the default) the kept messages travel with the result, oldest
first, so that a model-backed analysis can turn them into its prompt input without
reading the chat again. Without it nothing is held: each message is counted as it is
read (:class:`~tgpilot.services.ai.analyze.metrics.MetricsBuilder`) and memory stays
flat whatever the chat's size — and from the archive, only the columns the figures
need are read, as plain rows (:func:`tgpilot.store.activity.iter_activity`), never
built into messages. Both ways give the same metrics.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from tgpilot.models import Chat, Message
from tgpilot.services.ai.analyze.lexicon import Lexicons
from tgpilot.services.ai.analyze.metrics import ActivityMetrics, MetricsBuilder, compute_metrics
from tgpilot.services.ai.analyze.report import AnalysisReport, Scope, local_report
from tgpilot.services.ai.analyze.selection import (
    SERVICE_NOTIFICATIONS_ID,
    Selection,
    display_name,
    sender_key,
)
from tgpilot.services.archive.source import ArchiveSource
from tgpilot.services.export.run import MessageSource
from tgpilot.services.sources import PROGRESS_STEP, MessageWindow, ProgressFn, read_window
from tgpilot.store.activity import ActivityRow, iter_activity, row_sender


@dataclass(frozen=True)
class ChatAnalysis:
    """A chat's kept messages (oldest first; empty when they were not kept), their
    metrics and the local report."""

    chat: Chat
    messages: tuple[Message, ...]
    scanned: int
    metrics: ActivityMetrics
    report: AnalysisReport

    @property
    def kept(self) -> int:
        """How many messages were kept (and measured)."""
        return self.metrics.total_messages

    @property
    def empty(self) -> bool:
        """True when no message was kept (the command then fails for this chat)."""
        return not self.kept


async def analyze_locally(
    chat: Chat,
    source: MessageSource,
    *,
    window: MessageWindow,
    selection: Selection,
    lexicons: Lexicons,
    tz: tzinfo,
    now: datetime,
    source_label: str,
    progress: ProgressFn | None = None,
    keep_messages: bool = True,
) -> ChatAnalysis:
    """Analyse ``chat`` without a model; ``now`` is the analysis time (the clock's).
    ``keep_messages=False`` streams (see the module docstring)."""
    kept: tuple[Message, ...] = ()
    if keep_messages:
        read = await read_window(source, chat, window, selection.keeps, progress=progress)
        kept, scanned = read.messages, read.scanned
        metrics = compute_metrics(kept, tz=tz, lexicons=lexicons)
    else:
        builder = MetricsBuilder(tz=tz, lexicons=lexicons)
        if isinstance(source, ArchiveSource):
            rows = iter_activity(
                source.store,
                chat.id,
                since=window.since,
                until=window.until,
                newest_first=bool(window.limit),  # oldest first names senders at once
            )
            scanned = await _count_rows(rows, builder, selection, window.limit, progress)
        else:
            stream = source.history(chat, since=window.since, until=window.until, limit=None)
            scanned = await _count_messages(stream, builder, selection, window.limit, progress)
        metrics = builder.result()
    scope = Scope(
        source=source_label,
        since=window.since,
        until=window.until,
        limit=window.limit,
        min_length=selection.min_length,
        include_bots=selection.include_bots,
        include_media=selection.include_media,
        scanned=scanned,
    )
    report = local_report(chat, metrics, analyzed_at=now, scope=scope, tz=tz)
    return ChatAnalysis(chat, kept, scanned, metrics, report)


async def _count_messages(
    stream: AsyncIterator[Message],
    builder: MetricsBuilder,
    selection: Selection,
    limit: int,
    progress: ProgressFn | None,
) -> int:
    """Count the kept messages of ``stream`` (newest first) into ``builder``, stopping
    at ``limit`` kept ones (0: all); how many messages were read."""
    scanned = 0
    try:
        async for message in stream:
            scanned += 1
            if progress is not None and scanned % PROGRESS_STEP == 0:
                progress(scanned, None)
            if selection.keeps(message):
                builder.add_message(message)
                if limit and builder.total >= limit:
                    break
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
    if progress is not None:
        progress(scanned, None)
    return scanned


def _row_name(row: ActivityRow) -> tuple[str, int | None]:
    return display_name(row_sender(row)), row[2]


async def _count_rows(
    rows: AsyncGenerator[Sequence[ActivityRow], None],
    builder: MetricsBuilder,
    selection: Selection,
    limit: int,
    progress: ProgressFn | None,
) -> int:
    """:func:`_count_messages` for stored rows, selecting as
    :meth:`Selection.keeps` does on the message each row stands for."""
    scanned = 0
    add = builder.add
    min_length = selection.min_length
    include_bots, include_media = selection.include_bots, selection.include_media
    try:
        async for batch in rows:
            for row in batch:
                scanned += 1
                message_id, when, sender_id, _, _, _, _, is_bot, is_service, text, total, kind = row
                if is_service:
                    continue
                if not include_bots and (is_bot or sender_id == SERVICE_NOTIFICATIONS_ID):
                    continue
                text = text or ""
                length = len(text.strip())
                media = bool(kind)
                if not (include_media and media) and (not length or length < min_length):
                    continue
                key = sender_id if sender_id is not None else sender_key(row_sender(row))
                add(message_id, when, key, _row_name, row, text, length, total, media)
                if limit and builder.total >= limit:
                    return scanned
            if progress is not None:
                progress(scanned, None)
    finally:
        await rows.aclose()
    return scanned
