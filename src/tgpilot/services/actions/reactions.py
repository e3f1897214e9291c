"""Reactions as plan items: checking emoji, reading the account's own reactions, applying.

Shared by ``react`` and ``like``. An emoji is compared without U+FE0F and sent in the
server's spelling (``❤️`` asked where ``❤`` is allowed goes out as ``❤``); one not in the
chat's allowed set stops the command before any reaction is sent. Targets are read 100
per request; the account's existing reactions decide per message: the same one →
skipped (already reacted); another → skipped unless ``--replace`` (only the new one) or
``--add`` (beside it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tgpilot.models import Chat, Message, normalise_emoji
from tgpilot.services.actions.executor import ItemResult
from tgpilot.services.actions.plan import PlanItem
from tgpilot.services.export.text_forms import preview

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway

FETCH_BATCH = 100


class ExistingMode(StrEnum):
    """What to do when the account already reacted with another emoji."""

    SKIP = "skip"
    REPLACE = "replace"
    ADD = "add"


def my_emoji(message: Message) -> tuple[str, ...]:
    """The plain-emoji reactions the account itself has on ``message``."""
    return tuple(r.emoji for r in message.reactions if r.mine and r.emoji is not None)


def reaction_item(
    message: Message,
    chat: Chat,
    emoji: str,
    mode: ExistingMode,
    *,
    action: str,
    reason: str,
) -> tuple[PlanItem, str | None]:
    """The plan item for reacting ``emoji`` to ``message`` and, if it needs no action,
    why it is skipped."""
    mine = my_emoji(message)
    target: tuple[str, ...] = (emoji,)
    skip: str | None = None
    if any(normalise_emoji(e) == normalise_emoji(emoji) for e in mine):
        skip = "already reacted"
    elif mine and mode is ExistingMode.SKIP:
        skip = f"has {' '.join(mine)}; use --replace"
    elif mine and mode is ExistingMode.ADD:
        target = (*mine, emoji)
    item = PlanItem(
        action=action,
        chat_id=chat.id,
        message_id=message.id,
        emoji=target,
        preview=preview(message),
        reason=skip or reason,
        chat_title=chat.title,
        extra={"had": list(mine)},
    )
    return item, skip


def missing_item(chat: Chat, message_id: int, emoji: str, action: str) -> PlanItem:
    """The skipped plan row for a message that does not exist."""
    return PlanItem(
        action=action,
        chat_id=chat.id,
        message_id=message_id,
        emoji=(emoji,),
        reason="not found",
        chat_title=chat.title,
    )


@dataclass
class ReactionHandler:
    """Applies ``react``/``like`` plans: one reaction request per item.

    Items read back from a plan file are re-checked against the message as it is now,
    fetched 100 ids per request ahead of the item being applied.
    """

    gateway: TelegramGateway
    kind: str
    audit_name: str
    big: bool = False
    _chats: dict[int, Chat] = field(default_factory=dict)
    _queue: list[PlanItem] = field(default_factory=list)
    _fetched: dict[tuple[int, int], Message | None] = field(default_factory=dict)

    def batches(self, items: Sequence[PlanItem]) -> Iterable[Sequence[PlanItem]]:
        self._queue = list(items)
        for item in items:
            yield (item,)

    async def recheck(self, items: Sequence[PlanItem]) -> list[str | None]:
        reasons: list[str | None] = []
        for item in items:
            current = await self._current(item)
            if current is None:
                reasons.append("not found")
                continue
            mine = my_emoji(current)
            if {normalise_emoji(e) for e in mine} == {normalise_emoji(e) for e in item.emoji}:
                reasons.append("already reacted")
            elif [normalise_emoji(e) for e in mine] != [
                normalise_emoji(e) for e in item.extra.get("had", [])
            ]:
                reasons.append("the account's reactions changed since the plan")
            else:
                reasons.append(None)
        return reasons

    async def apply(self, items: Sequence[PlanItem]) -> list[ItemResult]:
        results = []
        for item in items:
            assert item.message_id is not None
            chat = await self._chat(item.chat_id)
            await self.gateway.send_reaction(chat, item.message_id, item.emoji, big=self.big)
            results.append(ItemResult.done())
        return results

    def audit_action(self, item: PlanItem) -> str:
        return self.audit_name

    def audit_params(self, item: PlanItem) -> dict[str, Any]:
        return {"emoji": list(item.emoji), "big": self.big}

    async def _chat(self, chat_id: int) -> Chat:
        if chat_id not in self._chats:
            self._chats[chat_id] = await self.gateway.resolve_chat(str(chat_id))
        return self._chats[chat_id]

    async def _current(self, item: PlanItem) -> Message | None:
        assert item.message_id is not None
        key = (item.chat_id, item.message_id)
        if key not in self._fetched:
            start = next(
                (n for n, queued in enumerate(self._queue) if queued is item), len(self._queue)
            )
            ahead = [
                q
                for q in self._queue[start:]
                if q.chat_id == item.chat_id and q.message_id is not None
            ][:FETCH_BATCH] or [item]
            chat = await self._chat(item.chat_id)
            ids = [q.message_id for q in ahead if q.message_id is not None]
            for message_id, message in zip(
                ids, await self.gateway.get_messages(chat, ids), strict=True
            ):
                self._fetched[(item.chat_id, message_id)] = message
        return self._fetched.pop(key, None)
