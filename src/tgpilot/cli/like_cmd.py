"""``tgpilot like CHAT --from MATCHER``: react to one sender's messages, paced like a person."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag, SinceOpt, YesFlag, chat_argument
from tgpilot.cli.plans import (
    PlanOutOpt,
    apply_plan,
    plan_context,
    save_plan,
    show_plan,
    show_report,
)
from tgpilot.core.errors import UsageError

if TYPE_CHECKING:
    from tgpilot.services.actions.executor import ApplyReport
    from tgpilot.services.actions.like import LikeOptions
    from tgpilot.services.actions.plan import Plan


def like(
    ctx: typer.Context,
    chat: Annotated[str, typer.Argument(help="Alias, link, @username or id.")],
    from_: Annotated[
        str,
        typer.Option("--from", help="@username (exact), sender id, or a piece of the name."),
    ],
    emoji: Annotated[str | None, typer.Option("--emoji", help="The reaction (default ❤).")] = None,
    auto_emoji: Annotated[
        bool, typer.Option("--auto-emoji", help="Pick the emoji from the message text.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Messages to scan.")] = 500,
    since: SinceOpt = None,
    today: Annotated[bool, typer.Option("--today", help="Only today's messages (--tz).")] = False,
    base_delay: Annotated[
        float, typer.Option("--base-delay", min=0.05, help="Base seconds between reactions.")
    ] = 1.5,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the account's other reactions.")
    ] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed the pauses (reproducible runs).")
    ] = None,
    yes: YesFlag = False,
    plan_out: PlanOutOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Like one sender's messages with human-like pauses (plan; --yes applies)."""
    from tgpilot.core.dates import parse_when
    from tgpilot.services.actions.like import AutoEmoji, LikeOptions
    from tgpilot.services.matching import SenderMatcher

    app_ctx: AppContext = ctx.obj
    app_ctx.use_json(json_flag)
    chat_text = chat_argument(chat) or ""
    if emoji is not None and auto_emoji:
        raise UsageError("--emoji and --auto-emoji exclude each other")
    if since is not None and today:
        raise UsageError("--since and --today exclude each other")
    config = app_ctx.config
    tz = config.output.tz
    start = None
    if today:
        now = app_ctx.runtime.clock.now().astimezone(tz)
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elif since is not None:
        start = parse_when(since, tz, option="--since")
    options = LikeOptions(
        sender=SenderMatcher.parse(from_),
        limit=limit,
        emoji=None if auto_emoji else (emoji or "❤"),
        auto_emoji=AutoEmoji.from_settings(config.like) if auto_emoji else None,
        since=start,
        replace=replace,
    )
    plan, report = run_async(_run(app_ctx, chat_text, options, base_delay, seed, yes, plan_out))
    if report is None:
        show_plan(app_ctx, plan, saved_to=plan_out)
        if not app_ctx.output.json_mode:
            scan = plan.params["scan"]
            app_ctx.output.info(
                f"scanned {scan['scanned']}: to like {scan['planned']}, not matching"
                f" {scan['not_matching']}, no sender {scan['no_sender']}, already reacted"
                f" {scan['already_reacted']}"
            )
    else:
        show_report(app_ctx, report)


async def _run(
    app_ctx: AppContext,
    chat_text: str,
    options: LikeOptions,
    base_delay: float,
    seed: int | None,
    yes: bool,
    plan_out: Path | None,
) -> tuple[Plan, ApplyReport | None]:
    import random

    from tgpilot.services.actions.like import AUDIT_ACTION, KIND, plan_like
    from tgpilot.services.actions.pacing import HumanPacer
    from tgpilot.services.actions.reactions import ReactionHandler

    async with app_ctx.open_gateway() as gateway:
        chat = await gateway.resolve_chat(chat_text)
        plan = await plan_like(gateway, chat, options, plan_context(app_ctx))
        plan = plan.with_params(base_delay=base_delay, seed=seed)
        save_plan(plan, plan_out)
        if not yes:
            return plan, None
        handler = ReactionHandler(gateway, KIND, AUDIT_ACTION)
        pacing = HumanPacer(base_delay, app_ctx.runtime.clock, random.Random(seed))
        return plan, await apply_plan(app_ctx, gateway, plan, handler, pacing)
