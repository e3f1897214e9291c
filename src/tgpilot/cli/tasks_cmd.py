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
date and a priority, after a cost plan on stderr. Local mode, degraded fallback, raw
answers and exit codes are those of ``tgpilot ideas``. The report is printed (or its
JSON) and written to ``--out`` as ``tasks_<YYYYMMDD-HHMMSS>.md`` and ``.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.ideas_cmd import (
    ModelJob,
    OutOpt,
    SourceOpt,
    model_job,
    publish,
    publish_nothing,
    run_info,
    split_chats,
)
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
from tgpilot.core.errors import UsageError
from tgpilot.models import Chat, ChatType

if TYPE_CHECKING:
    from tgpilot.cli.sources import OpenSource
    from tgpilot.gateways.llm.types import UsageTotals
    from tgpilot.models import Account, Message
    from tgpilot.services.ai.budget import CallPlan
    from tgpilot.services.ai.ideas.review import ModelReview
    from tgpilot.services.ai.tasks import ChatTasks, Me, TaskLexicon
    from tgpilot.services.ai.tasks.local import MineLookup
    from tgpilot.services.sources import MessageWindow, SourceSpec

COMMAND = "tasks"
DEFAULT_DAYS = 3
GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)


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

    source = opened.messages
    if isinstance(source, TelegramGateway):
        return [ListedChat(d.chat, d.last_message_at) for d in await source.list_dialogs(None)]
    if isinstance(source, DesktopExportSource):
        return [ListedChat(chat) for chat in source.chats]
    async with app_ctx.open_store() as store:
        return [ListedChat(chat) for chat in await store.known_chats()]


async def live_account(opened: OpenSource) -> Account | None:
    """The logged-in account of a live source (None offline)."""
    from tgpilot.gateways.telegram.gateway import TelegramGateway

    if isinstance(opened.messages, TelegramGateway):
        return await opened.messages.me()
    return None


def mine_lookup(opened: OpenSource) -> MineLookup | None:
    """Which message ids of a chat are the account's, asked of the live account."""
    from tgpilot.gateways.telegram.gateway import TelegramGateway

    gateway = opened.messages
    if not isinstance(gateway, TelegramGateway):
        return None

    async def lookup(chat: Chat, ids: Sequence[int]) -> set[int]:
        found = await gateway.get_messages(chat, ids)
        return {m.id for m in found if m is not None and m.is_outgoing}

    return lookup


@dataclass(frozen=True)
class _Outcome:
    """The run: me, every chat's findings, their messages, and the model's side."""

    me: Me
    chats: list[ChatTasks]
    messages: dict[tuple[int, int], Message]
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
    days: Annotated[
        int, typer.Option("--days", min=0, help="The last N days (0 = no cutoff).")
    ] = DEFAULT_DAYS,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Newest N texts per chat (0 = all).")
    ] = 100,
    source: SourceOpt = "telegram",
    out: OutOpt = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="Prompt name or .md path (default tasks).")
    ] = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
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
    job = model_job(app_ctx, COMMAND, flags, prompt, instead="using local heuristics only")
    lexicon = TaskLexicon.load(config.home / "wordlists")
    outcome = run_async(_run(app_ctx, names, private, spec, window, lexicon, job))
    out_dir = out or config.home / REPORTS_DIR
    _finish(app_ctx, outcome, job, spec, window, out_dir, now, json_mode)


async def _targets(
    app_ctx: AppContext, opened: OpenSource, names: list[str], private: bool, me: Me
) -> list[Chat]:
    """The named chats (all resolved first), else every group; private chats added."""
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


async def _run(
    app_ctx: AppContext,
    names: list[str],
    private: bool,
    spec: SourceSpec,
    window: MessageWindow,
    lexicon: TaskLexicon,
    job: ModelJob | None,
) -> _Outcome:
    from tgpilot.cli.sources import open_source
    from tgpilot.core.output import progress_bar
    from tgpilot.services.ai.tasks import (
        TaskScan,
        is_readable,
        me_of,
        my_message_ids,
        outgoing_senders,
    )
    from tgpilot.services.sources import read_window

    reads: list[tuple[Chat, tuple[Message, ...]]] = []
    async with open_source(app_ctx, spec) as opened:
        me = me_of(await live_account(opened), app_ctx.config.me)
        for chat in await _targets(app_ctx, opened, names, private, me):
            with progress_bar(app_ctx.output, f"reading {chat.title}") as progress:
                read = await read_window(
                    opened.messages, chat, window, is_readable, progress=progress
                )
            reads.append((chat, read.messages))
        me = me.with_ids(outgoing_senders(m for _, messages in reads for m in messages))
        scan = TaskScan(me, lexicon)
        lookup = mine_lookup(opened)
        found: list[ChatTasks] = []
        for chat, messages in reads:
            if chat.id in me.ids:  # Saved Messages
                continue
            mine = await my_message_ids(chat, messages, me, lookup)
            found.append(scan.scan(chat, messages, mine))
    by_key = {(chat.id, m.id): m for chat, messages in reads for m in messages}
    outcome = _Outcome(me, found, by_key)
    if job is None or not any(chat.tasks for chat in found):
        return outcome
    return await _with_model(app_ctx, outcome, job)


async def _with_model(app_ctx: AppContext, outcome: _Outcome, job: ModelJob) -> _Outcome:
    from tgpilot.services.ai.tasks.llm import tasks_with_llm

    config = app_ctx.config
    out = app_ctx.output

    def show(plan: CallPlan) -> None:
        out.info(plan.describe())

    async with open_llm_client(app_ctx, COMMAND, job.flags) as client:
        try:
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
            )
        finally:
            if client.records:
                out.info(usage_line(client.usage_summary()))
    review = reviewed.review
    return _Outcome(outcome.me, list(reviewed.chats), outcome.messages, review, review.usage)


def _finish(
    app_ctx: AppContext,
    outcome: _Outcome,
    job: ModelJob | None,
    spec: SourceSpec,
    window: MessageWindow,
    out_dir: Path,
    now: datetime,
    json_mode: bool,
) -> None:
    from tgpilot.services.ai.tasks import TasksReport, render_markdown
    from tgpilot.services.ai.tasks.report import REPORT_KIND, report_object

    tz = app_ctx.config.output.tz
    run = run_info(app_ctx, outcome.review, job, spec, window, now)
    report = TasksReport(tuple(outcome.chats), outcome.me, run)
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
