"""``viral stats``: how each sent question did against its chat's expectations.

For every question that went out, the message is read back (chat by chat, 100 ids per
request) and its reaction total and reply count stored as ``reactions_received`` and
``comments_received``. Each is judged ``below``, ``within`` or ``above`` the chat's
expected range: ``expected_reactions`` is ``[min, max]``; a single
``expected_comments`` count is the range of that one value. No expectation, no verdict.
A chat that cannot be read is reported and the others still counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from tgpilot.core.errors import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, TgpilotError
from tgpilot.models import Message
from tgpilot.store.viral import EngagementCounts, ViralChat, ViralQuestion, ViralRepository

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway

Verdict = Literal["below", "within", "above"]


def verdict(value: int, low: int | None, high: int | None) -> Verdict | None:
    """Where ``value`` lies against ``[low, high]`` (either end may be open)."""
    if low is None and high is None:
        return None
    if low is not None and value < low:
        return "below"
    if high is not None and value > high:
        return "above"
    return "within"


@dataclass(frozen=True)
class QuestionEngagement:
    """One sent question's counts (None when its message is gone) and their verdicts."""

    question: ViralQuestion
    chat: ViralChat
    reactions: int | None
    comments: int | None

    @property
    def found(self) -> bool:
        return self.reactions is not None

    @property
    def reactions_verdict(self) -> Verdict | None:
        if self.reactions is None:
            return None
        chat = self.chat
        return verdict(self.reactions, chat.expected_reactions_min, chat.expected_reactions_max)

    @property
    def comments_verdict(self) -> Verdict | None:
        if self.comments is None:
            return None
        expected = self.chat.expected_comments
        return verdict(self.comments, expected, expected)

    def to_json(self) -> dict[str, Any]:
        question, chat = self.question, self.chat
        return {
            "question_id": question.id,
            "chat_key": question.chat_key,
            "chat_id": chat.chat_id,
            "message_id": question.sent_message_id,
            "sent_at": question.sent_at,
            "found": self.found,
            "reactions": self.reactions,
            "expected_reactions": (
                [chat.expected_reactions_min, chat.expected_reactions_max]
                if chat.expected_reactions_min is not None
                else None
            ),
            "reactions_verdict": self.reactions_verdict,
            "comments": self.comments,
            "expected_comments": chat.expected_comments,
            "comments_verdict": self.comments_verdict,
        }


@dataclass
class StatsReport:
    """Every sent question's engagement, and the chats that could not be read."""

    questions: list[QuestionEngagement] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 ok; 3 if some chats failed while others were read; 1 if every chat failed."""
        if not self.errors:
            return EXIT_OK
        return EXIT_PARTIAL if self.questions else EXIT_ERROR

    def to_json(self) -> dict[str, Any]:
        return {
            "questions": [q.to_json() for q in self.questions],
            "errors": [{"chat_key": k, "error": e} for k, e in self.errors.items()],
        }


async def collect_stats(gateway: TelegramGateway, repository: ViralRepository) -> StatsReport:
    """Read back every sent question's message, store its counts and judge them."""
    chats = {chat.key: chat for chat in await repository.chats()}
    by_chat: dict[str, list[ViralQuestion]] = {}
    for question in await repository.sent():
        by_chat.setdefault(question.chat_key, []).append(question)
    report = StatsReport()
    counts: list[EngagementCounts] = []
    for key, questions in by_chat.items():
        try:
            viral_chat, messages = await _read_back(gateway, repository, chats[key], questions)
        except TgpilotError as exc:
            report.errors[key] = exc.message
            continue
        for question, message in zip(questions, messages, strict=True):
            if message is None:
                report.questions.append(QuestionEngagement(question, viral_chat, None, None))
                continue
            reactions, comments = message.reactions_total, message.replies or 0
            counts.append(EngagementCounts(question.id, reactions, comments))
            report.questions.append(QuestionEngagement(question, viral_chat, reactions, comments))
    await repository.save_engagement(counts)
    return report


async def _read_back(
    gateway: TelegramGateway,
    repository: ViralRepository,
    viral_chat: ViralChat,
    questions: Sequence[ViralQuestion],
) -> tuple[ViralChat, list[Message | None]]:
    """The chat (with the id its reference resolves to now) and the questions' messages."""
    chat = await gateway.resolve_chat(viral_chat.chat_ref)
    if chat.id != viral_chat.chat_id:
        await repository.set_chat_id(viral_chat.key, chat.id)
        viral_chat = replace(viral_chat, chat_id=chat.id)
    ids = [q.sent_message_id for q in questions if q.sent_message_id is not None]
    return viral_chat, await gateway.get_messages(chat, ids)
