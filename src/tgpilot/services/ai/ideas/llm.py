"""``ideas`` with a model (spec ai.md §4.5, §1.3): the ``ideas`` prompt confirms the
candidates the heuristics found, groups them into themes and recommends.

Every idea and problem is one candidate line, ``#N [chat] [DD.MM HH:MM] sender:
text`` (text on one line, at most 500 characters), numbered across chats in
chronological order. The model's verdict replaces a candidate's kind (``none`` drops
it); candidates it leaves out, or judges ``unknown``, stay as found. Map parts are
merged locally: verdicts by number, themes by case-folded name (their items united),
recommendations without repeats. When the model cannot be used the local result
stands, with the status of :class:`~tgpilot.services.ai.review.ModelReview`. With
``--anonymize`` the model reads every sender as a pseudonym and texts (and chat
titles) masked; its summaries, themes and recommendations come back revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import TYPE_CHECKING

from tgpilot.models import Message
from tgpilot.services.ai.analyze.llm import period_of
from tgpilot.services.ai.anonymize import Anonymizer
from tgpilot.services.ai.budget import CallPlan, Line, PromptSet
from tgpilot.services.ai.ideas.answer import IdeasAnswer
from tgpilot.services.ai.ideas.local import (
    IDEA,
    PROBLEM,
    ChatIdeas,
    IdeaLexicon,
    IdeasResult,
    Kind,
    MessageKey,
    Theme,
    Verdict,
    apply_verdicts,
    ideas_locally,
)
from tgpilot.services.ai.review import Fallback, ModelReview, candidate_line, review_lines
from tgpilot.services.prompts import Prompt

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient

VERDICT_KINDS: dict[str, Kind | None] = {"idea": IDEA, "problem": PROBLEM, "none": None}


@dataclass(frozen=True)
class Candidate:
    """A message sent to the model, and the number it has there."""

    number: int
    key: MessageKey
    line: Line


def ideas_candidates(
    chats: Sequence[ChatIdeas],
    messages: Mapping[MessageKey, Message],
    tz: tzinfo,
    anonymizer: Anonymizer | None = None,
) -> list[Candidate]:
    """Every idea and problem once, numbered from 1 in chronological order; with an
    ``anonymizer`` (which learns every sender of ``messages`` first) the lines show
    pseudonyms and masked texts and titles."""
    found = {f.key: f for chat in chats for f in (*chat.ideas, *chat.problems)}
    ordered = sorted(found.values(), key=lambda f: (f.date, f.chat_id, f.message_id))
    if anonymizer is not None:
        anonymizer.learn(messages.values())
    candidates = []
    for number, finding in enumerate(ordered, start=1):
        message, title = messages[finding.key], finding.chat_title
        if anonymizer is not None:
            message, title = anonymizer.message(message), anonymizer.text(title)
        line = Line(candidate_line(number, title, message, tz), message.date)
        candidates.append(Candidate(number, finding.key, line))
    return candidates


@dataclass(frozen=True)
class LLMIdeas:
    """The result (the model's, or the local one when it could not be used) and how
    the model's calls went."""

    result: IdeasResult
    review: ModelReview[IdeasAnswer]


def merge_answers(
    answers: Sequence[IdeasAnswer], candidates: Sequence[Candidate]
) -> tuple[dict[MessageKey, Verdict], list[Theme], list[str]]:
    """The parts as one: verdicts by candidate, themes by name, recommendations."""
    by_number = {c.number: c.key for c in candidates}
    verdicts: dict[MessageKey, Verdict] = {}
    themes: dict[str, Theme] = {}
    recommendations: dict[str, str] = {}
    for answer in answers:
        for item in answer.items:
            key = by_number.get(item.id)
            if key is None or item.kind not in VERDICT_KINDS:
                continue
            verdicts[key] = Verdict(VERDICT_KINDS[item.kind], item.summary)
        for theme in answer.themes:
            items = tuple(by_number[n] for n in dict.fromkeys(theme.item_ids) if n in by_number)
            if not theme.name or not items:
                continue
            old = themes.get(theme.name.casefold())
            if old is None:
                themes[theme.name.casefold()] = Theme(theme.name, items, theme.summary)
            else:
                united = tuple(dict.fromkeys((*old.items, *items)))
                themes[theme.name.casefold()] = replace(
                    old, items=united, summary=old.summary or theme.summary
                )
        for text in answer.recommendations:
            recommendations.setdefault(text.casefold(), text)
    return verdicts, list(themes.values()), list(recommendations.values())


def _confirmed(themes: Sequence[Theme], result: IdeasResult) -> tuple[Theme, ...]:
    """The themes holding only what is still an idea or a problem (emptied ones go)."""
    kept = []
    for theme in themes:
        items = tuple(key for key in theme.items if result.finding(key) is not None)
        if items:
            kept.append(replace(theme, items=items))
    kept.sort(key=lambda theme: -len(theme.items))
    return tuple(kept)


async def ideas_with_llm(
    chats: Sequence[ChatIdeas],
    messages: Mapping[MessageKey, Message],
    lexicon: IdeaLexicon,
    client: LLMClient,
    prompts: PromptSet,
    *,
    retry_prompt: Prompt,
    period: str,
    tz: tzinfo,
    concurrency: int,
    max_cost_usd: float | None,
    fallback: Fallback,
    show_plan: Callable[[CallPlan], None],
    anonymizer: Anonymizer | None = None,
) -> LLMIdeas:
    """The model's review of the candidates of ``chats`` (see the module docstring);
    ``messages`` holds every message read by key (each candidate's among them)."""
    candidates = ideas_candidates(chats, messages, tz, anonymizer)
    review = await review_lines(
        client,
        prompts,
        [c.line for c in candidates],
        IdeasAnswer,
        values={"period": period},
        retry_prompt=retry_prompt,
        period=period_of(tz),
        concurrency=concurrency,
        max_cost_usd=max_cost_usd,
        fallback=fallback,
        show_plan=show_plan,
        anonymizer=anonymizer,
    )
    if not review.usable:
        return LLMIdeas(ideas_locally(chats, lexicon), review)
    verdicts, themes, recommendations = merge_answers(review.answers, candidates)
    judged = IdeasResult(tuple(apply_verdicts(chats, verdicts)))
    result = replace(
        judged, themes=_confirmed(themes, judged), recommendations=tuple(recommendations)
    )
    return LLMIdeas(result, review)
