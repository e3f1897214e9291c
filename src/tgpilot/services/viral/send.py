"""``viral send``: plan the ``active`` questions and post them (plan kind ``telegram.viral``).

The plan takes the ``active`` questions never sent — highest priority first, then in
the order they were added — of one chat (``--chat KEY``) or all, at most ``--max N``.
Drafts and archived questions never go out. Each chat's reference is resolved when
planning and its marked id remembered on ``viral_chats``. Applying sends one question
per request; a sent question becomes ``sent`` with ``sent_at`` and ``sent_message_id``;
a failed one stays ``active`` with ``last_error``. The audit line of a send records the
question id, chat key, text length and the new message id — never the text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tgpilot.core.errors import FloodWaitTooLong, NetworkError, TgpilotError, UsageError
from tgpilot.models import Chat
from tgpilot.services.actions.executor import ItemResult
from tgpilot.services.actions.plan import Plan, PlanContext, PlanItem
from tgpilot.services.export.text_forms import PREVIEW_LENGTH
from tgpilot.store.viral import QuestionStatus, ViralQuestion, ViralRepository

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway

KIND = "telegram.viral"
AUDIT_ACTION = "telegram.send"
SEND_ACTION = "send"

OpenQuestions = Callable[[], AbstractAsyncContextManager[ViralRepository]]
"""Opens the question store for one step of applying a plan."""


def text_preview(text: str, length: int = PREVIEW_LENGTH) -> str:
    """≤ ``length`` code points, newlines as spaces, ``…`` only when cut (spec §0)."""
    flat = " ".join(text.split("\n")).strip()
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def question_id(item: PlanItem) -> int | None:
    """The question a plan item sends, from its ``extra``."""
    value = item.extra.get("question_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def plan_send(
    gateway: TelegramGateway,
    repository: ViralRepository,
    context: PlanContext,
    *,
    chat_key: str | None,
    limit: int | None,
    delay: float,
) -> tuple[Plan, dict[int, Chat]]:
    """The plan for sending the next ``active`` questions, and the chats it resolved (by
    marked id). An unknown ``chat_key`` or an unresolvable chat is a UsageError."""
    chats = {chat.key: chat for chat in await repository.chats()}
    if chat_key is not None and chat_key not in chats:
        known = ", ".join(sorted(chats)) or "none imported"
        raise UsageError(f"--chat: no viral chat {chat_key!r} (known: {known})")
    questions = await repository.sendable(chat_key, limit)
    resolved: dict[str, Chat] = {}
    for key in dict.fromkeys(q.chat_key for q in questions):
        viral_chat = chats[key]
        try:
            chat = await gateway.resolve_chat(viral_chat.chat_ref)
        except UsageError as exc:
            raise UsageError(f"viral chat {key}: {exc.message}", hint=exc.hint) from None
        if chat.id != viral_chat.chat_id:
            await repository.set_chat_id(key, chat.id)
        resolved[key] = chat
    items = tuple(_item(question, resolved[question.chat_key]) for question in questions)
    plan = Plan(
        kind=KIND,
        account=context.account,
        command=context.command,
        created_at=context.now(),
        items=items,
        params={"chat": chat_key, "max": limit, "delay": delay},
    )
    return plan, {chat.id: chat for chat in resolved.values()}


def _item(question: ViralQuestion, chat: Chat) -> PlanItem:
    return PlanItem(
        action=SEND_ACTION,
        chat_id=chat.id,
        text=question.text,
        preview=text_preview(question.text),
        reason=f"question {question.id}, priority {question.priority}",
        chat_title=chat.title,
        extra={"question_id": question.id, "chat_key": question.chat_key},
    )


@dataclass
class ViralHandler:
    """Applies ``telegram.viral`` plans: one question per request, its state kept in the
    store. ``open_questions`` gives the store for each step (the open one when sending
    right after planning; a fresh connection per step under ``tgpilot apply``)."""

    gateway: TelegramGateway
    open_questions: OpenQuestions
    now: Callable[[], datetime]
    chats: dict[int, Chat] = field(default_factory=dict)
    kind: str = KIND
    _sent: dict[int, int] = field(default_factory=dict)

    def batches(self, items: Sequence[PlanItem]) -> Iterable[Sequence[PlanItem]]:
        for item in items:
            yield [item]

    async def recheck(self, items: Sequence[PlanItem]) -> list[str | None]:
        async with self.open_questions() as repository:
            return [await self._still_sendable(repository, item) for item in items]

    async def _still_sendable(self, repository: ViralRepository, item: PlanItem) -> str | None:
        qid = question_id(item)
        if item.action != SEND_ACTION or qid is None:
            return "not a viral question send"
        question = await repository.question(qid)
        if question is None:
            return "question not found"
        if question.sent_at is not None:
            return f"already sent as #{question.sent_message_id}"
        if question.status is not QuestionStatus.ACTIVE:
            return f"question is {question.status.value}"
        if item.text != question.text:
            return "the text differs from the stored question"
        return None

    async def apply(self, items: Sequence[PlanItem]) -> list[ItemResult]:
        (item,) = items
        qid = question_id(item)
        if qid is None or not item.text:
            return [ItemResult.failed("not a viral question send")]
        async with self.open_questions() as repository:
            try:
                chat = await self._chat(item.chat_id)
                message = await self.gateway.send_message(chat, item.text)
            except TgpilotError as exc:
                await repository.record_error(qid, exc.message)
                if isinstance(exc, FloodWaitTooLong | NetworkError):
                    raise
                return [ItemResult.failed(exc.message)]
            self._sent[qid] = message.id
            await repository.mark_sent(qid, self.now(), message.id)
        return [ItemResult.done()]

    def audit_action(self, item: PlanItem) -> str:
        return AUDIT_ACTION

    def audit_params(self, item: PlanItem) -> dict[str, Any]:
        qid = question_id(item)
        return {
            "question_id": qid,
            "chat_key": item.extra.get("chat_key"),
            "chars": len(item.text or ""),
            "sent_message_id": self._sent.get(qid) if qid is not None else None,
        }

    async def _chat(self, chat_id: int) -> Chat:
        if chat_id not in self.chats:
            self.chats[chat_id] = await self.gateway.resolve_chat(str(chat_id))
        return self.chats[chat_id]
