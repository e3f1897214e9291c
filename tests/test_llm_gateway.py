"""The LLM gateway on the fake provider server, through the official SDKs (ai.md §1).

Retries on the fake clock (scenario 1), typed errors (2, 3), request shapes of every
provider (4), streaming with usage and cost (5); plus the cache, usage rows, timeouts,
the catalogue and token counting.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, LoopbackTransport, Reply
from tgpilot.core.errors import (
    ConfigError,
    EmptyResponse,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderRateLimited,
    ProviderUnavailable,
)
from tgpilot.gateways.llm.catalogue import load_catalogue
from tgpilot.gateways.llm.client import LLMClient
from tgpilot.gateways.llm.factory import RateLimiters, create_llm_client
from tgpilot.gateways.llm.resolve import LLMTarget
from tgpilot.gateways.llm.retry import backoff_seconds
from tgpilot.gateways.llm.types import ChatMessage, PromptRef, StreamEnd, TextDelta, UsageRecord

KEY = "sk-test-0123456789abcdef"
HELLO = [ChatMessage("system", "You are terse."), ChatMessage("user", "Say hi")]


class Recorder:
    """Collects usage rows (the store's recorder is tested in test_llm_store)."""

    def __init__(self) -> None:
        self.rows: list[UsageRecord] = []

    async def record_usage(self, record: UsageRecord) -> None:
        self.rows.append(record)


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


def target(server: FakeLLMServer, **changes: object) -> LLMTarget:
    base = LLMTarget(
        command="test",
        provider="openai",
        model="gpt-4o-mini",
        base_url=server.openai_url,
        api_key=SecretStr(KEY),
        key_env="OPENAI_API_KEY",
        temperature=None,
        max_tokens=None,
        timeout_s=10,
        max_retries=5,
        requests_per_minute=600,
        cache=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(
    server: FakeLLMServer, fake_clock: FakeClock, recorder: Recorder
) -> AsyncIterator[LLMClient]:
    async with create_llm_client(
        target(server), load_catalogue(), clock=fake_clock, recorder=recorder
    ) as opened:
        yield opened


# ------------------------------------------------------------------ scenario 1: retries


async def test_429_with_retry_after_is_retried_once_after_one_second(
    client: LLMClient, server: FakeLLMServer, fake_clock: FakeClock, recorder: Recorder
) -> None:
    server.script(Reply.error(429, "slow down", retry_after=1), Reply.of_text("hi"))
    answer = await client.complete(HELLO)
    assert answer.text == "hi"
    calls = server.requests_to("/chat/completions")
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 1.0
    assert fake_clock.sleeps == [1.0]
    assert [(r.status, r.retries) for r in recorder.rows] == [("ok", 1)]


async def test_retry_after_as_an_http_date_and_in_milliseconds(
    client: LLMClient, server: FakeLLMServer, fake_clock: FakeClock
) -> None:
    server.script(
        Reply.error(503, retry_after="Wed, 15 Jan 2025 12:00:07 GMT"),
        Reply.error(429, headers={"retry-after-ms": "1500"}),
        Reply.of_text("done"),
    )
    assert (await client.complete(HELLO)).text == "done"
    assert fake_clock.sleeps == [7.0, 1.5]


async def test_backoff_is_exponential_with_full_jitter_up_to_max_retries(
    client: LLMClient, server: FakeLLMServer, fake_clock: FakeClock, recorder: Recorder
) -> None:
    server.script(*[Reply.error(503, "overloaded")] * 6)
    with pytest.raises(ProviderUnavailable) as caught:
        await client.complete(HELLO)
    assert len(server.requests_to("/chat/completions")) == 5
    assert len(fake_clock.sleeps) == 4
    for attempt, slept in enumerate(fake_clock.sleeps, start=1):
        assert 0 <= slept <= 2 ** (attempt - 1)
    assert caught.value.message == "openai error 503: overloaded"
    assert [(r.status, r.retries) for r in recorder.rows] == [("unavailable", 4)]


def test_backoff_ceiling_grows_from_one_second_and_stops_at_sixty() -> None:
    assert [backoff_seconds(n, lambda: 1.0) for n in (1, 2, 3, 7, 8, 20)] == [
        1.0, 2.0, 4.0, 60.0, 60.0, 60.0,
    ]  # fmt: skip
    assert backoff_seconds(3, lambda: 0.25) == 1.0


@pytest.mark.parametrize("status", [408, 409, 500, 502, 529])
async def test_these_statuses_are_retried(
    client: LLMClient, server: FakeLLMServer, status: int
) -> None:
    server.script(Reply.error(status), Reply.of_text("fine"))
    assert (await client.complete(HELLO)).retries == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ProviderBadRequest),
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (404, ProviderBadRequest),
        (422, ProviderBadRequest),
    ],
)
async def test_these_statuses_are_never_retried(
    client: LLMClient, server: FakeLLMServer, status: int, error: type[Exception]
) -> None:
    server.script(Reply.error(status), Reply.of_text("never sent"))
    with pytest.raises(error):
        await client.complete(HELLO)
    assert len(server.requests_to("/chat/completions")) == 1


async def test_a_refused_connection_is_retried_then_reported(
    fake_clock: FakeClock, server: FakeLLMServer
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = target(server, base_url=f"http://127.0.0.1:{port}/v1", max_retries=3)
    async with create_llm_client(dead, load_catalogue(), clock=fake_clock) as client:
        with pytest.raises(ProviderUnavailable) as caught:
            await client.complete(HELLO)
    assert caught.value.message.startswith("openai error: cannot connect")
    assert "llm.base_url" in (caught.value.hint or "")
    assert len(fake_clock.sleeps) == 2


# --------------------------------------------------------- scenarios 2 and 3: errors


async def test_a_401_names_the_key_variable_and_never_shows_the_key(
    client: LLMClient, server: FakeLLMServer
) -> None:
    server.script(Reply.error(401, f"Incorrect API key provided: {KEY}. Bearer {KEY}"))
    with pytest.raises(ProviderAuthError) as caught:
        await client.complete(HELLO)
    assert caught.value.exit_code == 1
    assert caught.value.message.startswith("openai error 401: Incorrect API key provided: ***")
    assert KEY not in caught.value.message
    assert "OPENAI_API_KEY" in (caught.value.hint or "")


async def test_error_detail_is_the_first_300_characters(
    client: LLMClient, server: FakeLLMServer
) -> None:
    server.script(Reply.raw("x" * 1000, status=400, content_type="text/plain"))
    with pytest.raises(ProviderBadRequest) as caught:
        await client.complete(HELLO)
    assert caught.value.message == "openai error 400: " + "x" * 300


async def test_a_404_hint_names_the_model(client: LLMClient, server: FakeLLMServer) -> None:
    server.script(Reply.error(404, "The model does not exist"))
    with pytest.raises(ProviderBadRequest) as caught:
        await client.complete(HELLO)
    assert "'gpt-4o-mini'" in (caught.value.hint or "")


async def test_a_refused_temperature_hint_names_the_parameter(
    client: LLMClient, server: FakeLLMServer
) -> None:
    server.script(Reply.error(400, "Unsupported value: 'temperature' does not support 0.2"))
    with pytest.raises(ProviderBadRequest) as caught:
        await client.complete(HELLO)
    assert "fixed_temperature" in (caught.value.hint or "")


@pytest.mark.parametrize("reply", [Reply.empty(), Reply.null_content()], ids=["empty", "null"])
async def test_no_choices_or_null_content_is_an_empty_response(
    client: LLMClient, server: FakeLLMServer, recorder: Recorder, reply: Reply
) -> None:
    server.script(reply)
    with pytest.raises(EmptyResponse) as caught:
        await client.complete(HELLO)
    assert caught.value.exit_code == 1
    assert caught.value.message.startswith("openai error 200: empty answer")
    assert len(server.requests) == 1
    assert [r.status for r in recorder.rows] == ["empty"]


# ------------------------------------------------------- scenario 4: request shapes


async def test_loopback_server_needs_no_key_and_gets_max_tokens(
    fake_clock: FakeClock, server: FakeLLMServer
) -> None:
    ollama = target(
        server,
        base_url=server.openai_url.replace("127.0.0.1", "localhost"),
        api_key=None,
        model="llama3.1:8b",
        max_tokens=50,
    )
    async with create_llm_client(ollama, load_catalogue(), clock=fake_clock) as client:
        assert (await client.complete(HELLO)).text == "ok"
    body = server.requests[-1].json
    assert body["max_tokens"] == 50
    assert "max_completion_tokens" not in body


async def test_the_official_endpoint_gets_max_completion_tokens(
    fake_clock: FakeClock, server: FakeLLMServer
) -> None:
    official = target(server, base_url=None, max_tokens=50, temperature=0.2)
    port = int(server.url.rsplit(":", 1)[1])
    async with create_llm_client(
        official, load_catalogue(), clock=fake_clock, transport=LoopbackTransport(port)
    ) as client:
        assert client.base_url == "https://api.openai.com/v1"
        await client.complete(HELLO)
    sent = server.requests[-1]
    assert sent.headers["host"] == "api.openai.com"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json["max_completion_tokens"] == 50
    assert "max_tokens" not in sent.json
    assert sent.json["temperature"] == 0.2
    assert sent.json["messages"][0] == {"role": "system", "content": "You are terse."}


@pytest.mark.parametrize("model", ["o3-mini", "gpt-5-mini"])
async def test_a_fixed_temperature_model_gets_no_temperature(
    fake_clock: FakeClock, server: FakeLLMServer, model: str
) -> None:
    fixed = target(server, model=model, temperature=0.7)
    async with create_llm_client(fixed, load_catalogue(), clock=fake_clock) as client:
        await client.complete(HELLO, prompt=PromptRef("p", "h", temperature=0.4))
    assert "temperature" not in server.requests[-1].json


async def test_prompt_defaults_apply_only_when_nothing_else_set_them(
    fake_clock: FakeClock, server: FakeLLMServer
) -> None:
    prompt = PromptRef("digest", "abc123", temperature=0.4, max_tokens=300)
    async with create_llm_client(target(server), load_catalogue(), clock=fake_clock) as client:
        await client.complete(HELLO, prompt=prompt)
    assert server.requests[-1].json["temperature"] == 0.4
    assert server.requests[-1].json["max_tokens"] == 300
    chosen = target(server, temperature=0.9, max_tokens=99)
    async with create_llm_client(chosen, load_catalogue(), clock=fake_clock) as client:
        await client.complete(HELLO, prompt=prompt)
    assert server.requests[-1].json["temperature"] == 0.9
    assert server.requests[-1].json["max_tokens"] == 99


async def test_json_mode_is_asked_for_where_the_model_supports_it(
    client: LLMClient, server: FakeLLMServer
) -> None:
    await client.complete(HELLO, json_mode=True)
    assert server.requests[-1].json["response_format"] == {"type": "json_object"}


async def test_anthropic_gets_the_system_prompt_in_system(
    fake_clock: FakeClock, server: FakeLLMServer
) -> None:
    claude = target(
        server,
        provider="anthropic",
        model="claude-haiku-4-5",
        base_url=server.url,
        key_env="ANTHROPIC_API_KEY",
    )
    server.script(Reply.of_text("Hi.", usage=(20, 3, 8)))
    async with create_llm_client(claude, load_catalogue(), clock=fake_clock) as client:
        answer = await client.complete(HELLO)
    assert answer.text == "Hi."
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (20, 3)
    assert answer.usage.cached_tokens == 8
    sent = server.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["authorization"] == f"Bearer {KEY}"  # how this SDK version sends it
    assert sent.json["system"] == "You are terse."
    assert sent.json["messages"] == [{"role": "user", "content": "Say hi"}]
    assert sent.json["max_tokens"] == 4096


async def test_anthropic_overloaded_529_is_retried(
    fake_clock: FakeClock, server: FakeLLMServer
) -> None:
    claude = target(server, provider="anthropic", model="claude-haiku-4-5", base_url=server.url)
    server.script(Reply.error(529, "Overloaded"), Reply.of_text("back"))
    async with create_llm_client(claude, load_catalogue(), clock=fake_clock) as client:
        assert (await client.complete(HELLO)).retries == 1


async def test_gemini_urls_carry_no_key(fake_clock: FakeClock, server: FakeLLMServer) -> None:
    secret = "AIzaSyTestKey0123456789abcdefghij"
    gemini = target(
        server,
        provider="gemini",
        model="gemini-2.5-flash",
        base_url=server.url,
        api_key=SecretStr(secret),
        key_env="GEMINI_API_KEY",
        temperature=0.3,
    )
    server.script(Reply.of_text("hello"), Reply.stream(["a", "b"]))
    async with create_llm_client(gemini, load_catalogue(), clock=fake_clock) as client:
        assert (await client.complete(HELLO)).text == "hello"
        events = [event async for event in client.stream(HELLO)]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["a", "b"]
    for sent in server.requests:
        assert secret not in sent.raw_url
        assert "key=" not in sent.raw_url
        assert sent.headers["x-goog-api-key"] == secret
    first = server.requests[0].json
    assert server.requests[0].path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert first["systemInstruction"]["parts"] == [{"text": "You are terse."}]
    assert first["generationConfig"]["temperature"] == 0.3


# ------------------------------------------------------------ scenario 5: streaming


async def test_five_deltas_arrive_in_order_then_usage_and_cost(
    fake_clock: FakeClock, server: FakeLLMServer, recorder: Recorder, tmp_path: Path
) -> None:
    override = tmp_path / "models.yml"
    override.write_text(
        "models:\n  priced:\n    provider: openai\n    price: {input: 1, output: 2}\n",
        encoding="utf-8",
    )
    priced = target(server, model="priced")
    server.script(
        Reply.stream(["One ", "two ", "three ", "four ", "five."], delay=0.01, usage=(12, 5, 0))
    )
    async with create_llm_client(
        priced, load_catalogue(override), clock=fake_clock, recorder=recorder
    ) as client:
        events = [event async for event in client.stream(HELLO)]
    assert [e.text for e in events[:5] if isinstance(e, TextDelta)] == [
        "One ", "two ", "three ", "four ", "five.",
    ]  # fmt: skip
    end = events[-1]
    assert len(events) == 6 and isinstance(end, StreamEnd)
    assert end.completion.text == "One two three four five."
    assert (end.completion.usage.input_tokens, end.completion.usage.output_tokens) == (12, 5)
    assert end.completion.finish_reason == "stop"
    assert end.completion.cost_usd == pytest.approx(0.000022, abs=1e-12)
    assert server.requests[-1].json["stream_options"] == {"include_usage": True}
    assert [(r.operation, r.cost_usd) for r in recorder.rows] == [("stream", 0.000022)]


async def test_anthropic_streams_deltas_then_usage(
    fake_clock: FakeClock, server: FakeLLMServer
) -> None:
    claude = target(server, provider="anthropic", model="claude-haiku-4-5", base_url=server.url)
    server.script(Reply.stream(["Hel", "lo"], usage=(12, 5, 2)))
    async with create_llm_client(claude, load_catalogue(), clock=fake_clock) as client:
        events = [event async for event in client.stream(HELLO)]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hel", "lo"]
    end = events[-1]
    assert isinstance(end, StreamEnd)
    assert end.completion.usage.to_json() == {
        "input_tokens": 12, "output_tokens": 5, "cached_tokens": 2,
    }  # fmt: skip
    assert end.completion.finish_reason == "end_turn"


async def test_a_stream_is_retried_while_no_text_has_arrived(
    client: LLMClient, server: FakeLLMServer
) -> None:
    server.script(Reply.error(503), Reply.stream(["x", "y"]))
    events = [event async for event in client.stream(HELLO)]
    end = events[-1]
    assert isinstance(end, StreamEnd) and end.completion.text == "xy"
    assert end.completion.retries == 1


async def test_a_stream_that_breaks_after_text_is_not_retried(
    client: LLMClient, server: FakeLLMServer, recorder: Recorder
) -> None:
    server.script(Reply.stream(["a", "b", "c", "d"], cut_after=2), Reply.of_text("never"))
    received: list[str] = []
    with pytest.raises(ProviderUnavailable):
        async for event in client.stream(HELLO):
            if isinstance(event, TextDelta):
                received.append(event.text)
    assert received == ["a", "b"]
    assert len(server.requests) == 1
    assert [r.status for r in recorder.rows] == ["unavailable"]


async def test_a_stream_left_early_still_adds_a_usage_row(
    client: LLMClient, server: FakeLLMServer, recorder: Recorder
) -> None:
    server.script(Reply.stream(["one", "two", "three"]))
    stream = client.stream(HELLO)
    async for event in stream:
        assert event == TextDelta("one")
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert [(r.operation, r.status, r.output_tokens) for r in recorder.rows] == [
        ("stream", "abandoned", 1),
    ]  # fmt: skip


async def test_a_silent_stream_times_out(fake_clock: FakeClock, server: FakeLLMServer) -> None:
    server.script(Reply.stream(["first", "late"], delay=1.0))
    async with create_llm_client(
        target(server), load_catalogue(), clock=fake_clock, stream_idle_s=0.2
    ) as client:
        with pytest.raises(ProviderUnavailable) as caught:
            async for _event in client.stream(HELLO):
                pass
    assert "sent nothing for 0.2 s" in caught.value.message


async def test_a_stream_without_text_is_an_empty_response(
    client: LLMClient, server: FakeLLMServer
) -> None:
    server.script(Reply.empty())
    with pytest.raises(EmptyResponse):
        async for _event in client.stream(HELLO):
            pass


async def test_a_server_without_stream_usage_gets_usage_counted_locally(
    client: LLMClient, server: FakeLLMServer
) -> None:
    server.script(Reply.stream(["hello ", "world"], usage=None))
    events = [event async for event in client.stream([ChatMessage("user", "hello world")])]
    end = events[-1]
    assert isinstance(end, StreamEnd)
    assert (end.completion.usage.input_tokens, end.completion.usage.output_tokens) == (2, 2)


# ------------------------------------------------------------------ other calls


async def test_embeddings_come_back_in_order_and_empty_input_sends_nothing(
    client: LLMClient, server: FakeLLMServer, recorder: Recorder
) -> None:
    nothing = await client.embed([])
    assert nothing.vectors == () and server.requests == []
    result = await client.embed(["alpha", "beta", "alpha"], model="text-embedding-3-small")
    assert len(result.vectors) == 3 and len(result.vectors[0]) == 8
    assert result.vectors[0] == result.vectors[2] != result.vectors[1]
    assert result.model == "text-embedding-3-small"
    assert result.cost_usd is not None
    assert [r.operation for r in recorder.rows] == ["embed"]


async def test_models_lists_the_servers_models(client: LLMClient, server: FakeLLMServer) -> None:
    names = [m.id for m in await client.list_models()]
    assert names == server.models


async def test_a_rate_limited_call_that_never_recovers_says_so(
    client: LLMClient, server: FakeLLMServer
) -> None:
    server.script(*[Reply.error(429, "quota", retry_after=2)] * 5)
    with pytest.raises(ProviderRateLimited) as caught:
        await client.complete(HELLO)
    assert "requests_per_minute" in (caught.value.hint or "")


def test_one_limiter_per_provider() -> None:
    limiters = RateLimiters()
    first = limiters.for_provider("openai", 60)
    assert limiters.for_provider("openai", 30) is first
    assert limiters.for_provider("anthropic", 60) is not first
    assert first.max_rate == 60 and first.time_period == 60


# ------------------------------------------------------------------ catalogue


def test_an_unknown_model_gets_8192_tokens_and_no_cost() -> None:
    unknown = load_catalogue().model("mystery-model")
    assert (unknown.window, unknown.known) == (8192, False)
    assert unknown.cost(client_usage(1000, 1000)) is None


def client_usage(prompt: int, answer: int, cached: int = 0) -> object:
    from tgpilot.gateways.llm.types import Usage

    return Usage(prompt, answer, cached)


def test_cost_bills_cached_input_at_the_cached_price() -> None:
    from tgpilot.gateways.llm.types import Usage

    mini = load_catalogue().model("gpt-4o-mini")
    assert mini.cost(Usage(1_000_000, 0, 0)) == pytest.approx(0.15)
    assert mini.cost(Usage(1_000_000, 1_000_000, 500_000)) == pytest.approx(0.075 + 0.0375 + 0.60)


def test_an_override_replaces_fields_model_by_model(tmp_path: Path) -> None:
    override = tmp_path / "models.yml"
    override.write_text(
        "models:\n  gpt-4o-mini: {window: 1000}\n  local-thing: {provider: openai}\n"
        "providers:\n  anthropic: {model: claude-sonnet-4-5}\n",
        encoding="utf-8",
    )
    catalogue = load_catalogue(override)
    mini = catalogue.model("gpt-4o-mini")
    assert (mini.window, mini.input_price, mini.json_mode) == (1000, 0.15, True)
    assert catalogue.model("local-thing").known
    defaults = catalogue.provider_defaults("anthropic")
    assert defaults is not None and defaults.model == "claude-sonnet-4-5"


def test_a_bad_override_is_a_config_error_naming_file_and_field(tmp_path: Path) -> None:
    override = tmp_path / "models.yml"
    override.write_text("models:\n  gpt-4o-mini: {window: lots}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_catalogue(override)
    assert str(override) in caught.value.message
    assert "models.gpt-4o-mini.window" in caught.value.message


def test_every_packaged_model_names_a_known_provider() -> None:
    catalogue = load_catalogue()
    assert {m.provider for m in catalogue} == {"openai", "anthropic", "gemini"}
    for provider in ("openai", "anthropic", "gemini"):
        defaults = catalogue.provider_defaults(provider)
        assert defaults is not None and catalogue.model(defaults.model).known


# ------------------------------------------------------------------ tokens


def test_tokens_are_counted_offline_with_o200k_base(
    client: LLMClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tiktoken_ext import openai_public

    from tgpilot.gateways.llm.tokens import O200K_PATTERN, SPECIAL_TOKENS

    assert client.count_tokens("hello world") == 2
    assert client.count_tokens("") == 0
    assert client.count_tokens("<|endoftext|>") > 1  # special-token text is plain text
    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", lambda *_a, **_k: {})
    published = openai_public.o200k_base()
    assert published["pat_str"] == O200K_PATTERN
    assert published["special_tokens"] == SPECIAL_TOKENS
