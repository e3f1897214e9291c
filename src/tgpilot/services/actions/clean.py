"""``clean RULE``: plan and apply deletions of the account's messages (spec telegram-cli §4.3).

The only command that deletes. The scan starts at the newest message so that replies
are seen before the messages they answer. *Replied*: a scanned message replies to it,
or its reply counter is above zero. *Reacted*: any reaction on it.

| rule | deletes |
|---|---|
| ``links`` | messages whose text or link targets match the pattern (own only by default) |
| ``unanswered`` | own messages older than ``--older-than``, not replied |
| ``mine`` | all own messages in the window |
| ``unengaged`` | own messages older than ``--older-than``, not replied and not reacted |

Deletes revoke for everyone, at most 100 ids per request; ``--scope all`` needs the
"delete messages" admin right, checked before the scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tgpilot.core.errors import MissingAdminRight, UsageError
from tgpilot.models import Chat, Message
from tgpilot.services.actions.executor import ItemResult
from tgpilot.services.actions.plan import PlanItem
from tgpilot.services.export.text_forms import preview

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway

KIND = "telegram.clean"
AUDIT_ACTION = "telegram.delete"
DELETE_BATCH = 100


class CleanRule(StrEnum):
    """What ``clean`` deletes."""

    LINKS = "links"
    UNANSWERED = "unanswered"
    MINE = "mine"
    UNENGAGED = "unengaged"


class Scope(StrEnum):
    """Whose messages ``clean links`` may delete."""

    MINE = "mine"
    ALL = "all"


@dataclass(frozen=True)
class CleanOptions:
    """One ``clean`` invocation's selection."""

    rule: CleanRule
    limit: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    older_than: timedelta = timedelta(hours=1)
    pattern: re.Pattern[str] | None = None
    pattern_name: str | None = None
    scope: Scope = Scope.MINE

    def __post_init__(self) -> None:
        if self.rule is CleanRule.LINKS and self.pattern is None:
            raise UsageError("clean links needs --pattern or clean.link_patterns")
        if self.scope is Scope.ALL and self.rule is not CleanRule.LINKS:
            raise UsageError(f"--scope all applies to `clean links` only, not {self.rule.value}")

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.value,
            "limit": self.limit or 0,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "older_than_seconds": int(self.older_than.total_seconds()),
            "pattern": self.pattern.pattern if self.pattern else None,
            "pattern_name": self.pattern_name,
            "scope": self.scope.value,
        }


@dataclass
class ChatScan:
    """What one chat's scan found."""

    chat: Chat
    scanned: int = 0
    items: list[PlanItem] = field(default_factory=list)
    error: str | None = None


def is_replied(message: Message, replied_ids: set[int]) -> bool:
    return message.id in replied_ids or (message.replies or 0) > 0


def matches_links(message: Message, pattern: re.Pattern[str]) -> bool:
    """True if ``pattern`` is found in the text or in a text link's hidden target."""
    return bool(pattern.search(message.text)) or any(pattern.search(u) for u in message.link_urls)


class Selector:
    """Decides, message by message in newest-first order, what a rule deletes."""

    def __init__(self, options: CleanOptions, me_id: int, now: datetime) -> None:
        self.options = options
        self.me_id = me_id
        self.cutoff = now - options.older_than
        self.replied_ids: set[int] = set()

    def reason(self, message: Message) -> str | None:
        """Why ``message`` is deleted, or None to keep it. Call newest first."""
        if message.reply_to_id is not None:
            self.replied_ids.add(message.reply_to_id)
        if message.is_service:
            return None
        options = self.options
        own = message.is_outgoing or (
            message.sender is not None and message.sender.id == self.me_id
        )
        if options.rule is CleanRule.LINKS:
            if not own and options.scope is Scope.MINE:
                return None
            assert options.pattern is not None
            if matches_links(message, options.pattern):
                return f"link matches {options.pattern_name or options.pattern.pattern}"
            return None
        if not own:
            return None
        if options.rule is CleanRule.MINE:
            return "mine"
        if message.date > self.cutoff:
            return None
        if is_replied(message, self.replied_ids):
            return None
        if options.rule is CleanRule.UNANSWERED:
            return "no replies"
        if message.reactions_total == 0:
            return "no replies, no reactions"
        return None


async def check_scope(gateway: TelegramGateway, chat: Chat, options: CleanOptions) -> None:
    """``--scope all`` needs the "delete messages" right (exit 2 before any scan)."""
    if options.scope is Scope.ALL:
        rights = await gateway.my_rights(chat)
        if not rights.can_delete_messages:
            raise MissingAdminRight(
                "delete messages", chat.title, hint="use --scope mine, or ask an admin"
            )


async def scan_chat(
    gateway: TelegramGateway, chat: Chat, options: CleanOptions, me_id: int, now: datetime
) -> ChatScan:
    """Read ``chat`` newest first within the window and select what to delete."""
    selector = Selector(options, me_id, now)
    scan = ChatScan(chat)
    async for message in gateway.history(
        chat, since=options.since, until=options.until, limit=options.limit
    ):
        scan.scanned += 1
        reason = selector.reason(message)
        if reason is not None:
            scan.items.append(
                PlanItem(
                    action="delete",
                    chat_id=chat.id,
                    message_id=message.id,
                    preview=preview(message),
                    reason=reason,
                    chat_title=chat.title,
                )
            )
    return scan


@dataclass
class CleanHandler:
    """Applies ``clean`` plans: up to 100 deletes per request, chat by chat.

    Items read back from a plan file are re-checked first (one read per batch): the
    message must still exist, still be the account's (unless the plan's scope is all),
    and still match its rule by what the message shows (link pattern; reply counter and
    reactions).
    """

    gateway: TelegramGateway
    options: dict[str, Any]
    me_id: int
    kind: str = KIND
    _chats: dict[int, Chat] = field(default_factory=dict)

    def batches(self, items: Sequence[PlanItem]) -> Iterable[Sequence[PlanItem]]:
        batch: list[PlanItem] = []
        for item in items:
            if batch and (len(batch) >= DELETE_BATCH or batch[0].chat_id != item.chat_id):
                yield batch
                batch = []
            batch.append(item)
        if batch:
            yield batch

    async def recheck(self, items: Sequence[PlanItem]) -> list[str | None]:
        chat = await self._chat(items[0].chat_id)
        ids = [item.message_id for item in items if item.message_id is not None]
        found = dict(zip(ids, await self.gateway.get_messages(chat, ids), strict=True))
        return [self._still_matches(found.get(item.message_id or 0)) for item in items]

    async def apply(self, items: Sequence[PlanItem]) -> list[ItemResult]:
        chat = await self._chat(items[0].chat_id)
        ids = [item.message_id for item in items if item.message_id is not None]
        await self.gateway.delete_messages(chat, ids)
        return [ItemResult.done() for _ in items]

    def audit_action(self, item: PlanItem) -> str:
        return AUDIT_ACTION

    def audit_params(self, item: PlanItem) -> dict[str, Any]:
        return {"rule": self.options.get("rule"), "revoke": True}

    def _still_matches(self, message: Message | None) -> str | None:
        if message is None:
            return "not found"
        own = message.is_outgoing or (
            message.sender is not None and message.sender.id == self.me_id
        )
        rule = self.options.get("rule")
        if rule == CleanRule.LINKS and self.options.get("scope") == Scope.ALL:
            pass
        elif not own:
            return "not the account's message"
        if rule == CleanRule.LINKS:
            pattern = self.options.get("pattern")
            if pattern and not matches_links(message, re.compile(pattern)):
                return "no longer matches the link pattern"
        elif rule in (CleanRule.UNANSWERED, CleanRule.UNENGAGED) and (message.replies or 0) > 0:
            return "replied since the plan"
        elif rule == CleanRule.UNENGAGED and message.reactions_total > 0:
            return "reacted since the plan"
        return None

    async def _chat(self, chat_id: int) -> Chat:
        if chat_id not in self._chats:
            self._chats[chat_id] = await self.gateway.resolve_chat(str(chat_id))
        return self._chats[chat_id]
