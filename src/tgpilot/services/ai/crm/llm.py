"""A chat's CRM extraction with a model (spec ai.md §4.3, §1.3, §1.4, §5).

:func:`extract_with_llm` writes one line per message, ``[DD.MM HH:MM] <sender>: <text>``,
and has :func:`~tgpilot.services.ai.review.review_lines` plan the calls (one, or a map
call per chunk of a chat over the model's budget — the partials are merged locally on
natural keys, never sent to a reduce step), show the cost plan and refuse an estimate
over ``llm.max_cost_usd`` (exit 2). Each record's message ids are those of its part that
mention it (the whole part when none does).

When the model cannot be used the pattern extraction of :mod:`.local` stands in and the
command exits 3: an answer unusable even after the JSON retry (status ``unparsed``, the
raw answers kept for ``<base>.raw.txt``), the spend passing the limit (``stopped``), or
a provider failing after its retries under ``llm.fallback: local`` (``failed``,
degraded; with ``none`` the error propagates). A repaired answer the output limit cut
is used, status ``truncated`` (exit 3). With ``--anonymize`` the model reads pseudonyms
and masked phones and e-mails, and its answers are revealed before they become records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING

from tgpilot.models import Chat, Message
from tgpilot.services.ai.analyze.llm import period_of
from tgpilot.services.ai.analyze.selection import display_name
from tgpilot.services.ai.anonymize import Anonymizer
from tgpilot.services.ai.budget import CallPlan, Line, PromptSet
from tgpilot.services.ai.crm.answer import CrmAnswer
from tgpilot.services.ai.crm.local import extract_locally
from tgpilot.services.ai.crm.result import (
    CrmResult,
    merge_results,
    normalise_phone,
    normalise_username,
)
from tgpilot.services.ai.review import LINE_TIME, Fallback, review_lines
from tgpilot.services.prompts import Prompt
from tgpilot.store.crm import CrmAction, CrmContact, CrmDeal

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient
    from tgpilot.gateways.llm.types import UsageTotals


def crm_line(message: Message, tz: tzinfo) -> str:
    """``[DD.MM HH:MM] <sender>: <text>``, the text on one line."""
    when = message.date.astimezone(tz).strftime(LINE_TIME)
    return f"[{when}] {display_name(message.sender)}: {' '.join(message.text.split())}"


@dataclass(frozen=True)
class LLMExtraction:
    """The extraction, how the model call went, and what to save beside it."""

    result: CrmResult
    status: str
    provider: str
    model: str
    usage: UsageTotals
    raw: str | None = None
    """Answers that could not be used (for ``<base>.raw.txt``)."""
    problem: str | None = None
    """Why the result is not the model's (or is cut); None when it is whole."""
    degraded: bool = False


def _mentioning(messages: Sequence[Message], needles: Sequence[str]) -> tuple[int, ...]:
    """Ids of the messages whose text (or sender) mentions any of ``needles``, else all."""
    wanted = [n.casefold() for n in needles if n.strip()]
    ids = tuple(
        m.id
        for m in messages
        if any(n in m.text.casefold() or n == display_name(m.sender).casefold() for n in wanted)
    )
    return ids or tuple(m.id for m in messages)


def answer_result(answer: CrmAnswer, messages: Sequence[Message]) -> CrmResult:
    """One answer as records, attributed to ``messages`` (the part it read)."""
    contacts = []
    for c in answer.contacts:
        telegram = normalise_username(c.telegram)
        contacts.append(
            CrmContact(
                name=c.name,
                company=c.company,
                role=c.role,
                phone=normalise_phone(c.phone),
                email=c.email.lower(),
                telegram=telegram,
                interests=tuple(c.interests),
                temperature=c.temperature,
                notes=c.notes,
                message_ids=_mentioning(messages, [c.email, telegram, c.name, c.company]),
            )
        )
    deals = [
        CrmDeal(
            title=d.title,
            description=d.description,
            stage=d.stage,
            value=d.estimated_value,
            currency=d.currency,
            next_action=d.next_action,
            deadline=d.deadline,
            message_ids=_mentioning(messages, [d.title]),
        )
        for d in answer.deals
    ]
    actions = [
        CrmAction(
            task=a.task,
            assignee=a.assignee,
            due_date=a.due_date,
            message_ids=_mentioning(messages, [a.task]),
        )
        for a in answer.action_items
    ]
    return CrmResult(
        tuple(contacts), tuple(deals), tuple(actions), answer.sentiment, answer.summary, "llm"
    )


async def extract_with_llm(
    chat: Chat,
    messages: Sequence[Message],
    client: LLMClient,
    prompts: PromptSet,
    *,
    retry_prompt: Prompt,
    tz: tzinfo,
    concurrency: int,
    max_cost_usd: float | None,
    fallback: Fallback,
    show_plan: Callable[[CallPlan], None],
    anonymizer: Anonymizer | None = None,
) -> LLMExtraction:
    """The model's CRM extraction of ``messages`` (chronological; see the module).

    With an ``anonymizer`` (``--anonymize``) the model reads pseudonyms and masked
    phones and e-mails; its answers are revealed before they become records, so the
    store holds real names, numbers and addresses.
    """
    sent = anonymizer.messages(messages) if anonymizer is not None else tuple(messages)
    review = await review_lines(
        client,
        prompts,
        [Line(crm_line(m, tz), m.date) for m in sent],
        CrmAnswer,
        values={"chat_name": anonymizer.text(chat.title) if anonymizer else chat.title},
        retry_prompt=retry_prompt,
        period=period_of(tz),
        concurrency=concurrency,
        max_cost_usd=max_cost_usd,
        fallback=fallback,
        show_plan=show_plan,
        anonymizer=anonymizer,
    )
    if review.usable and review.plan is not None:
        parts = [
            answer_result(answer, messages[chunk.start : chunk.start + len(chunk.lines)])
            for answer, chunk in zip(review.answers, review.plan.chunks, strict=True)
        ]
        result = merge_results(chat.id, parts, "llm")
    else:
        result = extract_locally(chat.id, messages)
    return LLMExtraction(
        result,
        review.status,
        review.provider,
        review.model,
        review.usage,
        raw=review.raw,
        problem=review.problem,
        degraded=review.degraded,
    )
