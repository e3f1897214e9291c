"""One chat's local analysis: read the window, select, measure, report (spec ai.md §4.1).

:func:`analyze_locally` reads the window's messages from any
:class:`~tgpilot.services.export.run.MessageSource` (live, archive or Desktop export),
keeps those the :class:`~tgpilot.services.ai.analyze.selection.Selection` accepts (the
limit counting kept ones), computes the metrics and builds the local report. The kept
messages travel with the result, oldest first, so that a model-backed analysis can
turn them into its prompt input without reading the chat again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from tgpilot.models import Chat, Message
from tgpilot.services.ai.analyze.lexicon import Lexicons
from tgpilot.services.ai.analyze.metrics import ActivityMetrics, compute_metrics
from tgpilot.services.ai.analyze.report import AnalysisReport, Scope, local_report
from tgpilot.services.ai.analyze.selection import Selection
from tgpilot.services.export.run import MessageSource
from tgpilot.services.sources import MessageWindow, ProgressFn, read_window


@dataclass(frozen=True)
class ChatAnalysis:
    """A chat's kept messages (oldest first), their metrics and the local report."""

    chat: Chat
    messages: tuple[Message, ...]
    scanned: int
    metrics: ActivityMetrics
    report: AnalysisReport

    @property
    def empty(self) -> bool:
        """True when no message was kept (the command then fails for this chat)."""
        return not self.messages


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
) -> ChatAnalysis:
    """Analyse ``chat`` without a model; ``now`` is the analysis time (the clock's)."""
    read = await read_window(source, chat, window, selection.keeps, progress=progress)
    metrics = compute_metrics(read.messages, tz=tz, lexicons=lexicons)
    scope = Scope(
        source=source_label,
        since=window.since,
        until=window.until,
        limit=window.limit,
        min_length=selection.min_length,
        include_bots=selection.include_bots,
        include_media=selection.include_media,
        scanned=read.scanned,
    )
    report = local_report(chat, metrics, analyzed_at=now, scope=scope, tz=tz)
    return ChatAnalysis(chat, read.messages, read.scanned, metrics, report)
