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
next step, one call per contact after its cost plan; a conversation too long for the
model's window sends its newest texts that fit, and the report says how many.
``--anonymize`` sends pseudonyms and masked phones and e-mails to the model; the
report shows the real names. Local mode, degraded fallback, raw answers, skipped
chats and exit codes are those of ``tgpilot ideas``. The report is printed (or its
JSON) and written to ``--out`` as ``contacts_<YYYYMMDD-HHMMSS>.md`` and ``.json``.
``--with-transcripts`` reads voice, audio and round-video messages with a stored
transcript (``transcribe``) as texts, ``[voice message] …`` (spec ai.md §4.11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.ai_reports import OutOpt, TextsPerChatOpt, publish, publish_nothing, run_info
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
from tgpilot.cli.sources import SourceOpt, WithTranscriptsFlag

if TYPE_CHECKING:
    from pathlib import Path

    from tgpilot.models import Chat, Message
    from tgpilot.services.ai.analyze.lexicon import TopicLexicon
    from tgpilot.services.ai.budget import CallPlan
    from tgpilot.services.ai.contacts import ContactAnalysis, ValueRules
    from tgpilot.services.ai.review import ModelReview, SkippedChat
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
    """The run: every contact analysed, the chats skipped, and the model's side."""

    contacts: list[ContactAnalysis]
    skipped: tuple[SkippedChat, ...] = ()
    review: ModelReview[Any] | None = None


@app.command("analyze")
def analyze_command(
    ctx: typer.Context,
    chats: Annotated[
        int, typer.Option("--chats", min=1, help="How many recent private chats to analyse.")
    ] = 10,
    limit: TextsPerChatOpt = 50,
    source: SourceOpt = "telegram",
    out: OutOpt = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="Prompt name or .md path (default contacts).")
    ] = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    anonymize: AnonymizeFlag = False,
    with_transcripts: WithTranscriptsFlag = False,
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
    job = model_job(
        app_ctx,
        COMMAND,
        flags,
        prompt,
        instead="using local heuristics only",
        anonymize=anonymize,
    )
    override_dir = config.home / "wordlists"
    topics, rules = load_topics(override_dir), load_value_rules(override_dir)
    window = MessageWindow(limit=limit)
    outcome = run_async(_read(app_ctx, spec, window, chats, topics, rules, with_transcripts))
    if job is not None and outcome.contacts:
        outcome = run_async(_with_model(app_ctx, outcome, job))
    _finish(app_ctx, outcome, job, spec, out or config.home / REPORTS_DIR, now, json_mode)


async def _read(
    app_ctx: AppContext,
    spec: SourceSpec,
    window: MessageWindow,
    count: int,
    topics: TopicLexicon,
    rules: ValueRules,
    with_transcripts: bool,
) -> _Outcome:
    """The ``count`` most recent conversations with people that hold texts, analysed
    (``with_transcripts``: spoken messages read as their stored transcripts)."""
    from tgpilot.cli.sources import ChatReader, listed_chats, live_account, open_source
    from tgpilot.services.ai.contacts import (
        analyse_contact,
        is_conversation_text,
        recent_conversations,
    )
    from tgpilot.services.ai.tasks import is_person_chat, me_of, outgoing_senders

    reads: list[tuple[Chat, tuple[Message, ...]]] = []
    async with open_source(app_ctx, spec, with_transcripts=with_transcripts) as opened:
        account = await live_account(opened)
        me = me_of(account, app_ctx.config.me)
        people = [c for c in await listed_chats(app_ctx, opened) if is_person_chat(c.chat, me)]
        if account is not None:  # live dialogs know their last message: read only those
            people.sort(key=lambda listed: listed.last_at or _OLDEST, reverse=True)
            people = people[:count]
        reader = ChatReader(app_ctx, opened, window, is_conversation_text)
        for listed in people:
            read = await reader.read(listed.chat)
            if read is not None:
                reads.append((listed.chat, read))
    reader.fail_if_all_skipped(len(reads))
    me = me.with_ids(outgoing_senders(m for _, messages in reads for m in messages))
    recent = recent_conversations(reads, me.ids, count)
    found = [analyse_contact(chat, messages, topics, rules) for chat, messages in recent]
    return _Outcome(found, tuple(reader.skipped))


async def _with_model(app_ctx: AppContext, outcome: _Outcome, job: ModelJob) -> _Outcome:
    from tgpilot.services.ai.contacts.llm import contacts_with_llm
    from tgpilot.services.ai.contacts.report import cut_notice

    config = app_ctx.config
    out = app_ctx.output

    def show(title: str, plan: CallPlan) -> None:
        out.info(f"{title}: {plan.describe()}")

    async with open_llm_client(app_ctx, COMMAND, job.flags, report_usage=True) as client:
        reviewed = await contacts_with_llm(
            outcome.contacts,
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
    for contact in reviewed.contacts:
        if contact.model_cut:
            out.warn(f"{contact.chat.title}: {cut_notice(contact)}")
    return _Outcome(list(reviewed.contacts), outcome.skipped, reviewed.review)


def _finish(
    app_ctx: AppContext,
    outcome: _Outcome,
    job: ModelJob | None,
    spec: SourceSpec,
    out_dir: Path,
    now: datetime,
    json_mode: bool,
) -> None:
    from tgpilot.services.ai.contacts import ContactsReport, render_markdown
    from tgpilot.services.ai.contacts.report import REPORT_KIND, report_object

    tz = app_ctx.config.output.tz
    review = outcome.review
    run = run_info(review, job, spec, ALL_TIME, now, outcome.skipped)
    report = ContactsReport(tuple(outcome.contacts), run)
    usage = usage_json(review.usage) if review is not None else None
    document = report_object(report, tz, usage)
    if not outcome.contacts:
        publish_nothing(app_ctx, document, json_mode, NO_CONTACTS, partial=run.partial)
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
