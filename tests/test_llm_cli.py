"""``tgpilot llm …`` end to end on the fake provider server and the fake clock
(ai.md §1, scenarios 1–5), and how a command's provider and model are chosen."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tgpilot.cli.app import run
from tgpilot.core.config import ConfigOptions, load_config
from tgpilot.core.errors import ConfigError, UsageError
from tgpilot.gateways.llm.catalogue import load_catalogue
from tgpilot.gateways.llm.resolve import resolve_embeddings, resolve_llm
from tgpilot.gateways.llm.types import UsageRecord
from tgpilot.store import Store
from tgpilot.store.llm import LLMRepository

KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
def openai_env(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    """The CLI pointed at the fake (OpenAI-compatible) with a key and no fallback."""
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("TGPILOT_LLM__FALLBACK", "none")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return server


def tgpilot(
    clock: FakeClock, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args), clock=clock)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def usage_rows(home: Path) -> list[UsageRecord]:
    async def read() -> list[UsageRecord]:
        async with await Store.open(f"sqlite:///{home / 'tgpilot.db'}") as store:
            return await LLMRepository(store).usage_records()

    return asyncio.run(read())


# ------------------------------------------------------------------ scenario 1


def test_scenario_1_a_429_then_hi(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    tgpilot_home: Path,
) -> None:
    openai_env.script(Reply.error(429, "rate limited", retry_after=1), Reply.of_text("hi"))
    code, out, _err = tgpilot(fake_clock, capsys, "llm", "run", "Say hi", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["text"] == "hi"
    assert result["retries"] == 1
    calls = openai_env.requests_to("/chat/completions")
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 1.0
    rows = usage_rows(tgpilot_home)
    assert [(r.command, r.status, r.retries) for r in rows] == [("llm run", "ok", 1)]


# ------------------------------------------------------------------ scenario 2


def test_scenario_2_repeated_503_exit_1_after_exactly_5_requests(
    openai_env: FakeLLMServer, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_env.script(*[Reply.error(503, "Service Unavailable")] * 8)
    code, out, err = tgpilot(fake_clock, capsys, "llm", "run", "hello")
    assert code == 1
    assert out == ""
    assert err.startswith("error: openai error 503: Service Unavailable")
    assert "Traceback" not in err
    assert len(openai_env.requests_to("/chat/completions")) == 5


def test_scenario_2_a_401_is_sent_once_and_the_hint_names_the_key(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    tgpilot_home: Path,
) -> None:
    openai_env.script(Reply.error(401, f"Incorrect API key provided: {KEY}"))
    code, _out, err = tgpilot(fake_clock, capsys, "llm", "run", "hello")
    assert code == 1
    assert "error: openai error 401: Incorrect API key provided: ***" in err
    assert "hint:" in err and "OPENAI_API_KEY" in err
    assert KEY not in err
    assert len(openai_env.requests) == 1
    assert [r.status for r in usage_rows(tgpilot_home)] == ["auth"]


# ------------------------------------------------------------------ scenario 3


@pytest.mark.parametrize("reply", [Reply.empty(), Reply.null_content()], ids=["empty", "null"])
def test_scenario_3_empty_choices_or_null_content_exit_1(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    reply: Reply,
) -> None:
    openai_env.script(reply)
    code, out, err = tgpilot(fake_clock, capsys, "llm", "run", "hello", "--json")
    assert code == 1
    assert out == ""
    assert "error: openai error 200: empty answer" in err


# ------------------------------------------------------------------ scenario 4


def test_scenario_4_a_loopback_server_works_without_a_key(
    server: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ollama = server.openai_url.replace("127.0.0.1", "localhost")
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", ollama)
    server.script(Reply.of_text("pong"))
    code, out, _ = tgpilot(fake_clock, capsys, "llm", "run", "hi", "--model", "llama3.1:8b")
    assert code == 0
    assert out.strip() == "pong"
    assert server.requests[-1].json["model"] == "llama3.1:8b"


def test_the_official_endpoint_without_a_key_exits_2_and_sends_nothing(
    server: FakeLLMServer, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = tgpilot(fake_clock, capsys, "llm", "run", "hi")
    assert code == 2
    assert "no API key for openai: set OPENAI_API_KEY" in err
    assert server.requests == []


def test_an_unknown_provider_exits_2_and_sends_nothing(
    openai_env: FakeLLMServer, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = tgpilot(fake_clock, capsys, "llm", "run", "hi", "--provider", "opnai")
    assert code == 2
    assert "unknown provider 'opnai'" in err and "did you mean openai?" in err
    assert openai_env.requests == []


def test_scenario_4_anthropic_gets_the_system_message_in_system(
    server: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    server.script(Reply.of_text("Brief."))
    code, out, _ = tgpilot(
        fake_clock, capsys, "llm", "run", "hi", "--provider", "anthropic", "--system", "Be brief"
    )
    assert code == 0 and out.strip() == "Brief."
    sent = server.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.json["system"] == "Be brief"
    assert sent.json["model"] == "claude-haiku-4-5"
    assert all(m["role"] != "system" for m in sent.json["messages"])


def test_scenario_4_gemini_requests_carry_the_key_in_a_header_only(
    server: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "AIzaSyTestKey0123456789abcdefghij"
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.url)
    monkeypatch.setenv("GEMINI_API_KEY", secret)
    code, out, _ = tgpilot(fake_clock, capsys, "llm", "run", "hi", "--provider", "gemini")
    assert code == 0 and out.strip() == "ok"
    sent = server.requests[-1]
    assert sent.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert secret not in sent.raw_url and "key=" not in sent.raw_url
    assert sent.headers["x-goog-api-key"] == secret


# ------------------------------------------------------------------ scenario 5


def test_scenario_5_streamed_deltas_in_order_usage_and_cost(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    clean_environment: Path,
    tgpilot_home: Path,
) -> None:
    (clean_environment / "config.yml").write_text("llm:\n  model: priced\n", encoding="utf-8")
    (clean_environment / "models.yml").write_text(
        "models:\n  priced: {provider: openai, price: {input: 1, output: 2}}\n",
        encoding="utf-8",
    )
    deltas = ["One ", "two ", "three ", "four ", "five."]
    openai_env.script(Reply.stream(deltas, delay=0.01, usage=(12, 5, 0)))
    code, out, err = tgpilot(fake_clock, capsys, "llm", "run", "count", "--stream")
    assert code == 0
    assert out == "One two three four five.\n"
    assert "12 in / 5 out tokens" in err and "$0.000022" in err
    [row] = usage_rows(tgpilot_home)
    assert (row.operation, row.input_tokens, row.output_tokens) == ("stream", 12, 5)
    assert row.cost_usd == pytest.approx(0.000022, abs=1e-12)


def test_stream_with_json_gives_the_whole_answer_and_usage(
    openai_env: FakeLLMServer, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_env.script(Reply.stream(["a", "b"], usage=(3, 2, 0)))
    code, out, _ = tgpilot(fake_clock, capsys, "llm", "run", "x", "--stream", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["text"] == "ab"
    assert result["usage"]["calls"] == 1
    assert result["usage"]["input_tokens"] == 3


# ------------------------------------------------------------------ cache, models, ping


def test_an_identical_request_is_served_from_the_cache(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    tgpilot_home: Path,
) -> None:
    openai_env.script(Reply.of_text("cached answer"))
    first = tgpilot(fake_clock, capsys, "llm", "run", "same", "--json")
    second = tgpilot(fake_clock, capsys, "llm", "run", "same", "--json")
    assert json.loads(first[1])["cache_hit"] is False
    again = json.loads(second[1])
    assert (again["text"], again["cache_hit"], again["usage"]["cost_usd"]) == (
        "cached answer", True, 0.0,
    )  # fmt: skip
    assert len(openai_env.requests) == 1
    assert [r.cache_hit for r in usage_rows(tgpilot_home)] == [False, True]


def test_models_lists_catalogue_and_server(
    openai_env: FakeLLMServer, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = tgpilot(fake_clock, capsys, "llm", "models", "--json")
    assert code == 0
    data = json.loads(out)
    names = {m["model"] for m in data["catalogue"]}
    assert {"gpt-4o-mini", "claude-haiku-4-5", "text-embedding-3-small"} <= names
    assert [m["id"] for m in data["server"]["models"]] == openai_env.models
    assert data["server"]["endpoint"] == openai_env.openai_url


def test_models_still_lists_the_catalogue_when_the_server_refuses(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", openai_env.url + "/nowhere")
    code, out, err = tgpilot(fake_clock, capsys, "llm", "models")
    assert code == 0
    assert "gpt-4o-mini" in out
    assert "warning: server models not listed: openai error 404" in err


def test_models_offline_asks_no_server(
    openai_env: FakeLLMServer, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = tgpilot(
        fake_clock, capsys, "llm", "models", "--offline", "--provider", "anthropic", "--json"
    )
    assert code == 0
    providers = {m["provider"] for m in json.loads(out)["catalogue"]}
    assert providers == {"anthropic"}
    assert openai_env.requests == []


def test_ping_reports_latency(
    openai_env: FakeLLMServer, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_env.script(Reply.error(503), Reply.of_text("pong"))
    code, out, _ = tgpilot(fake_clock, capsys, "llm", "ping", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["provider"], data["model"], data["retries"]) == ("openai", "gpt-4o-mini", 1)
    assert data["latency_ms"] >= 0 and data["endpoint"] == openai_env.openai_url


def test_usage_sums_the_recorded_calls(
    openai_env: FakeLLMServer, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    openai_env.script(Reply.of_text("a", usage=(10, 1, 0)), Reply.of_text("b", usage=(20, 2, 0)))
    tgpilot(fake_clock, capsys, "llm", "run", "one")
    tgpilot(fake_clock, capsys, "llm", "ping")
    code, out, _ = tgpilot(fake_clock, capsys, "llm", "usage", "--since", "7d", "--json")
    assert code == 0
    groups = {g["command"]: g for g in json.loads(out)["groups"]}
    assert groups["llm run"]["input_tokens"] == 10
    assert groups["llm ping"]["output_tokens"] == 2
    assert tgpilot(fake_clock, capsys, "llm", "usage", "--by", "week")[0] == 2


def test_llm_help_imports_no_sdk() -> None:
    code = (
        "import sys\n"
        "from tgpilot.cli.app import run\n"
        "rc = run(['llm', '--help'])\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'openai', 'anthropic', 'google'}\n"
        "print('HEAVY=' + ','.join(sorted(heavy)))\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "HEAVY=\n" in done.stdout


# ------------------------------------------------------------------ precedence


def write_config(folder: Path, text: str) -> ConfigOptions:
    path = folder / "config.yml"
    path.write_text(text, encoding="utf-8")
    return ConfigOptions(config_file=path)


CONFIG = """\
llm:
  model: gpt-4.1-mini
  temperature: 0.5
  commands:
    analyze: {model: gpt-4o, temperature: 0.1, max_tokens: 700}
    digest: {provider: anthropic}
"""


def test_command_settings_beat_llm_settings(tmp_path: Path) -> None:
    options = write_config(tmp_path, CONFIG)
    environ = {"OPENAI_API_KEY": KEY, "ANTHROPIC_API_KEY": KEY}
    config = load_config(options, environ)
    catalogue = load_catalogue()
    analyze = resolve_llm(config, "analyze", catalogue, environ=environ)
    assert (analyze.model, analyze.temperature, analyze.max_tokens) == ("gpt-4o", 0.1, 700)
    other = resolve_llm(config, "ask", catalogue, environ=environ)
    assert (other.model, other.temperature, other.max_tokens) == ("gpt-4.1-mini", 0.5, None)
    digest = resolve_llm(config, "digest", catalogue, environ=environ)
    # llm.model names an OpenAI model: Anthropic gets its own default instead.
    assert (digest.provider, digest.model, digest.key_env) == (
        "anthropic", "claude-haiku-4-5", "ANTHROPIC_API_KEY",
    )  # fmt: skip


def test_environment_beats_command_settings_and_flags_beat_everything(tmp_path: Path) -> None:
    options = write_config(tmp_path, CONFIG)
    environ = {
        "OPENAI_API_KEY": KEY,
        "TGPILOT_LLM__MODEL": "gpt-4.1",
        "TGPILOT_LLM__TEMPERATURE": "0.3",
    }
    config = load_config(options, environ)
    catalogue = load_catalogue()
    analyze = resolve_llm(config, "analyze", catalogue, environ=environ)
    assert (analyze.model, analyze.temperature, analyze.max_tokens) == ("gpt-4.1", 0.3, 700)
    flagged = resolve_llm(
        config,
        "analyze",
        catalogue,
        model="o3-mini",
        temperature=1.0,
        max_tokens=5,
        environ=environ,
    )
    assert (flagged.model, flagged.temperature, flagged.max_tokens) == ("o3-mini", 1.0, 5)


def test_nothing_set_gives_the_provider_default(tmp_path: Path) -> None:
    environ = {"GEMINI_API_KEY": KEY}
    config = load_config(ConfigOptions(), environ)
    chosen = resolve_llm(config, "analyze", load_catalogue(), provider="gemini", environ=environ)
    assert (chosen.model, chosen.temperature, chosen.base_url) == ("gemini-2.5-flash", None, None)


def test_a_custom_key_variable_is_honoured(tmp_path: Path) -> None:
    options = write_config(tmp_path, "llm:\n  api_key_env: MY_ROUTER_KEY\n")
    environ = {"MY_ROUTER_KEY": "sk-router-0123456789"}
    config = load_config(options, environ)
    chosen = resolve_llm(config, "ask", load_catalogue(), environ=environ)
    assert chosen.api_key is not None
    assert chosen.api_key.get_secret_value() == "sk-router-0123456789"
    assert chosen.key_env == "MY_ROUTER_KEY"
    with pytest.raises(ConfigError) as caught:
        resolve_llm(config, "ask", load_catalogue(), environ={})
    assert "MY_ROUTER_KEY" in caught.value.message


def test_a_bad_provider_flag_is_a_usage_error(tmp_path: Path) -> None:
    config = load_config(ConfigOptions(), {})
    with pytest.raises(UsageError) as caught:
        resolve_llm(config, "ask", load_catalogue(), provider="opnai", environ={})
    assert caught.value.exit_code == 2


def test_embeddings_use_their_own_section(tmp_path: Path) -> None:
    options = write_config(tmp_path, "embeddings:\n  model: text-embedding-3-large\n")
    environ = {"OPENAI_API_KEY": KEY}
    config = load_config(options, environ)
    chosen = resolve_embeddings(config, "rag index", environ=environ)
    assert (chosen.provider, chosen.model, chosen.cache) == (
        "openai", "text-embedding-3-large", False,
    )  # fmt: skip
    keyless = load_config(options, {})
    with pytest.raises(ConfigError) as caught:
        resolve_embeddings(keyless, "rag index", environ={})
    assert "OPENAI_API_KEY" in caught.value.message
