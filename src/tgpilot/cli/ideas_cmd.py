"""``tgpilot ideas --chats a,b``: ideas, problems and tools people mention (spec ai.md
§4.5, §5).

Reads each chat's texts of the last ``--days`` (at most ``--limit`` per chat) from
``--source`` (live Telegram, the store or a Telegram Desktop export). Every chat is
resolved before anything is read, so an unknown one exits 2 having read nothing; a
chat that fails while it is read is reported and skipped, and the report covers the
others (exit 3; exit 1 when none could be read).
Locally an idea is a text over 20 characters with an idea phrase, a problem one with a
problem phrase, and tools are whole-word tool names (word lists in
``tgpilot/data/wordlists/``, replaceable in ``<data dir>/wordlists/``). With a model
the ``ideas`` prompt confirms the candidates, groups them into themes and recommends,
after a cost plan on stderr. Local mode applies with ``--provider local``; when no key
is configured (a notice, exit 0); and when the provider fails after retries with
``llm.fallback: local`` (degraded, exit 3). An answer unusable even after the JSON
retry keeps the local report and saves the answer as ``<report>.raw.txt`` (exit 3).
``--anonymize`` sends pseudonyms and masked phones and e-mails to the model; the
report shows the real names.
The report is printed (or its JSON with ``--json``) and written to ``--out`` (default
``<data dir>/reports``) as ``ideas_<YYYYMMDD-HHMMSS>.md`` and ``.json``. A window
without messages prints "no messages in the selected period", calls no model and
exits 0. ``--with-transcripts`` reads voice, audio and round-video messages with a
stored transcript (``transcribe``) as texts, ``[voice message] …`` (spec ai.md §4.11).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.ai_reports import (
    DaysOpt,
    OutOpt,
    TextsPerChatOpt,
    publish,
    publish_nothing,
    run_info,
    window_period,
)
from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.llm_support import (
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
from tgpilot.cli.options import JsonFlag
from tgpilot.cli.sources import SourceOpt, WithTranscriptsFlag, split_chats

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from tgpilot.gateways.llm.types import UsageTotals
    from tgpilot.models import Chat, Message
    from tgpilot.services.ai.budget import CallPlan
    from tgpilot.services.ai.ideas import ChatIdeas, IdeaLexicon, IdeasResult
    from tgpilot.services.ai.ideas.local import MessageKey
    from tgpilot.services.ai.review import ModelReview, SkippedChat
    from tgpilot.services.sources import MessageWindow, SourceSpec

COMMAND = "ideas"
DEFAULT_DAYS = 7


@dataclass(frozen=True)
class _Outcome:
    """The run: every chat's findings, their messages by key, the chats skipped, and
    the model's side."""

    chats: list[ChatIdeas]
    messages: dict[MessageKey, Message]
    skipped: tuple[SkippedChat, ...] = ()
    review: ModelReview[Any] | None = None
    result: IdeasResult | None = None
    """The model's result (None locally: the findings as found)."""
    usage: UsageTotals | None = None


def ideas(
    ctx: typer.Context,
    chats: Annotated[
        str, typer.Option("--chats", help="Chats to scan, comma-separated (alias, @name, id…).")
    ],
    days: DaysOpt = DEFAULT_DAYS,
    limit: TextsPerChatOpt = 500,
    source: SourceOpt = "telegram",
    out: OutOpt = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="Prompt name or .md path (default ideas).")
    ] = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    anonymize: AnonymizeFlag = False,
    with_transcripts: WithTranscriptsFlag = False,
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
    job = model_job(
        app_ctx,
        COMMAND,
        flags,
        prompt,
        instead="using local heuristics only",
        anonymize=anonymize,
    )
    lexicon = IdeaLexicon.load(config.home / "wordlists")
    period = window_period(app_ctx, window, now)
    outcome = run_async(_run(app_ctx, names, spec, window, lexicon, job, period, with_transcripts))
    out_dir = out or config.home / REPORTS_DIR
    _finish(app_ctx, outcome, lexicon, job, spec, period, out_dir, now, json_mode)


async def _run(
    app_ctx: AppContext,
    names: list[str],
    spec: SourceSpec,
    window: MessageWindow,
    lexicon: IdeaLexicon,
    job: ModelJob | None,
    period: str,
    with_transcripts: bool,
) -> _Outcome:
    from tgpilot.cli.sources import ChatReader, open_source
    from tgpilot.services.ai.ideas import find_ideas, is_chat_text

    found: list[ChatIdeas] = []
    messages: dict[MessageKey, Message] = {}
    async with open_source(app_ctx, spec, with_transcripts=with_transcripts) as opened:
        targets: dict[int, Chat] = {}
        for name in names:
            chat = await opened.resolve(name)
            targets.setdefault(chat.id, chat)
        reader = ChatReader(app_ctx, opened, window, is_chat_text)
        for chat in targets.values():
            read = await reader.read(chat)
            if read is None:
                continue
            found.append(find_ideas(chat, read, lexicon))
            messages.update({(chat.id, m.id): m for m in read})
    reader.fail_if_all_skipped(len(found))
    outcome = _Outcome(found, messages, tuple(reader.skipped))
    if job is None or not any(chat.ideas or chat.problems for chat in found):
        return outcome
    return await _with_model(app_ctx, outcome, lexicon, job, period)


async def _with_model(
    app_ctx: AppContext,
    outcome: _Outcome,
    lexicon: IdeaLexicon,
    job: ModelJob,
    period: str,
) -> _Outcome:
    from tgpilot.services.ai.ideas.llm import ideas_with_llm

    config = app_ctx.config

    def show(plan: CallPlan) -> None:
        app_ctx.output.info(plan.describe())

    async with open_llm_client(app_ctx, COMMAND, job.flags, report_usage=True) as client:
        reviewed = await ideas_with_llm(
            outcome.chats,
            outcome.messages,
            lexicon,
            client,
            job.prompts,
            retry_prompt=job.retry_prompt,
            period=period,
            tz=config.output.tz,
            concurrency=config.llm.concurrency,
            max_cost_usd=config.llm.max_cost_usd,
            fallback=config.llm.fallback,
            show_plan=show,
            anonymizer=job.anonymizer(),
        )
    review = reviewed.review
    return replace(outcome, review=review, result=reviewed.result, usage=review.usage)


def _finish(
    app_ctx: AppContext,
    outcome: _Outcome,
    lexicon: IdeaLexicon,
    job: ModelJob | None,
    spec: SourceSpec,
    period: str,
    out_dir: Path,
    now: datetime,
    json_mode: bool,
) -> None:
    from tgpilot.services.ai.ideas import IdeasReport, ideas_locally, render_markdown
    from tgpilot.services.ai.ideas.report import REPORT_KIND, report_object

    tz = app_ctx.config.output.tz
    result = outcome.result or ideas_locally(outcome.chats, lexicon)
    run = run_info(outcome.review, job, spec, period, now, outcome.skipped)
    report = IdeasReport(result, run)
    usage = usage_json(outcome.usage) if outcome.usage is not None else None
    document = report_object(report, tz, usage)
    if not outcome.messages:
        publish_nothing(app_ctx, document, json_mode, partial=run.partial)
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
