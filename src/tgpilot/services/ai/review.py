"""A model's look at what the heuristics found (spec ai.md §1.3, §1.4, §3, §5), shared by
``ideas``, ``tasks`` and ``contacts analyze``.

:func:`candidate_line` is how a found message is shown to the model,
``#N [chat] [DD.MM HH:MM] sender: text``. :func:`review_lines` sends chronological
lines through a prompt — one call, or one map call per chunk when the lines pass the
model's budget (the caller merges the parts on its own keys, ai.md §1.3: nothing goes
to a reduce step) — after showing the cost plan and refusing an estimate over
``llm.max_cost_usd`` (exit 2). It never
loses the local result: it returns the validated answers with a status, and the
caller keeps its heuristics whenever the status is not usable:

- ``ok``; ``truncated`` (a repaired answer cut by the output limit: used, exit 3);
- ``unparsed`` — an answer unusable even after the JSON retry (the raw answers kept
  for ``<base>.raw.txt``, exit 3);
- ``stopped`` — the spend passed the limit (exit 3);
- ``failed`` — the provider failed after its retries under ``llm.fallback: local``
  (``degraded``, exit 3); with ``none`` the error propagates.

:func:`newest_that_fit` keeps the newest lines within a budget, for a prompt that
has to read one conversation in one call (``contacts``), the way ``digest`` does.

With an :class:`~tgpilot.services.ai.anonymize.Anonymizer` (``--anonymize``) the
caller builds the lines and values from what the anonymizer masked, and the answers
(and raw answers) come back revealed: real names, phones and e-mails.

:class:`RunInfo` is what their reports record of the run — with the chats that could
not be read (:class:`SkippedChat`: reported and left out, exit 3); they are written over
several chats, so their files are named ``<command>_<YYYYMMDD-HHMMSS>`` (UTC) like the
analysis index, in ``--out`` (default ``<data dir>/reports``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from tgpilot.core.errors import AnswerParseError, ProviderError
from tgpilot.core.output import atomic_write, iso_time
from tgpilot.gateways.llm.tokens import count_tokens
from tgpilot.models import Message
from tgpilot.services.ai.analyze.files import stamp
from tgpilot.services.ai.analyze.llm import RAW_SEPARATOR
from tgpilot.services.ai.analyze.markdown import md_escape
from tgpilot.services.ai.analyze.selection import display_name
from tgpilot.services.ai.anonymize import Anonymizer
from tgpilot.services.ai.budget import (
    CallPlan,
    Chunk,
    CostLimitReached,
    Line,
    PromptSet,
    check_cost,
    cut_line,
    map_plan,
    plan_calls,
)
from tgpilot.services.ai.digest.activity import cut, one_line
from tgpilot.services.ai.digest.llm import newest_that_fit as newest_texts_that_fit
from tgpilot.services.prompts import Prompt

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient
    from tgpilot.gateways.llm.types import UsageTotals

M = TypeVar("M", bound=BaseModel)
Fallback = Literal["local", "none"]
USABLE = ("ok", "truncated")
TRUNCATED_PROBLEM = "the answer was cut by the output limit and repaired (raise --max-tokens)"
LINE_TIME = "%d.%m %H:%M"
LINE_TEXT_LENGTH = 500


def candidate_line(
    number: int, chat_title: str, message: Message, tz: tzinfo, note: str = ""
) -> str:
    """``#N [chat] [DD.MM HH:MM] sender<note>: text``, the text on one line (≤ 500)."""
    when = message.date.astimezone(tz).strftime(LINE_TIME)
    text = cut(one_line(message.text), LINE_TEXT_LENGTH)
    return f"#{number} [{chat_title}] [{when}] {display_name(message.sender)}{note}: {text}"


def newest_that_fit(lines: Sequence[Line], budget: int) -> tuple[Line, ...]:
    """The newest ``lines`` (kept in order) whose joined text fits ``budget`` tokens;
    when not even the newest fits, that one alone, cut to the budget."""
    texts = newest_texts_that_fit([line.text for line in lines], budget, count_tokens)
    kept = list(lines[len(lines) - len(texts) :]) if texts else []
    while len(kept) > 1 and count_tokens("\n".join(line.text for line in kept)) > budget:
        kept.pop(0)  # tokens can merge across a newline: check the joined text
    if not kept and lines:
        newest = lines[-1]
        return (Line(cut_line(newest.text, budget), newest.at),)
    return tuple(kept)


@dataclass(frozen=True)
class ModelReview(Generic[M]):
    """The validated answers (one per call, in chunk order) and how the calls went."""

    answers: tuple[M, ...]
    status: str
    provider: str
    model: str
    usage: UsageTotals
    plan: CallPlan | None = None
    """The calls' plan (None for a summary of several reviews)."""
    raw: str | None = None
    """Answers that could not be used (for ``<base>.raw.txt``)."""
    problem: str | None = None
    """Why the result is not (wholly) the model's; None when it is."""
    degraded: bool = False

    @property
    def usable(self) -> bool:
        """True when the answers are the model's (``ok`` or ``truncated``)."""
        return self.status in USABLE


async def review_lines(
    client: LLMClient,
    prompts: PromptSet,
    lines: Sequence[Line],
    schema: type[M],
    *,
    values: Mapping[str, object],
    retry_prompt: Prompt,
    period: Callable[[Chunk], str],
    concurrency: int,
    max_cost_usd: float | None,
    fallback: Fallback,
    show_plan: Callable[[CallPlan], None],
    anonymizer: Anonymizer | None = None,
) -> ModelReview[M]:
    """Ask the model about ``lines`` (see the module docstring); with an
    ``anonymizer`` the answers and raw answers are revealed."""
    start = len(client.records)
    reveal: Callable[[str], str] = anonymizer.reveal if anonymizer is not None else str
    plan = plan_calls(client, prompts, lines, values, period=period)
    show_plan(plan)
    check_cost(plan, max_cost_usd)

    def outcome(
        answers: Sequence[M],
        status: str,
        *,
        raw: str | None = None,
        problem: str | None = None,
        degraded: bool = False,
    ) -> ModelReview[M]:
        return ModelReview(
            answers=tuple(answers),
            status=status,
            provider=client.provider,
            model=client.model.name,
            usage=client.usage_summary(since=start),
            plan=plan,
            raw=raw,
            problem=problem,
            degraded=degraded,
        )

    try:
        answers = await map_plan(
            client,
            plan,
            prompts,
            schema,
            values=values,
            retry_prompt=retry_prompt,
            period=period,
            concurrency=concurrency,
            max_cost_usd=max_cost_usd,
        )
    except AnswerParseError as exc:
        return outcome((), "unparsed", raw=reveal(exc.raw), problem=exc.message)
    except CostLimitReached as exc:
        raw = RAW_SEPARATOR.join(reveal(answer) for answer in exc.answers) or None
        return outcome((), "stopped", raw=raw, problem=exc.message)
    except ProviderError as exc:
        if fallback != "local":
            raise
        return outcome((), "failed", problem=exc.message, degraded=True)
    values_only = [
        anonymizer.reveal_model(answer.value) if anonymizer is not None else answer.value
        for answer in answers
    ]
    if any(answer.status == "truncated" for answer in answers):
        return outcome(values_only, "truncated", problem=TRUNCATED_PROBLEM)
    return outcome(values_only, "ok")


# --------------------------------------------------------------------------- reports


LOCAL = "local"


@dataclass(frozen=True)
class SkippedChat:
    """A chat that failed while it was read, and why; the report covers the others."""

    chat_id: int
    title: str
    error: str

    def to_json(self) -> dict[str, Any]:
        return {"chat_id": self.chat_id, "chat_name": self.title, "error": self.error}


@dataclass(frozen=True)
class RunInfo:
    """What a report of these commands records about its run: when, from where, over
    which period, and the model's side (``provider`` ``local`` when none was used)."""

    generated_at: datetime
    source: str
    period: str
    provider: str = LOCAL
    model: str | None = None
    prompt: str | None = None
    prompt_hash: str | None = None
    status: str = LOCAL
    """``local``, or the :class:`ModelReview` status."""
    degraded: bool = False
    problem: str | None = None
    skipped: tuple[SkippedChat, ...] = ()
    """Chats that could not be read."""

    @classmethod
    def reviewed(
        cls,
        review: ModelReview[Any],
        prompt: Prompt,
        *,
        generated_at: datetime,
        source: str,
        period: str,
        skipped: tuple[SkippedChat, ...] = (),
    ) -> RunInfo:
        """The run info of a model's review through ``prompt``."""
        return cls(
            generated_at=generated_at,
            source=source,
            period=period,
            skipped=skipped,
            provider=review.provider,
            model=review.model,
            prompt=prompt.name,
            prompt_hash=prompt.hash,
            status=review.status,
            degraded=review.degraded,
            problem=review.problem,
        )

    @property
    def how(self) -> str:
        """One line for the report's head: which model (and how it went), or local."""
        if self.provider == LOCAL:
            return "Local heuristics (no model)."
        where = f"{self.provider} {self.model}"
        if self.status == "ok":
            return f"Reviewed by {where}."
        if self.degraded:
            return f"The model failed ({where}): local heuristics only (degraded)."
        if self.status in USABLE:
            return f"Reviewed by {where} ({self.status})."
        return f"The model's answer could not be used ({where}: {self.status}): local heuristics."

    @property
    def partial(self) -> bool:
        """True when the report is not whole: a model problem, or chats left out."""
        return self.problem is not None or bool(self.skipped)

    def skipped_markdown(self) -> list[str]:
        """The report's lines naming the chats left out (none: no lines)."""
        if not self.skipped:
            return []
        lines = ["", "**Skipped** (could not be read):", ""]
        return lines + [f"- {md_escape(s.title)}: {md_escape(s.error)}" for s in self.skipped]

    def to_json(self, tz: tzinfo) -> dict[str, Any]:
        """The run's part of a report's JSON (ISO 8601 time in ``tz``)."""
        return {
            "generated_at": iso_time(self.generated_at, tz),
            "source": self.source,
            "period": self.period,
            "status": self.status,
            "degraded": self.degraded,
            "llm": {
                "provider": self.provider,
                "model": self.model,
                "prompt": self.prompt,
                "prompt_hash": self.prompt_hash,
            },
            "problem": self.problem,
            "skipped": [chat.to_json() for chat in self.skipped],
        }


def report_base(kind: str, generated_at: datetime) -> str:
    """``<kind>_<YYYYMMDD-HHMMSS>`` (UTC): the name of a report over several chats."""
    return f"{kind}_{stamp(generated_at)}"


def write_report_files(out_dir: Path, base: str, texts: Mapping[str, str]) -> dict[str, Path]:
    """Write ``<base>.<ext>`` for each extension → text, atomically; ext → path."""
    written: dict[str, Path] = {}
    for ext, text in texts.items():
        path = out_dir / f"{base}.{ext}"
        with atomic_write(path) as handle:
            handle.write(text)
        written[ext] = path
    return written
