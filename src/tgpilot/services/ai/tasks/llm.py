"""``tasks`` with a model (spec ai.md §4.5): the ``tasks`` prompt keeps only the tasks
really addressed to me, with a due date and a priority.

Every task candidate is one line, ``#N [chat] [DD.MM HH:MM] sender: text`` — with
`` (reply to me)`` after the sender when it replies to me — numbered across chats in
chronological order, and ``{{me}}`` says who I am. A candidate the model does not
return is not my task; one it returns takes its wording, requester, due date and
priority. Map parts are merged by number. Questions and problems stay local. When the
model cannot be used the local tasks stand, with the status of
:class:`~tgpilot.services.ai.review.ModelReview`.

With ``--anonymize`` every decision stays on the real messages (who I am, which texts
are tasks); only what the model reads is masked: senders as pseudonyms, texts and chat
titles masked, and ``{{me}}`` as my pseudonym with one more for each of ``me.names``
(no ids), so "Ваня, …" reads "P2, …" and the model still knows it is me. Its answers
come back revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import TYPE_CHECKING

from tgpilot.models import Message, Sender
from tgpilot.services.ai.analyze.llm import period_of
from tgpilot.services.ai.anonymize import Anonymizer
from tgpilot.services.ai.budget import CallPlan, Line, PromptSet
from tgpilot.services.ai.review import Fallback, ModelReview, candidate_line, review_lines
from tgpilot.services.ai.tasks.answer import PRIORITIES, TaskAnswer, TasksAnswer
from tgpilot.services.ai.tasks.local import ChatTasks, Me, Reason, Signal
from tgpilot.services.prompts import Prompt

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient

REPLY_NOTE = " (reply to me)"

MessageKey = tuple[int, int]


@dataclass(frozen=True)
class LLMTasks:
    """The chats (tasks the model's, or the local ones when it could not be used) and
    how the model's calls went."""

    chats: tuple[ChatTasks, ...]
    review: ModelReview[TasksAnswer]


def task_candidates(
    chats: Sequence[ChatTasks],
    messages: Mapping[MessageKey, Message],
    tz: tzinfo,
    anonymizer: Anonymizer | None = None,
) -> list[tuple[MessageKey, Line]]:
    """Every task once, chronologically, as ``(key, line)``; line N is candidate #N
    (with an ``anonymizer``: pseudonyms, masked texts and titles)."""
    tasks = sorted(
        (task for chat in chats for task in chat.tasks),
        key=lambda t: (t.date, t.chat_id, t.message_id),
    )
    found = []
    for number, task in enumerate(tasks, start=1):
        message, title = messages[task.key], task.chat_title
        if anonymizer is not None:
            message, title = anonymizer.message(message), anonymizer.text(title)
        note = REPLY_NOTE if Reason.REPLY in task.reasons else ""
        line = candidate_line(number, title, message, tz, note)
        found.append((task.key, Line(line, message.date)))
    return found


def _my_sender(me: Me, messages: Sequence[Message]) -> Sender:
    """Me as a sender: as my own messages show me (with my username), else as the
    account and ``me.names`` do."""
    username = me.usernames[0] if me.usernames else None
    for message in messages:
        sender = message.sender
        if sender is not None and sender.id is not None and sender.id in me.ids:
            return replace(sender, username=sender.username or username)
    name = me.display or (me.names[0] if me.names else "Me")
    return Sender(min(me.ids) if me.ids else None, name, username)


def masked_me(me: Me, anonymizer: Anonymizer, messages: Iterable[Message]) -> Me:
    """Me as the model may read it: my pseudonym as name and username, one pseudonym
    per other name, no ids. The anonymizer learns me (and those names) before the
    senders of ``messages``, so they are masked in every text."""
    read = list(messages)
    own = anonymizer.person(_my_sender(me, read))
    assert own is not None
    others = [name for name in me.names if name.casefold() != own.name.casefold()]
    aliases = [anonymizer.person(Sender(None, name)) for name in others]
    anonymizer.learn(read)
    return Me(
        usernames=(own.pseudonym,),
        names=tuple(a.pseudonym for a in aliases if a is not None and a is not own),
        display=own.pseudonym,
    )


def confirmed_tasks(
    chats: Sequence[ChatTasks], answers: Sequence[TasksAnswer], keys: Sequence[MessageKey]
) -> list[ChatTasks]:
    """The chats keeping only the tasks the answers return, enriched by them."""
    kept: dict[MessageKey, TaskAnswer] = {}
    for answer in answers:
        for item in answer.tasks:
            if 1 <= item.id <= len(keys):
                kept[keys[item.id - 1]] = item
    return [
        replace(
            chat,
            tasks=tuple(_enriched(task, kept[task.key]) for task in chat.tasks if task.key in kept),
        )
        for chat in chats
    ]


def _enriched(task: Signal, answer: TaskAnswer) -> Signal:
    return replace(
        task,
        task=answer.task,
        requested_by=answer.requested_by,
        due_date=answer.due_date,
        priority=answer.priority if answer.priority in PRIORITIES else None,
    )


async def tasks_with_llm(
    chats: Sequence[ChatTasks],
    messages: Mapping[MessageKey, Message],
    me: Me,
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
) -> LLMTasks:
    """The model's review of the task candidates of ``chats`` (see the module);
    ``messages`` holds every message read by key (each candidate's among them)."""
    if anonymizer is not None:
        me = masked_me(me, anonymizer, messages.values())
    candidates = task_candidates(chats, messages, tz, anonymizer)
    review = await review_lines(
        client,
        prompts,
        [line for _, line in candidates],
        TasksAnswer,
        values={"me": me.describe()},
        retry_prompt=retry_prompt,
        period=period_of(tz),
        concurrency=concurrency,
        max_cost_usd=max_cost_usd,
        fallback=fallback,
        show_plan=show_plan,
        anonymizer=anonymizer,
    )
    if not review.usable:
        return LLMTasks(tuple(chats), review)
    keys = [key for key, _ in candidates]
    return LLMTasks(tuple(confirmed_tasks(chats, review.answers, keys)), review)
