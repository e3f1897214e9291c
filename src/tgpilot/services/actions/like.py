"""``like``: react to one sender's messages, paced like a person (spec telegram-cli §4.2).

Exactly ``--limit`` messages are scanned, newest first, and each is counted once:
planned (to be liked), not matching, no sender, or already reacted; failures are
counted when the plan is applied. ``--auto-emoji`` picks the emoji per message from
``like.auto_emoji`` (or the bundled table); emoji the chat does not allow are dropped
from the table at plan time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from tgpilot.core.config.settings import LikeSettings
from tgpilot.core.errors import ReactionNotAllowed
from tgpilot.models import AllowedReactions, Chat
from tgpilot.services.actions.plan import Plan, PlanContext, PlanItem
from tgpilot.services.actions.reactions import ExistingMode, reaction_item
from tgpilot.services.matching import SenderMatcher, fold

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway

KIND = "telegram.like"
AUDIT_ACTION = "telegram.like"


@dataclass(frozen=True)
class EmojiRule:
    """Keywords (case-folded) that pick an emoji."""

    keywords: tuple[str, ...]
    emoji: str


@dataclass(frozen=True)
class AutoEmoji:
    """The ``--auto-emoji`` table: rules in order, then a fallback by text length."""

    rules: tuple[EmojiRule, ...]
    fallback: tuple[str, ...]

    @classmethod
    def bundled(cls) -> AutoEmoji:
        """The neutral English table shipped with tgpilot."""
        text = resources.files("tgpilot.data").joinpath("like_auto_emoji.yml").read_text("utf-8")
        data: dict[str, Any] = yaml.safe_load(text)
        return cls(
            rules=tuple(
                EmojiRule(tuple(fold(str(k)) for k in r["match"]), str(r["emoji"]))
                for r in data["rules"]
            ),
            fallback=tuple(str(e) for e in data["fallback"]),
        )

    @classmethod
    def from_settings(cls, settings: LikeSettings) -> AutoEmoji:
        """``like.auto_emoji`` / ``like.fallback`` where set, the bundled table elsewhere."""
        bundled = cls.bundled()
        rules = bundled.rules
        if settings.auto_emoji is not None:
            rules = tuple(
                EmojiRule(tuple(fold(k) for k in r.match), r.emoji) for r in settings.auto_emoji
            )
        fallback = tuple(settings.fallback) if settings.fallback else bundled.fallback
        return cls(rules, fallback)

    def allowed_in(self, allowed: AllowedReactions, chat: Chat) -> AutoEmoji:
        """The table with every emoji ``chat`` does not allow dropped (server spelling)."""

        spelled = allowed.server_spelling
        rules = tuple(
            EmojiRule(rule.keywords, emoji)
            for rule in self.rules
            if (emoji := spelled(rule.emoji)) is not None
        )
        fallback = tuple(e for f in self.fallback if (e := spelled(f)) is not None)
        if not fallback:
            raise ReactionNotAllowed(" ".join(self.fallback), chat.title, allowed.emoji)
        return AutoEmoji(rules, fallback)

    def choose(self, text: str) -> str:
        """The first rule with a keyword in ``text``, else ``fallback[len(text) % n]``."""
        folded = fold(text)
        for rule in self.rules:
            if any(keyword in folded for keyword in rule.keywords):
                return rule.emoji
        return self.fallback[len(text) % len(self.fallback)]


@dataclass(frozen=True)
class LikeOptions:
    """What ``like`` was asked to do."""

    sender: SenderMatcher
    limit: int
    emoji: str | None = None
    auto_emoji: AutoEmoji | None = None
    since: datetime | None = None
    replace: bool = False


@dataclass
class LikeScan:
    """How each scanned message was counted."""

    scanned: int = 0
    planned: int = 0
    not_matching: int = 0
    no_sender: int = 0
    already_reacted: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "scanned": self.scanned,
            "planned": self.planned,
            "not_matching": self.not_matching,
            "no_sender": self.no_sender,
            "already_reacted": self.already_reacted,
        }


async def plan_like(
    gateway: TelegramGateway, chat: Chat, options: LikeOptions, context: PlanContext
) -> Plan:
    """Scan exactly ``options.limit`` messages and plan a reaction on each match."""
    allowed = await gateway.allowed_reactions(chat)
    fixed = allowed.require(options.emoji, chat.title) if options.emoji else None
    table = options.auto_emoji.allowed_in(allowed, chat) if options.auto_emoji else None
    mode = ExistingMode.REPLACE if options.replace else ExistingMode.SKIP
    reason = f"from {options.sender.describe()}"
    scan = LikeScan()
    items: list[PlanItem] = []
    skipped: list[PlanItem] = []
    async for message in gateway.history(chat, limit=options.limit, since=options.since):
        scan.scanned += 1
        if message.sender is None or message.is_service:
            scan.no_sender += 1
            continue
        if not options.sender.matches(message.sender):
            scan.not_matching += 1
            continue
        emoji = fixed or (table.choose(message.text) if table else "")
        item, skip = reaction_item(message, chat, emoji, mode, action="like", reason=reason)
        if skip:
            scan.already_reacted += 1
            skipped.append(item)
        else:
            scan.planned += 1
            items.append(item)
    return Plan(
        kind=KIND,
        account=context.account,
        command=context.command,
        created_at=context.now(),
        items=tuple(items),
        skipped=tuple(skipped),
        params={
            "chat_id": chat.id,
            "from": options.sender.text,
            "emoji": fixed,
            "auto_emoji": table is not None,
            "replace": options.replace,
            "scan": scan.to_json(),
        },
    )
