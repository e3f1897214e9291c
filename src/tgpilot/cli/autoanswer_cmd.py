"""``tgpilot autoanswer drafts list|approve|reject``: the auto-responder's draft mode.

``approve`` and ``reject`` mark the draft in the store. An approved draft is then sent
by the running ``tgpilot run`` (when it holds the session, ``approve`` just says so and
exits 0) or, when no ``run`` does, by ``approve`` itself under the session lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag
from tgpilot.core.errors import SessionBusy, UsageError

if TYPE_CHECKING:
    from tgpilot.store.autoanswer import DraftRecord

app = typer.Typer(no_args_is_help=True, help="The auto-responder (runs inside `tgpilot run`).")
drafts_app = typer.Typer(no_args_is_help=True, help="Draft-mode answers awaiting approval.")
app.add_typer(drafts_app, name="drafts")

STATUSES = ("pending", "approved", "sending", "sent", "rejected", "expired", "failed")
PREVIEW = 60


@drafts_app.command("list")
def list_drafts(
    ctx: typer.Context,
    status: Annotated[
        str, typer.Option("--status", help=f"{', '.join(STATUSES)} or all.")
    ] = "pending",
    json_flag: JsonFlag = False,
) -> None:
    """Drafts with a status (default: pending), oldest first."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if status != "all" and status not in STATUSES:
        raise UsageError(f"--status: unknown status {status!r}; use {', '.join(STATUSES)} or all")
    drafts = run_async(_list(app_ctx, status))
    out = app_ctx.output
    if json_mode:
        out.emit_json([d.to_json() for d in drafts])
        return
    if not drafts:
        out.info(f"no {status} drafts" if status != "all" else "no drafts")
        return
    tz = app_ctx.config.output.tz
    for draft in drafts:
        text = " ".join(draft.text.split())
        preview = text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
        when = draft.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        out.line(f"#{draft.id} [{draft.status}] {when} {draft.chat_title}: {preview}")


async def _list(app_ctx: AppContext, status: str) -> list[DraftRecord]:
    from tgpilot.store.autoanswer import AutoanswerRepository

    async with app_ctx.open_store() as store:
        repository = AutoanswerRepository(store)
        await repository.expire_drafts(app_ctx.runtime.clock.now())
        if status == "all":
            return await repository.drafts()
        return await repository.drafts((status,))  # type: ignore[arg-type]


@drafts_app.command("approve")
def approve(
    ctx: typer.Context,
    draft_id: Annotated[int, typer.Argument(help="The draft's id (see `drafts list`).")],
    text: Annotated[
        str | None, typer.Option("--text", help="Send this instead of the drafted text.")
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Approve a draft: `tgpilot run` sends it, or this command does when run is not running."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    outcome, detail = run_async(_approve(app_ctx, draft_id, text))
    out = app_ctx.output
    if json_mode:
        out.emit_json({"id": draft_id, "status": outcome, "detail": detail})
    elif outcome == "handed_to_run":
        out.info(f"approved draft {draft_id}; tgpilot run ({detail}) will send it")
    else:
        out.info(f"approved and sent draft {draft_id} ({detail})")


async def _approve(app_ctx: AppContext, draft_id: int, text: str | None) -> tuple[str, str]:
    from tgpilot.core.audit import AuditLog
    from tgpilot.services.autoanswer.drafts import DraftSender, approve_draft
    from tgpilot.services.runtime.presence import run_holder
    from tgpilot.store.autoanswer import AutoanswerRepository

    config = app_ctx.config
    clock = app_ctx.runtime.clock
    lock_file = config.paths_resolved.lock_file
    async with app_ctx.open_store() as store:
        repository = AutoanswerRepository(store)
        draft = await approve_draft(repository, draft_id, clock, text)
        holder = run_holder(lock_file)
        if holder is not None:
            return "handed_to_run", holder.describe()
        try:
            async with app_ctx.open_gateway() as gateway:
                sender = DraftSender(
                    gateway,
                    repository,
                    AuditLog(config.paths_resolved.audit_log, config.account),
                    clock,
                    app_ctx.command_line,
                    app_ctx.output.info,
                )
                if not await sender.send(draft):
                    current = await repository.draft(draft_id)
                    status = current.status if current is not None else "gone"
                    return status, "another sender took it"
        except SessionBusy as exc:
            holder = run_holder(lock_file)
            if holder is not None:  # run started meanwhile: it sends approved drafts
                return "handed_to_run", holder.describe()
            exc.hint = "the draft stays approved: rerun approve, or start tgpilot run"
            raise
        sent = await repository.draft(draft_id)
    assert sent is not None
    return "sent", f"message {', '.join(str(i) for i in sent.sent_ids)} in {sent.chat_title}"


@drafts_app.command("reject")
def reject(
    ctx: typer.Context,
    draft_id: Annotated[int, typer.Argument(help="The draft's id (see `drafts list`).")],
    json_flag: JsonFlag = False,
) -> None:
    """Reject a draft: it is never sent."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    run_async(_reject(app_ctx, draft_id))
    if json_mode:
        app_ctx.output.emit_json({"id": draft_id, "status": "rejected"})
    else:
        app_ctx.output.info(f"rejected draft {draft_id}")


async def _reject(app_ctx: AppContext, draft_id: int) -> None:
    from tgpilot.services.autoanswer.drafts import reject_draft
    from tgpilot.store.autoanswer import AutoanswerRepository

    async with app_ctx.open_store() as store:
        await reject_draft(AutoanswerRepository(store), draft_id, app_ctx.runtime.clock)
