"""``tgpilot digest CHAT``: what happened in a chat over a period (spec ai.md §4.2, §5).

Reads the period — the last ``--hours`` (24 by default) or ``--period day|week|month``
— from ``--source`` (live Telegram, the store or a Telegram Desktop export), asks the
model for a digest of at most 500 words and appends the local activity digest. In local
mode the activity digest is the whole output, with the most reacted and replied
messages and every link. Local mode applies with ``--provider local``; when no key is
configured (a notice, exit 0); and when the provider fails after retries with
``llm.fallback: local`` (the digest is marked degraded, exit 3). An empty period prints
"no messages in the selected period" and calls no model. The digest is printed and
written to ``--out`` (default ``<data dir>/reports``) in each ``--format``.
``--with-transcripts`` reads voice, audio and round-video messages with a stored
transcript (``transcribe``) as texts, ``[voice message] …`` (spec ai.md §4.11).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.llm_support import (
    LOCAL,
    AnonymizeFlag,
    LLMFlags,
    MaxTokensOpt,
    ModelJob,
    ModelOpt,
    ProviderOpt,
    TemperatureOpt,
    model_job,
    open_llm_client,
    usage_json,
    usage_line,
)
from tgpilot.cli.options import JsonFlag, chat_argument
from tgpilot.cli.sources import SourceOpt, WithTranscriptsFlag
from tgpilot.core.errors import EXIT_PARTIAL, ProviderError, UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from tgpilot.gateways.llm.types import UsageTotals
    from tgpilot.models import Chat, Message
    from tgpilot.services.ai.digest import DigestReport, LLMDigest
    from tgpilot.services.sources import MessageWindow, SourceSpec

COMMAND = "digest"
DEFAULT_HOURS = 24
PERIOD_DAYS = {"day": 1, "week": 7, "month": 30}


@dataclass(frozen=True)
class Outcome:
    """What the run produced: the chat, its period's messages, the model's digest
    (None locally), whether the model failed into local mode, and usage."""

    chat: Chat
    messages: tuple[Message, ...]
    llm: LLMDigest | None
    degraded: bool
    notices: tuple[str, ...]
    usage: UsageTotals | None


def digest(
    ctx: typer.Context,
    chat: Annotated[
        str, typer.Argument(help="Chat: alias, link, @username, id, or a title (store/export).")
    ],
    hours: Annotated[
        int | None,
        typer.Option("--hours", min=1, help=f"The last N hours (default {DEFAULT_HOURS})."),
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="day, week (7 days) or month (30 days).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Newest N messages of the period (0 = all).")
    ] = 500,
    formats: Annotated[
        str, typer.Option("--format", help="File formats: md, html, json (comma-separated).")
    ] = "md",
    samples: Annotated[
        bool, typer.Option("--samples", help="Add up to 5 sample texts to the activity digest.")
    ] = False,
    top: Annotated[int, typer.Option("--top", min=1, help="Top users to list.")] = 5,
    source: SourceOpt = "telegram",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the files (default: <data dir>/reports)."),
    ] = None,
    prompt: Annotated[
        str, typer.Option("--prompt", help="Prompt name or file (default: digest).")
    ] = COMMAND,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    anonymize: AnonymizeFlag = False,
    with_transcripts: WithTranscriptsFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Digest a chat's last hours, day, week or month (LLM digest plus local activity)."""
    from tgpilot.services.ai.analyze.files import REPORTS_DIR, parse_formats
    from tgpilot.services.sources import message_window, parse_source

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    name = chat_argument(chat) or ""
    if not name.strip():
        raise UsageError("give a CHAT")
    spec = parse_source(source)
    kinds = parse_formats(formats)
    now = app_ctx.runtime.clock.now()
    config = app_ctx.config
    window = message_window(now, hours=_hours(hours, period), limit=limit, tz=config.output.tz)
    flags = LLMFlags(provider, model, temperature, max_tokens)
    job = model_job(
        app_ctx,
        COMMAND,
        flags,
        prompt,
        instead="writing the local activity digest only",
        anonymize=anonymize,
    )
    outcome = run_async(_run(app_ctx, name, spec, window, job, now, with_transcripts))
    out_dir = out or config.home / REPORTS_DIR
    _finish(
        app_ctx, outcome, spec, window, kinds, out_dir, now, json_mode, samples=samples, top=top
    )


def _hours(hours: int | None, period: str | None) -> int:
    """The window in hours: ``--hours``, else ``--period``, else 24."""
    if hours is not None and period is not None:
        raise UsageError("give only one of --hours and --period")
    if period is None:
        return hours or DEFAULT_HOURS
    days = PERIOD_DAYS.get(period.strip().lower())
    if days is None:
        raise UsageError(f"--period: unknown period {period!r}", hint="use day, week or month")
    return days * 24


async def _run(
    app_ctx: AppContext,
    name: str,
    spec: SourceSpec,
    window: MessageWindow,
    job: ModelJob | None,
    now: datetime,
    with_transcripts: bool,
) -> Outcome:
    from tgpilot.cli.sources import open_source
    from tgpilot.core.output import progress_bar
    from tgpilot.services.sources import read_window

    async with open_source(app_ctx, spec, with_transcripts=with_transcripts) as opened:
        chat = await opened.resolve(name)
        with progress_bar(app_ctx.output, f"reading {chat.title}") as progress:
            read = await read_window(
                opened.messages, chat, window, lambda m: not m.is_service, progress=progress
            )
    if job is None or not read.messages:
        return Outcome(chat, read.messages, None, False, (), None)
    return await _summarise(app_ctx, chat, read.messages, window, job, now)


async def _summarise(
    app_ctx: AppContext,
    chat: Chat,
    messages: tuple[Message, ...],
    window: MessageWindow,
    job: ModelJob,
    now: datetime,
) -> Outcome:
    """The model's digest; a provider failure falls back to local mode (degraded) under
    ``llm.fallback: local`` and is raised otherwise."""
    from tgpilot.services.ai.digest import digest_messages
    from tgpilot.services.ai.digest.activity import zone_name
    from tgpilot.services.ai.digest.report import period_text

    tz = app_ctx.config.output.tz
    period = period_text(window.since, window.until or now, tz, zone_name(tz))
    async with open_llm_client(app_ctx, COMMAND, job.flags) as client:
        try:
            result = await digest_messages(
                client,
                job.prompts.single,
                messages,
                tz=tz,
                chat_name=chat.title,
                period=period,
                anonymizer=job.anonymizer(),
            )
        except ProviderError as exc:
            if app_ctx.config.llm.fallback != LOCAL:
                raise
            notice = f"{exc.message}; llm.fallback is local: writing the local digest (degraded)"
            return Outcome(chat, messages, None, True, (notice,), client.usage_summary())
        notices: tuple[str, ...] = ()
        if result.cut:
            notices = (
                f"the period's {result.lines_total} messages do not fit the model's window: "
                f"the digest covers the newest {result.lines_sent}",
            )
        return Outcome(chat, messages, result, False, notices, client.usage_summary())


def _finish(
    app_ctx: AppContext,
    outcome: Outcome,
    spec: SourceSpec,
    window: MessageWindow,
    kinds: tuple[str, ...],
    out_dir: Path,
    now: datetime,
    json_mode: bool,
    *,
    samples: bool,
    top: int,
) -> None:
    from tgpilot.services.ai.digest import (
        NO_MESSAGES,
        DigestReport,
        compute_activity,
        report_object,
        write_digest,
    )

    out = app_ctx.output
    tz = app_ctx.config.output.tz
    activity = compute_activity(
        outcome.messages, since=window.since, until=window.until or now, tz=tz, top=top
    )
    report = DigestReport(
        chat=outcome.chat,
        generated_at=now,
        source=spec.label,
        activity=activity,
        llm=outcome.llm,
        degraded=outcome.degraded,
        samples=samples,
        notices=outcome.notices,
    )
    usage = usage_json(outcome.usage) if outcome.usage is not None else None
    for notice in outcome.notices:
        out.warn(notice)
    if not outcome.messages:
        if json_mode:
            out.emit_json({**report_object(report, tz), "message": NO_MESSAGES, "files": {}})
        else:
            out.line(NO_MESSAGES)
        return
    files = write_digest(report, out_dir, kinds, tz, usage)
    if json_mode:
        document: dict[str, Any] = report_object(report, tz, usage)
        document["files"] = {kind: str(path) for kind, path in files.items()}
        out.emit_json(document)
    else:
        _print(app_ctx, report, files)
    if outcome.usage is not None:
        out.info(usage_line(outcome.usage))
    if report.degraded:
        raise typer.Exit(EXIT_PARTIAL)


def _print(app_ctx: AppContext, report: DigestReport, files: dict[str, Path]) -> None:
    from tgpilot.services.ai.digest import render_markdown

    out = app_ctx.output
    out.line(render_markdown(report, app_ctx.config.output.tz).rstrip("\n"))
    for kind, path in files.items():
        out.info(f"{kind:<4} {path}")
