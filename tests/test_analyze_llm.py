"""``tgpilot analyze`` with a model, end to end on the fake LLM server (spec ai.md §4.1,
§1.3, §1.4, §5; scenarios 10, 11 and 13): the merged answer with local figures, an
unusable answer, map-reduce over a small window, the cost plan, truncated answers and
the fallback to local analysis."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analyze_fixtures import (
    ANNA,
    BORIS,
    FROZEN_NOW,
    VERA,
    at,
    chat20_export,
    message,
    single_chat,
    write_export,
)
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, RecordedRequest, Reply
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli, CliResult
from tgpilot.gateways.llm.tokens import count_tokens
from tgpilot.services.ai.budget import TRUNCATED, margin_for
from tgpilot.services.prompts import PromptLibrary

KEY = "sk-test-0123456789abcdef"
TINY_MODEL = "tiny-2k"
TINY_WINDOW = 2000
TINY_OUTPUT = 400

ANSWER_10 = {
    "category": "IT",
    "subcategories": ["Servers", "Planning"],
    "sentiment": "Positive",
    "activity_level": "high",
    "professionalism": "casual",
    "total_messages": 999,
    "activity_metrics": {"total_messages": 999, "messages_per_day": 333},
    "topics": [
        {"name": "Servers", "mentions": "~15", "sentiment": "positive"},
        {"name": "Code review", "mentions": 4, "sentiment": "mixed"},
        {"name": "", "mentions": None},
    ],
    "discussions": [
        {
            "title": "Budget",
            "date": "2024-03-01",
            "participants": ["Anna", "Boris"],
            "messages_count": 999,
            "summary": "The server budget.",
        },
        {"date": "2024-03-02", "participants": ["Anna"], "summary": "Code."},
    ],
    "insights": ["Planning happens on Mondays", "Servers dominate", "Friendly tone"],
    "recommendations": ["Pin the plan", "Book the meeting room"],
    "summary": "A small team plans its servers.",
}
MAP_ANSWER = {
    "category": "IT",
    "topics": [{"name": "Servers", "mentions": 3}],
    "key_participants": [{"name": "Anna", "message_count": 2, "engagement_score": 7}],
    "summary": "part",
}
REDUCE_ANSWER = {
    "category": "Reduced IT",
    "topics": [{"name": "Servers", "mentions": 300}, {"name": "Deploys"}, {"name": "Tea"}],
    "key_participants": [{"name": "Anna", "message_count": 999, "engagement_score": "8/10"}],
    "summary": "The whole chat, reduced.",
}


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(FROZEN_NOW)


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
def cli(
    make_cli: Callable[..., Cli], server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    """The CLI offline, its LLM the fake server (OpenAI-compatible) with a key."""
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return make_cli(FakeTelegram(), logged_in=False)


@pytest.fixture
def chat20(tmp_path: Path) -> Path:
    return write_export(tmp_path / "chat20", chat20_export())


def analyze(cli: Cli, source: Path, out: Path, *args: str) -> CliResult:
    return cli("analyze", "chat20", "--source", str(source), "--out", str(out), "--json", *args)


def only_report(result: CliResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """The one row of the command's JSON and its JSON report file."""
    [row] = result.json()["reports"]
    return row, json.loads(Path(row["files"]["json"]).read_text(encoding="utf-8"))


def chats(server: FakeLLMServer) -> list[RecordedRequest]:
    return server.requests_to("/chat/completions")


def turns(request: RecordedRequest) -> tuple[str, str]:
    """A request's system and user messages."""
    by_role = {m["role"]: m["content"] for m in request.json["messages"]}
    return by_role.get("system", ""), by_role["user"]


def fenced(document: Any) -> str:
    return "Here is the analysis:\n```json\n" + json.dumps(document, indent=1) + "\n```\nDone."


# --------------------------------------------------------------------------- scenario 10


def test_scenario_10_a_fenced_answer_merges_with_local_figures(
    cli: Cli, server: FakeLLMServer, chat20: Path, tmp_path: Path
) -> None:
    server.script(Reply.of_text(fenced(ANSWER_10)))
    result = analyze(cli, chat20, tmp_path / "out")
    assert result.code == 0, result.err
    assert "LLM plan: 1 call to gpt-4o-mini" in result.err
    assert "LLM usage: 1 call" in result.err
    assert "not available" not in result.err
    [request] = chats(server)
    assert request.json["response_format"] == {"type": "json_object"}
    system, user = turns(request)
    analyze_prompt = PromptLibrary().load("analyze")
    assert system.startswith("You are an experienced community analyst")
    assert "[01.03.2024 09:30] Boris: Спасибо, отличный план" in user
    assert "[7 reactions]" in user and '"total_messages": 15' in user

    row, report = only_report(result)
    assert row["llm_status"] == "ok" and "problem" not in row
    assert report["category"] == "IT"
    assert report["subcategories"] == ["Servers", "Planning"]
    assert report["sentiment"] == "positive"
    assert [t["name"] for t in report["topics"]] == ["Servers", "Code review", "Unknown"]
    assert [t["mentions"] for t in report["topics"]] == [15, 4, 0]
    assert report["topics"][2]["sentiment"] == "neutral"
    assert [(d["title"], d["date"]) for d in report["discussions"]] == [
        ("Budget", "2024-03-01T00:00:00Z"),
        ("Unknown Discussion", "2024-03-02T00:00:00Z"),
    ]
    assert report["key_participants"] == [
        {"name": "Anna", "message_count": 7, "engagement_score": 5.0},
        {"name": "Boris", "message_count": 5, "engagement_score": 5.0},
        {"name": "Vera", "message_count": 3, "engagement_score": 5.0},
    ]
    metrics = report["activity_metrics"]
    assert metrics["total_messages"] == 15 and metrics["messages_per_day"] == 5.0
    assert report["activity_level"] == "low"  # local: 5 a day, whatever the answer says
    assert report["llm"] == {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "status": "ok",
        "prompt": "analyze",
        "prompt_hash": analyze_prompt.hash,
        "anonymized": False,
    }
    assert report["usage"]["calls"] == 1
    assert report["degraded"] is False
    assert result.json()["provider"] == "openai"
    assert result.json()["usage"]["calls"] == 1
    markdown = Path(row["files"]["md"]).read_text(encoding="utf-8")
    assert "IT" in markdown and "Budget" in markdown


def test_a_bare_json_answer_and_the_wishes_prompt(
    cli: Cli, server: FakeLLMServer, chat20: Path, tmp_path: Path
) -> None:
    server.script(Reply.of_text(json.dumps({**ANSWER_10, "category": "Wishes & Suggestions"})))
    result = analyze(cli, chat20, tmp_path / "out", "--prompt", "analyze_wishes")
    assert result.code == 0, result.err
    system, _user = turns(chats(server)[0])
    assert system.startswith("You are a product researcher")
    _row, report = only_report(result)
    assert report["category"] == "Wishes & Suggestions"
    assert report["llm"]["prompt"] == "analyze_wishes"


# --------------------------------------------------------------------------- scenario 11


def test_scenario_11_an_unusable_answer_twice(
    cli: Cli, server: FakeLLMServer, chat20: Path, tmp_path: Path
) -> None:
    server.script(Reply.of_text("Sorry, I cannot help"), Reply.of_text("Sorry, I cannot help"))
    out = tmp_path / "out"
    result = analyze(cli, chat20, out)
    assert result.code == 3, result.err
    requests = chats(server)
    assert len(requests) == 2
    retry_system, retry_user = turns(requests[1])
    assert "repair answers that were supposed to be a single JSON object" in retry_system
    assert "Sorry, I cannot help" in retry_user
    row, report = only_report(result)
    [raw] = list(out.glob("*.raw.txt"))
    assert raw.name == Path(row["files"]["json"]).name.replace(".json", ".raw.txt")
    assert raw.read_text(encoding="utf-8").count("Sorry, I cannot help") == 2
    assert row["raw"] == str(raw)
    assert report["llm"]["status"] == "unparsed"
    assert report["activity_metrics"]["total_messages"] == 15
    assert report["category"] == "Unknown"
    assert report["usage"]["calls"] == 2
    assert "not the JSON asked for" in result.err


def test_an_unusable_answer_is_not_cached_so_a_rerun_asks_again(
    cli: Cli, server: FakeLLMServer, chat20: Path, tmp_path: Path
) -> None:
    server.script(Reply.of_text("Sorry, I cannot help"), Reply.of_text("still no JSON"))
    assert analyze(cli, chat20, tmp_path / "first").code == 3
    assert len(chats(server)) == 2
    server.script(Reply.of_text(json.dumps(ANSWER_10)))
    again = analyze(cli, chat20, tmp_path / "second")
    assert again.code == 0, again.err
    assert len(chats(server)) == 3  # the garbage was not replayed from the cache
    _row, report = only_report(again)
    assert report["category"] == "IT" and report["usage"]["cache_hits"] == 0
    third = analyze(cli, chat20, tmp_path / "third")
    assert third.code == 0, third.err
    assert len(chats(server)) == 3  # a usable answer is served from the cache
    assert only_report(third)[1]["usage"]["cache_hits"] == 1


def test_a_truncated_answer_is_repaired_marked_and_exits_3(
    cli: Cli, server: FakeLLMServer, chat20: Path, tmp_path: Path
) -> None:
    cut = '{"category": "IT", "topics": [{"name": "Servers", "mentions": 3}, {"name": "Dep'
    server.script(Reply.of_text(cut, finish_reason="length"))
    result = analyze(cli, chat20, tmp_path / "out")
    assert result.code == 3, result.err
    assert len(chats(server)) == 1
    _row, report = only_report(result)
    assert report["llm"]["status"] == "truncated"
    assert report["category"] == "IT"
    assert [t["name"] for t in report["topics"]] == ["Servers", "Dep"]


def test_a_broken_answer_is_repaired_without_a_retry(
    cli: Cli, server: FakeLLMServer, chat20: Path, tmp_path: Path
) -> None:
    server.script(Reply.of_text("{'category': 'IT', 'insights': ['a', 'b',],}"))
    result = analyze(cli, chat20, tmp_path / "out")
    assert result.code == 0, result.err
    assert len(chats(server)) == 1
    _row, report = only_report(result)
    assert (report["category"], report["insights"]) == ("IT", ["a", "b"])


# --------------------------------------------------------------------------- scenario 13


def long_chat(count: int) -> dict[str, Any]:
    """``count`` kept texts over four days from three people; message 150 is very long."""
    people = [ANNA, BORIS, VERA]
    start = at(1, 8)
    step = timedelta(days=4) / count
    messages = []
    for n in range(1, count + 1):
        text = f"Message {n}: we compare server {n % 7} with the backup plan for week {n % 5}"
        if n == 150:
            text = "Very long report " + " ".join(f"item{i}" for i in range(1500))
        messages.append(message(n, start + step * n, people[n % 3], text))
    return single_chat(messages, name="chat20", id=1_700_000_300)


def write_tiny_model(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "models.yml").write_text(
        "models:\n"
        f"  {TINY_MODEL}:\n"
        f"    {{provider: openai, window: {TINY_WINDOW}, max_output: {TINY_OUTPUT},\n"
        "     price: {input: 1.0, output: 2.0}, json: true}\n",
        encoding="utf-8",
    )


def message_lines(user: str) -> list[str]:
    return [line for line in user.splitlines() if re.match(r"\[\d\d\.\d\d\.\d{4} ", line)]


def line_id(line: str) -> int:
    """The number in ``Message N:`` (the long message is number 150)."""
    found = re.search(r"Message (\d+):", line)
    return int(found.group(1)) if found is not None else 150


def test_scenario_13_map_reduce_over_a_small_window(
    cli: Cli,
    server: FakeLLMServer,
    tmp_path: Path,
    tgpilot_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_tiny_model(tgpilot_home)
    source = write_export(tmp_path / "long", long_chat(300))
    out = tmp_path / "out"
    model = ("--model", TINY_MODEL)

    # The cost plan comes first: over the limit, exit 2 and nothing is sent.
    monkeypatch.setenv("TGPILOT_LLM__MAX_COST_USD", "0.000001")
    refused = analyze(cli, source, out, *model)
    assert refused.code == 2, refused.err
    assert "over llm.max_cost_usd" in refused.err
    assert server.requests == []
    found = re.search(r"LLM plan: (\d+) calls \((\d+) map \+ ≤ (\d+) reduce\)", refused.err)
    assert found is not None, refused.err
    k = int(found.group(2))
    assert k >= 5

    monkeypatch.delenv("TGPILOT_LLM__MAX_COST_USD")
    server.script(
        *[Reply.of_text(json.dumps(MAP_ANSWER))] * k, Reply.of_text(fenced(REDUCE_ANSWER))
    )
    result = analyze(cli, source, out, *model)
    assert result.code == 0, result.err
    requests = chats(server)
    assert len(requests) == k + 1
    maps, [reduce] = requests[:k], requests[k:]
    row, report = only_report(result)
    budget = row["plan"]["budget"]
    assert row["plan"]["map_calls"] == k
    assert budget["window"] == TINY_WINDOW and budget["max_output"] == TINY_OUTPUT

    by_part: dict[int, list[str]] = {}
    for request in maps:
        system, user = turns(request)
        assert "analyse one part" in system
        found_part = re.search(r"Part (\d+) of (\d+), covering (\S+ \S+ – \S+ \S+)", user)
        assert found_part is not None and int(found_part.group(2)) == k
        lines = message_lines(user)
        by_part[int(found_part.group(1))] = lines
        payload = "\n".join(lines)
        assert count_tokens(payload) <= budget["input"]
        assert request.json["max_tokens"] == TINY_OUTPUT
        sent = count_tokens(system) + count_tokens(user)
        assert sent + TINY_OUTPUT + margin_for(TINY_WINDOW) <= TINY_WINDOW
    assert sorted(by_part) == list(range(1, k + 1))
    seen = [line for part in sorted(by_part) for line in by_part[part]]
    assert len(seen) == 300  # every message once: none in two chunks, none lost
    ids = [line_id(line) for line in seen]
    assert sorted(ids) == ids == list(range(1, 301))
    [long_line] = [line for line in seen if "Very long report" in line]
    assert long_line.endswith(TRUNCATED)
    assert count_tokens(long_line) <= budget["input"] // 4

    system, user = turns(reduce)
    assert "merge them into one analysis" in system
    assert '"total_messages": 300' in user
    assert user.count('"summary":"part"') == k

    assert report["category"] == "Reduced IT"
    assert [t["name"] for t in report["topics"]] == ["Servers", "Deploys", "Tea"]
    assert report["key_participants"] == [
        {"name": "Anna", "message_count": 100, "engagement_score": 8.0}
    ]
    assert report["summary"] == "The whole chat, reduced."
    assert report["usage"]["calls"] == k + 1
    assert report["activity_metrics"]["total_messages"] == 300


def test_spend_passing_the_limit_stops_the_run_keeping_partials(
    cli: Cli,
    server: FakeLLMServer,
    tmp_path: Path,
    tgpilot_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_tiny_model(tgpilot_home)
    source = write_export(tmp_path / "long", long_chat(300))
    monkeypatch.setenv("TGPILOT_LLM__MAX_COST_USD", "0.5")
    monkeypatch.setenv("TGPILOT_LLM__CONCURRENCY", "1")
    # The server says each answer cost a million input tokens: $1 at $1 per million.
    server.script(*[Reply.of_text(json.dumps(MAP_ANSWER), usage=(1_000_000, 10, 0))] * 3)
    out = tmp_path / "out"
    result = analyze(cli, source, out, "--model", TINY_MODEL)
    assert result.code == 3, result.err
    assert len(chats(server)) == 1
    row, report = only_report(result)
    assert report["llm"]["status"] == "stopped"
    assert report["activity_metrics"]["total_messages"] == 300
    assert "passed llm.max_cost_usd" in row["problem"]
    assert '"summary": "part"' in Path(row["raw"]).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- §5 fallback


def test_a_failing_provider_falls_back_to_a_degraded_local_report(
    cli: Cli, server: FakeLLMServer, chat20: Path, tmp_path: Path
) -> None:
    server.script(*[Reply.error(503, "Service Unavailable")] * 5)
    result = analyze(cli, chat20, tmp_path / "out")
    assert result.code == 3, result.err
    assert len(chats(server)) == 5
    row, report = only_report(result)
    assert report["degraded"] is True
    assert report["llm"]["status"] == "failed"
    assert report["category"] == "Unknown"
    assert report["activity_metrics"]["total_messages"] == 15
    assert "openai error 503" in row["problem"]
    assert "LLM usage: 1 call" in result.err


def test_without_fallback_the_provider_error_exits_1(
    cli: Cli,
    server: FakeLLMServer,
    chat20: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TGPILOT_LLM__FALLBACK", "none")
    server.script(*[Reply.error(503, "Service Unavailable")] * 5)
    result = analyze(cli, chat20, tmp_path / "out")
    assert result.code == 1
    assert "error: openai error 503: Service Unavailable" in result.err
    assert not list((tmp_path / "out").glob("*.json")) if (tmp_path / "out").exists() else True


def test_no_key_gives_a_notice_and_the_local_analysis(
    make_cli: Callable[..., Cli], chat20: Path, tmp_path: Path
) -> None:
    cli = make_cli(FakeTelegram(), logged_in=False)
    result = analyze(cli, chat20, tmp_path / "out", "--provider", "openai")
    assert result.code == 0, result.err
    assert "no API key for openai: set OPENAI_API_KEY" in result.err
    assert "running the local analysis instead" in result.err
    _row, report = only_report(result)
    assert report["llm"]["provider"] == "local" and report["llm"]["status"] == "local"
    assert result.json()["usage"] is None


def test_local_provider_sends_nothing(
    cli: Cli, server: FakeLLMServer, chat20: Path, tmp_path: Path
) -> None:
    result = analyze(cli, chat20, tmp_path / "out", "--provider", "local")
    assert result.code == 0, result.err
    assert server.requests == []
    assert "LLM" not in result.err
