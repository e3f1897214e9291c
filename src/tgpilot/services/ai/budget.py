"""Token budgets, map-reduce and the cost plan (spec ai.md §1.3), for every AI command.

**Budget.** The input budget of a prompt is the model's window − the answer's maximum
output − the prompt rendered without its payload − a margin (5 % of the window, at
least 256 tokens), all counted with tiktoken ``o200k_base`` (:func:`prompt_budget`).

**Plan.** :func:`plan_calls` decides how a payload of chronological lines is sent: in
one call when it fits the budget of ``<name>``, else through map-reduce —
:func:`split_lines` cuts the lines into chunks that fit ``<name>.map`` (never splitting
a line; a line over a quarter of the budget is cut and marked ``…[truncated]``), each
chunk is mapped, and the partial answers are reduced with ``<name>.reduce``, in groups
and recursively when they do not fit one request. The :class:`CallPlan` counts the
calls, tokens and the estimated cost (from the catalogue, every answer counted at its
output limit, so an upper bound); :func:`check_cost` refuses a plan whose estimate is
over ``llm.max_cost_usd`` (exit 2).

**Run.** :func:`run_plan` makes the calls — at most ``llm.concurrency`` at a time — and
reads every answer through :func:`~tgpilot.services.ai.answers.ask_json`. A
:class:`SpendGuard` checks the actual spend before each call: once it passes
``max_cost_usd`` no new call starts and :class:`CostLimitReached` (exit 3) carries the
answers already received.

Commands that reduce locally (CRM and ideas merge on keys) plan with a
:class:`PromptSet` without ``reduce`` and call :func:`map_plan`, which makes only the
single call or the map calls and returns every validated answer.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from tgpilot.core.errors import EXIT_PARTIAL, ConfigError, TgpilotError, UsageError
from tgpilot.gateways.llm.tokens import count_tokens, o200k_base
from tgpilot.gateways.llm.types import PromptRef, Usage
from tgpilot.services.ai.answers import AnswerStatus, JsonAnswer, ask_json
from tgpilot.services.prompts import Prompt, PromptLibrary, is_path_reference

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient

M = TypeVar("M", bound=BaseModel)

MARGIN_SHARE = 0.05
MIN_MARGIN = 256
LONG_LINE_SHARE = 4
"""A line longer than 1/LONG_LINE_SHARE of the budget is cut."""
TRUNCATED = "…[truncated]"
MAP_SUFFIX = ".map"
REDUCE_SUFFIX = ".reduce"
PAYLOAD = "messages"
PARTIALS = "partials"
PLACEHOLDER_PART = 999
"""``{{part}}``/``{{parts}}`` while measuring the map prompt (as long as a real number)."""

PlanMode = Literal["single", "map_reduce"]


# --------------------------------------------------------------------------- prompts


@dataclass(frozen=True)
class PromptSet:
    """A prompt and its map-reduce variants (None when the prompt has none)."""

    name: str
    single: Prompt
    map: Prompt | None = None
    reduce: Prompt | None = None

    @classmethod
    def load(cls, library: PromptLibrary, ref: str) -> PromptSet:
        """``ref`` (a name or a path) with ``<ref>.map``/``<ref>.reduce`` when they exist."""
        single = library.load(ref)
        return cls(
            ref, single, _variant(library, ref, MAP_SUFFIX), _variant(library, ref, REDUCE_SUFFIX)
        )


def _variant(library: PromptLibrary, ref: str, suffix: str) -> Prompt | None:
    if is_path_reference(ref):
        path = Path(ref)
        variant = path.with_name(f"{path.stem}{suffix}{path.suffix}")
        return library.load(str(variant)) if variant.is_file() else None
    name = f"{ref}{suffix}"
    return library.load(name) if name in library.names() else None


def _ref(prompt: Prompt) -> PromptRef:
    """The :class:`PromptRef` of a prompt (name, hash and its request defaults)."""
    defaults = prompt.defaults
    return PromptRef(prompt.name, prompt.hash, defaults.temperature, defaults.max_tokens)


# --------------------------------------------------------------------------- budget


def margin_for(window: int) -> int:
    """The safety margin: 5 % of the window, at least 256 tokens."""
    return max(MIN_MARGIN, math.ceil(window * MARGIN_SHARE))


@dataclass(frozen=True)
class Budget:
    """How a model's window is shared for one prompt; :attr:`input` is left for the payload."""

    prompt: str
    window: int
    max_output: int
    prompt_tokens: int
    margin: int

    @property
    def input(self) -> int:
        """Tokens the payload may take."""
        return self.window - self.max_output - self.prompt_tokens - self.margin

    def to_json(self) -> dict[str, int | str]:
        return {
            "prompt": self.prompt,
            "window": self.window,
            "max_output": self.max_output,
            "prompt_tokens": self.prompt_tokens,
            "margin": self.margin,
            "input": self.input,
        }


def max_output(client: LLMClient, prompt: Prompt) -> int:
    """The output limit a call with ``prompt`` sends (else the model's, else a quarter
    of the window): the part of the window an answer may take."""
    model = client.model
    limit = client.output_limit(_ref(prompt))
    return limit or model.max_output or model.window // LONG_LINE_SHARE


def prompt_budget(
    client: LLMClient, prompt: Prompt, values: Mapping[str, object], *, payload: str = PAYLOAD
) -> Budget:
    """The budget of ``prompt`` rendered with ``values`` and an empty ``payload``;
    a UsageError when the window leaves no room for a payload at all."""
    rendered = prompt.render(**{**values, payload: ""})
    window = client.model.window
    budget = Budget(
        prompt=prompt.name,
        window=window,
        max_output=max_output(client, prompt),
        prompt_tokens=count_tokens(rendered.system) + count_tokens(rendered.user),
        margin=margin_for(window),
    )
    if budget.input <= 0:
        raise UsageError(
            f"model {client.model.name}: its {window}-token window leaves no room for input "
            f"to prompt {prompt.name} ({budget.max_output} for the answer, "
            f"{budget.prompt_tokens} for the prompt, {budget.margin} margin)",
            hint="choose a model with a larger window, or lower --max-tokens",
        )
    return budget


# --------------------------------------------------------------------------- chunks


@dataclass(frozen=True)
class Line:
    """One line of a payload (a message), with its date when it has one."""

    text: str
    at: datetime | None = None


@dataclass(frozen=True)
class Chunk:
    """Consecutive lines sent in one request; ``start`` is the first line's index."""

    lines: tuple[Line, ...]
    start: int
    tokens: int

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def first(self) -> datetime | None:
        return next((line.at for line in self.lines if line.at is not None), None)

    @property
    def last(self) -> datetime | None:
        return next((line.at for line in reversed(self.lines) if line.at is not None), None)


def cut_line(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` tokens, ending in ``…[truncated]``."""
    encoding = o200k_base()
    room = max(1, limit - count_tokens(TRUNCATED))
    head = encoding.decode(encoding.encode_ordinary(text)[:room]).rstrip("\ufffd").rstrip()
    return head + TRUNCATED


def split_lines(lines: Sequence[Line], budget: int) -> list[Chunk]:
    """Consecutive chunks of at most ``budget`` tokens each (joined by newlines); a line
    is never split, and one over a quarter of the budget is cut and marked."""
    if budget <= 0:
        raise ValueError("the budget must be positive")
    cap = max(1, budget // LONG_LINE_SHARE)
    chunks: list[Chunk] = []
    current: list[Line] = []
    start = used = 0
    for index, line in enumerate(lines):
        tokens = count_tokens(line.text)
        if tokens > cap:
            line = Line(cut_line(line.text, cap), line.at)
            tokens = count_tokens(line.text)
        cost = tokens + (1 if current else 0)
        if current and used + cost > budget:
            chunks.extend(_fitted(current, start, budget))
            current, start, used, cost = [], index, 0, tokens
        current.append(line)
        used += cost
    if current:
        chunks.extend(_fitted(current, start, budget))
    return chunks


def _fitted(lines: list[Line], start: int, budget: int) -> list[Chunk]:
    """``lines`` as chunks whose joined text is truly within ``budget`` (tokens can merge
    across a newline, so the estimate is checked on the joined text)."""
    chunks: list[Chunk] = []
    while lines:
        size = len(lines)
        tokens = count_tokens("\n".join(line.text for line in lines))
        while tokens > budget and size > 1:
            size -= 1
            tokens = count_tokens("\n".join(line.text for line in lines[:size]))
        chunks.append(Chunk(tuple(lines[:size]), start, tokens))
        lines, start = lines[size:], start + size
    return chunks


def pack(sizes: Sequence[int], budget: int) -> list[list[int]]:
    """Indices of ``sizes`` in consecutive groups whose sizes (plus one separator token
    each) fit ``budget``; every group but a lone last one holds at least two items, so
    repeated packing always converges to one group."""
    groups: list[list[int]] = []
    current: list[int] = []
    used = 0
    for index, size in enumerate(sizes):
        cost = size + 1
        if len(current) >= 2 and used + cost > budget:
            groups.append(current)
            current, used = [], 0
        current.append(index)
        used += cost
    if current:
        if len(current) == 1 and groups:
            groups[-1].append(current[0])
        else:
            groups.append(current)
    return groups


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class CallPlan:
    """How a payload will be sent, and what it is expected to cost (upper bounds)."""

    mode: PlanMode
    chunks: tuple[Chunk, ...]
    budget: Budget
    """The budget of the prompt the chunks go to (``<name>``, or ``<name>.map``)."""
    reduce_budget: Budget | None
    map_calls: int
    reduce_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    model: str

    @property
    def calls(self) -> int:
        return self.map_calls + self.reduce_calls

    def describe(self) -> str:
        """The cost plan line printed before calling."""
        if self.mode == "single":
            calls = "1 call"
        else:
            calls = f"{self.calls} calls ({self.map_calls} map + ≤ {self.reduce_calls} reduce)"
        cost = "cost unknown" if self.cost_usd is None else f"≤ ${self.cost_usd:.6f}"
        return (
            f"LLM plan: {calls} to {self.model}, ≈ {self.input_tokens} input tokens, "
            f"≤ {self.output_tokens} output tokens, {cost}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "model": self.model,
            "calls": self.calls,
            "map_calls": self.map_calls,
            "reduce_calls": self.reduce_calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "budget": self.budget.to_json(),
            "reduce_budget": self.reduce_budget.to_json() if self.reduce_budget else None,
        }


def plan_calls(
    client: LLMClient,
    prompts: PromptSet,
    lines: Sequence[Line],
    values: Mapping[str, object],
    *,
    period: Callable[[Chunk], str],
    payload: str = PAYLOAD,
) -> CallPlan:
    """The plan for sending ``lines`` (see the module docstring). ``values`` fill the
    prompts' other placeholders; ``period`` names a chunk's dates for ``{{period}}``.
    A payload too big for one call and a prompt without ``.map`` is a UsageError."""
    text = "\n".join(line.text for line in lines)
    tokens = count_tokens(text)
    single = prompt_budget(client, prompts.single, values, payload=payload)
    if tokens <= single.input or not lines:
        return _plan(
            client,
            "single",
            (Chunk(tuple(lines), 0, tokens),),
            single,
            None,
            [(single.prompt_tokens + tokens, single.max_output)],
            reduce_calls=0,
        )
    if prompts.map is None:
        raise UsageError(
            f"the input ({tokens} tokens) does not fit one request to {client.model.name} "
            f"({single.input} tokens left for it), and prompt {prompts.name} has no "
            f"{prompts.name}{MAP_SUFFIX} variant for map-reduce",
            hint="add the .map and .reduce prompts, choose a larger model, or read less",
        )
    whole = Chunk(tuple(lines), 0, tokens)
    map_values = {**values, "part": PLACEHOLDER_PART, "parts": PLACEHOLDER_PART}
    map_budget = prompt_budget(client, prompts.map, {**map_values, "period": period(whole)})
    chunks = tuple(split_lines(lines, map_budget.input))
    calls = [(map_budget.prompt_tokens + chunk.tokens, map_budget.max_output) for chunk in chunks]
    reduce_budget = None
    reduce_calls = 0
    if prompts.reduce is not None:
        reduce_budget = prompt_budget(
            client, prompts.reduce, {**map_values, PARTIALS: ""}, payload=PARTIALS
        )
        sizes = [map_budget.max_output] * len(chunks)
        while len(sizes) > 1:
            groups = pack(sizes, reduce_budget.input)
            for group in groups:
                size = sum(sizes[index] + 1 for index in group)
                calls.append((reduce_budget.prompt_tokens + size, reduce_budget.max_output))
            reduce_calls += len(groups)
            sizes = [reduce_budget.max_output] * len(groups)
    return _plan(client, "map_reduce", chunks, map_budget, reduce_budget, calls, reduce_calls)


def _plan(
    client: LLMClient,
    mode: PlanMode,
    chunks: tuple[Chunk, ...],
    budget: Budget,
    reduce_budget: Budget | None,
    calls: list[tuple[int, int]],
    reduce_calls: int,
) -> CallPlan:
    input_tokens = sum(call[0] for call in calls)
    output_tokens = sum(call[1] for call in calls)
    return CallPlan(
        mode=mode,
        chunks=chunks,
        budget=budget,
        reduce_budget=reduce_budget,
        map_calls=len(calls) - reduce_calls,
        reduce_calls=reduce_calls,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=client.model.cost(Usage(input_tokens, output_tokens)),
        model=client.model.name,
    )


def check_cost(plan: CallPlan, max_cost_usd: float | None) -> None:
    """A UsageError (exit 2, nothing sent) when the plan's estimate is over the limit."""
    if max_cost_usd is None or plan.cost_usd is None or plan.cost_usd <= max_cost_usd:
        return
    raise UsageError(
        f"the estimated cost ${plan.cost_usd:.6f} is over llm.max_cost_usd "
        f"(${max_cost_usd:.6f}); nothing was sent",
        hint="raise llm.max_cost_usd (TGPILOT_LLM__MAX_COST_USD), read fewer messages "
        "(--limit, --days), or choose a cheaper --model",
    )


# --------------------------------------------------------------------------- run


class CostLimitReached(TgpilotError):
    """The actual spend passed ``llm.max_cost_usd``: no new call was started (exit 3).

    ``answers`` are the raw answers received before the stop, in order.
    """

    exit_code = EXIT_PARTIAL

    def __init__(self, spent: float, limit: float, answers: Sequence[str] = ()) -> None:
        super().__init__(
            f"LLM spend ${spent:.6f} passed llm.max_cost_usd (${limit:.6f}); stopped, "
            "keeping what was done",
            hint="raise llm.max_cost_usd to finish; cached answers are not paid again",
        )
        self.spent = spent
        self.limit = limit
        self.answers = tuple(answers)


class SpendGuard:
    """Stops new calls once a client's spend passes ``max_cost_usd`` (None: no limit)."""

    def __init__(self, client: LLMClient, max_cost_usd: float | None) -> None:
        self._client = client
        self._limit = max_cost_usd
        self._start = len(client.records)

    @property
    def spent(self) -> float | None:
        """USD spent since the guard was made (None when a price is unknown)."""
        return self._client.usage_summary(since=self._start).cost_usd

    def check(self) -> None:
        """Raise :class:`CostLimitReached` if the spend has passed the limit."""
        spent = self.spent
        if self._limit is not None and spent is not None and spent > self._limit:
            raise CostLimitReached(spent, self._limit)


@dataclass(frozen=True)
class PlanResult(Generic[M]):
    """The final validated answer of a plan, and how it went."""

    value: M
    status: AnswerStatus
    """``truncated`` when any answer on the way was."""
    raw: str
    """The text the final value was read from."""
    partials: tuple[M, ...] = ()
    """The map answers (map-reduce only), in chunk order."""


class _Calls(Generic[M]):
    """The calls of one plan: at most ``concurrency`` at a time, each behind the spend
    guard, every answer read as ``schema`` and its raw text kept."""

    def __init__(
        self,
        client: LLMClient,
        schema: type[M],
        values: Mapping[str, object],
        retry_prompt: Prompt,
        concurrency: int,
        max_cost_usd: float | None,
    ) -> None:
        self._client = client
        self._schema = schema
        self._values = values
        self._retry_prompt = retry_prompt
        self._guard = SpendGuard(client, max_cost_usd)
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self.received: list[str] = []
        self.truncated = False
        """True once any answer was cut by the output limit (and repaired)."""

    async def ask(self, prompt: Prompt, **filled: object) -> JsonAnswer[M]:
        async with self._limit:
            answer = await ask_json(
                self._client,
                prompt.render(**{**self._values, **filled}),
                self._schema,
                retry_prompt=self._retry_prompt,
                defaults=prompt.defaults,
                before_call=self._guard.check,
            )
            self.received.append(answer.raw)
            self.truncated = self.truncated or answer.status == "truncated"
            return answer

    async def first_pass(
        self, plan: CallPlan, prompts: PromptSet, period: Callable[[Chunk], str], payload: str
    ) -> list[JsonAnswer[M]]:
        """The single call, or one map call per chunk (in chunk order)."""
        if plan.mode == "single":
            return [await self.ask(prompts.single, **{payload: plan.chunks[0].text})]
        if prompts.map is None:
            raise ConfigError(f"prompt {prompts.name} has no {prompts.name}{MAP_SUFFIX} variant")
        map_prompt, parts = prompts.map, len(plan.chunks)
        return await _all(
            [
                self.ask(
                    map_prompt,
                    part=index,
                    parts=parts,
                    period=period(chunk),
                    **{payload: chunk.text},
                )
                for index, chunk in enumerate(plan.chunks, start=1)
            ]
        )

    async def reduce(
        self, prompt: Prompt, budget: int, answers: list[JsonAnswer[M]]
    ) -> JsonAnswer[M]:
        """The answers reduced to one, in groups that fit ``budget``, level by level."""
        while True:
            items = [_compact(answer.value) for answer in answers]
            groups = pack([count_tokens(item) for item in items], budget)
            answers = await _all(
                [
                    self.ask(
                        prompt,
                        parts=len(group),
                        **{PARTIALS: _json_array([items[index] for index in group])},
                    )
                    for group in groups
                ]
            )
            if len(answers) == 1:
                return answers[0]


async def map_plan(
    client: LLMClient,
    plan: CallPlan,
    prompts: PromptSet,
    schema: type[M],
    *,
    values: Mapping[str, object],
    retry_prompt: Prompt,
    period: Callable[[Chunk], str],
    concurrency: int = 4,
    max_cost_usd: float | None = None,
    payload: str = PAYLOAD,
) -> list[JsonAnswer[M]]:
    """Only the first pass of a plan — its single call, or every map call, in chunk
    order — for commands that merge partial answers themselves (CRM, ideas). Raises
    like :func:`run_plan`."""
    calls = _Calls(client, schema, values, retry_prompt, concurrency, max_cost_usd)
    try:
        return await calls.first_pass(plan, prompts, period, payload)
    except CostLimitReached as stop:
        raise CostLimitReached(stop.spent, stop.limit, calls.received) from None


async def run_plan(
    client: LLMClient,
    plan: CallPlan,
    prompts: PromptSet,
    schema: type[M],
    *,
    values: Mapping[str, object],
    retry_prompt: Prompt,
    period: Callable[[Chunk], str],
    concurrency: int = 4,
    max_cost_usd: float | None = None,
    payload: str = PAYLOAD,
) -> PlanResult[M]:
    """Make the plan's calls and return the final answer as ``schema``: the single
    call's, or the reduce's after the map calls. ``values`` fill the prompts' other
    placeholders (chat-wide metadata included, for the reduce).

    Raises AnswerParseError (an answer unusable twice), ProviderError, or
    CostLimitReached carrying the raw answers received before the stop.
    """
    calls = _Calls(client, schema, values, retry_prompt, concurrency, max_cost_usd)
    try:
        answers = await calls.first_pass(plan, prompts, period, payload)
        if plan.mode == "single":
            [answer] = answers
            return PlanResult(answer.value, answer.status, answer.raw)
        if prompts.reduce is None or plan.reduce_budget is None:
            raise ConfigError(f"prompt {prompts.name} has no {prompts.name}{REDUCE_SUFFIX} variant")
        final = await calls.reduce(prompts.reduce, plan.reduce_budget.input, answers)
    except CostLimitReached as stop:
        raise CostLimitReached(stop.spent, stop.limit, calls.received) from None
    status: AnswerStatus = "truncated" if calls.truncated else "ok"
    return PlanResult(final.value, status, final.raw, tuple(answer.value for answer in answers))


def _compact(value: BaseModel) -> str:
    """A partial answer as the reduce step receives it: compact JSON without the fields
    left at their defaults (empty lists, unknown names), to spend the budget on content."""
    return value.model_dump_json(exclude_defaults=True)


def _json_array(items: Sequence[str]) -> str:
    """Already-serialised JSON values as one JSON array, one per line."""
    return "[\n" + ",\n".join(items) + "\n]"


async def _all(calls: Sequence[Awaitable[JsonAnswer[M]]]) -> list[JsonAnswer[M]]:
    """Await every call (none is cancelled when another fails), then raise the first
    failure, a spend stop last."""
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    failures.sort(key=lambda failure: isinstance(failure, CostLimitReached))
    if failures:
        raise failures[0]
    return [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
