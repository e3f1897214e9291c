"""``tgpilot viral import|list|send|stats``: prepared questions posted to chats, measured.

``import`` and ``list`` use the store only; ``send`` plans the ``active`` questions
(``--yes`` sends them, ``--plan-out`` saves the plan for ``tgpilot apply``); ``stats``
reads back the reactions and replies of what was sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag, YesFlag
from tgpilot.cli.plans import (
    DelayHelp,
    PlanOutOpt,
    apply_plan,
    plan_context,
    save_plan,
    show_plan,
    show_report,
)
from tgpilot.core.errors import UsageError
from tgpilot.core.output import human_time

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.services.actions.executor import ActionHandler, ApplyReport
    from tgpilot.services.actions.pacing import Pacing
    from tgpilot.services.actions.plan import Plan
    from tgpilot.services.viral.importing import QuestionsFile
    from tgpilot.services.viral.stats import StatsReport
    from tgpilot.store.viral import ViralImportCounts, ViralQuestion, ViralRepository

DEFAULT_DELAY = 3.0

app = typer.Typer(
    help="Viral questions: import them, plan and send the active ones, measure the response.",
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(help="A questions file (YAML: chats, questions).")]


@app.command("import")
def import_command(ctx: typer.Context, file: FileArg, json_flag: JsonFlag = False) -> None:
    """Upsert a questions file's chats (by key) and questions (by chat and text)."""
    from tgpilot.services.viral.importing import load_questions_file

    app_ctx: AppContext = ctx.obj
    app_ctx.use_json(json_flag)
    questions_file = load_questions_file(file)

    async def go() -> ViralImportCounts:
        async with stored_questions(app_ctx) as repository:
            return await _import(app_ctx, repository, questions_file)

    counts = run_async(go())
    out = app_ctx.output
    if out.json_mode:
        out.emit_json({"chats": counts.chats, "questions": counts.questions})
    else:
        out.line(_describe_import(counts))


@app.command("list")
def list_command(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only these: draft | active | sent | archived."),
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """List the questions, highest priority first."""
    from tgpilot.services.viral.send import text_preview
    from tgpilot.store.viral import QuestionStatus

    app_ctx: AppContext = ctx.obj
    app_ctx.use_json(json_flag)
    allowed = [s.value for s in QuestionStatus]
    if status is not None and status not in allowed:
        raise UsageError(f"--status must be one of {', '.join(allowed)} (got {status!r})")
    wanted = QuestionStatus(status) if status is not None else None

    async def go() -> list[ViralQuestion]:
        async with stored_questions(app_ctx) as repository:
            return await repository.questions(wanted)

    questions = run_async(go())
    out = app_ctx.output
    if out.json_mode:
        out.emit_json({"questions": questions})
        return
    tz = app_ctx.config.output.tz
    for q in questions:
        line = f"#{q.id} [{q.status.value}] {q.chat_key} p{q.priority}: {text_preview(q.text)}"
        if q.sent_at is not None:
            line += f"  (sent {human_time(q.sent_at, tz)} as #{q.sent_message_id}"
            if q.reactions_received is not None:
                line += f"; {q.reactions_received} reactions, {q.comments_received} comments"
            line += ")"
        if q.last_error:
            line += f"  [last error: {q.last_error}]"
        out.line(line)
    out.info(f"{len(questions)} question(s)")


@app.command("send")
def send_command(
    ctx: typer.Context,
    chat: Annotated[
        str | None, typer.Option("--chat", help="Only this viral chat (its key).")
    ] = None,
    max_questions: Annotated[
        int | None, typer.Option("--max", min=1, help="Send at most N questions.")
    ] = None,
    delay: Annotated[float, typer.Option("--delay", min=0, help=DelayHelp)] = DEFAULT_DELAY,
    questions: Annotated[
        Path | None, typer.Option("--questions", help="Import this questions file first.")
    ] = None,
    yes: YesFlag = False,
    plan_out: PlanOutOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Plan the active questions (priority first); --yes sends them."""
    from tgpilot.services.viral.importing import check_key, load_questions_file

    app_ctx: AppContext = ctx.obj
    app_ctx.use_json(json_flag)
    chat_key = check_key(chat, "--chat") if chat is not None else None
    questions_file = load_questions_file(questions) if questions is not None else None
    plan, report = run_async(
        _send(app_ctx, chat_key, max_questions, delay, questions_file, yes, plan_out)
    )
    if report is None:
        show_plan(app_ctx, plan, saved_to=plan_out)
    else:
        show_report(app_ctx, report)


@app.command("stats")
def stats_command(ctx: typer.Context, json_flag: JsonFlag = False) -> None:
    """Measure sent questions' reactions and comments against the expected ranges."""
    from tgpilot.services.viral.stats import collect_stats

    app_ctx: AppContext = ctx.obj
    app_ctx.use_json(json_flag)

    async def go() -> StatsReport:
        async with stored_questions(app_ctx) as repository, app_ctx.open_gateway() as gateway:
            return await collect_stats(gateway, repository)

    report = run_async(go())
    out = app_ctx.output
    if out.json_mode:
        out.emit_json(report.to_json())
    else:
        for row in report.questions:
            q, chat = row.question, row.chat
            head = f"#{q.id} {q.chat_key} message #{q.sent_message_id}"
            if not row.found:
                out.line(f"{head}: message not found")
                continue
            reactions = f"{row.reactions} reactions"
            if row.reactions_verdict is not None:
                expected = f"{chat.expected_reactions_min}-{chat.expected_reactions_max}"
                reactions += f" ({row.reactions_verdict} {expected})"
            comments = f"{row.comments} comments"
            if row.comments_verdict is not None:
                comments += f" ({row.comments_verdict} {chat.expected_comments})"
            out.line(f"{head}: {reactions}, {comments}")
        for key, error in report.errors.items():
            out.error(f"{key}: {error}")
        out.info(f"{len(report.questions)} sent question(s) measured")
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@asynccontextmanager
async def stored_questions(app_ctx: AppContext) -> AsyncIterator[ViralRepository]:
    """The viral tables of the configured store, open for the block."""
    from tgpilot.store.viral import ViralRepository

    async with app_ctx.open_store() as store:
        yield ViralRepository(store)


async def _import(
    app_ctx: AppContext, repository: ViralRepository, questions_file: QuestionsFile
) -> ViralImportCounts:
    from tgpilot.services.viral.importing import import_questions

    return await import_questions(repository, questions_file, app_ctx.runtime.clock.now())


def _describe_import(counts: ViralImportCounts) -> str:
    return f"chats: {counts.chats.describe()}; questions: {counts.questions.describe()}"


async def _send(
    app_ctx: AppContext,
    chat_key: str | None,
    limit: int | None,
    delay: float,
    questions_file: QuestionsFile | None,
    yes: bool,
    plan_out: Path | None,
) -> tuple[Plan, ApplyReport | None]:
    from tgpilot.services.actions.pacing import Pacer
    from tgpilot.services.viral.send import ViralHandler, plan_send

    async with stored_questions(app_ctx) as repository:
        if questions_file is not None:
            counts = await _import(app_ctx, repository, questions_file)
            app_ctx.output.info(f"imported {questions_file.path}: {_describe_import(counts)}")
        async with app_ctx.open_gateway() as gateway:
            plan, chats = await plan_send(
                gateway,
                repository,
                plan_context(app_ctx),
                chat_key=chat_key,
                limit=limit,
                delay=delay,
            )
            save_plan(plan, plan_out)
            if not yes:
                return plan, None
            handler = ViralHandler(
                gateway, lambda: nullcontext(repository), app_ctx.runtime.clock.now, chats
            )
            pacing = Pacer(delay, app_ctx.runtime.clock)
            return plan, await apply_plan(app_ctx, gateway, plan, handler, pacing)


async def apply_builder(
    app_ctx: AppContext, gateway: TelegramGateway, plan: Plan, delay: float | None
) -> tuple[ActionHandler, Pacing]:
    """``tgpilot apply`` of a ``telegram.viral`` plan: the store is opened per step."""
    from tgpilot.services.actions.pacing import Pacer
    from tgpilot.services.viral.send import ViralHandler

    if delay is None:
        planned = plan.params.get("delay", DEFAULT_DELAY)
        delay = float(planned) if isinstance(planned, int | float) else DEFAULT_DELAY
    handler = ViralHandler(gateway, lambda: stored_questions(app_ctx), app_ctx.runtime.clock.now)
    return handler, Pacer(delay, app_ctx.runtime.clock)
