"""``tgpilot hunt`` (spec ai.md §4.4; scenarios 21, 22): scanning, merging across chats,
scores, required and exclude terms, regexes, CSV — on a Telegram Desktop export — and
``--bio-keywords`` on the live account (the fake Telegram), paced and cached."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
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
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli, CliResult
from tgpilot.core.errors import UsageError
from tgpilot.core.textmatch import TermMatcher
from tgpilot.services.ai.hunt import HuntQuery

U1 = ("Ivan Petrov", "user201")
U2 = ("Maria", "user202")
U3 = ("Oleg", "user203")
BOT = ("Delivery Bot", "user900")
BUTTONS = [[{"type": "callback", "text": "Order", "data": "b3JkZXI="}]]


def ago(**delta: float) -> Any:
    return FROZEN_NOW - timedelta(**delta)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(FROZEN_NOW)


@pytest.fixture
def offline(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(FakeTelegram(), logged_in=False)


@pytest.fixture
def leads(tmp_path: Path) -> Path:
    """Scenario 21: U1 writes 3 matching messages in chat A (the latest 2 h ago) and 1 in
    chat B; U2 wrote "курьер курьер курьер" 5 days ago; U1's newest message carries an
    exclude term; U3 talks about something else; a bot mentions the keyword."""
    chat_a = single_chat(
        [
            message(1, ago(days=3), U1, "Нужен курьер на завтра"),
            message(2, ago(days=1, hours=2), U1, "Нужна доставка по району?"),
            message(3, ago(hours=5), U3, "Погода сегодня отличная"),
            message(4, ago(hours=2), U1, "Курьер и доставка нужны срочно"),
            message(5, ago(hours=1), U1, "Курьер со скидкой, реклама"),
            message(6, ago(minutes=30), BOT, "Курьер выехал", inline_bot_buttons=BUTTONS),
        ],
        name="Chat A",
        id=1_700_000_101,
    )
    chat_b = single_chat(
        [
            message(1, ago(days=5), U2, "курьер курьер курьер"),
            message(2, ago(days=4), U1, "Ищу курьера в центр"),
            message(3, ago(days=2), U2, "Зарплата 50000₽ в месяц"),
        ],
        name="Chat B",
        id=1_700_000_102,
    )
    return write_export(tmp_path / "leads", account_export([chat_a, chat_b]))


def hunt(cli: Cli, source: Path, *args: str) -> CliResult:
    return cli("hunt", "--chats", "Chat A,Chat B", "--source", str(source), *args, "--json")


def users(result: CliResult) -> dict[str, dict[str, Any]]:
    assert result.code == 0, result.err
    return {user["full_name"]: user for user in result.json()["users"]}


# --------------------------------------------------------------------------- scenario 21


def test_scenario_21_scores_merge_and_exclude(offline: Cli, leads: Path, tmp_path: Path) -> None:
    out = tmp_path / "leads.csv"
    result = hunt(offline, leads, "-k", "курьер,доставка", "-e", "реклама", "--csv", str(out))
    found = users(result)
    assert list(found) == ["Ivan Petrov", "Maria"]
    ivan, maria = found["Ivan Petrov"], found["Maria"]
    assert (ivan["score"], ivan["message_count"]) == (43.9, 4)
    assert ivan["chats"] == ["Chat A", "Chat B"]
    assert ivan["keywords"] == ["курьер", "доставка"]
    assert ivan["last_active"] == "2024-03-10T10:00:00Z"
    assert ivan["samples"][0]["text"] == "Курьер и доставка нужны срочно"
    assert (maria["score"], maria["message_count"], maria["chats"]) == (15.0, 1, ["Chat B"])
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        [
            "user_id",
            "username",
            "full_name",
            "message_count",
            "score",
            "last_active",
            "keywords",
            "chats",
        ],
        [
            "201",
            "",
            "Ivan Petrov",
            "4",
            "43.9",
            "2024-03-10 10:00",
            "курьер; доставка",
            "Chat A; Chat B",
        ],
        ["202", "", "Maria", "1", "15.0", "2024-03-05 12:00", "курьер", "Chat B"],
    ]


def test_scenario_21_required_terms(offline: Cli, leads: Path) -> None:
    found = users(hunt(offline, leads, "-k", "курьер,доставка", "-e", "реклама", "-r", "доставка"))
    assert list(found) == ["Ivan Petrov"]
    assert found["Ivan Petrov"]["score"] == 58.9


def test_without_the_exclude_term_the_message_counts(offline: Cli, leads: Path) -> None:
    ivan = users(hunt(offline, leads, "-k", "курьер,доставка"))["Ivan Petrov"]
    assert ivan["message_count"] == 5
    assert ivan["last_active"] == "2024-03-10T11:00:00Z"


def test_min_messages_top_and_everyone(offline: Cli, leads: Path) -> None:
    found = users(hunt(offline, leads, "-k", "курьер", "--min-messages", "2"))
    assert list(found) == ["Ivan Petrov"]
    assert len(users(hunt(offline, leads, "-k", "курьер", "--top", "1"))) == 1
    everyone = users(hunt(offline, leads))
    assert sorted(everyone) == ["Ivan Petrov", "Maria", "Oleg"]
    assert everyone["Oleg"]["keywords"] == []


def test_console_shows_the_first_sample(offline: Cli, leads: Path) -> None:
    result = offline(
        "hunt", "--chats", "Chat A,Chat B", "--source", str(leads), "-k", "курьер", "-e", "реклама"
    )
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("1. Ivan Petrov (201) — score ")
    assert lines[2] == "   “Курьер и доставка нужны срочно”"
    assert "users found" in result.err


def test_a_failing_chat_is_reported_and_skipped(offline: Cli, leads: Path) -> None:
    result = offline(
        "hunt", "--chats", "Chat A,Nowhere", "--source", str(leads), "-k", "курьер", "--json"
    )
    assert result.code == 3
    assert "Nowhere: skipped" in result.err
    body = result.json()
    assert [u["full_name"] for u in body["users"]] == ["Ivan Petrov"]
    assert [c["error"] is None for c in body["chats"]] == [True, False]
    nothing = offline("hunt", "--chats", "Nowhere", "--source", str(leads), "-k", "курьер")
    assert nothing.code == 1


def test_bio_keywords_need_the_live_source(offline: Cli, leads: Path) -> None:
    result = hunt(offline, leads, "-k", "курьер", "--bio-keywords", "курьер")
    assert result.code == 0
    assert "--bio-keywords" in result.err and "live account only" in result.err
    assert result.json()["bio_keywords_used"] is False


# --------------------------------------------------------------------------- scenario 22


def test_scenario_22_regex_terms(offline: Cli, leads: Path) -> None:
    assert TermMatcher([r"re:\d+\s?₽"]).contains("Зарплата 50000₽")
    for args in (("--regex", r"\d+\s?₽"), ("-k", r"re:\d+\s?₽")):
        found = users(hunt(offline, leads, *args))
        assert list(found) == ["Maria"]
        assert found["Maria"]["keywords"] == [r"re:\d+\s?₽"]
        assert found["Maria"]["score"] == 15.0


def test_scenario_22_invalid_regex_exits_2(offline: Cli, leads: Path) -> None:
    result = hunt(offline, leads, "--regex", "(unclosed")
    assert result.code == 2
    assert "(unclosed" in result.err
    with pytest.raises(UsageError):
        HuntQuery(keywords=("re:[",))


# --------------------------------------------------------------------------- live source


def live_world() -> FakeTelegram:
    world = FakeTelegram(now=FROZEN_NOW)
    world.add_me(1000, "Me")
    ivan = world.add_user(
        201, "Ivan", "Petrov", username="ivanp", about="Курьер, быстрая доставка по городу"
    )
    maria = world.add_user(202, "Maria", about="Дизайнер")
    bot = world.add_user(900, "Delivery", bot=True)
    group = world.add_supergroup(1_700_000_201, "Leads", members=[ivan, maria, bot])
    world.add_message(
        group, 1, text="Нужен курьер", date=FROZEN_NOW - timedelta(hours=3), sender=ivan
    )
    world.add_message(
        group, 2, text="Курьер свободен?", date=FROZEN_NOW - timedelta(days=2), sender=maria
    )
    world.add_message(
        group, 3, text="Курьер выехал", date=FROZEN_NOW - timedelta(hours=1), sender=bot
    )
    world.add_message(
        group, 4, text="курьер — это я", date=FROZEN_NOW - timedelta(hours=2), out=True
    )
    return world


def test_live_bio_keywords_are_paced_and_cached(
    make_cli: Callable[..., Cli], fake_clock: FakeClock
) -> None:
    world = live_world()
    cli = make_cli(world)
    args = (
        "hunt",
        "--chats",
        "-1001700000201",
        "-k",
        "курьер",
        "--bio-keywords",
        "курьер,доставка,дизайн",
        "--json",
    )
    result = cli(*args)
    assert result.code == 0, result.err
    body = result.json()
    assert body["bio_keywords_used"] is True
    found = {u["full_name"]: u for u in body["users"]}
    assert list(found) == ["Ivan Petrov", "Maria"]
    assert found["Ivan Petrov"]["username"] == "ivanp"
    assert found["Ivan Petrov"]["bio_keywords"] == ["курьер", "доставка"]
    assert found["Ivan Petrov"]["score"] == 35.0  # 0 + 5 + 20 + 2·5
    assert found["Maria"]["bio_keywords"] == ["дизайн"]
    assert found["Maria"]["score"] == 20.0  # 0 + 5 + 10 + 5
    assert world.requests["GetFullUserRequest"] == 2
    assert 1.0 in fake_clock.sleeps
    world.reset_counts()
    again = cli(*args)
    assert again.code == 0, again.err
    assert again.json()["users"] == body["users"]
    assert world.requests["GetFullUserRequest"] == 0
    cache = json.loads(next((cli.home / "cache").glob("about-*.json")).read_text("utf-8"))
    assert cache["202"]["about"] == "Дизайнер"
