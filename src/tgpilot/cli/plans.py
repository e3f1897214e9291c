"""How bulk commands show and apply plans (DESIGN rule 4), shared by every such command.

Without ``--yes`` a plan is printed (JSON with ``--json``) and nothing changes; with
``--plan-out FILE`` it is also saved for ``tgpilot apply``; with ``--yes`` it is applied
through the :class:`~tgpilot.services.actions.executor.Executor`, with a progress bar,
the audit log and the ``done D, skipped S, failed F`` summary deciding the exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.core.output import progress_bar

if TYPE_CHECKING:
    from tgpilot.cli.context import AppContext
    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.services.actions.executor import ActionHandler, ApplyReport
    from tgpilot.services.actions.pacing import Pacing
    from tgpilot.services.actions.plan import Plan, PlanContext, PlanItem

PlanOutOpt = Annotated[
    Path | None,
    typer.Option("--plan-out", help="Also save the plan to FILE (for `tgpilot apply`)."),
]


def describe_item(item: PlanItem) -> str:
    """One plan row: ``react 👍 -> Team #12345: preview  [reason]``."""
    label = item.action + (" " + " ".join(item.emoji) if item.emoji else "")
    chat = item.chat_title or str(item.chat_id)
    target = f"{chat} #{item.message_id}" if item.message_id is not None else chat
    preview = f": {item.preview}" if item.preview else ""
    reason = f"  [{item.reason}]" if item.reason else ""
    return f"{label} -> {target}{preview}{reason}"


def show_plan(app_ctx: AppContext, plan: Plan, *, saved_to: Path | None) -> None:
    """Print a plan that was not applied; nothing has changed."""
    out = app_ctx.output
    if out.json_mode:
        out.emit_json({**plan.to_json(), "applied": False, "saved_to": _path(saved_to)})
        return
    for item in plan.items:
        out.line(describe_item(item))
    for item in plan.skipped:
        out.line(f"skip {describe_item(item)}")
    out.info(f"plan: {len(plan.items)} to do, {len(plan.skipped)} skipped")
    if saved_to is not None:
        out.info(f"plan saved to {saved_to}; apply it with: tgpilot apply {saved_to} --yes")
    if plan.items:
        out.info("nothing was changed; rerun with --yes to apply")


def save_plan(plan: Plan, plan_out: Path | None) -> None:
    if plan_out is not None:
        plan.save(plan_out)


async def apply_plan(
    app_ctx: AppContext,
    gateway: TelegramGateway,
    plan: Plan,
    handler: ActionHandler,
    pacing: Pacing,
    *,
    recheck: bool = False,
) -> ApplyReport:
    """Apply ``plan`` with ``handler``: paced, audited, with a progress bar."""
    from tgpilot.core.audit import AuditLog
    from tgpilot.services.actions.executor import Executor

    config = app_ctx.config
    with progress_bar(app_ctx.output, f"{plan.kind}") as update:
        executor = Executor(
            audit=AuditLog(config.paths_resolved.audit_log, config.account),
            command=app_ctx.command_line,
            now=app_ctx.runtime.clock.now,
            pacing=pacing,
            flood_listeners=gateway.flood_policy.listeners,
            progress=update,
        )
        return await executor.run(plan, handler, recheck=recheck)


def show_report(app_ctx: AppContext, report: ApplyReport) -> None:
    """Print how an applied plan ended and exit with its code (0, 3 or 1)."""
    out = app_ctx.output
    if out.json_mode:
        out.emit_json(report.to_json())
    else:
        for index, item in enumerate(report.plan.items):
            result = report.results.get(index)
            if result is not None and result.status != "done":
                out.info(f"{result.describe()}: {describe_item(item)}")
        for item in report.plan.skipped:
            out.info(f"skipped ({item.reason}): {describe_item(item)}")
        if report.stopped:
            out.error(report.stopped)
        out.line(report.summary())
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _path(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def plan_context(app_ctx: AppContext) -> PlanContext:
    """Who is planning, for the plan file and the audit log."""
    from tgpilot.services.actions.plan import PlanContext

    return PlanContext(
        account=app_ctx.config.account,
        command=app_ctx.command_line,
        now=app_ctx.runtime.clock.now,
    )


DelayHelp = "Seconds between requests (±20 % jitter; doubled after a flood wait)."
