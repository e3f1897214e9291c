"""A chat's CRM extraction with a model (spec ai.md §4.3, §1.3, §1.4, §5).

:func:`extract_with_llm` writes one line per message, ``[DD.MM HH:MM] <sender>: <text>``,
plans the calls (one, or a map call per chunk of a chat over the model's budget — the
partials are merged locally on natural keys, never sent to a reduce step), shows the
cost plan and refuses an estimate over ``llm.max_cost_usd`` (exit 2). Each record's
message ids are those of its part that mention it (the whole part when none does).

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
from typing import TYPE_CHECKING, Literal

from tgpilot.core.errors import AnswerParseError, ProviderError
from tgpilot.models import Chat, Message
from tgpilot.services.ai.analyze.llm import RAW_SEPARATOR, period_of
from tgpilot.services.ai.analyze.selection import display_name
from tgpilot.services.ai.anonymize import Anonymizer
from tgpilot.services.ai.budget import (
    CallPlan,
    CostLimitReached,
    Line,
    PromptSet,
    check_cost,
    map_plan,
    plan_calls,
)
from tgpilot.services.ai.crm.answer import CrmAnswer
from tgpilot.services.ai.crm.local import extract_locally
from tgpilot.services.ai.crm.result import (
    CrmResult,
    merge_results,
    normalise_phone,
    normalise_username,
)
from tgpilot.services.prompts import Prompt
from tgpilot.store.crm import CrmAction, CrmContact, CrmDeal

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient
    from tgpilot.gateways.llm.types import UsageTotals

Fallback = Literal["local", "none"]
LINE_TIME = "%d.%m %H:%M"


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
    plan: CallPlan
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
    start = len(client.records)
    sent = anonymizer.messages(messages) if anonymizer is not None else tuple(messages)
    lines = [Line(crm_line(m, tz), m.date) for m in sent]
    values = {"chat_name": anonymizer.text(chat.title) if anonymizer else chat.title}
    reveal: Callable[[str], str] = anonymizer.reveal if anonymizer is not None else str
    period = period_of(tz)
    plan = plan_calls(client, prompts, lines, values, period=period)
    show_plan(plan)
    check_cost(plan, max_cost_usd)

    def outcome(
        result: CrmResult,
        status: str,
        *,
        raw: str | None = None,
        problem: str | None = None,
        degraded: bool = False,
    ) -> LLMExtraction:
        usage = client.usage_summary(since=start)
        return LLMExtraction(
            result, status, client.provider, client.model.name, usage, plan, raw, problem, degraded
        )

    try:
        answers = await map_plan(
            client,
            plan,
            prompts,
            CrmAnswer,
            values=values,
            retry_prompt=retry_prompt,
            period=period,
            concurrency=concurrency,
            max_cost_usd=max_cost_usd,
        )
    except AnswerParseError as exc:
        local = extract_locally(chat.id, messages)
        return outcome(local, "unparsed", raw=reveal(exc.raw), problem=exc.message)
    except CostLimitReached as exc:
        raw = RAW_SEPARATOR.join(reveal(answer) for answer in exc.answers) or None
        return outcome(extract_locally(chat.id, messages), "stopped", raw=raw, problem=exc.message)
    except ProviderError as exc:
        if fallback != "local":
            raise
        local = extract_locally(chat.id, messages)
        return outcome(local, "failed", problem=exc.message, degraded=True)
    parts = [
        answer_result(
            anonymizer.reveal_model(answer.value) if anonymizer is not None else answer.value,
            messages[chunk.start : chunk.start + len(chunk.lines)],
        )
        for answer, chunk in zip(answers, plan.chunks, strict=True)
    ]
    merged = merge_results(chat.id, parts, "llm")
    if any(answer.status == "truncated" for answer in answers):
        problem = "the answer was cut by the output limit and repaired (raise --max-tokens)"
        return outcome(merged, "truncated", problem=problem)
    return outcome(merged, "ok")
