"""The JSON-answer pipeline shared by AI commands (spec ai.md §1.4): extraction, repair,
lenient validation, and :func:`ask_json` with its single retry on the fake LLM server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Annotated

import pytest
from pydantic import BeforeValidator, Field, SecretStr

from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tgpilot.core.errors import AnswerParseError
from tgpilot.gateways.llm.catalogue import load_catalogue
from tgpilot.gateways.llm.client import LLMClient
from tgpilot.gateways.llm.factory import create_llm_client
from tgpilot.gateways.llm.resolve import LLMTarget
from tgpilot.services.ai.answers import (
    AnswerProblem,
    IntList,
    LenientDate,
    LenientFloat,
    LenientInt,
    LenientModel,
    LenientStr,
    ObjectList,
    StrList,
    ask_json,
    between,
    extract_json,
    lenient_enum,
    number,
    parse_json,
    read_answer,
    text_or,
)
from tgpilot.services.prompts import PromptDefaults, PromptLibrary, RenderedPrompt

STAGES = ("lead", "proposal", "won", "lost")


class Deal(LenientModel):
    title: Annotated[str, BeforeValidator(text_or("Untitled"))] = "Untitled"
    stage: Annotated[str, BeforeValidator(lenient_enum(STAGES, {"offer": "proposal"}))] = "lead"
    value: LenientFloat = 0.0
    score: Annotated[float, BeforeValidator(between(0, 10))] = 5.0
    due: LenientDate = None


class Crm(LenientModel):
    name: LenientStr = ""
    count: LenientInt = 0
    deals: ObjectList[Deal] = Field(default_factory=list)
    tags: StrList = Field(default_factory=list)
    ids: IntList = Field(default_factory=list)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('\ufeff  {"a": 1}  ', '{"a": 1}'),
        ('Sure!\n```json\n{"a": [1, 2]}\n```\nAnything else?', '{"a": [1, 2]}'),
        ('```\n[{"a": 1}]\n```', '[{"a": 1}]'),
        ('See [1] below. {"a": "x}"} and {"b": 2}', '{"a": "x}"}'),
        ('{"a": {"b": [1, 2', '{"a": {"b": [1, 2'),
        ("See [1]. {'a': 1,}", "{'a': 1,}"),
        ('```json\n{"a": 1', '{"a": 1'),
        ("Sorry, I cannot help", None),
    ],
    ids=[
        "bom",
        "fenced",
        "fenced-array",
        "first-balanced",
        "unclosed",
        "broken-object",
        "open-fence",
        "none",
    ],
)
def test_extract_json(text: str, expected: str | None) -> None:
    assert extract_json(text) == expected


def test_parse_and_repair() -> None:
    assert parse_json('{"a": 1}').repaired is False
    repaired = parse_json("{'a': 1, 'b': [1, 2,],}")
    assert (repaired.value, repaired.repaired) == ({"a": 1, "b": [1, 2]}, True)
    with pytest.raises(AnswerProblem, match="no JSON"):
        parse_json("Sorry, I cannot help")


def test_lenient_validation() -> None:
    answer = {
        "Name": None,
        "COUNT": "~15",
        "deals": [
            {"title": " ", "stage": "OFFER", "value": "about 1,200 USD", "score": "12/10"},
            {"title": "B", "stage": "negotiation", "value": "n/a", "due": "05.04.2024"},
            "not an object",
            3,
        ],
        "tags": ["a", 2, None, {"x": 1}, ""],
        "ids": ["#3", "x", 4.6],
    }
    crm, status = read_answer(json.dumps(answer), Crm)
    assert status == "ok"
    assert crm.name == "" and crm.count == 15
    assert [(d.title, d.stage, d.value, d.score) for d in crm.deals] == [
        ("Untitled", "proposal", 1200.0, 10.0),
        ("B", "unknown", 0.0, 5.0),
    ]
    assert crm.deals[1].due == date(2024, 4, 5)
    assert crm.tags == ["a", "2"] and crm.ids == [3, 5]
    assert read_answer("{}", Crm)[0] == Crm()
    assert read_answer('{"deals": null, "tags": "solo"}', Crm)[0].tags == ["solo"]
    assert read_answer('[{"count": 2}]', Crm)[0].count == 2
    with pytest.raises(AnswerProblem):
        read_answer("[1, 2]", Crm)


def test_numbers() -> None:
    assert number("~15") == 15 and number("7,5") == 7.5 and number("1,234 msgs") == 1234
    assert number(True) is None and number("none") is None and number(3) == 3


def test_truncated_answers_are_marked() -> None:
    cut = '{"name": "Acme", "tags": ["a", "b'
    assert read_answer(cut, Crm, finish_reason="length") == (
        Crm(name="Acme", tags=["a", "b"]),
        "truncated",
    )
    assert read_answer(cut, Crm, finish_reason="stop")[1] == "ok"
    assert read_answer('{"name": "A"}', Crm, finish_reason="length")[1] == "ok"


# --------------------------------------------------------------------------- ask_json


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
async def client(server: FakeLLMServer, fake_clock: FakeClock) -> AsyncIterator[LLMClient]:
    target = LLMTarget(
        command="test", provider="openai", model="gpt-4o-mini", base_url=server.openai_url,
        api_key=SecretStr("sk-test"), key_env="OPENAI_API_KEY", temperature=None,
        max_tokens=None, timeout_s=10, max_retries=2, requests_per_minute=600, cache=False,
    )  # fmt: skip
    async with create_llm_client(target, load_catalogue(), clock=fake_clock) as opened:
        yield opened


RENDERED = RenderedPrompt("crm", "abc123", "Answer with JSON.", "Extract the deals.")
DEFAULTS = PromptDefaults(temperature=0.2, max_tokens=500, json=True)


async def test_ask_json_one_call_when_the_answer_is_usable(
    client: LLMClient, server: FakeLLMServer
) -> None:
    server.script(Reply.of_text('```json\n{"name": "Acme", "deals": [{"title": "T"}]}\n```'))
    retry = PromptLibrary().load("json_retry")
    answer = await ask_json(client, RENDERED, Crm, retry_prompt=retry, defaults=DEFAULTS)
    assert answer.value.name == "Acme" and answer.status == "ok" and not answer.retried
    [request] = server.requests_to("/chat/completions")
    assert request.json["response_format"] == {"type": "json_object"}
    assert request.json["max_tokens"] == 500 and request.json["temperature"] == 0.2
    assert client.records[0].prompt_name == "crm"


async def test_ask_json_retries_once_then_raises_with_the_raw_answers(
    client: LLMClient, server: FakeLLMServer
) -> None:
    retry = PromptLibrary().load("json_retry")
    server.script(Reply.of_text("I think Acme"), Reply.of_text('{"name": "Acme"}'))
    answer = await ask_json(client, RENDERED, Crm, retry_prompt=retry, defaults=DEFAULTS)
    assert answer.retried and answer.value.name == "Acme"
    second = server.requests_to("/chat/completions")[1]
    user = second.json["messages"][-1]["content"]
    assert "I think Acme" in user and "no JSON object" in user
    assert second.json["max_tokens"] == 500 and second.json["temperature"] == 0
    assert client.records[1].prompt_name == "json_retry"

    server.script(Reply.of_text("nope"), Reply.of_text("still nope"))
    with pytest.raises(AnswerParseError) as caught:
        await ask_json(client, RENDERED, Crm, retry_prompt=retry, defaults=DEFAULTS)
    assert "nope" in caught.value.raw and "still nope" in caught.value.raw
    assert len(server.requests_to("/chat/completions")) == 4
