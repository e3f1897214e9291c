"""``tgpilot clean RULE CHAT... | --all-aliases``: delete the account's messages by rule.

Always a plan first (``--yes`` applies, ``--plan-out`` saves); chats are scanned in the
order given (``--all-aliases``: sorted), and a chat that fails never stops the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag, SinceOpt, UntilOpt, YesFlag, chat_argument
from tgpilot.cli.plans import (
    DelayHelp,
    PlanOutOpt,
    apply_plan,
    plan_context,
    save_plan,
    show_plan,
    show_report,
)
from tgpilot.core.errors import EXIT_ERROR, EXIT_PARTIAL, UsageError
from tgpilot.services.actions.clean import CleanRule, Scope

if TYPE_CHECKING:
    from tgpilot.services.actions.clean import CleanOptions
    from tgpilot.services.actions.executor import ApplyReport
    from tgpilot.services.actions.plan import Plan


def clean(
    ctx: typer.Context,
    rule: Annotated[CleanRule, typer.Argument(help="links | unanswered | mine | unengaged.")],
    chats: Annotated[
        list[str] | None, typer.Argument(help="Chats, in this order.", show_default=False)
    ] = None,
    all_aliases: Annotated[
        bool, typer.Option("--all-aliases", help="Every configured chat alias, sorted.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Messages to scan per chat (0 = all).")
    ] = 0,
    since: SinceOpt = None,
    until: UntilOpt = None,
    older_than: Annotated[
        str, typer.Option("--older-than", help="unanswered/unengaged: at least this old.")
    ] = "1h",
    pattern: Annotated[
        str | None, typer.Option("--pattern", help="links: a name from clean.link_patterns.")
    ] = None,
    pattern_regex: Annotated[
        str | None, typer.Option("--pattern-regex", help="links: a regular expression.")
    ] = None,
    scope: Annotated[
        Scope, typer.Option("--scope", help="links: own messages, or everyone's (admin).")
    ] = Scope.MINE,
    delay: Annotated[float, typer.Option("--delay", min=0, help=DelayHelp)] = 1.0,
    yes: YesFlag = False,
    plan_out: PlanOutOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Delete your messages by rule: links, unanswered, mine, unengaged (plan; --yes)."""
    app_ctx: AppContext = ctx.obj
    app_ctx.use_json(json_flag)
    targets = [chat_argument(c) or "" for c in chats or []]
    if all_aliases == bool(targets):
        raise UsageError("give CHAT... or --all-aliases")
    if all_aliases:
        targets = sorted(app_ctx.config.chats)
        if not targets:
            raise UsageError(
                "--all-aliases: no chat aliases are configured", hint="chats: in config.yml"
            )
    options = _options(
        app_ctx, rule, limit, since, until, older_than, pattern, pattern_regex, scope
    )
    plan, report, errors = run_async(_run(app_ctx, targets, options, delay, yes, plan_out))
    out = app_ctx.output
    for chat, message in errors.items():
        out.error(f"{chat}: {message}")
    if report is None:
        show_plan(app_ctx, plan, saved_to=plan_out)
        if errors:
            raise typer.Exit(EXIT_PARTIAL if len(errors) < len(targets) else EXIT_ERROR)
        return
    if errors and not report.exit_code:
        out.line(report.summary())
        raise typer.Exit(EXIT_PARTIAL if len(errors) < len(targets) else EXIT_ERROR)
    show_report(app_ctx, report)


def _options(
    app_ctx: AppContext,
    rule: CleanRule,
    limit: int,
    since: str | None,
    until: str | None,
    older_than: str,
    pattern: str | None,
    pattern_regex: str | None,
    scope: Scope,
) -> CleanOptions:
    import re

    from tgpilot.core.dates import parse_duration, parse_when
    from tgpilot.services.actions.clean import CleanOptions

    config = app_ctx.config
    tz = config.output.tz
    if pattern is not None and pattern_regex is not None:
        raise UsageError("--pattern and --pattern-regex exclude each other")
    if rule is not CleanRule.LINKS and (pattern or pattern_regex):
        raise UsageError(f"--pattern applies to `clean links` only, not {rule.value}")
    compiled: re.Pattern[str] | None = None
    name: str | None = None
    if rule is CleanRule.LINKS:
        configured = config.clean.compiled_patterns()
        if pattern_regex is not None:
            try:
                compiled = re.compile(pattern_regex)
            except re.error as exc:
                raise UsageError(f"--pattern-regex: invalid regular expression: {exc}") from None
        elif pattern is not None:
            if pattern not in configured:
                known = ", ".join(sorted(configured)) or "none configured"
                raise UsageError(f"--pattern: no link pattern {pattern!r} (known: {known})")
            compiled, name = configured[pattern], pattern
        elif len(configured) == 1:
            name, compiled = next(iter(configured.items()))
        elif configured:
            known = ", ".join(sorted(configured))
            raise UsageError(f"clean links: choose a pattern with --pattern ({known})")
    return CleanOptions(
        rule=rule,
        limit=limit or None,
        since=parse_when(since, tz, option="--since") if since else None,
        until=parse_when(until, tz, option="--until") if until else None,
        older_than=parse_duration(older_than, option="--older-than"),
        pattern=compiled,
        pattern_name=name,
        scope=scope,
    )


async def _run(
    app_ctx: AppContext,
    targets: list[str],
    options: CleanOptions,
    delay: float,
    yes: bool,
    plan_out: Path | None,
) -> tuple[Plan, ApplyReport | None, dict[str, str]]:
    from tgpilot.core.errors import TgpilotError, UsageError
    from tgpilot.services.actions.clean import KIND, CleanHandler, check_scope, scan_chat
    from tgpilot.services.actions.pacing import Pacer
    from tgpilot.services.actions.plan import Plan

    errors: dict[str, str] = {}
    async with app_ctx.open_gateway() as gateway:
        me = await gateway.me()
        chats = [await gateway.resolve_chat(text) for text in targets]
        for chat in chats:
            await check_scope(gateway, chat, options)
        items = []
        now = app_ctx.runtime.clock.now()
        for text, chat in zip(targets, chats, strict=True):
            try:
                scan = await scan_chat(gateway, chat, options, me.id, now)
            except UsageError:
                raise
            except TgpilotError as exc:
                errors[text] = exc.message
                continue
            items.extend(scan.items)
            app_ctx.output.info(
                f"{chat.title}: scanned {scan.scanned}, to delete {len(scan.items)}"
            )
        context = plan_context(app_ctx)
        plan = Plan(
            kind=KIND,
            account=context.account,
            command=context.command,
            created_at=context.now(),
            items=tuple(items),
            params={**options.to_json(), "chats": [c.id for c in chats], "delay": delay},
        )
        save_plan(plan, plan_out)
        if not yes:
            return plan, None, errors
        handler = CleanHandler(gateway, plan.params, me.id)
        pacing = Pacer(delay, app_ctx.runtime.clock)
        return plan, await apply_plan(app_ctx, gateway, plan, handler, pacing), errors
