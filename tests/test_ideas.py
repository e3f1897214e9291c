"""``tgpilot ideas`` (spec ai.md §4.5, §5): ideas, problems and whole-word tools found
locally on a Telegram Desktop export, the report's per-chat and top lists, the model's
review through the fake LLM server (confirmed, dropped, themes; unusable answers and
failing providers keep the local report and exit 3), and an unknown chat exiting 2
before a single history request reaches the fake Telegram."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analyze_fixtures import (
    FROZEN_NOW,
    account_export,
    message,
    single_chat,
    write_export,
)
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli, CliResult
from tgpilot.gateways.telegram.flood import MAX_CONNECTION_RETRIES
from tgpilot.services.ai.ideas import IdeaLexicon

KEY = "sk-test-0123456789abcdef"
ANNA = ("Anna", "user201")
BORIS = ("Boris", "user202")
VERA = ("Vera", "user203")
BOT = ("Build Bot", "user900")
BUTTONS = [[{"type": "callback", "text": "Logs", "data": "bG9ncw=="}]]
LONG_IDEA = "Предлагаю " + "очень " * 60 + "простой экспорт"

EXCEL_IDEA = "Предлагаю добавить экспорт отчётов в Excel"
SEARCH_PROBLEM = "Поиск не работает с утра, ошибка 500"
DARK_MODE = "We need a dark mode in the app, please"


def ago(**delta: float) -> Any:
    return FROZEN_NOW - timedelta(**delta)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(FROZEN_NOW)


@pytest.fixture
def offline(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(FakeTelegram(), logged_in=False)


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
def with_llm(
    make_cli: Callable[..., Cli], server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return make_cli(FakeTelegram(), logged_in=False)


def product_chat() -> dict[str, Any]:
    return single_chat(
        [
            message(1, ago(days=2), ANNA, EXCEL_IDEA),
            message(2, ago(days=1, hours=20), BORIS, SEARCH_PROBLEM),
            message(3, ago(days=1), VERA, "Идет дождь, but the code is good today"),
            message(4, ago(hours=20), ANNA, DARK_MODE),
            message(5, ago(hours=19), BORIS, "need it too"),
            message(6, ago(hours=18), VERA, "Без проблем, сделаю всё к вечеру"),
            message(7, ago(hours=17), VERA, "The backend is written in Go and Python"),
            message(8, ago(hours=16), BOT, "Error: build failed", inline_bot_buttons=BUTTONS),
            message(9, ago(hours=15), ANNA, "No idea what happened with the email"),
            message(10, ago(hours=14), BORIS, LONG_IDEA),
            message(11, ago(days=9), ANNA, "Предлагаю старую идею, которой уже девять дней"),
        ],
        name="Product",
        id=1_700_000_301,
    )


def dev_chat() -> dict[str, Any]:
    return single_chat(
        [
            message(1, ago(days=3), BORIS, "Docker падает при сборке, баг в конфиге"),
            message(2, ago(days=2), VERA, "Python скрипт для выгрузки готов"),
            message(3, ago(days=1), ANNA, "Google Sheets тоже подойдёт для начала"),
        ],
        name="Dev",
        id=1_700_000_302,
    )


@pytest.fixture
def chats(tmp_path: Path) -> Path:
    return write_export(tmp_path / "team", account_export([product_chat(), dev_chat()]))


def ideas(cli: Cli, source: Path, *args: str, names: str = "Product,Dev") -> CliResult:
    return cli("ideas", "--chats", names, "--source", str(source), "--json", *args)


def by_chat(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {chat["chat_name"]: chat for chat in document["chats"]}


# --------------------------------------------------------------------------- local


def test_ideas_problems_and_tools_are_found_by_phrases_and_whole_words(
    offline: Cli, chats: Path
) -> None:
    result = ideas(offline, chats, "--provider", "local")
    assert result.code == 0, result.err
    document = result.json()
    assert document["status"] == "local" and document["llm"]["provider"] == "local"
    product = by_chat(document)["Product"]
    assert product["messages"] == 9  # the bot's text and the 9-day-old one are not read
    assert [i["quote"] for i in product["ideas"]] == [
        LONG_IDEA[:199] + "…",
        DARK_MODE,
        EXCEL_IDEA,
    ]
    assert [p["quote"] for p in product["problems"]] == [SEARCH_PROBLEM]
    assert product["ideas"][1]["sender"] == "Anna"
    assert product["ideas"][1]["date"] == "2024-03-09T16:00:00Z"
    assert {t["name"] for t in product["tools"]} == {"Excel", "Go", "Python"}
    dev = by_chat(document)["Dev"]
    assert [p["quote"] for p in dev["problems"]] == ["Docker падает при сборке, баг в конфиге"]
    assert dev["ideas"] == []
    assert {t["name"] for t in dev["tools"]} == {"Docker", "Python", "Google Sheets"}
    assert document["statistics"] == {
        "chats": 2,
        "messages": 12,
        "ideas": 3,
        "problems": 2,
        "tools": 5,
    }
    assert document["top_tools"][0] == {"name": "Python", "chats": 2, "mentions": 2}
    assert len(document["top_tools"]) == 5


def test_substring_misfires_are_avoided() -> None:
    lexicon = IdeaLexicon.load()
    assert lexicon.tools.tools_in("good google goods") == []
    assert lexicon.tools.tools_in("we go with Go") == ["Go"]
    assert lexicon.tools.tools_in("link: https://github.com/acme") == []
    assert not lexicon.ideas.matches("Идет дождь, идеально")
    assert lexicon.ideas.matches("Есть идея: сделать бота")
    assert not lexicon.ideas.matches("No idea what happened")
    assert not lexicon.problems.matches("Без проблем, сделаю; no problem")
    assert not lexicon.problems.matches("багаж и terror")
    assert lexicon.problems.matches("Нашёл баг в поиске")


def test_the_report_files_and_the_markdown(offline: Cli, chats: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = offline("ideas", "--chats", "Product,Dev", "--source", str(chats), "--out", str(out))
    assert result.code == 0, result.err
    assert "no API key for openai" in result.err
    names = sorted(path.name for path in out.iterdir())
    assert names == ["ideas_20240310-120000.json", "ideas_20240310-120000.md"]
    markdown = (out / "ideas_20240310-120000.md").read_text("utf-8")
    assert markdown == result.out
    assert "## Product" in markdown and "### Ideas" in markdown
    assert f"- 2024-03-08 12:00 — Anna: “{EXCEL_IDEA}”" in markdown
    assert "| Python | 2 | 2 |" in markdown
    stored = json.loads((out / "ideas_20240310-120000.json").read_text("utf-8"))
    assert stored["statistics"]["ideas"] == 3


def test_ten_newest_ideas_per_chat(offline: Cli, tmp_path: Path) -> None:
    chat = single_chat(
        [
            message(n, ago(hours=30 - n), ANNA, f"Предлагаю улучшение номер {n} для поиска")
            for n in range(1, 13)
        ],
        name="Busy",
        id=1_700_000_303,
    )
    source = write_export(tmp_path / "busy", chat)
    result = ideas(offline, source, names="Busy")
    assert result.code == 0, result.err
    busy = by_chat(result.json())["Busy"]
    assert busy["ideas_total"] == 12
    assert [i["message_id"] for i in busy["ideas"]] == list(range(12, 2, -1))


def test_an_empty_window_says_so_and_writes_nothing(offline: Cli, tmp_path: Path) -> None:
    chat = single_chat([message(1, ago(days=5), ANNA, EXCEL_IDEA)], name="Old")
    source = write_export(tmp_path / "old", chat)
    out = tmp_path / "out"
    result = offline(
        "ideas", "--chats", "Old", "--source", str(source), "--days", "2", "--out", str(out)
    )
    assert result.code == 0, result.err
    assert result.out.strip() == "no messages in the selected period"
    assert not out.exists()


def test_an_unknown_chat_exits_2_before_any_history_is_read(
    make_cli: Callable[..., Cli],
) -> None:
    world = FakeTelegram(now=FROZEN_NOW)
    world.add_me(1000, "Me")
    anna = world.add_user(201, "Anna")
    team = world.add_supergroup(1_700_000_401, "Team", members=[anna])
    world.add_message(team, 1, text=EXCEL_IDEA, date=ago(hours=2), sender=anna)
    cli = make_cli(world)
    result = cli("ideas", "--chats", "-1001700000401,@nowhere_at_all", "--provider", "local")
    assert result.code == 2
    assert "nowhere_at_all" in result.err
    assert world.requests["GetHistoryRequest"] == 0
    again = cli("ideas", "--chats", "-1001700000401", "--provider", "local", "--json")
    assert again.code == 0, again.err
    assert again.json()["statistics"]["ideas"] == 1
    assert world.requests["GetHistoryRequest"] >= 1


# --------------------------------------------------------------------------- with a model


ANSWER = {
    "items": [
        {"id": 1, "kind": "Idea", "summary": "Export reports to Excel"},
        {"id": 2, "kind": "problem", "summary": "Search is down"},
        {"id": 3, "kind": "idea", "summary": "Dark mode"},
        {"id": 4, "kind": "none", "summary": ""},
    ],
    "themes": [{"name": "Reporting", "item_ids": [1, 4], "summary": "Reports people want"}],
    "recommendations": ["Fix search first", "Plan the Excel export"],
}


def test_the_model_confirms_drops_and_groups(
    with_llm: Cli, server: FakeLLMServer, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "one", product_chat())
    server.script(Reply.of_text(json.dumps(ANSWER)))
    result = ideas(with_llm, source, names="Product")
    assert result.code == 0, result.err
    [request] = server.requests_to("/chat/completions")
    system, user = (turn["content"] for turn in request.json["messages"])
    assert "A keyword scan picked candidate messages" in system
    assert f"#1 [Product] [08.03 12:00] Anna: {EXCEL_IDEA}" in user
    assert f"#2 [Product] [08.03 16:00] Boris: {SEARCH_PROBLEM}" in user
    assert "#4 [Product] [09.03 22:00] Boris: Предлагаю очень" in user
    assert "#5" not in user  # 3 ideas and 1 problem
    document = result.json()
    assert document["status"] == "ok" and document["llm"]["prompt"] == "ideas"
    product = by_chat(document)["Product"]
    assert [(i["quote"], i["summary"]) for i in product["ideas"]] == [
        (DARK_MODE, "Dark mode"),
        (EXCEL_IDEA, "Export reports to Excel"),
    ]
    assert [p["summary"] for p in product["problems"]] == ["Search is down"]
    [theme] = document["themes"]
    assert (theme["name"], theme["items"]) == ("Reporting", 1)  # the dropped item left it
    assert document["recommendations"] == ["Fix search first", "Plan the Excel export"]
    assert document["usage"]["calls"] == 1
    assert "LLM plan: 1 call" in result.err and "LLM usage: 1 call" in result.err


def test_an_unusable_answer_keeps_the_local_report_and_exits_3(
    with_llm: Cli, server: FakeLLMServer, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "one", product_chat())
    server.script(Reply.of_text("Sorry, I cannot help"), Reply.of_text("Still no JSON"))
    out = tmp_path / "out"
    result = ideas(with_llm, source, "--out", str(out), names="Product")
    assert result.code == 3, result.err
    assert len(server.requests_to("/chat/completions")) == 2
    document = result.json()
    assert document["status"] == "unparsed" and document["degraded"] is False
    assert document["statistics"]["ideas"] == 3  # the local findings stand
    raw = Path(document["raw"])
    assert raw.parent == out and raw.name == "ideas_20240310-120000.raw.txt"
    assert "Sorry, I cannot help" in raw.read_text("utf-8")
    assert "the report keeps the local results" in result.err


def test_a_failing_provider_falls_back_degraded(
    with_llm: Cli, server: FakeLLMServer, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "one", product_chat())
    server.script(*[Reply.error(503, "Service Unavailable")] * 5)
    result = ideas(with_llm, source, names="Product")
    assert result.code == 3, result.err
    document = result.json()
    assert document["status"] == "failed" and document["degraded"] is True
    assert document["statistics"]["problems"] == 1
    assert "degraded" in Path(document["files"]["md"]).read_text("utf-8")


def test_no_candidates_means_no_call(with_llm: Cli, server: FakeLLMServer, tmp_path: Path) -> None:
    chat = single_chat(
        [message(1, ago(hours=3), ANNA, "Доброе утро всем, хорошего дня")], name="Quiet"
    )
    result = ideas(with_llm, write_export(tmp_path / "quiet", chat), names="Quiet")
    assert result.code == 0, result.err
    assert server.requests == []
    assert result.json()["statistics"]["ideas"] == 0


def test_a_long_candidate_list_is_mapped_and_merged_locally(
    with_llm: Cli, server: FakeLLMServer, tmp_path: Path, tgpilot_home: Path
) -> None:
    tgpilot_home.mkdir(parents=True, exist_ok=True)
    (tgpilot_home / "models.yml").write_text(
        "models:\n  tiny-3k:\n    {provider: openai, window: 3000, max_output: 400, json: true}\n",
        encoding="utf-8",
    )
    texts = [
        message(n, ago(hours=100 - n // 3), ANNA, f"Предлагаю улучшение номер {n} для экспорта")
        for n in range(1, 181)
    ]
    source = write_export(tmp_path / "long", single_chat(texts, name="Long"))
    parts = [
        {
            "items": [{"id": k, "kind": "idea", "summary": f"Idea {k}"}],
            "themes": [{"name": "Export" if k % 2 else "EXPORT", "item_ids": [k]}],
            "recommendations": ["Ship the export", "ship the EXPORT"],
        }
        for k in range(1, 31)
    ]
    server.script(*[Reply.of_text(json.dumps(part)) for part in parts])
    result = ideas(with_llm, source, "--model", "tiny-3k", "--limit", "0", names="Long")
    assert result.code == 0, result.err
    calls = len(server.requests_to("/chat/completions"))
    assert calls > 1 and f"LLM plan: {calls} calls ({calls} map + ≤ 0 reduce)" in result.err
    document = result.json()
    [theme] = document["themes"]
    assert (theme["name"], theme["items"]) == ("Export", calls)
    assert document["recommendations"] == ["Ship the export"]
    assert document["statistics"]["ideas"] == 180


def two_team_world() -> FakeTelegram:
    world = FakeTelegram(now=FROZEN_NOW)
    world.add_me(1000, "Me")
    anna = world.add_user(201, "Anna")
    boris = world.add_user(202, "Boris")
    team = world.add_supergroup(1_700_000_401, "Team", members=[anna, boris])
    dev = world.add_supergroup(1_700_000_402, "Dev", members=[anna, boris])
    world.add_message(team, 1, text=EXCEL_IDEA, date=ago(hours=2), sender=anna)
    world.add_message(dev, 1, text=SEARCH_PROBLEM, date=ago(hours=3), sender=boris)
    return world


@pytest.mark.parametrize("fault", ["rpc", "transport"])
def test_a_chat_failing_mid_scan_is_skipped_and_the_rest_reported(
    make_cli: Callable[..., Cli], tmp_path: Path, fault: str
) -> None:
    world = two_team_world()
    if fault == "rpc":
        world.faults.fail("GetHistoryRequest", nth=1, error="CHANNEL_PRIVATE")
    else:
        # the connection drops on every try for the first chat, then comes back
        world.faults.disconnect("GetHistoryRequest", every=1, times=MAX_CONNECTION_RETRIES + 1)
    cli = make_cli(world)
    out = tmp_path / "out"
    result = cli(
        "ideas", "--chats", "-1001700000401,-1001700000402", "--provider", "local",
        "--out", str(out), "--json",
    )  # fmt: skip
    assert result.code == 3, result.err
    assert "Team: skipped:" in result.err
    document = result.json()
    assert [c["chat_name"] for c in document["chats"]] == ["Dev"]
    assert document["statistics"]["problems"] == 1
    [skipped] = document["skipped"]
    assert (skipped["chat_id"], skipped["chat_name"]) == (-1001700000401, "Team")
    expected = "CHANNEL_PRIVATE" if fault == "rpc" else "lost the connection to Telegram"
    assert expected in skipped["error"]
    markdown = Path(document["files"]["md"]).read_text("utf-8")
    assert "**Skipped** (could not be read):" in markdown and "- Team: " in markdown


def test_every_chat_failing_exits_1(make_cli: Callable[..., Cli]) -> None:
    world = two_team_world()
    world.faults.fail("GetHistoryRequest", error="CHANNEL_PRIVATE")
    cli = make_cli(world)
    result = cli("ideas", "--chats", "-1001700000401,-1001700000402", "--provider", "local")
    assert result.code == 1
    assert "none of the 2 chats could be read" in result.err


PHONE = "+7 916 123-45-67"
EMAIL = "boris.petrov@example.com"


def test_anonymize_sends_pseudonyms_and_the_report_shows_real_names(
    with_llm: Cli, server: FakeLLMServer, tmp_path: Path
) -> None:
    chat = single_chat(
        [
            message(1, ago(hours=5), BORIS, "Всем привет, сегодня выкатываем релиз"),
            message(2, ago(hours=4), ANNA, f"Предлагаю, чтобы Boris писал на {EMAIL} отчёты"),
            message(3, ago(hours=3), BORIS, f"Поиск не работает, звоните Anna на {PHONE}"),
        ],
        name="Anna & Boris",
        id=1_700_000_305,
    )
    source = write_export(tmp_path / "private", chat)
    answer = {
        "items": [
            {"id": 1, "kind": "idea", "summary": "P2 wants P1 to mail [email-1]"},
            {"id": 2, "kind": "problem", "summary": "Search is down, call P2 at [phone-1]"},
        ],
        "themes": [{"name": "Requests from P2", "item_ids": [1, 2]}],
        "recommendations": ["Ask @P1 about search"],
    }
    server.script(Reply.of_text(json.dumps(answer)))
    result = ideas(with_llm, source, "--anonymize", names="Anna & Boris")
    assert result.code == 0, result.err
    [request] = server.requests_to("/chat/completions")
    sent = json.dumps(request.json, ensure_ascii=False)
    for real in ("Anna", "Boris", EMAIL, PHONE, "916"):
        assert real not in sent
    assert "#1 [P2 & P1] [10.03 08:00] P2: Предлагаю, чтобы P1 писал на [email-1]" in sent
    document = result.json()
    [chat_row] = document["chats"]
    assert [(i["sender"], i["summary"]) for i in chat_row["ideas"]] == [
        ("Anna", f"Anna wants Boris to mail {EMAIL}")
    ]
    assert chat_row["problems"][0]["summary"] == f"Search is down, call Anna at {PHONE}"
    assert document["themes"][0]["name"] == "Requests from Anna"
    assert document["recommendations"] == ["Ask Boris about search"]
