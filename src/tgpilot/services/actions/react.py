"""``react``: one emoji on listed messages or on the newest ones (spec telegram-cli §4.1).

Targets come from refs (ids and links) or from ``--recent N [--from USER]`` (the newest
N matching messages within ``--scan``). The emoji is checked against the chat's allowed
reactions before anything else; the plan then says per message what will happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tgpilot.core.errors import UsageError
from tgpilot.models import Chat, Message
from tgpilot.services.actions.plan import Plan, PlanContext, PlanItem
from tgpilot.services.actions.reactions import (
    ExistingMode,
    missing_item,
    reaction_item,
)
from tgpilot.services.matching import SenderMatcher

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway

KIND = "telegram.react"
AUDIT_ACTION = "telegram.react"


@dataclass(frozen=True)
class ReactOptions:
    """What to react with and how to treat the account's existing reactions."""

    emoji: str
    mode: ExistingMode = ExistingMode.SKIP
    big: bool = False


async def recent_messages(
    gateway: TelegramGateway,
    chat: Chat,
    count: int,
    *,
    sender: SenderMatcher | None,
    scan: int,
) -> list[Message]:
    """The newest ``count`` messages (from ``sender``), reading at most ``scan``."""
    found: list[Message] = []
    async for message in gateway.history(chat, limit=scan):
        if message.is_service or (sender is not None and not sender.matches(message.sender)):
            continue
        found.append(message)
        if len(found) >= count:
            break
    return found


async def plan_react(
    gateway: TelegramGateway,
    chat: Chat,
    targets: Sequence[int] | Sequence[Message],
    options: ReactOptions,
    context: PlanContext,
    *,
    reason: str,
) -> Plan:
    """The plan for reacting to ``targets`` (ids, fetched 100 per request, or messages
    already read). ReactionNotAllowed before any message is read."""
    if not targets:
        raise UsageError("no message ids to react to")
    allowed = await gateway.allowed_reactions(chat)
    emoji = allowed.require(options.emoji, chat.title)
    if all(isinstance(t, int) for t in targets):
        ids = [t for t in targets if isinstance(t, int)]
        found = await gateway.get_messages(chat, ids)
        pairs: list[tuple[int, Message | None]] = list(zip(ids, found, strict=True))
    else:
        pairs = [(m.id, m) for m in targets if isinstance(m, Message)]
    if all(message is None for _, message in pairs):
        listed = ", ".join(f"#{message_id}" for message_id, _ in pairs)
        raise UsageError(f"no such message in {chat.title}: {listed}")
    items: list[PlanItem] = []
    skipped: list[PlanItem] = []
    for message_id, message in pairs:
        if message is None:
            skipped.append(missing_item(chat, message_id, emoji, "react"))
            continue
        item, skip = reaction_item(
            message, chat, emoji, options.mode, action="react", reason=reason
        )
        (skipped if skip else items).append(item)
    return Plan(
        kind=KIND,
        account=context.account,
        command=context.command,
        created_at=context.now(),
        items=tuple(items),
        skipped=tuple(skipped),
        params={
            "chat_id": chat.id,
            "emoji": emoji,
            "mode": options.mode.value,
            "big": options.big,
        },
    )
