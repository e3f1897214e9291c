"""One chat's analysis with a model (spec ai.md §4.1, §1.3, §1.4, §5): the LLM half.

:func:`analyze_with_llm` takes a finished local analysis (selection and metrics are
always local), turns its kept messages into the ``messages`` and ``metadata`` input,
plans the calls — one when the chat fits the model's budget, map-reduce otherwise —
shows the cost plan, refuses an estimate over ``llm.max_cost_usd`` (exit 2), and merges
the validated answer into the local report. Nothing is lost when the model fails:

- an answer unusable even after the JSON retry → the local report with
  ``llm.status: "unparsed"`` and the raw answers to save beside it (exit 3);
- the spend passing ``max_cost_usd`` during the run → the local report, status
  ``"stopped"``, the answers received so far as the raw text (exit 3);
- a provider failing after its retries → with ``llm.fallback: local`` the local report
  marked ``degraded: true``, status ``"failed"`` (exit 3); with ``none`` the error;
- a repaired answer the output limit cut → merged, status ``"truncated"`` (exit 3).

With ``--anonymize`` an :class:`~tgpilot.services.ai.anonymize.Anonymizer` stands between
the chat and the model (pseudonyms, masked phones and e-mails) and the answer is
revealed before the merge, so the report shows real names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import TYPE_CHECKING, Literal

from tgpilot.core.errors import AnswerParseError, ProviderError
from tgpilot.services.ai.analyze.answer import AnalysisAnswer, merge_answer
from tgpilot.services.ai.analyze.prompt_input import LINE_TIME, message_line, metadata_json
from tgpilot.services.ai.analyze.report import AnalysisReport, LLMInfo
from tgpilot.services.ai.analyze.service import ChatAnalysis
from tgpilot.services.ai.anonymize import Anonymizer
from tgpilot.services.ai.budget import (
    CallPlan,
    Chunk,
    CostLimitReached,
    Line,
    PromptSet,
    check_cost,
    plan_calls,
    run_plan,
)
from tgpilot.services.prompts import Prompt

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient
    from tgpilot.gateways.llm.types import UsageTotals

Fallback = Literal["local", "none"]
RAW_SEPARATOR = "\n\n----- next answer -----\n\n"
PERIOD_SEPARATOR = " – "


@dataclass(frozen=True)
class LLMAnalysis:
    """A chat's report after the model, what to save beside it, and the usage it took."""

    report: AnalysisReport
    usage: UsageTotals
    plan: CallPlan | None = None
    raw: str | None = None
    """Answers that could not be used (for ``<base>.raw.txt``)."""
    problem: str | None = None
    """Why the report is not a full model analysis (None when it is)."""

    @property
    def partial(self) -> bool:
        """True when the command should exit 3 for this chat."""
        return self.problem is not None


def period_of(tz: tzinfo) -> Callable[[Chunk], str]:
    """``{{period}}`` of a chunk: its first and last message times in ``tz``."""

    def period(chunk: Chunk) -> str:
        first, last = chunk.first, chunk.last
        if first is None or last is None:
            return ""
        return PERIOD_SEPARATOR.join(
            moment.astimezone(tz).strftime(LINE_TIME) for moment in (first, last)
        )

    return period


async def analyze_with_llm(
    analysis: ChatAnalysis,
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
) -> LLMAnalysis:
    """The model's analysis of ``analysis`` merged into its local report (see above).

    With an ``anonymizer`` (``--anonymize``) the model reads pseudonyms and masked
    texts, and its answer (and any raw answer kept) is revealed before it is merged.
    """
    start = len(client.records)
    local = analysis.report
    messages = analysis.messages
    chat_name = analysis.chat.title
    reveal: Callable[[str], str] = str
    if anonymizer is not None:
        messages = anonymizer.messages(messages)
        chat_name = anonymizer.text(chat_name)
        reveal = anonymizer.reveal
    lines = [Line(message_line(m, tz), m.date) for m in messages]
    values = {
        "chat_name": chat_name,
        "metadata": metadata_json(analysis.metrics, tz),
    }
    period = period_of(tz)
    plan = plan_calls(client, prompts, lines, values, period=period)
    show_plan(plan)
    check_cost(plan, max_cost_usd)
    info = LLMInfo(
        provider=client.provider,
        model=client.model.name,
        status="ok",
        prompt=prompts.name,
        prompt_hash=prompts.single.hash,
        anonymized=anonymizer is not None,
    )

    def outcome(
        report: AnalysisReport, status: str, *, raw: str | None = None, problem: str | None = None
    ) -> LLMAnalysis:
        return LLMAnalysis(
            replace(report, llm=replace(info, status=status)),
            client.usage_summary(since=start),
            plan,
            raw,
            problem,
        )

    try:
        result = await run_plan(
            client,
            plan,
            prompts,
            AnalysisAnswer,
            values=values,
            retry_prompt=retry_prompt,
            period=period,
            concurrency=concurrency,
            max_cost_usd=max_cost_usd,
        )
    except AnswerParseError as exc:
        return outcome(local, "unparsed", raw=reveal(exc.raw), problem=exc.message)
    except CostLimitReached as exc:
        raw = RAW_SEPARATOR.join(reveal(answer) for answer in exc.answers) or None
        return outcome(local, "stopped", raw=raw, problem=exc.message)
    except ProviderError as exc:
        if fallback != "local":
            raise
        return outcome(replace(local, degraded=True), "failed", problem=exc.message)
    value = anonymizer.reveal_model(result.value) if anonymizer is not None else result.value
    merged = merge_answer(local, value, tz)
    if result.status == "truncated":
        problem = "the answer was cut by the output limit and repaired (raise --max-tokens)"
        return outcome(merged, "truncated", problem=problem)
    return outcome(merged, "ok")
