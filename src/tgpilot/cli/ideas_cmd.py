"""``tgpilot ideas --chats a,b``: ideas, problems and tools people mention (spec ai.md
§4.5, §5).

Reads each chat's texts of the last ``--days`` (at most ``--limit`` per chat) from
``--source`` (live Telegram, the store or a Telegram Desktop export). Every chat is
resolved before anything is read, so an unknown one exits 2 having read nothing.
Locally an idea is a text over 20 characters with an idea phrase, a problem one with a
problem phrase, and tools are whole-word tool names (word lists in
``tgpilot/data/wordlists/``, replaceable in ``<data dir>/wordlists/``). With a model
the ``ideas`` prompt confirms the candidates, groups them into themes and recommends,
after a cost plan on stderr. Local mode applies with ``--provider local``; when no key
is configured (a notice, exit 0); and when the provider fails after retries with
``llm.fallback: local`` (degraded, exit 3). An answer unusable even after the JSON
retry keeps the local report and saves the answer as ``<report>.raw.txt`` (exit 3).
The report is printed (or its JSON with ``--json``) and written to ``--out`` (default
``<data dir>/reports``) as ``ideas_<YYYYMMDD-HHMMSS>.md`` and ``.json``. A window
without messages prints "no messages in the selected period", calls no model and
exits 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.llm_support import (
    LLMFlags,
    MaxTokensOpt,
    ModelOpt,
    ProviderOpt,
    TemperatureOpt,
    open_llm_client,
    usage_json,
    usage_line,
)
from tgpilot.cli.options import JsonFlag
from tgpilot.core.errors import EXIT_PARTIAL, UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from tgpilot.gateways.llm.types import UsageTotals
    from tgpilot.models import Chat, Message
    from tgpilot.services.ai.budget import CallPlan, PromptSet
    from tgpilot.services.ai.ideas import ChatIdeas, IdeaLexicon, IdeasResult
    from tgpilot.services.ai.ideas.local import MessageKey
    from tgpilot.services.ai.ideas.review import ModelReview, RunInfo
    from tgpilot.services.prompts import Prompt
    from tgpilot.services.sources import MessageWindow, SourceSpec

COMMAND = "ideas"
LOCAL = "local"
RETRY_PROMPT = "json_retry"
RAW_SUFFIX = ".raw.txt"
NO_MESSAGES = "no messages in the selected period"
DEFAULT_DAYS = 7

SourceOpt = Annotated[
    str, typer.Option("--source", help="telegram | store | PATH of a Telegram Desktop export.")
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Folder for the report files (default: <data dir>/reports)."),
]


@dataclass(frozen=True)
class ModelJob:
    """What a model-backed run needs: its flags, prompts and the JSON retry prompt."""

    flags: LLMFlags
    prompts: PromptSet
    retry_prompt: Prompt


def model_job(
    app_ctx: AppContext, command: str, flags: LLMFlags, prompt: str | None, *, instead: str
) -> ModelJob | None:
    """The model side of ``command``, or None for local heuristics: ``--provider local``
    (or ``local`` by configuration), or no key for the provider (a notice saying what
    happens ``instead``, ai.md §5). Bad providers and prompts fail here, before
    anything is read (exit 2)."""
    from tgpilot.gateways.llm.factory import load_config_catalogue
    from tgpilot.gateways.llm.resolve import MissingProviderKey, resolve_llm
    from tgpilot.services.ai.budget import PromptSet
    from tgpilot.services.prompts import PromptLibrary

    if flags.provider == LOCAL:
        return None
    config = app_ctx.config
    try:
        target = resolve_llm(
            config,
            command,
            load_config_catalogue(config),
            provider=flags.provider,
            model=flags.model,
            temperature=flags.temperature,
            max_tokens=flags.max_tokens,
        )
    except MissingProviderKey as exc:
        app_ctx.output.info(f"notice: {exc.message}; {instead}")
        return None
    if target.provider == LOCAL:
        return None
    library = PromptLibrary.from_config(config, clock=app_ctx.runtime.clock)
    return ModelJob(flags, PromptSet.load(library, prompt or command), library.load(RETRY_PROMPT))


def split_chats(text: str) -> list[str]:
    """``--chats a,b`` → the names, each once, in order (none: a usage error)."""
    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise UsageError("--chats: give at least one chat")
    return names


@dataclass(frozen=True)
class _Outcome:
    """The run: every chat's findings, their messages by key, and the model's side."""

    chats: list[ChatIdeas]
    messages: dict[MessageKey, Message]
    review: ModelReview[Any] | None = None
    result: IdeasResult | None = None
    """The model's result (None locally: the findings as found)."""
    usage: UsageTotals | None = None


def ideas(
    ctx: typer.Context,
    chats: Annotated[
        str, typer.Option("--chats", help="Chats to scan, comma-separated (alias, @name, id…).")
    ],
    days: Annotated[
        int, typer.Option("--days", min=0, help="The last N days (0 = no cutoff).")
    ] = DEFAULT_DAYS,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Newest N texts per chat (0 = all).")
    ] = 500,
    source: SourceOpt = "telegram",
    out: OutOpt = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="Prompt name or .md path (default ideas).")
    ] = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Find ideas, problems and tools in chats (a model confirms and groups them)."""
    from tgpilot.services.ai.analyze.files import REPORTS_DIR
    from tgpilot.services.ai.ideas import IdeaLexicon
    from tgpilot.services.sources import message_window, parse_source

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    names = split_chats(chats)
    spec = parse_source(source)
    config = app_ctx.config
    now = app_ctx.runtime.clock.now()
    window = message_window(now, days=days, limit=limit, tz=config.output.tz)
    flags = LLMFlags(provider, model, temperature, max_tokens)
    job = model_job(app_ctx, COMMAND, flags, prompt, instead="using local heuristics only")
    lexicon = IdeaLexicon.load(config.home / "wordlists")
    outcome = run_async(_run(app_ctx, names, spec, window, lexicon, job, now))
    out_dir = out or config.home / REPORTS_DIR
    _finish(app_ctx, outcome, lexicon, job, spec, window, out_dir, now, json_mode)


async def _run(
    app_ctx: AppContext,
    names: list[str],
    spec: SourceSpec,
    window: MessageWindow,
    lexicon: IdeaLexicon,
    job: ModelJob | None,
    now: datetime,
) -> _Outcome:
    from tgpilot.cli.sources import open_source
    from tgpilot.core.output import progress_bar
    from tgpilot.services.ai.ideas import find_ideas, is_chat_text
    from tgpilot.services.sources import read_window

    found: list[ChatIdeas] = []
    messages: dict[MessageKey, Message] = {}
    async with open_source(app_ctx, spec) as opened:
        targets: dict[int, Chat] = {}
        for name in names:
            chat = await opened.resolve(name)
            targets.setdefault(chat.id, chat)
        for chat in targets.values():
            with progress_bar(app_ctx.output, f"reading {chat.title}") as progress:
                read = await read_window(
                    opened.messages, chat, window, is_chat_text, progress=progress
                )
            found.append(find_ideas(chat, read.messages, lexicon))
            messages.update({(chat.id, m.id): m for m in read.messages})
    candidates = any(chat.ideas or chat.problems for chat in found)
    if job is None or not candidates:
        return _Outcome(found, messages)
    return await _with_model(app_ctx, found, messages, lexicon, job, window, now)


async def _with_model(
    app_ctx: AppContext,
    found: list[ChatIdeas],
    messages: dict[MessageKey, Message],
    lexicon: IdeaLexicon,
    job: ModelJob,
    window: MessageWindow,
    now: datetime,
) -> _Outcome:
    from tgpilot.services.ai.ideas.llm import ideas_with_llm

    config = app_ctx.config
    out = app_ctx.output

    def show(plan: CallPlan) -> None:
        out.info(plan.describe())

    async with open_llm_client(app_ctx, COMMAND, job.flags) as client:
        try:
            reviewed = await ideas_with_llm(
                found,
                messages,
                lexicon,
                client,
                job.prompts,
                retry_prompt=job.retry_prompt,
                period=_period(app_ctx, window, now),
                tz=config.output.tz,
                concurrency=config.llm.concurrency,
                max_cost_usd=config.llm.max_cost_usd,
                fallback=config.llm.fallback,
                show_plan=show,
            )
        finally:
            if client.records:
                out.info(usage_line(client.usage_summary()))
    return _Outcome(found, messages, reviewed.review, reviewed.result, reviewed.review.usage)


def _period(app_ctx: AppContext, window: MessageWindow, now: datetime) -> str:
    from tgpilot.services.ai.digest.activity import zone_name
    from tgpilot.services.ai.digest.report import period_text

    tz = app_ctx.config.output.tz
    return period_text(window.since, window.until or now, tz, zone_name(tz))


def run_info(
    app_ctx: AppContext,
    review: ModelReview[Any] | None,
    job: ModelJob | None,
    spec: SourceSpec,
    window: MessageWindow,
    now: datetime,
) -> RunInfo:
    """The report's run info: local, or the model's review through the job's prompt."""
    from tgpilot.services.ai.ideas.review import RunInfo

    period = _period(app_ctx, window, now)
    if review is None or job is None:
        return RunInfo(generated_at=now, source=spec.label, period=period)
    return RunInfo.reviewed(
        review, job.prompts.single, generated_at=now, source=spec.label, period=period
    )


def save_raw(out_dir: Path, base: str, review: ModelReview[Any] | None) -> Path | None:
    """The unusable answers as ``<out>/<base>.raw.txt`` (None when there are none)."""
    from tgpilot.core.output import atomic_write

    if review is None or review.raw is None:
        return None
    path = out_dir / f"{base}{RAW_SUFFIX}"
    with atomic_write(path) as handle:
        handle.write(review.raw)
    return path


def warn_problem(app_ctx: AppContext, run: RunInfo, raw: Path | None) -> None:
    """The one warning line of a review that is not wholly the model's."""
    if run.problem is None:
        return
    saved = f" (answer saved to {raw})" if raw is not None else ""
    app_ctx.output.warn(f"{run.problem}{saved}; the report keeps the local results")


def publish(
    app_ctx: AppContext,
    *,
    kind: str,
    now: datetime,
    out_dir: Path,
    run: RunInfo,
    review: ModelReview[Any] | None,
    markdown: str,
    document: dict[str, Any],
    json_mode: bool,
) -> None:
    """Write the report as ``<kind>_<stamp>.md`` and ``.json`` (the unusable answers as
    ``.raw.txt``), print it (or its JSON with the files), and exit 3 when the model's
    side had a problem."""
    from tgpilot.core.output import to_json
    from tgpilot.services.ai.ideas.review import report_base, write_report_files

    out = app_ctx.output
    base = report_base(kind, now)
    raw = save_raw(out_dir, base, review)
    warn_problem(app_ctx, run, raw)
    files = write_report_files(out_dir, base, {"md": markdown, "json": to_json(document) + "\n"})
    if json_mode:
        out.emit_json(
            {
                **document,
                "files": {ext: str(path) for ext, path in files.items()},
                "raw": str(raw) if raw is not None else None,
            }
        )
    else:
        out.line(markdown.rstrip("\n"))
        for ext, path in files.items():
            out.info(f"{ext:<4} {path}")
    if run.problem is not None:
        raise typer.Exit(EXIT_PARTIAL)


def publish_nothing(
    app_ctx: AppContext, document: dict[str, Any], json_mode: bool, message: str = NO_MESSAGES
) -> None:
    """Say there was nothing to report (exit 0, no files)."""
    if json_mode:
        app_ctx.output.emit_json({**document, "message": message, "files": {}})
    else:
        app_ctx.output.line(message)


def _finish(
    app_ctx: AppContext,
    outcome: _Outcome,
    lexicon: IdeaLexicon,
    job: ModelJob | None,
    spec: SourceSpec,
    window: MessageWindow,
    out_dir: Path,
    now: datetime,
    json_mode: bool,
) -> None:
    from tgpilot.services.ai.ideas import IdeasReport, ideas_locally, render_markdown
    from tgpilot.services.ai.ideas.report import REPORT_KIND, report_object

    tz = app_ctx.config.output.tz
    result = outcome.result or ideas_locally(outcome.chats, lexicon)
    run = run_info(app_ctx, outcome.review, job, spec, window, now)
    report = IdeasReport(result, run)
    usage = usage_json(outcome.usage) if outcome.usage is not None else None
    document = report_object(report, tz, usage)
    if not outcome.messages:
        publish_nothing(app_ctx, document, json_mode)
        return
    publish(
        app_ctx,
        kind=REPORT_KIND,
        now=now,
        out_dir=out_dir,
        run=run,
        review=outcome.review,
        markdown=render_markdown(report, tz),
        document=document,
        json_mode=json_mode,
    )
