"""``contacts analyze`` with a model (spec ai.md §4.6): the ``contacts`` prompt adds a
summary, the contact's interests and a next step to each conversation.

One call per contact: ``{{metadata}}`` is JSON with the counts, the topics and the
suggested offer; ``{{messages}}`` one line per text, ``[DD.MM.YYYY HH:MM] me: text``
or ``… them: text`` (at most 500 characters). A conversation too long for the
model's window is cut to the newest lines that fit (the contact's ``model_read``
says how many; the report says so). The spend limit covers all the calls. A contact
whose answer cannot be used keeps its local analysis; a provider failing after its
retries under ``llm.fallback: local`` leaves this and every later contact local
(degraded). The run's status is the worst of its contacts'.

With ``--anonymize`` one anonymizer learns every contact and sender first; the model
reads the contact's name as a pseudonym and masked texts, and its answers come back
revealed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from functools import partial
from typing import TYPE_CHECKING

from tgpilot.models import Message, Sender
from tgpilot.services.ai.analyze.llm import RAW_SEPARATOR, period_of
from tgpilot.services.ai.anonymize import Anonymizer
from tgpilot.services.ai.budget import CallPlan, Line, PromptSet, prompt_budget
from tgpilot.services.ai.contacts.answer import ContactAnswer
from tgpilot.services.ai.contacts.local import ContactAnalysis
from tgpilot.services.ai.digest.activity import cut, one_line
from tgpilot.services.ai.review import Fallback, ModelReview, newest_that_fit, review_lines
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


def _learn(anonymizer: Anonymizer, contacts: Sequence[ContactAnalysis]) -> None:
    """Every contact (as its chat names them) and every sender, before any masking."""
    for contact in contacts:
        chat = contact.chat
        anonymizer.person(Sender(chat.id, chat.title, chat.username))
        anonymizer.learn(contact.messages)


def _conversation(
    contact: ContactAnalysis, tz: tzinfo, anonymizer: Anonymizer | None
) -> tuple[list[Line], str]:
    """The lines the model reads of ``contact``, and its name there."""
    messages: Sequence[Message] = contact.messages
    title = contact.chat.title
    if anonymizer is not None:
        messages, title = anonymizer.messages(messages), anonymizer.text(title)
    return [Line(conversation_line(m, tz), m.date) for m in messages], title


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
    anonymizer: Anonymizer | None = None,
) -> LLMContacts:
    """Each contact with messages through the model (see the module docstring)."""
    start = len(client.records)
    reviews: list[tuple[str, ModelReview[ContactAnswer]]] = []
    done: list[ContactAnalysis] = []
    one_call = PromptSet(prompts.name, prompts.single)
    if anonymizer is not None:
        _learn(anonymizer, contacts)
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
        lines, name = _conversation(contact, tz, anonymizer)
        values = {"chat_name": name, "metadata": contact_metadata(contact)}
        sent = newest_that_fit(lines, prompt_budget(client, prompts.single, values).input)
        review = await review_lines(
            client,
            one_call,
            sent,
            ContactAnswer,
            values=values,
            retry_prompt=retry_prompt,
            period=period_of(tz),
            concurrency=concurrency,
            max_cost_usd=limit,
            fallback=fallback,
            show_plan=partial(show_plan, title),
            anonymizer=anonymizer,
        )
        reviews.append((title, review))
        read = replace(contact, model_read=len(sent))
        usable = review.usable and review.answers
        done.append(_with_answer(read, review.answers[0]) if usable else read)
    return LLMContacts(tuple(done), _summary(client, start, reviews))
