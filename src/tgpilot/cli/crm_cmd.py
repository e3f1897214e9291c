"""``tgpilot crm extract|list|export``: contacts, deals and action items from chats.

``extract CHAT`` reads the chat's newest ``--limit`` texts (within ``--days``) from
``--source`` (live Telegram, the store or a Telegram Desktop export) and extracts them
with the model through the ``crm`` prompt, after a cost plan on stderr; with
``--provider local`` (or no key: a notice) contacts come from patterns — phones,
e-mails, @usernames and URLs attributed to their sender — and no deals are found. The
records are upserted into the store by natural key with their provenance, so a re-run
changes nothing (spec ai.md §4.3, §5). No messages: an empty result, no call, exit 0.
Exit 3 when the model's answer was unusable twice (saved as ``<base>.crm.raw.txt``, the
pattern extraction stored instead), cut, stopped by the spend limit, or the provider
failed under ``llm.fallback: local``. ``--anonymize`` sends pseudonyms and masked phones
and e-mails to the model; the stored records hold the real values.
``--with-transcripts`` reads voice, audio and round-video messages with a stored
transcript (``transcribe``) as texts, ``[voice message] …`` (spec ai.md §4.11).

``list contacts|deals|actions`` shows the stored records; ``export … --csv FILE``
writes them as CSV (``--excel`` adds a BOM).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.ai_reports import problem_line, save_raw
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
from tgpilot.cli.options import CHAT_ARGUMENT_SETTINGS, JsonFlag, chat_argument
from tgpilot.cli.sources import SourceOpt, WithTranscriptsFlag
from tgpilot.core.errors import EXIT_PARTIAL, UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from tgpilot.models import Chat, Message
    from tgpilot.services.ai.budget import CallPlan
    from tgpilot.services.ai.crm import CrmResult
    from tgpilot.services.ai.crm.llm import LLMExtraction
    from tgpilot.services.ai.crm.table import Kind, Record
    from tgpilot.services.sources import MessageWindow, SourceSpec
    from tgpilot.store.crm import CrmCounts

COMMAND = "crm"
RAW_SUFFIX = ".crm.raw.txt"
NO_MESSAGES = "no messages to extract from"

app = typer.Typer(
    help="CRM: extract contacts, deals and action items from chats; list and export them.",
    no_args_is_help=True,
)

KindArg = Annotated[str, typer.Argument(help="contacts, deals or actions.")]


@dataclass(frozen=True)
class _Outcome:
    """One extraction: the chat, its messages, the result and the model's side."""

    chat: Chat
    messages: tuple[Message, ...]
    result: CrmResult
    llm: LLMExtraction | None = None


@app.command("extract", context_settings=CHAT_ARGUMENT_SETTINGS)
def extract_command(
    ctx: typer.Context,
    chat: Annotated[
        str, typer.Argument(help="Chat: alias, link, @username, id, or a title (store/export).")
    ],
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Newest N messages (0 = all).")
    ] = 100,
    days: Annotated[
        int | None, typer.Option("--days", min=0, help="Last N days (default: no cutoff).")
    ] = None,
    source: SourceOpt = "telegram",
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="Prompt name or .md path (default crm).")
    ] = None,
    anonymize: AnonymizeFlag = False,
    with_transcripts: WithTranscriptsFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Extract contacts, deals and action items from a chat into the store."""
    from tgpilot.services.sources import message_window, parse_source

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    name = chat_argument(chat) or ""
    if not name.strip():
        raise UsageError("give a CHAT")
    spec = parse_source(source)
    now = app_ctx.runtime.clock.now()
    window = message_window(now, days=days, limit=limit, tz=app_ctx.config.output.tz)
    flags = LLMFlags(provider, model, temperature, max_tokens)
    job = model_job(
        app_ctx,
        COMMAND,
        flags,
        prompt,
        instead="extracting contacts by patterns instead",
        anonymize=anonymize,
    )
    outcome = run_async(_extract(app_ctx, name, spec, window, job, with_transcripts))
    counts = run_async(_save(app_ctx, outcome, now)) if outcome.messages else None
    raw_path = _save_raw(app_ctx, outcome, now)
    _report(app_ctx, outcome, counts, raw_path, json_mode)
    if outcome.llm is not None and outcome.llm.problem is not None:
        raise typer.Exit(EXIT_PARTIAL)


def _keeps(message: Message) -> bool:
    return not message.is_service and bool(message.text.strip())


async def _extract(
    app_ctx: AppContext,
    name: str,
    spec: SourceSpec,
    window: MessageWindow,
    job: ModelJob | None,
    with_transcripts: bool,
) -> _Outcome:
    from tgpilot.cli.sources import open_source
    from tgpilot.core.output import progress_bar
    from tgpilot.services.ai.crm import CrmResult, extract_locally
    from tgpilot.services.sources import read_window

    async with open_source(app_ctx, spec, with_transcripts=with_transcripts) as opened:
        chat = await opened.resolve(name)
        with progress_bar(app_ctx.output, f"reading {chat.title}") as progress:
            read = await read_window(opened.messages, chat, window, _keeps, progress=progress)
    messages = read.messages
    if not messages:
        return _Outcome(chat, messages, CrmResult())
    if job is None:
        return _Outcome(chat, messages, extract_locally(chat.id, messages))
    return await _with_model(app_ctx, chat, messages, job)


async def _with_model(
    app_ctx: AppContext, chat: Chat, messages: tuple[Message, ...], job: ModelJob
) -> _Outcome:
    from tgpilot.services.ai.crm.llm import extract_with_llm

    config = app_ctx.config

    def show(plan: CallPlan) -> None:
        app_ctx.output.info(f"{chat.title}: {plan.describe()}")

    async with open_llm_client(app_ctx, COMMAND, job.flags, report_usage=True) as client:
        extraction = await extract_with_llm(
            chat,
            messages,
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
    return _Outcome(chat, messages, extraction.result, extraction)


async def _save(app_ctx: AppContext, outcome: _Outcome, now: datetime) -> CrmCounts:
    from tgpilot.store.crm import CrmRepository, Provenance

    result = outcome.result
    model = outcome.llm.model if outcome.llm is not None and result.method == "llm" else None
    provenance = Provenance(outcome.chat.id, outcome.chat.title, now, result.method, model)
    async with app_ctx.open_store() as store:
        return await CrmRepository(store).save(
            provenance, result.contacts, result.deals, result.actions
        )


def _save_raw(app_ctx: AppContext, outcome: _Outcome, now: datetime) -> Path | None:
    """The unusable answers as ``<data dir>/reports/<slug>_<id>_<stamp>.crm.raw.txt``."""
    from tgpilot.services.ai.analyze.files import REPORTS_DIR, report_stem

    if outcome.llm is None:
        return None
    name = f"{report_stem(outcome.chat, now)}{RAW_SUFFIX}"
    return save_raw(app_ctx.config.home / REPORTS_DIR / name, outcome.llm.raw)


def _report(
    app_ctx: AppContext,
    outcome: _Outcome,
    counts: CrmCounts | None,
    raw_path: Path | None,
    json_mode: bool,
) -> None:
    from tgpilot.services.ai.crm.table import record_json

    out = app_ctx.output
    result, llm = outcome.result, outcome.llm
    if llm is not None and llm.problem is not None:
        fallback = "; contacts were extracted by patterns" if result.method == "regex" else ""
        out.warn(f"{outcome.chat.title}: {problem_line(llm.problem, raw_path)}{fallback}")
    if json_mode:
        document: dict[str, Any] = {
            "chat_id": outcome.chat.id,
            "chat_name": outcome.chat.title,
            "messages": len(outcome.messages),
            "method": result.method,
            "provider": LOCAL if llm is None else llm.provider,
            "model": None if llm is None else llm.model,
            "status": LOCAL if llm is None else llm.status,
            "degraded": llm.degraded if llm is not None else False,
            "summary": result.summary,
            "sentiment": result.sentiment,
            "contacts": [record_json(c) for c in result.contacts],
            "deals": [record_json(d) for d in result.deals],
            "actions": [record_json(a) for a in result.actions],
            "saved": _counts_json(counts),
            "raw": str(raw_path) if raw_path is not None else None,
            "problem": llm.problem if llm is not None else None,
            "usage": usage_json(llm.usage) if llm is not None else None,
        }
        out.emit_json(document)
        return
    if not outcome.messages:
        out.line(NO_MESSAGES)
        return
    out.line(f"{outcome.chat.title}: {len(outcome.messages)} messages ({result.method})")
    if result.summary:
        out.line(f"Summary: {result.summary}")
    out.line(f"Sentiment: {result.sentiment_label}")
    _print_records(app_ctx, "contacts", result.contacts)
    _print_records(app_ctx, "deals", result.deals)
    _print_records(app_ctx, "actions", result.actions)
    if counts is not None:
        out.info(_describe_counts(counts))


def _counts_json(counts: CrmCounts | None) -> dict[str, dict[str, int]] | None:
    if counts is None:
        return None
    return {
        kind: {"inserted": c.inserted, "updated": c.updated, "unchanged": c.unchanged}
        for kind, c in (
            ("contacts", counts.contacts),
            ("deals", counts.deals),
            ("actions", counts.actions),
        )
    }


def _describe_counts(counts: CrmCounts) -> str:
    parts = []
    for kind, c in (
        ("contacts", counts.contacts),
        ("deals", counts.deals),
        ("actions", counts.actions),
    ):
        parts.append(f"{kind} {c.inserted} new, {c.updated} updated, {c.unchanged} unchanged")
    return "saved: " + "; ".join(parts)


def _describe(record: Record) -> str:
    """One line for a record."""
    from tgpilot.store.crm import CrmContact, CrmDeal

    if isinstance(record, CrmContact):
        details = [record.company, record.role, record.phone, record.email, record.telegram]
        extra = ", ".join(d for d in details if d)
        return f"{record.name or '—'}" + (f" ({extra})" if extra else "")
    if isinstance(record, CrmDeal):
        value = f", {record.value:g} {record.currency or ''}".rstrip() if record.value else ""
        deadline = f", by {record.deadline.isoformat()}" if record.deadline else ""
        return f"{record.title} [{record.stage}{value}{deadline}]"
    who = f" — {record.assignee}" if record.assignee else ""
    due = f" (due {record.due_date.isoformat()})" if record.due_date else ""
    return f"{record.task}{who}{due}"


def _print_records(app_ctx: AppContext, kind: str, records: Sequence[Record]) -> None:
    out = app_ctx.output
    out.line(f"{kind.capitalize()} ({len(records)}):")
    for record in records:
        out.line(f"  - {_describe(record)}")


def _kind(value: str) -> Kind:
    from tgpilot.services.ai.crm.table import KINDS

    for kind in KINDS:
        if value.strip().lower() == kind:
            return kind
    raise UsageError(f"unknown record kind {value!r}", hint="use contacts, deals or actions")


async def _stored(app_ctx: AppContext, kind: Kind) -> list[Record]:
    from tgpilot.store.crm import CrmRepository

    async with app_ctx.open_store() as store:
        repository = CrmRepository(store)
        if kind == "contacts":
            return list(await repository.contacts())
        if kind == "deals":
            return list(await repository.deals())
        return list(await repository.actions())


@app.command("list")
def list_command(ctx: typer.Context, kind: KindArg, json_flag: JsonFlag = False) -> None:
    """List the stored contacts, deals or action items."""
    from tgpilot.services.ai.crm.table import record_json

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    chosen = _kind(kind)
    records = run_async(_stored(app_ctx, chosen))
    if json_mode:
        app_ctx.output.emit_json({chosen: [record_json(r) for r in records]})
        return
    _print_records(app_ctx, chosen, records)


@app.command("export")
def export_command(
    ctx: typer.Context,
    kind: KindArg,
    csv_file: Annotated[Path, typer.Option("--csv", help="The CSV file to write.")],
    excel: Annotated[
        bool, typer.Option("--excel", help="Start the file with a BOM, for Excel.")
    ] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Export the stored contacts, deals or action items as CSV."""
    from tgpilot.services.ai.crm.table import write_csv

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    chosen = _kind(kind)
    records = run_async(_stored(app_ctx, chosen))
    path = write_csv(csv_file, chosen, records, excel=excel)
    if json_mode:
        app_ctx.output.emit_json({"kind": chosen, "rows": len(records), "file": str(path)})
    else:
        app_ctx.output.line(f"{len(records)} {chosen} written to {path}")
