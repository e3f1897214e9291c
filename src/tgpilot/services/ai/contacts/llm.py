"""``contacts analyze`` with a model (spec ai.md §4.6): the ``contacts`` prompt adds a
summary, the contact's interests and a next step to each conversation.

One call per contact: ``{{metadata}}`` is JSON with the counts, the topics and the
suggested offer; ``{{messages}}`` one line per text, ``[DD.MM.YYYY HH:MM] me: text``
or ``… them: text`` (at most 500 characters). The spend limit covers all the calls.
A contact whose answer cannot be used keeps its local analysis; a provider failing
after its retries under ``llm.fallback: local`` leaves this and every later contact
local (degraded). The run's status is the worst of its contacts'.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from functools import partial
from typing import TYPE_CHECKING

from tgpilot.models import Message
from tgpilot.services.ai.analyze.llm import RAW_SEPARATOR, period_of
from tgpilot.services.ai.budget import CallPlan, Line, PromptSet
from tgpilot.services.ai.contacts.answer import ContactAnswer
from tgpilot.services.ai.contacts.local import ContactAnalysis
from tgpilot.services.ai.digest.activity import cut, one_line
from tgpilot.services.ai.ideas.review import Fallback, ModelReview, review_lines
from tgpilot.services.prompts import Prompt

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient

LINE_TIME = "%d.%m.%Y %H:%M"
LINE_TEXT_LENGTH = 500
WORST_FIRST = ("failed", "stopped", "unparsed", "truncated", "ok")
HALTING = ("failed", "stopped")
"""After a contact ends so, later contacts are not sent (they stay local)."""
SPENT = "llm.max_cost_usd was spent before this contact; it keeps its local analysis"


def conversation_line(message: Message, tz: tzinfo) -> str:
    """``[DD.MM.YYYY HH:MM] me|them: text`` (text on one line, at most 500)."""
    when = message.date.astimezone(tz).strftime(LINE_TIME)
    side = "me" if message.is_outgoing else "them"
    return f"[{when}] {side}: {cut(one_line(message.text), LINE_TEXT_LENGTH)}"


def contact_metadata(contact: ContactAnalysis) -> str:
    """The ``{{metadata}}`` of a contact: counts, topics and the suggested offer."""
    return json.dumps(
        {
            "messages": contact.total,
            "mine": contact.mine,
            "theirs": contact.theirs,
            "topics": [name for name, _ in contact.topics],
            "suggested_offer": contact.suggestion.offer,
        },
        ensure_ascii=False,
    )


@dataclass(frozen=True)
class LLMContacts:
    """The contacts (with the model's additions where it answered) and a summary of
    every call as one review."""

    contacts: tuple[ContactAnalysis, ...]
    review: ModelReview[ContactAnswer]


def _with_answer(contact: ContactAnalysis, answer: ContactAnswer) -> ContactAnalysis:
    return replace(
        contact,
        summary=answer.summary,
        interests=tuple(answer.interests),
        next_step=answer.next_step,
    )


def _spent(client: LLMClient, start: int) -> ModelReview[ContactAnswer]:
    usage = client.usage_summary(since=start)
    return ModelReview((), "stopped", client.provider, client.model.name, usage, problem=SPENT)


def _summary(
    client: LLMClient, start: int, reviews: Sequence[tuple[str, ModelReview[ContactAnswer]]]
) -> ModelReview[ContactAnswer]:
    """Every contact's review as one: the worst status, problems and raw answers named
    by contact."""
    statuses = [review.status for _, review in reviews] or ["ok"]
    status = min(statuses, key=WORST_FIRST.index)
    problems = [f"{name}: {r.problem}" for name, r in reviews if r.problem is not None]
    raws = [f"# {name}\n{r.raw}" for name, r in reviews if r.raw is not None]
    return ModelReview(
        answers=tuple(a for _, r in reviews for a in r.answers),
        status=status,
        provider=client.provider,
        model=client.model.name,
        usage=client.usage_summary(since=start),
        raw=RAW_SEPARATOR.join(raws) or None,
        problem="; ".join(problems) or None,
        degraded=any(r.degraded for _, r in reviews),
    )


async def contacts_with_llm(
    contacts: Sequence[ContactAnalysis],
    client: LLMClient,
    prompts: PromptSet,
    *,
    retry_prompt: Prompt,
    tz: tzinfo,
    concurrency: int,
    max_cost_usd: float | None,
    fallback: Fallback,
    show_plan: Callable[[str, CallPlan], None],
) -> LLMContacts:
    """Each contact with messages through the model (see the module docstring)."""
    start = len(client.records)
    reviews: list[tuple[str, ModelReview[ContactAnswer]]] = []
    done: list[ContactAnalysis] = []
    for contact in contacts:
        if not contact.messages or any(r.status in HALTING for _, r in reviews):
            done.append(contact)
            continue
        title = contact.chat.title
        limit = max_cost_usd
        if limit is not None:  # the limit covers the whole command
            limit -= client.usage_summary(since=start).cost_usd or 0.0
            if limit <= 0:
                reviews.append((title, _spent(client, start)))
                done.append(contact)
                continue
        review = await review_lines(
            client,
            prompts,
            [Line(conversation_line(m, tz), m.date) for m in contact.messages],
            ContactAnswer,
            values={"chat_name": title, "metadata": contact_metadata(contact)},
            retry_prompt=retry_prompt,
            period=period_of(tz),
            concurrency=concurrency,
            max_cost_usd=limit,
            fallback=fallback,
            show_plan=partial(show_plan, title),
        )
        reviews.append((title, review))
        usable = review.usable and review.answers
        done.append(_with_answer(contact, review.answers[0]) if usable else contact)
    return LLMContacts(tuple(done), _summary(client, start, reviews))
