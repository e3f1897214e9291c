"""``tgpilot react [CHAT] [REFS...]``: one emoji on listed or recent messages (spec §4.1).

One ref is a single explicit action (applied at once, audited, ``--dry-run``); more
refs, ``--file`` or ``--recent`` build a plan that ``--yes`` applies.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag, YesFlag, chat_argument
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

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.gateways.telegram.links import MessageRefs
    from tgpilot.models import Chat
    from tgpilot.services.actions.executor import ApplyReport
    from tgpilot.services.actions.plan import Plan
    from tgpilot.services.actions.react import ReactOptions


def react(
    ctx: typer.Context,
    tokens: Annotated[
        list[str] | None,
        typer.Argument(
            help="[CHAT] then message ids, comma lists or links (CHAT may be left out "
            "when the links name it).",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Read ids and links from a file.")
    ] = None,
    recent: Annotated[
        int | None, typer.Option("--recent", min=1, help="The newest N messages.")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="With --recent: only this sender's messages.")
    ] = None,
    scan: Annotated[
        int, typer.Option("--scan", min=1, help="With --recent: read at most this many.")
    ] = 1000,
    emoji: Annotated[str, typer.Option("--emoji", help="The reaction.")] = "👍",
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the account's other reactions.")
    ] = False,
    add: Annotated[bool, typer.Option("--add", help="Add beside the account's reactions.")] = False,
    big: Annotated[bool, typer.Option("--big", help="The big animated reaction.")] = False,
    delay: Annotated[float, typer.Option("--delay", min=0, help=DelayHelp)] = 0.6,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
    ] = False,
    yes: YesFlag = False,
    plan_out: PlanOutOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """React to messages: ids, links, a file, or the newest ones (plan; --yes applies)."""
    from tgpilot.services.actions.react import ReactOptions
    from tgpilot.services.actions.reactions import ExistingMode

    app_ctx: AppContext = ctx.obj
    app_ctx.use_json(json_flag)
    if replace and add:
        raise UsageError("--replace and --add exclude each other")
    if from_ is not None and recent is None:
        raise UsageError("--from needs --recent N")
    chat, refs = _split_tokens(tokens or [], file, app_ctx)
    if recent is not None and refs.ids:
        raise UsageError("give message refs or --recent N, not both")
    if recent is None and not refs.ids:
        raise UsageError("no message ids to react to")
    mode = ExistingMode.REPLACE if replace else ExistingMode.ADD if add else ExistingMode.SKIP
    options = ReactOptions(emoji=emoji, mode=mode, big=big)
    single = recent is None and len(refs.ids) == 1
    apply_now = (yes or single) and not dry_run
    plan, report = run_async(
        _run(app_ctx, chat, refs, recent, from_, scan, options, delay, apply_now, plan_out)
    )
    if report is None:
        show_plan(app_ctx, plan, saved_to=plan_out)
    else:
        show_report(app_ctx, report)


def _split_tokens(
    tokens: list[str], file: Path | None, app_ctx: AppContext
) -> tuple[str | None, MessageRefs]:
    """CHAT (unless the first token is a message link) and the message refs."""
    from tgpilot.gateways.telegram.links import parse_link, parse_message_refs

    chat: str | None = None
    rest = list(tokens)
    if rest:
        first = parse_link(rest[0])
        if first is None or first.message_id is None:
            chat = chat_argument(rest.pop(0))
    if file is not None:
        try:
            rest.append(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--file: cannot read {file}: {exc}") from None
    refs = parse_message_refs(rest) if rest else parse_message_refs([])
    for warning in refs.warnings:
        app_ctx.output.warn(warning)
    if chat is None:
        named = {_link_chat(link) for link in refs.chat_links}
        if len(named) > 1:
            raise UsageError("the links name different chats; give one CHAT")
        if not named:
            raise UsageError("give CHAT, or message links that name it")
        chat = named.pop()
    return chat, refs


def _link_chat(link: object) -> str:
    from tgpilot.gateways.telegram.links import ChatLink

    assert isinstance(link, ChatLink)
    if link.username:
        return "@" + link.username
    return f"-100{link.channel_raw_id}"


async def _check_links(gateway: TelegramGateway, chat: Chat, refs: MessageRefs) -> None:
    """A link to another chat than CHAT is a usage error."""
    for text in sorted({_link_chat(link) for link in refs.chat_links}):
        other = await gateway.resolve_chat(text)
        if other.id != chat.id:
            raise UsageError(f"{text} links to {other.title}, not {chat.title}")


async def _run(
    app_ctx: AppContext,
    chat_text: str | None,
    refs: MessageRefs,
    recent: int | None,
    from_: str | None,
    scan: int,
    options: ReactOptions,
    delay: float,
    apply_now: bool,
    plan_out: Path | None,
) -> tuple[Plan, ApplyReport | None]:
    from tgpilot.services.actions.pacing import Pacer
    from tgpilot.services.actions.react import (
        AUDIT_ACTION,
        KIND,
        plan_react,
        recent_messages,
    )
    from tgpilot.services.actions.reactions import ReactionHandler
    from tgpilot.services.matching import SenderMatcher

    sender = SenderMatcher.parse(from_) if from_ is not None else None
    async with app_ctx.open_gateway() as gateway:
        chat = await gateway.resolve_chat(chat_text)
        await _check_links(gateway, chat, refs)
        context = plan_context(app_ctx)
        if recent is not None:
            messages = await recent_messages(gateway, chat, recent, sender=sender, scan=scan)
            reason = f"recent from {sender.describe()}" if sender else "recent"
            plan = await plan_react(gateway, chat, messages, options, context, reason=reason)
        else:
            plan = await plan_react(gateway, chat, refs.ids, options, context, reason="listed")
        plan = plan.with_params(delay=delay)
        save_plan(plan, plan_out)
        if not apply_now:
            return plan, None
        handler = ReactionHandler(gateway, KIND, AUDIT_ACTION, big=options.big)
        pacing = Pacer(delay, app_ctx.runtime.clock)
        return plan, await apply_plan(app_ctx, gateway, plan, handler, pacing)
