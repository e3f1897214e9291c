"""``tgpilot tasks``: what people in my chats ask of me (spec ai.md §4.5, §5).

Scans ``--chats a,b`` — or, by default and with ``--all-groups``, every group and
supergroup of ``--source`` (the live account's dialogs, the store's chats or a
Telegram Desktop export's) — plus, with ``--private``, private chats with people,
reading each chat's texts of the last ``--days`` (at most ``--limit``). Named chats
are all resolved before anything is read (an unknown one exits 2). "Me" is the live
account's id and username (offline: the sender of the outgoing messages and
``me.username``) plus ``me.names``. Locally a task is a text over 20 characters that
mentions me, replies to me, names me or holds an imperative; a question has a "?"
outside links or starts with a question word; a problem has a problem phrase. With a
model the ``tasks`` prompt keeps only the tasks really addressed to me and adds a due
date and a priority, after a cost plan on stderr; ``--anonymize`` masks only what the
model reads (every decision is made on the real messages). Local mode, degraded
fallback, raw answers, skipped chats and exit codes are those of ``tgpilot ideas``.
The report is printed (or its JSON) and written to ``--out`` as
``tasks_<YYYYMMDD-HHMMSS>.md`` and ``.json``. ``--with-transcripts`` reads voice, audio
and round-video messages with a stored transcript (``transcribe``) as texts,
``[voice message] …`` (spec ai.md §4.11).
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
from tgpilot.core.errors import TgpilotError, UsageError
from tgpilot.models import Chat, ChatType

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from tgpilot.cli.sources import ChatReader, OpenSource
    from tgpilot.gateways.llm.types import UsageTotals
    from tgpilot.models import Message
    from tgpilot.services.ai.budget import CallPlan
    from tgpilot.services.ai.review import ModelReview, SkippedChat
    from tgpilot.services.ai.tasks import ChatTasks, Me, TaskLexicon
    from tgpilot.services.sources import MessageWindow, SourceSpec

COMMAND = "tasks"
DEFAULT_DAYS = 3
GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)


@dataclass(frozen=True)
class TaskFindings:
    """The run: me, every chat's findings, their messages, the chats skipped, and the
    model's side (also what ``linear from-chats`` turns into issues)."""

    me: Me
    chats: list[ChatTasks]
    messages: dict[tuple[int, int], Message]
    skipped: tuple[SkippedChat, ...] = ()
    review: ModelReview[Any] | None = None
    usage: UsageTotals | None = None


def tasks(
    ctx: typer.Context,
    chats: Annotated[
        str | None,
        typer.Option("--chats", help="Chats to scan, comma-separated (default: all groups)."),
    ] = None,
    all_groups: Annotated[
        bool, typer.Option("--all-groups", help="Scan every group and supergroup (the default).")
    ] = False,
    private: Annotated[
        bool, typer.Option("--private", help="Also scan private chats with people.")
    ] = False,
    days: DaysOpt = DEFAULT_DAYS,
    limit: TextsPerChatOpt = 100,
    source: SourceOpt = "telegram",
    out: OutOpt = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="Prompt name or .md path (default tasks).")
    ] = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    anonymize: AnonymizeFlag = False,
    with_transcripts: WithTranscriptsFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Find tasks for me, questions and problems in group (and private) chats."""
    from tgpilot.services.ai.analyze.files import REPORTS_DIR
    from tgpilot.services.ai.tasks import TaskLexicon
    from tgpilot.services.sources import message_window, parse_source

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if chats is not None and all_groups:
        raise UsageError("give --chats or --all-groups, not both")
    names = split_chats(chats) if chats is not None else []
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
    lexicon = TaskLexicon.load(config.home / "wordlists")
    outcome = run_async(
        find_tasks(
            app_ctx, names, private, spec, window, lexicon, job, with_transcripts=with_transcripts
        )
    )
    out_dir = out or config.home / REPORTS_DIR
    period = window_period(app_ctx, window, now)
    _finish(app_ctx, outcome, job, spec, period, out_dir, now, json_mode)


async def _targets(
    app_ctx: AppContext, opened: OpenSource, names: list[str], private: bool, me: Me
) -> list[Chat]:
    """The named chats (all resolved first), else every group; private chats added."""
    from tgpilot.cli.sources import listed_chats
    from tgpilot.services.ai.tasks import is_person_chat

    targets: dict[int, Chat] = {}
    for name in names:
        chat = await opened.resolve(name)
        targets.setdefault(chat.id, chat)
    if names and not private:
        return list(targets.values())
    for listed in await listed_chats(app_ctx, opened):
        chat = listed.chat
        wanted = (not names and chat.type in GROUP_TYPES) or (private and is_person_chat(chat, me))
        if wanted:
            targets.setdefault(chat.id, chat)
    return list(targets.values())


async def _scan(
    reader: ChatReader, reads: list[tuple[Chat, tuple[Message, ...]]], me: Me, lexicon: TaskLexicon
) -> list[ChatTasks]:
    """Each chat read (but Saved Messages) scanned for ``me``; a chat whose older
    messages cannot be looked up is skipped like one that cannot be read."""
    from tgpilot.cli.sources import is_chat_failure, mine_lookup
    from tgpilot.services.ai.tasks import TaskScan, my_message_ids

    scan = TaskScan(me, lexicon)
    lookup = mine_lookup(reader.opened)
    found: list[ChatTasks] = []
    for chat, messages in reads:
        if chat.id in me.ids:  # Saved Messages
            continue
        try:
            mine = await my_message_ids(chat, messages, me, lookup)
        except TgpilotError as error:
            if not is_chat_failure(error):
                raise
            reader.skip(chat, error)
            continue
        found.append(scan.scan(chat, messages, mine))
    return found


async def find_tasks(
    app_ctx: AppContext,
    names: list[str],
    private: bool,
    spec: SourceSpec,
    window: MessageWindow,
    lexicon: TaskLexicon,
    job: ModelJob | None,
    *,
    with_transcripts: bool = False,
) -> TaskFindings:
    """Read the chats (named ones resolved first, else every group; private ones with
    ``private``), find me, scan each for tasks, questions and problems and, with a
    ``job``, let the model confirm the tasks; ``with_transcripts``: spoken messages read
    as their stored transcripts."""
    from tgpilot.cli.sources import ChatReader, live_account, open_source
    from tgpilot.services.ai.tasks import is_readable, me_of, outgoing_senders

    reads: list[tuple[Chat, tuple[Message, ...]]] = []
    async with open_source(app_ctx, spec, with_transcripts=with_transcripts) as opened:
        me = me_of(await live_account(opened), app_ctx.config.me)
        reader = ChatReader(app_ctx, opened, window, is_readable)
        for chat in await _targets(app_ctx, opened, names, private, me):
            read = await reader.read(chat)
            if read is not None:
                reads.append((chat, read))
        me = me.with_ids(outgoing_senders(m for _, messages in reads for m in messages))
        found = await _scan(reader, reads, me, lexicon)
    lost = {skipped.chat_id for skipped in reader.skipped}
    kept = [(chat, messages) for chat, messages in reads if chat.id not in lost]
    reader.fail_if_all_skipped(len(kept))
    by_key = {(chat.id, m.id): m for chat, messages in kept for m in messages}
    outcome = TaskFindings(me, found, by_key, tuple(reader.skipped))
    if job is None or not any(chat.tasks for chat in found):
        return outcome
    return await _with_model(app_ctx, outcome, job)


async def _with_model(app_ctx: AppContext, outcome: TaskFindings, job: ModelJob) -> TaskFindings:
    from tgpilot.services.ai.tasks.llm import tasks_with_llm

    config = app_ctx.config

    def show(plan: CallPlan) -> None:
        app_ctx.output.info(plan.describe())

    async with open_llm_client(app_ctx, COMMAND, job.flags, report_usage=True) as client:
        reviewed = await tasks_with_llm(
            outcome.chats,
            outcome.messages,
            outcome.me,
            client,
            job.prompts,
            retry_prompt=job.retry_prompt,
            tz=config.output.tz,
            concurrency=config.llm.concurrency,
            max_cost_usd=config.llm.max_cost_usd,
            fallback=config.llm.fallback,
            show_plan=show,
            anonymizer=job.anonymizer(),
        )
    review = reviewed.review
    return replace(outcome, chats=list(reviewed.chats), review=review, usage=review.usage)


def _finish(
    app_ctx: AppContext,
    outcome: TaskFindings,
    job: ModelJob | None,
    spec: SourceSpec,
    period: str,
    out_dir: Path,
    now: datetime,
    json_mode: bool,
) -> None:
    from tgpilot.services.ai.tasks import TasksReport, render_markdown
    from tgpilot.services.ai.tasks.report import REPORT_KIND, report_object

    tz = app_ctx.config.output.tz
    run = run_info(outcome.review, job, spec, period, now, outcome.skipped)
    report = TasksReport(tuple(outcome.chats), outcome.me, run)
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
