"""``tgpilot linear sync FILE`` and ``tgpilot linear from-chats``: issues planned from a
backlog file or from tasks found in chats (spec linear-and-bots.md §1.5, §1.6).

Both print a plan and change nothing without ``--yes`` (``--plan-out FILE`` also saves
it as JSON, owner-readable only); with ``--yes`` the mutations are sent one by one
through the issue service (safe creates, audit log) and the summary decides the exit
code: 0, 3 when some failed (1 when all did). The services are
:mod:`tgpilot.services.linear.backlog` and :mod:`tgpilot.services.linear.from_chats`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from tgpilot.cli.ai_reports import DaysOpt
from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.linear_cmd import TeamOpt, issue_service, open_linear
from tgpilot.cli.llm_support import LLMFlags, ModelOpt, ProviderOpt, model_job
from tgpilot.cli.options import JsonFlag, YesFlag
from tgpilot.cli.plans import PlanOutOpt
from tgpilot.cli.sources import SourceOpt, WithTranscriptsFlag
from tgpilot.core.errors import PartialFailure
from tgpilot.core.output import atomic_write

if TYPE_CHECKING:
    from tgpilot.core.output import Output
    from tgpilot.services.linear.backlog import SyncPlan, SyncResult
    from tgpilot.services.linear.from_chats import FromChats, FromChatsPlan, FromChatsResult
    from tgpilot.services.linear.saved_plans import SavedApplyReport


def _save(app_ctx: AppContext, path: Path | None, document: dict[str, Any]) -> None:
    """Write the plan for ``tgpilot apply`` (atomically, owner-readable only)."""
    from tgpilot.core.output import iso_time
    from tgpilot.services.linear.saved_plans import stamp

    if path is None:
        return
    created = iso_time(app_ctx.runtime.clock.now())
    saved = stamp(document, account=app_ctx.config.account, created_at=created)
    with atomic_write(path, mode=0o600) as handle:
        handle.write(orjson.dumps(saved, option=orjson.OPT_INDENT_2).decode() + "\n")


def _finish(out: Output, done: int, failed: list[tuple[str, str]], skipped: int = 0) -> None:
    for what, reason in failed:
        out.warn(f"failed: {what}: {reason}")
    out.info(f"done {done}, skipped {skipped}, failed {len(failed)}")
    if failed:
        raise PartialFailure(done, skipped, len(failed))


# ---------------------------------------------------------------------------- sync


def sync(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Backlog YAML: team, source, defaults, items.")],
    only: Annotated[
        str | None, typer.Option("--only", help="Only the items of this category.")
    ] = None,
    create_only: Annotated[
        bool, typer.Option("--create-only", help="Create missing issues; update none.")
    ] = False,
    yes: YesFlag = False,
    plan_out: PlanOutOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Make the team's issues match a backlog file (create, update, close)."""
    from tgpilot.services.linear.backlog import BacklogSync, load_backlog
    from tgpilot.store.linear import LinearLinkRepository

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    backlog = load_backlog(file)
    backlog.selected(only)  # an unknown category fails before any request

    async def go() -> tuple[SyncPlan, SyncResult | None]:
        async with open_linear(app_ctx) as client, app_ctx.open_store() as store:
            links = LinearLinkRepository(store, app_ctx.runtime.clock)
            syncer = BacklogSync(issue_service(app_ctx, client), links)
            plan = await syncer.plan(backlog, only=only, create_only=create_only)
            _save(app_ctx, plan_out, plan.to_json())
            if not yes:
                return plan, None
            return plan, await syncer.apply(plan, backlog)

    plan, result = run_async(go())
    _show_sync(app_ctx, plan, result, plan_out, json_mode)


def _show_sync(
    app_ctx: AppContext,
    plan: SyncPlan,
    result: SyncResult | None,
    plan_out: Path | None,
    json_mode: bool,
) -> None:
    from tgpilot.services.linear.backlog import describe_counts

    out = app_ctx.output
    failed = [(a.key, reason) for a, reason in result.failed] if result is not None else []
    if json_mode:
        document = {**plan.to_json(), "applied": result is not None}
        if plan_out is not None:
            document["saved_to"] = str(plan_out)
        if result is not None:
            document["done"] = len(result.done)
            document["failed"] = [{"key": key, "reason": reason} for key, reason in failed]
        out.emit_json(document)
    else:
        for action in plan.actions:
            out.line(action.describe())
        out.info(f"plan: {describe_counts(plan.counts())}")
        if plan_out is not None:
            out.info(f"plan saved to {plan_out}")
    if result is None:
        if plan.mutations:
            out.info("nothing was changed; rerun with --yes to apply")
        return
    if not json_mode or failed:
        _finish(out, len(result.done), failed)


# ---------------------------------------------------------------------------- from-chats


def from_chats(
    ctx: typer.Context,
    chat: Annotated[
        list[str] | None,
        typer.Option("--chat", help="Chat to scan (repeatable; default: every group)."),
    ] = None,
    days: DaysOpt = 3,
    source: SourceOpt = "telegram",
    team: TeamOpt = None,
    include_similar: Annotated[
        bool,
        typer.Option("--include-similar", help="Also create tasks ≥ 0.9 similar to linked ones."),
    ] = False,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    embeddings: Annotated[
        str | None,
        typer.Option("--embeddings", help="Embedding provider for the similarity check."),
    ] = None,
    with_transcripts: WithTranscriptsFlag = False,
    yes: YesFlag = False,
    plan_out: PlanOutOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Turn tasks found in chats into Linear issues, without duplicates."""
    from tgpilot.cli.tasks_cmd import COMMAND as TASKS_COMMAND
    from tgpilot.cli.tasks_cmd import find_tasks
    from tgpilot.services.ai.tasks import TaskLexicon
    from tgpilot.services.sources import message_window, parse_source

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    config = app_ctx.config
    spec = parse_source(source)
    window = message_window(app_ctx.runtime.clock.now(), days=days, limit=100, tz=config.output.tz)
    job = model_job(
        app_ctx,
        TASKS_COMMAND,
        LLMFlags(provider, model),
        instead="using local heuristics only",
        anonymize=False,
    )
    lexicon = TaskLexicon.load(config.home / "wordlists")
    names = [name.strip() for name in chat or () if name.strip()]
    findings = run_async(
        find_tasks(
            app_ctx, names, False, spec, window, lexicon, job, with_transcripts=with_transcripts
        )
    )
    signals = [signal for found in findings.chats for signal in found.tasks]
    chats = {found.chat.id: found.chat for found in findings.chats}
    for skipped in findings.skipped:
        app_ctx.output.warn(f"skipped {skipped.title}: {skipped.error}")

    async def go() -> tuple[FromChatsPlan, FromChatsResult | None]:
        async with from_chats_service(app_ctx, embeddings) as service:
            plan = await service.plan(signals, chats, team=team, include_similar=include_similar)
            _save(app_ctx, plan_out, {**plan.to_json(), "embeddings": embeddings})
            return plan, (await service.apply(plan) if yes else None)

    plan, result = run_async(go())
    _show_from_chats(app_ctx, plan, result, plan_out, json_mode)


@asynccontextmanager
async def from_chats_service(
    app_ctx: AppContext, embeddings: str | None
) -> AsyncIterator[FromChats]:
    """The from-chats service: Linear, the store's links and the linked tasks' vectors."""
    from tgpilot.gateways.llm.embeddings_factory import create_embedder
    from tgpilot.gateways.vectors import open_vector_store
    from tgpilot.services.linear.from_chats import FromChats
    from tgpilot.services.linear.task_vectors import QdrantTaskVectors
    from tgpilot.store.linear import LinearLinkRepository
    from tgpilot.store.llm import LLMRepository

    config = app_ctx.config
    clock = app_ctx.runtime.clock
    async with open_linear(app_ctx) as client, app_ctx.open_store() as store:
        embedder = create_embedder(
            config, "linear", clock=clock, provider=embeddings, recorder=LLMRepository(store)
        )
        async with embedder, open_vector_store(config) as vectors:
            yield FromChats(
                issue_service(app_ctx, client),
                LinearLinkRepository(store, clock),
                QdrantTaskVectors(vectors, embedder),
                now=clock.now,
                tz=config.output.tz,
            )


def _show_from_chats(
    app_ctx: AppContext,
    plan: FromChatsPlan,
    result: FromChatsResult | None,
    plan_out: Path | None,
    json_mode: bool,
) -> None:
    out = app_ctx.output
    failed = (
        [(f"{c.signal.chat_title} #{c.signal.message_id}", r) for c, r in result.failed]
        if result is not None
        else []
    )
    if json_mode:
        document = {**plan.to_json(), "applied": result is not None}
        if plan_out is not None:
            document["saved_to"] = str(plan_out)
        if result is not None:
            document["created"] = [
                {"message_id": c.signal.message_id, "chat_id": c.signal.chat_id}
                | {"issue": issue.identifier, "url": issue.url}
                for c, issue in result.created
            ]
            document["failed"] = [{"message": what, "reason": why} for what, why in failed]
        out.emit_json(document)
    else:
        for candidate in plan.candidates:
            where = f"{candidate.signal.chat_title} #{candidate.signal.message_id}"
            note = ""
            if candidate.verdict == "duplicate":
                note = f"  [same text as {candidate.issue_id or candidate.duplicate_of}]"
            elif candidate.verdict == "similar":
                note = f"  [possible duplicate of {candidate.issue_id}, {candidate.score:.2f}]"
                if not plan.include_similar:
                    note += " (left out; --include-similar creates it)"
            elif candidate.verdict == "skip":
                note = f"  [already linked to {candidate.issue_id or 'a pending create'}]"
            out.line(f"{candidate.verdict} {where}: {candidate.title}{note}")
        counts = plan.counts()
        out.info(", ".join(f"{n} {kind}" for kind, n in counts.items()))
        if plan_out is not None:
            out.info(f"plan saved to {plan_out}")
    if result is None:
        if plan.to_create:
            out.info("nothing was changed; rerun with --yes to create the issues")
        return
    if not json_mode:
        for candidate, issue in result.created:
            out.line(f"{issue.identifier} {issue.url}  ← {candidate.signal.chat_title}")
    if not json_mode or failed:
        _finish(out, len(result.created), failed)


# ---------------------------------------------------------------------------- apply


def apply_saved(app_ctx: AppContext, path: Path, yes: bool) -> None:
    """``tgpilot apply FILE`` for a Linear plan: without ``yes`` show it; with it apply
    every item after re-checking it (see :mod:`tgpilot.services.linear.saved_plans`)."""
    from tgpilot.services.linear import saved_plans

    document = saved_plans.load(path, app_ctx.config.account)
    out = app_ctx.output
    if not yes:
        if out.json_mode:
            out.emit_json({**document, "applied": False})
            return
        for item in document.get("actions") or document.get("candidates") or ():
            out.line(f"{item.get('action')} {item.get('key')}: {item.get('title')}")
        out.info("nothing was changed; rerun with --yes to apply")
        return

    async def go() -> SavedApplyReport:
        from tgpilot.store.linear import LinearLinkRepository

        if document["kind"] == saved_plans.SYNC_KIND:
            async with open_linear(app_ctx) as client, app_ctx.open_store() as store:
                links = LinearLinkRepository(store, app_ctx.runtime.clock)
                return await saved_plans.apply_sync(document, issue_service(app_ctx, client), links)
        embeddings = document.get("embeddings")
        provider = embeddings if isinstance(embeddings, str) else None
        async with from_chats_service(app_ctx, provider) as service:
            return await saved_plans.apply_from_chats(document, service)

    report = run_async(go())
    if out.json_mode:
        out.emit_json({"kind": document["kind"], "applied": True, **report.to_json()})
    else:
        for item in report.done:
            out.line(f"done {item}")
        for item, reason in report.skipped:
            out.line(f"skipped {item}: {reason}")
    if not out.json_mode or report.failed:
        _finish(out, len(report.done), report.failed, len(report.skipped))
