"""``tgpilot contacts analyze`` (spec ai.md §4.6, §5): private chats with people only,
texts over 5 characters split mine/theirs, topics, recent lines, the value suggestion
from the first rule matching *their* texts (then the active and default fallbacks) —
on a Telegram Desktop export and on the live account (the fake Telegram) — and the
model's summary, interests and next step through the fake LLM server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analyze_fixtures import FROZEN_NOW, account_export, message, single_chat, write_export
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli, CliResult
from tgpilot.services.ai.contacts import load_value_rules

KEY = "sk-test-0123456789abcdef"
ME = ("Me", "user5000")  # the account of account_export()
ALICE = ("Alice", "user301")
BOB = ("Bob", "user302")
CARL = ("Carl", "user303")
DINA = ("Dina", "user304")
AUTOMATE = "Хотим автоматизировать заявки через бота и подключить AI к поддержке"
AI_WISH = "Интересно попробовать нейросети для ответов клиентам"
LONG = "Расскажу подробнее: " + "очень " * 40 + "длинная история"


def ago(**delta: float) -> Any:
    return FROZEN_NOW - timedelta(**delta)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(FROZEN_NOW)


def personal(name: str, id: int, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return single_chat(messages, name=name, id=id, type="personal_chat")


def account() -> dict[str, Any]:
    small_talk = [
        message(n, ago(days=3, minutes=-n), CARL if n % 2 else ME, f"Как дела, всё хорошо? #{n}")
        for n in range(1, 23)
    ]
    return account_export(
        [
            personal(
                "Alice",
                301,
                [
                    message(1, ago(hours=5), ALICE, AUTOMATE),
                    message(2, ago(hours=4), ME, "Могу собрать бота за неделю"),
                    message(3, ago(hours=3), ALICE, "ок"),
                    message(4, ago(hours=2), ALICE, LONG),
                ],
            ),
            personal(
                "Bob",
                302,
                [
                    message(1, ago(days=1), ME, "Могу сделать бота или скрипт для отчётов"),
                    message(2, ago(days=1, minutes=-5), BOB, AI_WISH),
                ],
            ),
            personal("Carl", 303, small_talk),
            personal(
                "Dina",
                304,
                [
                    message(1, ago(days=5), DINA, "Привет! Как прошёл отпуск?"),
                    message(2, ago(days=5, minutes=-3), ME, "Отлично, спасибо большое"),
                ],
            ),
            single_chat(
                [message(1, ago(hours=1), ("Helper", "user900"), "Нужна автоматизация?")],
                name="Helper",
                id=900,
                type="bot_chat",
            ),
            single_chat(
                [message(1, ago(minutes=30), ME, "Заметка: автоматизация отчётов")],
                name="Saved Messages",
                id=5000,
                type="saved_messages",
            ),
            personal(
                "Telegram",
                777000,
                [message(1, ago(minutes=10), ("Telegram", "user777000"), "Login code: 12345")],
            ),
        ]
    )


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_export(tmp_path / "account", account())


def analyze(cli: Cli, source: Path, *args: str) -> CliResult:
    return cli("contacts", "analyze", "--source", str(source), "--json", *args)


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {contact["name"]: contact for contact in document["contacts"]}


@pytest.fixture
def offline(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(FakeTelegram(), logged_in=False)


def test_people_only_newest_first_with_counts_topics_and_suggestions(
    offline: Cli, export: Path
) -> None:
    result = analyze(offline, export, "--provider", "local")
    assert result.code == 0, result.err
    document = result.json()
    assert [c["name"] for c in document["contacts"]] == ["Alice", "Bob", "Carl", "Dina"]
    contacts = by_name(document)
    alice = contacts["Alice"]
    assert (alice["messages"], alice["theirs"], alice["mine"]) == (3, 2, 1)  # "ок" is too short
    assert alice["suggestion"] == {"offer": "Telegram bots & automation", "rule": "automation"}
    assert [t["name"] for t in alice["topics"]][:1] == ["ai"]
    # Bob: only *their* text counts — my "бота" does not make him an automation lead
    assert contacts["Bob"]["suggestion"] == {"offer": "AI/LLM consulting", "rule": "ai"}
    assert contacts["Carl"]["messages"] == 22
    assert contacts["Carl"]["suggestion"]["offer"] == "active contact, offer cooperation"
    assert contacts["Dina"]["suggestion"] == {"offer": "ask about current needs", "rule": "default"}
    assert document["status"] == "local"


def test_recent_lines_come_from_both_sides_cut_at_120(offline: Cli, export: Path) -> None:
    alice = by_name(analyze(offline, export, "--provider", "local").json())["Alice"]
    assert [(line["from"], len(line["text"])) for line in alice["recent"]] == [
        ("them", len(AUTOMATE)),
        ("me", 27),
        ("them", 120),
    ]
    assert alice["recent"][2]["text"].endswith("…")
    carl = by_name(analyze(offline, export, "--provider", "local").json())["Carl"]
    assert [line["from"] for line in carl["recent"]].count("me") == 3
    assert len(carl["recent"]) == 6


def test_chats_and_limit_bound_the_work(offline: Cli, export: Path) -> None:
    document = analyze(
        offline, export, "--provider", "local", "--chats", "2", "--limit", "1"
    ).json()
    assert [c["name"] for c in document["contacts"]] == ["Alice", "Bob"]
    assert [c["messages"] for c in document["contacts"]] == [1, 1]


def test_the_first_matching_rule_wins_and_fallbacks_follow_the_count(tmp_path: Path) -> None:
    rules = load_value_rules()
    assert rules.suggest(["нужен чат-бот и немного AI"], 2).rule == "automation"
    assert rules.suggest(["купил новые ботинки"], 2).rule == "default"
    assert rules.suggest(["send me an email"], 21).rule == "active"
    assert rules.suggest(["send me an email"], 20).rule == "default"
    override = tmp_path / "wordlists"
    override.mkdir()
    (override / "contact_values.yml").write_text(
        "rules:\n  - {name: ai, offer: AI first, terms: ['=ai']}\n"
        "  - {name: automation, offer: Bots, terms: ['=бота']}\n"
        "active: {above: 1, offer: Busy}\ndefault: Hello\n",
        encoding="utf-8",
    )
    mine = load_value_rules(override)
    assert mine.suggest(["нужен бота и AI"], 0).offer == "AI first"
    assert mine.suggest(["привет"], 2).offer == "Busy"


def test_the_markdown_report(offline: Cli, export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = offline(
        "contacts", "analyze", "--source", str(export), "--provider", "local", "--out", str(out)
    )
    assert result.code == 0, result.err
    assert "## Alice" in result.out
    assert "- Messages: 3 (theirs 2, mine 1)" in result.out
    assert "- Suggestion: Telegram bots & automation" in result.out
    assert "- 2024-03-10 08:00 me: Могу собрать бота за неделю" in result.out
    assert sorted(p.name for p in out.iterdir()) == [
        "contacts_20240310-120000.json",
        "contacts_20240310-120000.md",
    ]


def test_live_dialogs_exclude_bots_self_and_the_service_account(
    make_cli: Callable[..., Cli],
) -> None:
    world = FakeTelegram(now=FROZEN_NOW)
    me = world.add_me(1000, "Me")
    anna = world.add_user(201, "Anna", dialog=True)
    boris = world.add_user(202, "Boris", dialog=True)
    bot = world.add_user(900, "Helper", bot=True, dialog=True)
    service = world.add_user(777000, "Telegram", dialog=True)
    world.add_dialog(me)
    world.add_message(anna, text="Нужен бот для записи клиентов", date=ago(hours=1), sender=anna)
    world.add_message(boris, text="Созвонимся на неделе?", date=ago(hours=2), sender=boris)
    world.add_message(bot, text="Welcome to the helper bot", date=ago(minutes=5), sender=bot)
    world.add_message(service, text="Login code: 12345", date=ago(minutes=3), sender=service)
    world.add_message(me, text="Note to self: automation", date=ago(minutes=1), sender=me)
    cli = make_cli(world)
    result = cli("contacts", "analyze", "--provider", "local", "--json", "--chats", "1")
    assert result.code == 0, result.err
    [anna_row] = result.json()["contacts"]
    assert anna_row["name"] == "Anna"
    assert anna_row["suggestion"]["rule"] == "automation"
    assert world.requests["GetHistoryRequest"] == 1  # only the newest person's chat is read


# --------------------------------------------------------------------------- with a model


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
    monkeypatch.setenv("TGPILOT_LLM__CACHE", "false")
    return make_cli(FakeTelegram(), logged_in=False)


ALICE_ANSWER = {
    "summary": "Alice runs support at a shop and wants automation.",
    "interests": ["support bots", "AI"],
    "next_step": "Send Alice a one-page bot proposal",
}


def test_the_model_adds_summary_interests_and_next_step(
    with_llm: Cli, server: FakeLLMServer, export: Path
) -> None:
    server.script(Reply.of_text(json.dumps(ALICE_ANSWER)), Reply.of_text("{}"))
    result = analyze(with_llm, export, "--chats", "2")
    assert result.code == 0, result.err
    first, second = server.requests_to("/chat/completions")
    system, user = (turn["content"] for turn in first.json["messages"])
    assert "keep in touch with the people they talk to" in system
    assert "Contact: Alice" in user
    assert '"suggested_offer": "Telegram bots & automation"' in user
    assert f"[10.03.2024 07:00] them: {AUTOMATE}" in user
    assert "[10.03.2024 08:00] me: Могу собрать бота за неделю" in user
    assert "Contact: Bob" in second.json["messages"][-1]["content"]
    contacts = by_name(result.json())
    assert contacts["Alice"]["next_step"] == "Send Alice a one-page bot proposal"
    assert contacts["Alice"]["interests"] == ["support bots", "AI"]
    assert contacts["Alice"]["suggestion"]["rule"] == "automation"
    assert contacts["Bob"]["summary"] is None
    assert result.json()["usage"]["calls"] == 2


def test_an_unusable_answer_keeps_the_local_analysis_and_exits_3(
    with_llm: Cli, server: FakeLLMServer, export: Path
) -> None:
    server.script(Reply.of_text("No."), Reply.of_text("Still no."))
    result = analyze(with_llm, export, "--chats", "1")
    assert result.code == 3, result.err
    document = result.json()
    assert document["status"] == "unparsed"
    [alice] = document["contacts"]
    assert alice["summary"] is None and alice["suggestion"]["rule"] == "automation"
    assert "No." in Path(document["raw"]).read_text("utf-8")


def test_a_conversation_too_long_for_the_window_sends_its_newest_texts(
    with_llm: Cli, server: FakeLLMServer, tmp_path: Path, tgpilot_home: Path
) -> None:
    tgpilot_home.mkdir(parents=True, exist_ok=True)
    (tgpilot_home / "models.yml").write_text(
        "models:\n  tiny-3k:\n    {provider: openai, window: 3000, max_output: 400, json: true}\n",
        encoding="utf-8",
    )
    texts = [
        message(
            n, ago(hours=300 - n), ALICE if n % 2 else ME, f"Сообщение номер {n}: " + "слово " * 12
        )
        for n in range(1, 201)
    ]
    source = write_export(tmp_path / "long", account_export([personal("Alice", 301, texts)]))
    server.script(Reply.of_text(json.dumps(ALICE_ANSWER)))
    result = analyze(with_llm, source, "--model", "tiny-3k", "--limit", "0", "--out", str(tmp_path))
    assert result.code == 0, result.err
    [request] = server.requests_to("/chat/completions")
    user = request.json["messages"][-1]["content"]
    assert "Сообщение номер 200:" in user and "Сообщение номер 1:" not in user
    [alice] = result.json()["contacts"]
    assert alice["messages"] == 200 and 0 < alice["model_read"] < 200
    assert user.count("] them: ") + user.count("] me: ") == alice["model_read"]
    assert alice["next_step"] == ALICE_ANSWER["next_step"]
    notice = f"The model read the newest {alice['model_read']} of 200 texts"
    assert notice in result.err
    assert notice in Path(result.json()["files"]["md"]).read_text("utf-8")


PHONE = "+7 916 123-45-67"
EMAIL = "alice.w@example.com"


def test_anonymize_sends_pseudonyms_and_the_report_shows_real_names(
    with_llm: Cli, server: FakeLLMServer, tmp_path: Path
) -> None:
    conversation = [
        message(1, ago(hours=5), ALICE, f"Привет, это Alice, мой номер {PHONE}"),
        message(2, ago(hours=4), ME, f"Отлично, Alice, напишу на {EMAIL}"),
        message(3, ago(hours=3), ALICE, "Нужен бот для автоматизации заявок"),
    ]
    source = write_export(tmp_path / "a", account_export([personal("Alice", 301, conversation)]))
    answer = {
        "summary": "P1 needs a bot; reach her at [phone-1] or [email-1].",
        "interests": ["bots for P1's shop"],
        "next_step": "Send P1 a proposal",
    }
    server.script(Reply.of_text(json.dumps(answer)))
    result = analyze(with_llm, source, "--anonymize")
    assert result.code == 0, result.err
    [request] = server.requests_to("/chat/completions")
    user = request.json["messages"][-1]["content"]
    for real in ("Alice", PHONE, EMAIL, "916"):
        assert real not in user
    assert "Contact: P1" in user
    assert "them: Привет, это P1, мой номер [phone-1]" in user
    [alice] = result.json()["contacts"]
    assert alice["name"] == "Alice"
    assert alice["summary"] == f"Alice needs a bot; reach her at {PHONE} or {EMAIL}."
    assert alice["interests"] == ["bots for Alice's shop"]
    assert alice["next_step"] == "Send Alice a proposal"


def test_a_conversation_failing_to_read_is_skipped(make_cli: Callable[..., Cli]) -> None:
    world = FakeTelegram(now=FROZEN_NOW)
    world.add_me(1000, "Me")
    anna = world.add_user(201, "Anna", dialog=True)
    boris = world.add_user(202, "Boris", dialog=True)
    world.add_message(anna, text="Нужен бот для записи клиентов", date=ago(hours=1), sender=anna)
    world.add_message(boris, text="Созвонимся на неделе?", date=ago(hours=2), sender=boris)
    world.faults.fail("GetHistoryRequest", nth=1, error="CHANNEL_PRIVATE")
    cli = make_cli(world)
    result = cli("contacts", "analyze", "--provider", "local", "--json")
    assert result.code == 3, result.err
    assert "Anna: skipped: Telegram error CHANNEL_PRIVATE" in result.err
    document = result.json()
    assert [c["name"] for c in document["contacts"]] == ["Boris"]
    assert [s["chat_name"] for s in document["skipped"]] == ["Anna"]
