"""``tgpilot analyze CHAT…``: chat analysis reports (spec ai.md §4.1, §5).

Reads each chat's window from ``--source`` (live Telegram, the store, or a Telegram
Desktop export), keeps the messages the selection accepts, and writes a report per
chat — JSON, Markdown and a self-contained HTML page — plus an index when several
chats are analysed. Metrics are always local; with ``--provider local`` (or no key
for the provider: a notice) the schema fields come from the lexicons too, otherwise
from the model through ``--prompt`` (default ``analyze``; one call, or map-reduce for
a chat over the model's budget), after a cost plan on stderr. Exit 1 when no chat kept
a message; 3 when some did not, or when a model answer could not be used (saved as
``<report>.raw.txt``), was cut, the spend limit stopped the run, or the provider
failed and ``llm.fallback: local`` gave a degraded local report. ``--anonymize`` sends
pseudonyms and masked phones and e-mails to the model; the reports show real names.
``--with-transcripts`` counts voice, audio and round-video messages with a stored
transcript (``transcribe``) as texts, read as ``[voice message] …``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.ai_reports import RAW_SUFFIX, problem_line, save_raw
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
)
from tgpilot.cli.options import JsonFlag, chat_argument
from tgpilot.cli.sources import SourceOpt, WithTranscriptsFlag
from tgpilot.core.errors import EXIT_ERROR, EXIT_PARTIAL, UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from tgpilot.gateways.llm.types import UsageTotals
    from tgpilot.models import Chat
    from tgpilot.services.ai.analyze import ChatAnalysis, Lexicons, Selection
    from tgpilot.services.ai.analyze.llm import LLMAnalysis
    from tgpilot.services.ai.budget import CallPlan
    from tgpilot.services.sources import MessageWindow, SourceSpec

DEFAULT_DAYS = 30
COMMAND = "analyze"

PromptOpt = Annotated[
    str | None,
    typer.Option(
        "--prompt", help="Prompt name or .md path (default analyze; e.g. analyze_wishes)."
    ),
]


@dataclass(frozen=True)
class _Outcome:
    """One chat: its local analysis and, when a model was used, the model's result."""

    analysis: ChatAnalysis
    llm: LLMAnalysis | None = None

    @property
    def report(self) -> Any:
        if self.llm is None:
            return self.analysis.report
        return replace(self.llm.report, usage=usage_json(self.llm.usage))


def analyze(
    ctx: typer.Context,
    chats: Annotated[
        list[str],
        typer.Argument(help="Chats: alias, link, @username, id, or a title (store/export)."),
    ],
    source: SourceOpt = "telegram",
    limit: Annotated[
        int, typer.Option("--limit", help="Newest N kept messages per chat (0 = all).")
    ] = 1000,
    days: Annotated[
        int | None,
        typer.Option("--days", help=f"Last N days (0 = no cutoff; default {DEFAULT_DAYS})."),
    ] = None,
    hours: Annotated[int | None, typer.Option("--hours", help="Last N hours.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this date (ISO, --tz) or 7d, 12h back.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Before this date (ISO, --tz) or 1d back.")
    ] = None,
    min_length: Annotated[
        int, typer.Option("--min-length", help="Fewest characters of text to keep a message.")
    ] = 10,
    include_bots: Annotated[
        bool, typer.Option("--include-bots", help="Keep messages from bots too.")
    ] = False,
    include_media: Annotated[
        bool, typer.Option("--include-media", help="Keep media messages whatever their text.")
    ] = False,
    formats: Annotated[
        str, typer.Option("--format", help="Report formats: json, md, html (comma-separated).")
    ] = "json,md,html",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the reports (default: <data dir>/reports)."),
    ] = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    prompt: PromptOpt = None,
    anonymize: AnonymizeFlag = False,
    with_transcripts: WithTranscriptsFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Analyse chats into JSON, Markdown and HTML reports (activity, topics, sentiment)."""
    from tgpilot.services.ai.analyze import Lexicons, Selection
    from tgpilot.services.ai.analyze.files import REPORTS_DIR, parse_formats
    from tgpilot.services.sources import message_window, parse_source

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    names = list(dict.fromkeys(chat_argument(c) or "" for c in chats))
    if not names or not all(name.strip() for name in names):
        raise UsageError("give at least one CHAT")
    spec = parse_source(source)
    kinds = parse_formats(formats)
    selection = Selection(
        min_length=min_length, include_bots=include_bots, include_media=include_media
    )
    config = app_ctx.config
    flags = LLMFlags(provider, model, temperature, max_tokens)
    job = model_job(
        app_ctx,
        COMMAND,
        flags,
        prompt,
        instead="running the local analysis instead",
        anonymize=anonymize,
    )
    tz = config.output.tz
    now = app_ctx.runtime.clock.now()
    window = message_window(
        now,
        days=days,
        hours=hours,
        since=since,
        until=until,
        limit=limit,
        tz=tz,
        default_days=DEFAULT_DAYS,
    )
    lexicons = Lexicons.load(config.moderation, override_dir=config.home / "wordlists")
    results = run_async(
        _analyse(app_ctx, names, spec, window, selection, lexicons, now, job, with_transcripts)
    )
    _finish(app_ctx, results, kinds, out or config.home / REPORTS_DIR, now, json_mode)


async def _analyse(
    app_ctx: AppContext,
    names: list[str],
    spec: SourceSpec,
    window: MessageWindow,
    selection: Selection,
    lexicons: Lexicons,
    now: datetime,
    job: ModelJob | None,
    with_transcripts: bool,
) -> list[_Outcome]:
    from tgpilot.cli.sources import open_source
    from tgpilot.core.output import progress_bar
    from tgpilot.services.ai.analyze import analyze_locally

    tz = app_ctx.config.output.tz
    async with open_source(app_ctx, spec, with_transcripts=with_transcripts) as opened:
        targets: dict[int, Chat] = {}
        for name in names:
            chat = await opened.resolve(name)
            targets.setdefault(chat.id, chat)
        results = []
        for chat in targets.values():
            with progress_bar(app_ctx.output, f"reading {chat.title}") as progress:
                results.append(
                    await analyze_locally(
                        chat,
                        opened.messages,
                        window=window,
                        selection=selection,
                        lexicons=lexicons,
                        tz=tz,
                        now=now,
                        source_label=spec.label,
                        progress=progress,
                        keep_messages=job is not None,
                    )
                )
    if job is None or all(result.empty for result in results):
        return [_Outcome(result) for result in results]
    return await _with_model(app_ctx, results, job)


async def _with_model(
    app_ctx: AppContext, results: list[ChatAnalysis], job: ModelJob
) -> list[_Outcome]:
    """Each non-empty chat through the model; the usage line on stderr at the end."""
    from tgpilot.services.ai.analyze.llm import analyze_with_llm

    config = app_ctx.config
    out = app_ctx.output
    outcomes: list[_Outcome] = []
    async with open_llm_client(app_ctx, COMMAND, job.flags, report_usage=True) as client:
        for result in results:
            if result.empty:
                outcomes.append(_Outcome(result))
                continue

            def show(plan: CallPlan, title: str = result.chat.title) -> None:
                out.info(f"{title}: {plan.describe()}")

            limit = config.llm.max_cost_usd
            if limit is not None:  # the limit covers the whole command
                limit -= client.usage_summary().cost_usd or 0.0
            analysis = await analyze_with_llm(
                result,
                client,
                job.prompts,
                retry_prompt=job.retry_prompt,
                tz=config.output.tz,
                concurrency=config.llm.concurrency,
                max_cost_usd=limit,
                fallback=config.llm.fallback,
                show_plan=show,
                anonymizer=job.anonymizer(),
            )
            outcomes.append(_Outcome(result, analysis))
    return outcomes


def _finish(
    app_ctx: AppContext,
    outcomes: list[_Outcome],
    kinds: tuple[str, ...],
    out_dir: Path,
    now: datetime,
    json_mode: bool,
) -> None:
    from tgpilot.services.ai.analyze.files import report_stem, write_index, write_report
    from tgpilot.services.ai.analyze.html import IndexEntry

    tz = app_ctx.config.output.tz
    out = app_ctx.output
    entries: list[IndexEntry] = []
    rows: list[dict[str, Any]] = []
    partial = False
    for outcome in outcomes:
        result = outcome.analysis
        chat = result.chat
        row: dict[str, Any] = {
            "chat_id": chat.id,
            "chat_name": chat.title,
            "messages": result.kept,
            "read": result.scanned,
            "files": {},
        }
        rows.append(row)
        if result.empty:
            out.warn(
                f"{chat.title}: nothing to analyse — none of the {result.scanned} messages "
                "read passed the window and selection (see --days, --min-length, "
                "--include-media, --include-bots)"
            )
            continue
        report = outcome.report
        files = write_report(report, out_dir, kinds, tz)
        row["files"] = {kind: str(path) for kind, path in files.items()}
        row["llm_status"] = report.llm.status
        llm = outcome.llm
        if llm is not None:
            raw_base = f"{report_stem(chat, report.analyzed_at)}{RAW_SUFFIX}"
            raw_path = save_raw(out_dir / raw_base, llm.raw)
            if raw_path is not None:
                row["raw"] = str(raw_path)
            if llm.plan is not None:
                row["plan"] = llm.plan.to_json()
            row["usage"] = usage_json(llm.usage)
            if llm.problem is not None:
                partial = True
                row["problem"] = llm.problem
                problem = problem_line(llm.problem, raw_path)
                out.warn(f"{chat.title}: {problem}; the report keeps local results")
        entries.append(IndexEntry(report, files))
        if not json_mode:
            out.line(
                f"{chat.title} ({chat.id}): {result.kept} of {result.scanned} "
                f"messages analysed {_how(outcome)}"
            )
            for kind, path in files.items():
                out.line(f"  {kind:<4} {path}")
    index = (
        write_index(entries, out_dir, kinds, generated=now, tz=tz)
        if len(outcomes) > 1 and entries
        else {}
    )
    if json_mode:
        out.emit_json(
            {
                "provider": _used_provider(outcomes),
                "reports": rows,
                "index": {kind: str(path) for kind, path in index.items()} or None,
                "usage": _total_usage(outcomes),
            }
        )
    else:
        for kind, path in index.items():
            out.line(f"index {kind:<4} {path}")
    if len(entries) < len(outcomes):
        raise typer.Exit(EXIT_PARTIAL if entries else EXIT_ERROR)
    if partial:
        raise typer.Exit(EXIT_PARTIAL)


def _how(outcome: _Outcome) -> str:
    """``locally``, ``with openai gpt-4o-mini`` or ``locally (openai gpt-4o-mini: failed)``."""
    llm = outcome.report.llm
    if outcome.llm is None:
        return "locally"
    where = f"{llm.provider} {llm.model}"
    if llm.status in ("ok", "truncated"):
        return f"with {where}" + ("" if llm.status == "ok" else " (truncated)")
    return f"locally ({where}: {llm.status})"


def _used_provider(outcomes: list[_Outcome]) -> str:
    """The provider the reports came from (``local`` when no model was called)."""
    for outcome in outcomes:
        if outcome.llm is not None:
            return str(outcome.llm.report.llm.provider)
    return LOCAL


def _total_usage(outcomes: list[_Outcome]) -> dict[str, object] | None:
    """The usage of every chat's calls together (None when no model was called)."""
    used: list[UsageTotals] = [o.llm.usage for o in outcomes if o.llm is not None]
    if not used:
        return None
    costs = [u.cost_usd for u in used]
    return {
        "calls": sum(u.calls for u in used),
        "input_tokens": sum(u.input_tokens for u in used),
        "output_tokens": sum(u.output_tokens for u in used),
        "cached_tokens": sum(u.cached_tokens for u in used),
        "cost_usd": None if None in costs else round(sum(c or 0.0 for c in costs), 12),
        "failures": sum(u.failures for u in used),
        "cache_hits": sum(u.cache_hits for u in used),
    }
