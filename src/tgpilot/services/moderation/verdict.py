"""One message judged: which profanity it contains, how spammy it is, and — near the
spam threshold, when ``moderation.llm_verdict`` is on — what a model says about it.

:class:`Moderator` pairs the profanity checker and the spam scorer built from
``moderation:`` settings (and the user's word-list overrides) so ``moderate watch``,
``moderate stats`` and ``moderate check`` judge a text the same way. :meth:`Moderator.judge`
is the offline verdict; :meth:`Moderator.decide` adds the model's verdict (spec ai.md
§4.7): a text whose spam score is within :data:`LLM_MARGIN` points of the threshold goes
to the ``moderator`` prompt, and its JSON ``{violation, reason, severity}`` decides
whether the text is a violation. When the model fails (after its retries, or with an
answer unusable even after the JSON retry) the score decides and the verdict says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator

from tgpilot.core.config.settings import ModerationSettings
from tgpilot.core.errors import ProviderError
from tgpilot.core.textmatch import prepare
from tgpilot.services.ai.answers import (
    LenientBool,
    LenientModel,
    LenientStr,
    ask_json,
    lenient_enum,
)
from tgpilot.services.moderation.scoring import (
    LLM_MARGIN,
    ProfanityChecker,
    SpamScore,
    SpamScorer,
)

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient
    from tgpilot.services.prompts import Prompt

VERDICT_PROMPT = "moderator"
"""The packaged prompt that decides near the threshold."""
SEVERITIES = ("low", "medium", "high")
SEVERITY_SYNONYMS = {"minor": "low", "moderate": "medium", "severe": "high", "critical": "high"}
NO_CHAT = "(no chat: a single text)"

DecidedBy = Literal["score", "llm"]


class ModeratorAnswer(LenientModel):
    """The ``moderator`` prompt's answer, read leniently (ai.md §1.4)."""

    violation: LenientBool = False
    reason: LenientStr = ""
    severity: Annotated[
        str, BeforeValidator(lenient_enum(SEVERITIES, SEVERITY_SYNONYMS, fallback="low"))
    ] = "low"


@dataclass(frozen=True)
class LLMVerdict:
    """What the model decided about one text, and which model it was."""

    violation: bool
    reason: str
    severity: str
    provider: str
    model: str

    def to_json(self) -> dict[str, Any]:
        return {
            "violation": self.violation,
            "reason": self.reason,
            "severity": self.severity,
            "provider": self.provider,
            "model": self.model,
        }


@dataclass(frozen=True)
class Verdict:
    """What a text was found to be."""

    profanity: tuple[str, ...]
    spam: SpamScore
    llm: LLMVerdict | None = None
    """The model's verdict when it was asked and answered (it then decides)."""
    llm_problem: str | None = None
    """Why the model, asked, gave no verdict (the score decided instead)."""

    @property
    def is_profane(self) -> bool:
        return bool(self.profanity)

    @property
    def decided_by(self) -> DecidedBy:
        """``llm`` when the model's verdict decided, else ``score``."""
        return "llm" if self.llm is not None else "score"

    @property
    def is_spam(self) -> bool:
        """The decision: the model's ``violation`` when it answered, else the score's."""
        return self.llm.violation if self.llm is not None else self.spam.is_spam

    @property
    def flagged(self) -> bool:
        return self.is_profane or self.is_spam

    def reasons(self) -> list[str]:
        """``profanity`` and/or ``spam``."""
        return [r for r, on in (("profanity", self.is_profane), ("spam", self.is_spam)) if on]

    def to_json(self) -> dict[str, Any]:
        return {
            "profanity": list(self.profanity),
            "spam": self.spam.as_dict(),
            "flagged": self.flagged,
            "decided_by": self.decided_by,
            "llm": self.llm.to_json() if self.llm is not None else None,
            "llm_error": self.llm_problem,
        }


def filter_signals(spam: SpamScore, profanity: tuple[str, ...]) -> str:
    """The ``{{signals}}`` of the prompt: score, threshold, fired rules, profanity found."""
    lines = [f"score: {spam.score} (threshold {spam.threshold})"]
    lines.extend(f"rule: {rule.describe()}" for rule in spam.rules)
    if profanity:
        lines.append(f"profanity: {', '.join(profanity)}")
    return "\n".join(lines)


@dataclass(frozen=True)
class LLMJudge:
    """Asks the ``moderator`` prompt for a verdict on texts near the spam threshold."""

    client: LLMClient
    prompt: Prompt
    retry_prompt: Prompt
    margin: int = LLM_MARGIN

    def wants(self, spam: SpamScore) -> bool:
        """True when ``spam`` is close enough to the threshold for the model to decide."""
        return spam.near_threshold(self.margin)

    async def ask(self, text: str, verdict: Verdict, *, chat_name: str) -> LLMVerdict:
        """The model's verdict; ProviderError (AnswerParseError included) when it fails."""
        rendered = self.prompt.render(
            chat_name=chat_name or NO_CHAT,
            signals=filter_signals(verdict.spam, verdict.profanity),
            text=text,
        )
        answer = await ask_json(
            self.client,
            rendered,
            ModeratorAnswer,
            retry_prompt=self.retry_prompt,
            defaults=self.prompt.defaults,
        )
        value = answer.value
        return LLMVerdict(
            value.violation,
            value.reason,
            value.severity,
            answer.completion.provider,
            answer.completion.model,
        )


@dataclass(frozen=True)
class Moderator:
    """Judges texts with one profanity checker, one spam scorer and, optionally, a model."""

    profanity: ProfanityChecker
    spam: SpamScorer
    llm: LLMJudge | None = None

    @classmethod
    def from_settings(
        cls,
        settings: ModerationSettings,
        *,
        threshold: int | None = None,
        override_dir: Path | None = None,
    ) -> Moderator:
        return cls(
            ProfanityChecker.from_settings(settings, override_dir=override_dir),
            SpamScorer.from_settings(settings, threshold=threshold, override_dir=override_dir),
        )

    def with_llm(self, judge: LLMJudge | None) -> Moderator:
        """This moderator asking ``judge`` near the threshold (None: never)."""
        return replace(self, llm=judge)

    def judge(self, text: str) -> Verdict:
        """The offline verdict: word lists and the spam score only."""
        folded = prepare(text)
        words = tuple(match.folded for match in self.profanity.check(folded))
        return Verdict(words, self.spam.score(text))

    def needs_llm(self, verdict: Verdict) -> bool:
        """True when :meth:`decide` would ask the model about ``verdict``'s text."""
        return self.llm is not None and self.llm.wants(verdict.spam)

    async def decide(self, text: str, *, chat_name: str = "") -> Verdict:
        """:meth:`judge`, then the model's verdict when the score is near the threshold
        and a model is set; a failing model leaves the decision to the score."""
        verdict = self.judge(text)
        if self.llm is None or not self.llm.wants(verdict.spam):
            return verdict
        try:
            decided = await self.llm.ask(text, verdict, chat_name=chat_name)
        except ProviderError as exc:
            return replace(verdict, llm_problem=exc.message)
        return replace(verdict, llm=decided)
