"""Token budgets, chunking, the cost plan and map-reduce runs (spec ai.md §1.3), on the
fake LLM server with small prompts and a small-window model."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import Field, SecretStr

from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tgpilot.core.errors import UsageError
from tgpilot.gateways.llm.catalogue import load_catalogue
from tgpilot.gateways.llm.client import LLMClient
from tgpilot.gateways.llm.factory import create_llm_client
from tgpilot.gateways.llm.resolve import LLMTarget
from tgpilot.gateways.llm.tokens import count_tokens
from tgpilot.services.ai.answers import LenientModel, StrList
from tgpilot.services.ai.budget import (
    TRUNCATED,
    Chunk,
    CostLimitReached,
    Line,
    PromptSet,
    check_cost,
    map_plan,
    margin_for,
    pack,
    plan_calls,
    prompt_budget,
    run_plan,
    split_lines,
)
from tgpilot.services.prompts import PromptLibrary

WINDOW = 1000
OUTPUT = 100
START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


class Notes(LenientModel):
    notes: StrList = Field(default_factory=list)


def lines(count: int, words: int = 8) -> list[Line]:
    return [
        Line(f"[{n}] " + " ".join(f"word{n}x{i}" for i in range(words)), START + timedelta(hours=n))
        for n in range(count)
    ]


def period(chunk: Chunk) -> str:
    assert chunk.first is not None and chunk.last is not None
    return f"{chunk.first:%d.%m %H:%M}-{chunk.last:%d.%m %H:%M}"


def test_margin() -> None:
    assert margin_for(2000) == 256 and margin_for(128_000) == 6400


def test_split_lines_fits_never_splits_and_cuts_long_lines() -> None:
    items = lines(200)
    items[50] = Line("huge " * 2000, items[50].at)
    chunks = split_lines(items, 300)
    assert len(chunks) > 1
    flat = [line for chunk in chunks for line in chunk.lines]
    assert len(flat) == 200
    for before, after in itertools.pairwise(chunks):
        assert before.start + len(before.lines) == after.start
    for chunk in chunks:
        assert chunk.tokens == count_tokens(chunk.text) <= 300
    assert [line.text for line in flat if line is not flat[50]] == [
        line.text for index, line in enumerate(items) if index != 50
    ]
    assert flat[50].text.endswith(TRUNCATED) and count_tokens(flat[50].text) <= 300 // 4
    assert split_lines([], 10) == []


def test_pack_converges() -> None:
    assert pack([10, 10, 10], 100) == [[0, 1, 2]]
    assert pack([60, 60, 60, 60], 100) == [[0, 1], [2, 3]]
    assert pack([60, 60, 60], 100) == [[0, 1, 2]]  # a lone last item joins the group before
    assert pack([500, 500], 100) == [[0, 1]]  # never one item alone: reduce always progresses


# --------------------------------------------------------------------------- on the fake


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
async def client(
    server: FakeLLMServer, fake_clock: FakeClock, tmp_path: Path
) -> AsyncIterator[LLMClient]:
    models = tmp_path / "models.yml"
    models.write_text(
        f"models:\n  small:\n    {{provider: openai, window: {WINDOW}, max_output: 500,\n"
        "     price: {input: 1.0, output: 2.0}, json: true}\n",
        encoding="utf-8",
    )
    target = LLMTarget(
        command="test", provider="openai", model="small", base_url=server.openai_url,
        api_key=SecretStr("sk-test"), key_env="OPENAI_API_KEY", temperature=None,
        max_tokens=None, timeout_s=10, max_retries=2, requests_per_minute=6000, cache=False,
    )  # fmt: skip
    async with create_llm_client(target, load_catalogue(models), clock=fake_clock) as opened:
        yield opened


PROMPTS = {
    "notes": "placeholders: [messages]\n",
    "notes.map": "placeholders: [messages, part, parts, period]\n",
    "notes.reduce": "placeholders: [partials, parts]\n",
}
BODIES = {
    "notes": "Take notes as JSON.\n<!-- user -->\n{{messages}}",
    "notes.map": "Take notes of one part as JSON.\n<!-- user -->\n"
    "Part {{part}} of {{parts}} ({{period}})\n{{messages}}",
    "notes.reduce": "Merge the notes as JSON.\n<!-- user -->\n{{parts}} parts:\n{{partials}}",
}


@pytest.fixture
def library(tmp_path: Path) -> PromptLibrary:
    folder = tmp_path / "prompts"
    folder.mkdir()
    for name, head in PROMPTS.items():
        text = f"---\ndescription: test\n{head}max_tokens: {OUTPUT}\njson: true\n---\n"
        (folder / f"{name}.md").write_text(text + BODIES[name], encoding="utf-8")
    return PromptLibrary((folder,))


def test_prompt_budget_and_single_plan(client: LLMClient, library: PromptLibrary) -> None:
    prompts = PromptSet.load(library, "notes")
    assert prompts.map is not None and prompts.reduce is not None
    budget = prompt_budget(client, prompts.single, {})
    assert (budget.window, budget.max_output, budget.margin) == (WINDOW, OUTPUT, 256)
    assert budget.input == WINDOW - OUTPUT - budget.prompt_tokens - 256
    plan = plan_calls(client, prompts, lines(3), {}, period=period)
    assert (plan.mode, plan.calls, plan.map_calls, plan.reduce_calls) == ("single", 1, 1, 0)
    assert plan.output_tokens == OUTPUT
    assert plan.cost_usd == pytest.approx((plan.input_tokens * 1.0 + OUTPUT * 2.0) / 1e6)
    assert "LLM plan: 1 call to small" in plan.describe()
    check_cost(plan, 1.0)
    with pytest.raises(UsageError, match=r"over llm\.max_cost_usd"):
        check_cost(plan, 0.0000001)
    with pytest.raises(UsageError, match=r"has no notes\.map variant"):
        plan_calls(client, PromptSet("notes", prompts.single), lines(300), {}, period=period)


async def test_map_reduce_with_recursive_groups(
    client: LLMClient, library: PromptLibrary, server: FakeLLMServer
) -> None:
    prompts = PromptSet.load(library, "notes")
    plan = plan_calls(client, prompts, lines(120), {}, period=period)
    assert plan.mode == "map_reduce"
    k = plan.map_calls
    assert k >= 4
    # Each partial is ~200 tokens: they cannot all go into one reduce request.
    big = json.dumps({"notes": [f"note {i} " + "detail " * 20 for i in range(8)]})
    server.script(
        *[Reply.of_text(big)] * k,
        *[Reply.of_text(json.dumps({"notes": ["merged"]}))] * (k - 1),
    )
    retry = library.load("json_retry")
    result = await run_plan(
        client, plan, prompts, Notes, values={}, retry_prompt=retry, period=period
    )
    requests = server.requests_to("/chat/completions")
    reduces = [r for r in requests if "Merge the notes" in r.json["messages"][0]["content"]]
    assert len(requests) == k + len(reduces)
    assert len(reduces) >= 2  # grouped, then reduced again
    assert result.value.notes == ["merged"] and result.status == "ok"
    assert len(result.partials) == k
    for request in requests:
        sent = sum(count_tokens(m["content"]) for m in request.json["messages"])
        assert sent + OUTPUT + margin_for(WINDOW) <= WINDOW


async def test_concurrency_limits_parallel_calls(
    client: LLMClient, library: PromptLibrary, server: FakeLLMServer
) -> None:
    prompts = PromptSet.load(library, "notes")
    plan = plan_calls(client, prompts, lines(120), {}, period=period)
    answer = json.dumps({"notes": ["n"]})
    server.script(*[Reply.of_text(answer, latency=0.2)] * plan.map_calls, Reply.of_text(answer))
    began = time.perf_counter()
    await run_plan(
        client, plan, prompts, Notes, values={}, retry_prompt=library.load("json_retry"),
        period=period, concurrency=2,
    )  # fmt: skip
    assert time.perf_counter() - began >= 0.2 * plan.map_calls / 2 - 0.05


async def test_spend_guard_stops_new_calls(
    client: LLMClient, library: PromptLibrary, server: FakeLLMServer
) -> None:
    prompts = PromptSet.load(library, "notes")
    plan = plan_calls(client, prompts, lines(120), {}, period=period)
    answer = json.dumps({"notes": ["n"]})
    server.script(*[Reply.of_text(answer, usage=(2_000_000, 0, 0))] * plan.map_calls)
    with pytest.raises(CostLimitReached) as caught:
        await run_plan(
            client, plan, prompts, Notes, values={}, retry_prompt=library.load("json_retry"),
            period=period, concurrency=1, max_cost_usd=1.0,
        )  # fmt: skip
    assert len(server.requests_to("/chat/completions")) == 1
    assert caught.value.answers == (answer,) and caught.value.exit_code == 3


async def test_map_plan_returns_every_partial_for_a_local_merge(
    client: LLMClient, library: PromptLibrary, server: FakeLLMServer
) -> None:
    full = PromptSet.load(library, "notes")
    prompts = PromptSet(full.name, full.single, full.map)
    plan = plan_calls(client, prompts, lines(120), {}, period=period)
    assert (plan.mode, plan.reduce_calls, plan.reduce_budget) == ("map_reduce", 0, None)
    server.script(*[Reply.of_text(json.dumps({"notes": [f"n{i}"]})) for i in range(plan.map_calls)])
    answers = await map_plan(
        client, plan, prompts, Notes, values={}, retry_prompt=library.load("json_retry"),
        period=period, concurrency=1,
    )  # fmt: skip
    assert [a.value.notes for a in answers] == [[f"n{i}"] for i in range(plan.map_calls)]
    assert len(server.requests_to("/chat/completions")) == plan.map_calls
