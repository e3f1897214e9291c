"""``tgpilot apply FILE``: apply a saved plan, re-checking every item before acting.

The plan's ``kind`` names the service that owns it; that service re-checks each item
(the message still exists, a delete still matches its rule, the account's reactions
have not changed; a Linear issue has not changed since it was planned) and applies it
paced and audited. Without ``--yes`` the plan is only
shown.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag, YesFlag
from tgpilot.cli.plans import apply_plan, show_plan, show_report
from tgpilot.cli.viral_cmd import apply_builder as viral_apply_builder
from tgpilot.core.errors import UsageError

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.services.actions.executor import ActionHandler, ApplyReport
    from tgpilot.services.actions.pacing import Pacing
    from tgpilot.services.actions.plan import Plan


HandlerBuilder = Callable[
    [AppContext, "TelegramGateway", "Plan", float | None],
    Awaitable[tuple["ActionHandler", "Pacing"]],
]


def apply(
    ctx: typer.Context,
    plan_file: Annotated[Path, typer.Argument(help="A plan saved with --plan-out.")],
    delay: Annotated[
        float | None,
        typer.Option("--delay", min=0, help="Override the plan's delay between requests."),
    ] = None,
    yes: YesFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Apply a saved plan (each item re-checked first); without --yes only show it."""
    from tgpilot.services.actions.plan import Plan
    from tgpilot.services.linear.saved_plans import linear_kind

    app_ctx: AppContext = ctx.obj
    app_ctx.use_json(json_flag)
    if linear_kind(plan_file) is not None:
        from tgpilot.cli.linear_backlog_cmd import apply_saved

        apply_saved(app_ctx, plan_file, yes)
        return
    plan = Plan.load(plan_file)
    account = app_ctx.config.account
    if plan.account != account:
        raise UsageError(
            f"{plan_file} was planned for account {plan.account!r}, not {account!r}",
            hint=f"tgpilot --account {plan.account} apply {plan_file}",
        )
    if plan.kind not in BUILDERS:
        raise UsageError(
            f"{plan_file}: unknown plan kind {plan.kind!r}",
            hint="known kinds: " + ", ".join(sorted(BUILDERS)),
        )
    if not yes:
        show_plan(app_ctx, plan, saved_to=None)
        return
    show_report(app_ctx, run_async(_run(app_ctx, plan, delay)))


async def _run(app_ctx: AppContext, plan: Plan, delay: float | None) -> ApplyReport:
    async with app_ctx.open_gateway() as gateway:
        handler, pacing = await BUILDERS[plan.kind](app_ctx, gateway, plan, delay)
        return await apply_plan(app_ctx, gateway, plan, handler, pacing, recheck=True)


def _param(plan: Plan, name: str, default: float) -> float:
    value = plan.params.get(name, default)
    return float(value) if isinstance(value, int | float) else default


async def _react(
    app_ctx: AppContext, gateway: TelegramGateway, plan: Plan, delay: float | None
) -> tuple[ActionHandler, Pacing]:
    from tgpilot.services.actions.pacing import Pacer
    from tgpilot.services.actions.react import AUDIT_ACTION, KIND
    from tgpilot.services.actions.reactions import ReactionHandler

    handler = ReactionHandler(gateway, KIND, AUDIT_ACTION, big=bool(plan.params.get("big")))
    base = delay if delay is not None else _param(plan, "delay", 0.6)
    return handler, Pacer(base, app_ctx.runtime.clock)


async def _like(
    app_ctx: AppContext, gateway: TelegramGateway, plan: Plan, delay: float | None
) -> tuple[ActionHandler, Pacing]:
    from tgpilot.services.actions.like import AUDIT_ACTION, KIND
    from tgpilot.services.actions.pacing import HumanPacer
    from tgpilot.services.actions.reactions import ReactionHandler

    seed = plan.params.get("seed")
    base = delay if delay is not None else _param(plan, "base_delay", 1.5)
    rng = random.Random(seed if isinstance(seed, int) else None)
    return ReactionHandler(gateway, KIND, AUDIT_ACTION), HumanPacer(
        base, app_ctx.runtime.clock, rng
    )


async def _clean(
    app_ctx: AppContext, gateway: TelegramGateway, plan: Plan, delay: float | None
) -> tuple[ActionHandler, Pacing]:
    from tgpilot.services.actions.clean import CleanHandler
    from tgpilot.services.actions.pacing import Pacer

    me = await gateway.me()
    base = delay if delay is not None else _param(plan, "delay", 1.0)
    return CleanHandler(gateway, plan.params, me.id), Pacer(base, app_ctx.runtime.clock)


BUILDERS: dict[str, HandlerBuilder] = {
    "telegram.react": _react,
    "telegram.like": _like,
    "telegram.clean": _clean,
    "telegram.viral": viral_apply_builder,
}
