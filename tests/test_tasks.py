"""``tgpilot tasks`` (spec ai.md §4.5, §5) on the live account (the fake Telegram): tasks
that mention me, reply to me (also to a message older than the window, looked up),
name me as a whole word, or hold an imperative; questions by "?" outside links or a
question word first; problems; the report's lists; ``--private``; and the model's
review through the fake LLM server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analyze_fixtures import FROZEN_NOW
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli, CliResult
from tgpilot.core.textmatch import prepare
from tgpilot.services.ai.tasks import TaskLexicon
from tgpilot.services.ai.tasks.local import starts_with

KEY = "sk-test-0123456789abcdef"
TEAM = -1_001_700_000_501
MENTION = "@mehandle глянь, пожалуйста, логи сервера сегодня"
REPLY = "Отлично, тогда жду релиз к вечеру пятницы"
NAME = "Ваня, ты обещал прислать отчёт по продажам"
IMPERATIVE = "Сделайте кто-нибудь бэкап базы данных"
NOT_MY_NAME = "Ванятка пришёл на встречу вовремя сегодня"
URL_QUESTION = "Смотри https://example.com/page?id=5 там всё лежит"
HOW = "Как настроить VPN на ноутбуке"
WHERE = "Кто-нибудь знает, где ключи?"
WHEN = "Когда релиз?"
BROKEN = "Сервер опять не работает после обновления"
PRIVATE = "Отправь, пожалуйста, договор до завтра"


def ago(**delta: float) -> Any:
    return FROZEN_NOW - timedelta(**delta)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(FROZEN_NOW)


def team_world() -> FakeTelegram:
    world = FakeTelegram(now=FROZEN_NOW)
    me = world.add_me(1000, "Ivan", "Orlov", username="mehandle")
    anna = world.add_user(201, "Anna", dialog=True)
    boris = world.add_user(202, "Boris")
    bot = world.add_user(900, "Helper", bot=True)
    team = world.add_supergroup(1_700_000_501, "Team", members=[me, anna, boris, bot])
    other = world.add_group(502, "Other", members=[me, anna])
    world.add_channel(1_700_000_503, "News")

    def say(chat: Any, id: int, when: Any, sender: Any, text: str, **extra: Any) -> None:
        world.add_message(chat, id, text=text, date=when, sender=sender, **extra)

    say(team, 1, ago(days=10), me, "Я подготовлю релиз к пятнице, не волнуйтесь")
    say(team, 2, ago(hours=30), anna, MENTION)
    say(team, 3, ago(hours=29), boris, REPLY, reply_to=1)
    say(team, 4, ago(hours=28), anna, NAME)
    say(team, 5, ago(hours=27), boris, IMPERATIVE)
    say(team, 6, ago(hours=26), anna, NOT_MY_NAME)
    say(team, 7, ago(hours=25), boris, URL_QUESTION)
    say(team, 8, ago(hours=24), anna, HOW)
    say(team, 9, ago(hours=23), boris, WHERE)
    say(team, 10, ago(hours=22), anna, BROKEN)
    say(team, 11, ago(hours=21), boris, "Ок")
    say(team, 12, ago(hours=20), bot, "@mehandle сделай отчёт немедленно, пожалуйста")
    say(team, 13, ago(hours=19), me, "Сделай сам, пожалуйста, это важно для всех")
    say(team, 14, ago(hours=18), anna, WHEN)
    say(other, 2001, ago(hours=10), anna, "А что у нас с бюджетом на квартал?")
    say(anna, 3001, ago(hours=5), anna, PRIVATE)
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path) -> Cli:
    """The CLI on the team's world, ``me.names: [Ваня]`` in ./config.yml."""
    (clean_environment / "config.yml").write_text("me:\n  names: [Ваня]\n", encoding="utf-8")
    return make_cli(team_world())


def tasks(cli: Cli, *args: str) -> CliResult:
    return cli("tasks", "--provider", "local", "--json", *args)


def quotes(items: list[dict[str, Any]]) -> list[str]:
    return [item["quote"] for item in items]


def team_tasks(document: dict[str, Any]) -> dict[str, list[str]]:
    [team] = [t for t in document["tasks"] if t["chat_id"] == TEAM]
    return {task["quote"]: task["reasons"] for task in team["newest"]}


def test_tasks_address_me_by_mention_reply_name_or_imperative(cli: Cli) -> None:
    result = tasks(cli)
    assert result.code == 0, result.err
    document = result.json()
    assert document["me"] == {"ids": [1000], "usernames": ["mehandle"], "names": ["Ваня"]}
    [team] = [t for t in document["tasks"] if t["chat_id"] == TEAM]
    assert team["count"] == 4
    assert team_tasks(document) == {
        IMPERATIVE: ["imperative"],
        NAME: ["name"],
        REPLY: ["reply"],
        MENTION: ["mention", "imperative"],
    }
    assert cli.world.requests["GetMessagesRequest"] == 1  # message 1, older than 3 days


def test_groups_are_scanned_by_default_and_private_chats_on_request(cli: Cli) -> None:
    document = tasks(cli).json()
    assert [c["chat_name"] for c in document["chats"]] == ["Other", "Team"]  # newest first
    private = tasks(cli, "--private").json()
    assert [c["chat_name"] for c in private["chats"]] == ["Anna", "Other", "Team"]
    [anna] = [t for t in private["tasks"] if t["chat_name"] == "Anna"]
    assert quotes(anna["newest"]) == [PRIVATE]
    named = tasks(cli, "--chats", "-502").json()
    assert [c["chat_name"] for c in named["chats"]] == ["Other"]
    assert named["tasks"] == []
    both = tasks(cli, "--chats", "-502", "--all-groups")
    assert both.code == 2


def test_questions_of_chats_with_three_or_more_and_newest_problems(cli: Cli) -> None:
    document = tasks(cli).json()
    [team] = document["questions"]  # "Other" has 1 question: not listed
    assert team["chat_name"] == "Team" and team["count"] == 3
    assert quotes(team["newest"]) == [WHEN, WHERE, HOW]  # not the "?" inside the link
    assert quotes(document["problems"]) == [BROKEN]
    assert document["statistics"]["questions"] == 4


def test_question_words_count_only_first() -> None:
    words = TaskLexicon.load().question_words.matcher
    assert starts_with(words, prepare("— Как дела у проекта"))
    assert not starts_with(words, prepare("Не знаю, как дела"))
    assert not starts_with(words, prepare("Какао"))


def test_the_markdown_report(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = cli("tasks", "--provider", "local", "--out", str(out))
    assert result.code == 0, result.err
    assert f"- 2024-03-09 06:00 — Anna: “{MENTION}” (mention, imperative)" in result.out
    assert "### Team — 4 tasks" in result.out
    assert "## Questions (chats with 3 or more)" in result.out
    assert f"- [Team] 2024-03-09 14:00 — Anna: “{BROKEN}”" in result.out
    assert sorted(p.name for p in out.iterdir()) == [
        "tasks_20240310-120000.json",
        "tasks_20240310-120000.md",
    ]


def test_an_unknown_chat_exits_2_before_reading(cli: Cli) -> None:
    result = tasks(cli, "--chats", "-502,@nobody_here_at_all")
    assert result.code == 2
    assert cli.world.requests["GetHistoryRequest"] == 0


# --------------------------------------------------------------------------- with a model


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
def with_llm(cli: Cli, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return cli


ANSWER = {
    "tasks": [
        {
            "id": 1,
            "task": "Check the server logs",
            "requested_by": "Anna",
            "due_date": "2024-03-10",
            "priority": "Urgent",
        },
        {"id": 3, "task": "Send the sales report", "due_date": None, "priority": "low"},
        {"id": 99, "task": "Not a candidate"},
    ]
}


def test_the_model_keeps_only_my_tasks_with_due_date_and_priority(
    with_llm: Cli, server: FakeLLMServer
) -> None:
    server.script(Reply.of_text(json.dumps(ANSWER)))
    result = with_llm("tasks", "--json")
    assert result.code == 0, result.err
    [request] = server.requests_to("/chat/completions")
    system, user = (turn["content"] for turn in request.json["messages"])
    assert "Ivan Orlov (@mehandle, id 1000); also called: Ваня" in system
    assert f"#1 [Team] [09.03 06:00] Anna: {MENTION}" in user
    assert f"#2 [Team] [09.03 07:00] Boris (reply to me): {REPLY}" in user
    document = result.json()
    assert document["status"] == "ok" and document["llm"]["prompt"] == "tasks"
    [team] = document["tasks"]
    assert team["count"] == 2
    newest = {t["quote"]: t for t in team["newest"]}
    assert set(newest) == {MENTION, NAME}
    assert (newest[MENTION]["priority"], newest[MENTION]["due_date"]) == ("high", "2024-03-10")
    assert newest[NAME]["task"] == "Send the sales report"
    assert document["statistics"]["questions"] == 4  # questions stay local


def test_an_unusable_answer_keeps_local_tasks_and_exits_3(
    with_llm: Cli, server: FakeLLMServer
) -> None:
    server.script(Reply.of_text("I cannot do that"), Reply.of_text("nope"))
    result = with_llm("tasks", "--json")
    assert result.code == 3, result.err
    document = result.json()
    assert document["status"] == "unparsed"
    assert document["statistics"]["tasks"] == 4
    assert Path(document["raw"]).read_text("utf-8").startswith("I cannot do that")


def test_anonymize_masks_only_what_the_model_reads(
    with_llm: Cli, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TGPILOT_LLM__CACHE", "false")
    world = with_llm.world
    team, anna = world.peer(TEAM), world.peer(201)
    assert team is not None and anna is not None
    phone, email = "+7 916 123-45-67", "anna.k@example.com"
    call_me = f"@mehandle позвони мне на {phone} или напиши на {email}"
    world.add_message(team, 15, text=call_me, date=ago(hours=17), sender=anna)
    local = tasks(with_llm).json()
    server.script(Reply.of_text(json.dumps({"tasks": []})))
    with_llm("tasks", "--json", "--anonymize")  # learn the pseudonyms
    [request] = server.requests_to("/chat/completions")
    system, user = (turn["content"] for turn in request.json["messages"])
    for real in ("Anna", "Boris", "Ivan", "Orlov", "mehandle", "Ваня", phone, email):
        assert real not in user
    for real in ("Ivan", "Orlov", "mehandle", "Ваня", "id 1000"):
        assert real not in system
    assert "P1 (@P1); also called: P2" in system  # me, and me.names
    assert f"#1 [Team] [09.03 06:00] {anna_of(user)}: @P1 глянь" in user
    assert "#3 [Team] [09.03 08:00]" in user and ": P2, ты обещал прислать отчёт" in user
    assert "[phone-1] или напиши на [email-1]" in user
    assert user.count("\n#") == local["statistics"]["tasks"] == 5  # the same candidates

    pseudonym = anna_of(user)
    answer = {
        "tasks": [
            {"id": 1, "task": f"Check the logs for {pseudonym}", "requested_by": pseudonym},
            {"id": 5, "task": "Call [phone-1] or mail [email-1]", "requested_by": pseudonym},
        ]
    }
    server.script(Reply.of_text(json.dumps(answer)))
    result = with_llm("tasks", "--json", "--anonymize")
    assert result.code == 0, result.err
    [team_row] = result.json()["tasks"]
    found = {t["quote"]: t for t in team_row["newest"]}
    assert found[MENTION]["task"] == "Check the logs for Anna"
    assert found[MENTION]["requested_by"] == "Anna"
    assert found[call_me]["task"] == f"Call {phone} or mail {email}"
    assert result.json()["me"]["names"] == ["Ваня"]  # the report shows the real me


def anna_of(user: str) -> str:
    """The pseudonym the model reads for Anna: the sender of the first candidate."""
    first = next(line for line in user.splitlines() if line.startswith("#1 "))
    return first.split("] ", 2)[2].split(":", 1)[0]
