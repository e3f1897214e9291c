"""``tgpilot contacts analyze``: who you talk to privately and what you could offer
them (spec ai.md §4.6, §5).

Takes the ``--chats`` most recent private chats with people of ``--source`` (no bots,
not Saved Messages, not the service account 777000; offline sources are read whole
and ordered by their newest text) and reads each one's newest ``--limit`` texts over 5
characters, split into mine and theirs. Per contact: counts, the top 5 lexicon
topics, recent lines of both sides and a value suggestion — the first rule of
``contact_values.yml`` (replaceable in ``<data dir>/wordlists/``) matching *their*
texts, else "active contact, offer cooperation" above 20 texts, else "ask about
current needs". With a model the ``contacts`` prompt adds a summary, interests and a
next step, one call per contact after its cost plan. Local mode, degraded fallback,
raw answers and exit codes are those of ``tgpilot ideas``. The report is printed (or
its JSON) and written to ``--out`` as ``contacts_<YYYYMMDD-HHMMSS>.md`` and ``.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
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
)
from tgpilot.cli.llm_support import (
    LLMFlags,
    MaxTokensOpt,
    ModelOpt,
    ProviderOpt,
    TemperatureOpt,
    open_llm_client,
    usage_line,
)
from tgpilot.cli.options import JsonFlag
from tgpilot.cli.tasks_cmd import listed_chats, live_account

if TYPE_CHECKING:
    from tgpilot.models import Chat, Message
    from tgpilot.services.ai.analyze.lexicon import TopicLexicon
    from tgpilot.services.ai.budget import CallPlan
    from tgpilot.services.ai.contacts import ContactAnalysis, ValueRules
    from tgpilot.services.ai.ideas.review import ModelReview, RunInfo
    from tgpilot.services.sources import MessageWindow, SourceSpec

COMMAND = "contacts"
NO_CONTACTS = "no private chats with people to analyse"
ALL_TIME = "all time"
_OLDEST = datetime.min.replace(tzinfo=UTC)

app = typer.Typer(
    help="Contacts: analyse private chats with people (topics, what to offer them).",
    no_args_is_help=True,
)


@dataclass(frozen=True)
class _Outcome:
    """The run: every contact analysed, and the model's side."""

    contacts: list[ContactAnalysis]
    review: ModelReview[Any] | None = None


@app.command("analyze")
def analyze_command(
    ctx: typer.Context,
    chats: Annotated[
        int, typer.Option("--chats", min=1, help="How many recent private chats to analyse.")
    ] = 10,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Newest N texts per chat (0 = all).")
    ] = 50,
    source: SourceOpt = "telegram",
    out: OutOpt = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="Prompt name or .md path (default contacts).")
    ] = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Analyse your recent private chats: topics, recent lines, what to offer."""
    from tgpilot.services.ai.analyze.files import REPORTS_DIR
    from tgpilot.services.ai.analyze.lexicon import load_topics
    from tgpilot.services.ai.contacts import load_value_rules
    from tgpilot.services.sources import MessageWindow, parse_source

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    spec = parse_source(source)
    config = app_ctx.config
    now = app_ctx.runtime.clock.now()
    flags = LLMFlags(provider, model, temperature, max_tokens)
    job = model_job(app_ctx, COMMAND, flags, prompt, instead="using local heuristics only")
    override_dir = config.home / "wordlists"
    topics, rules = load_topics(override_dir), load_value_rules(override_dir)
    found = run_async(_read(app_ctx, spec, MessageWindow(limit=limit), chats, topics, rules))
    outcome = _Outcome(found)
    if job is not None and found:
        outcome = run_async(_with_model(app_ctx, found, job))
    _finish(app_ctx, outcome, job, spec, out or config.home / REPORTS_DIR, now, json_mode)


async def _read(
    app_ctx: AppContext,
    spec: SourceSpec,
    window: MessageWindow,
    count: int,
    topics: TopicLexicon,
    rules: ValueRules,
) -> list[ContactAnalysis]:
    """The ``count`` most recent conversations with people that hold texts, analysed."""
    from tgpilot.cli.sources import open_source
    from tgpilot.core.output import progress_bar
    from tgpilot.services.ai.contacts import (
        analyse_contact,
        is_conversation_text,
        recent_conversations,
    )
    from tgpilot.services.ai.tasks import is_person_chat, me_of, outgoing_senders
    from tgpilot.services.sources import read_window

    reads: list[tuple[Chat, tuple[Message, ...]]] = []
    async with open_source(app_ctx, spec) as opened:
        account = await live_account(opened)
        me = me_of(account, app_ctx.config.me)
        people = [c for c in await listed_chats(app_ctx, opened) if is_person_chat(c.chat, me)]
        if account is not None:  # live dialogs know their last message: read only those
            people.sort(key=lambda listed: listed.last_at or _OLDEST, reverse=True)
            people = people[:count]
        for listed in people:
            with progress_bar(app_ctx.output, f"reading {listed.chat.title}") as progress:
                read = await read_window(
                    opened.messages, listed.chat, window, is_conversation_text, progress=progress
                )
            reads.append((listed.chat, read.messages))
    me = me.with_ids(outgoing_senders(m for _, messages in reads for m in messages))
    recent = recent_conversations(reads, me.ids, count)
    return [analyse_contact(chat, messages, topics, rules) for chat, messages in recent]


async def _with_model(
    app_ctx: AppContext, contacts: list[ContactAnalysis], job: ModelJob
) -> _Outcome:
    from tgpilot.services.ai.contacts.llm import contacts_with_llm

    config = app_ctx.config
    out = app_ctx.output

    def show(title: str, plan: CallPlan) -> None:
        out.info(f"{title}: {plan.describe()}")

    async with open_llm_client(app_ctx, COMMAND, job.flags) as client:
        try:
            reviewed = await contacts_with_llm(
                contacts,
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
    return _Outcome(list(reviewed.contacts), reviewed.review)


def _run_info(outcome: _Outcome, job: ModelJob | None, spec: SourceSpec, now: datetime) -> RunInfo:
    from tgpilot.services.ai.ideas.review import RunInfo

    review = outcome.review
    if review is None or job is None:
        return RunInfo(generated_at=now, source=spec.label, period=ALL_TIME)
    prompt = job.prompts.single
    return RunInfo.reviewed(review, prompt, generated_at=now, source=spec.label, period=ALL_TIME)


def _finish(
    app_ctx: AppContext,
    outcome: _Outcome,
    job: ModelJob | None,
    spec: SourceSpec,
    out_dir: Path,
    now: datetime,
    json_mode: bool,
) -> None:
    from tgpilot.cli.llm_support import usage_json
    from tgpilot.services.ai.contacts import ContactsReport, render_markdown
    from tgpilot.services.ai.contacts.report import REPORT_KIND, report_object

    tz = app_ctx.config.output.tz
    run = _run_info(outcome, job, spec, now)
    report = ContactsReport(tuple(outcome.contacts), run)
    review = outcome.review
    usage = usage_json(review.usage) if review is not None else None
    document = report_object(report, tz, usage)
    if not outcome.contacts:
        publish_nothing(app_ctx, document, json_mode, NO_CONTACTS)
        return
    publish(
        app_ctx,
        kind=REPORT_KIND,
        now=now,
        out_dir=out_dir,
        run=run,
        review=review,
        markdown=render_markdown(report, tz),
        document=document,
        json_mode=json_mode,
    )
