"""``tgpilot stats CHAT`` (live) on the fake Telegram.

Spec telegram-cli §3.4 and the stats part of scenario 24: figures, code-point lengths,
the sender table, empty windows (zeros, 0 %, no NaN) and the JSON object.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram, photo
from tests.harness import Cli
from tgpilot.models import Chat, ChatType, Message, Sender
from tgpilot.services.stats import ChatStats, shorten

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TEAM_ID = -1001234567890
LONG_NAME = "Maximilian Alexander Bartholomew"


def team_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", username="alice")
    bob = world.add_user(1002, "Bob")
    maxi = world.add_user(1003, "Maximilian", "Alexander Bartholomew")
    team = world.add_supergroup(1234567890, "Team Room", members=[alice, bob, maxi])
    world.add_message(team, 1, text="Привет", date=T0, sender=alice)
    world.add_message(team, 2, text="Hello world", date=T0 + timedelta(days=1), sender=bob)
    world.add_message(team, 3, date=T0 + timedelta(days=2), sender=alice, media=photo())
    world.add_message(team, 4, text="ok", date=T0 + timedelta(days=3), sender=maxi)
    world.add_message(team, 5, date=T0 + timedelta(days=3, hours=1), sender=alice, action="pin")
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path) -> Cli:
    (clean_environment / "config.yml").write_text(
        f"chats:\n  team: {{id: {TEAM_ID}}}\n", encoding="utf-8"
    )
    return make_cli(team_world())


def table_rows(out: str) -> list[list[str]]:
    """The body rows of a Rich table as cells (box characters stripped)."""
    rows = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 5 and cells[0].isdigit():
            rows.append(cells)
    return rows


def test_summary_and_table(cli: Cli) -> None:
    result = cli("--tz", "UTC", "stats", "team")
    assert result.code == 0, result.err
    out = result.out
    for line in (
        "Chat: Team Room (-1001234567890)",
        "Messages: 4",
        "Media: 1 (25.0 %)",
        "Unique senders: 3",
        "First: 2025-03-01 09:00",
        "Last: 2025-03-04 09:00",
        "Per day: 1.3",
    ):
        assert line in out.splitlines(), line
    assert table_rows(out) == [
        ["1", "Alice", "2", "6", "3.0"],
        ["2", "Bob", "1", "11", "11.0"],
        ["3", "Maximilian Alexander Ba…", "1", "2", "2.0"],
    ]
    assert "\x1b" not in out


def test_top_limits_the_table(cli: Cli) -> None:
    result = cli("stats", "team", "--top", "1")
    assert result.code == 0, result.err
    assert [r[1] for r in table_rows(result.out)] == ["Alice"]
    assert "Unique senders: 3" in result.out


def test_limit_reads_the_newest_messages(cli: Cli) -> None:
    result = cli("stats", "team", "--limit", "2", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert (data["scanned"], data["messages"]) == (2, 1)  # the pin is not a message
    assert data["top"][0]["name"] == LONG_NAME


def test_json_object(cli: Cli) -> None:
    result = cli("--tz", "UTC", "stats", "team", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data == {
        "chat": {"id": TEAM_ID, "title": "Team Room"},
        "scanned": 5,
        "messages": 4,
        "media": 1,
        "media_percent": 25.0,
        "unique_senders": 3,
        "chars": 19,
        "first": "2025-03-01T09:00:00Z",
        "last": "2025-03-04T09:00:00Z",
        "days_spanned": 3.0,
        "per_day": 1.3,
        "top": [
            {
                "rank": 1,
                "sender_id": 1001,
                "name": "Alice",
                "username": "alice",
                "messages": 2,
                "chars": 6,
                "avg_len": 3.0,
            },
            {
                "rank": 2,
                "sender_id": 1002,
                "name": "Bob",
                "username": None,
                "messages": 1,
                "chars": 11,
                "avg_len": 11.0,
            },
            {
                "rank": 3,
                "sender_id": 1003,
                "name": LONG_NAME,
                "username": None,
                "messages": 1,
                "chars": 2,
                "avg_len": 2.0,
            },
        ],
    }


def test_scenario_24_empty_range(cli: Cli) -> None:
    result = cli("stats", "team", "--since", "2030-01-01")
    assert result.code == 0, result.err
    out = result.out
    assert "No messages in range" in out
    assert "Messages: 0" in out and "Media: 0 (0.0 %)" in out and "0 %" in out
    assert "Unique senders: 0" in out and "Per day: 0.0" in out
    assert "nan" not in out.lower()
    data = cli("stats", "team", "--since", "2030-01-01", "--json").json()
    assert data["messages"] == 0 and data["media_percent"] == 0.0 and data["per_day"] == 0.0
    assert data["first"] is None and data["last"] is None and data["top"] == []


def test_scenario_24_privet_is_six_characters(make_cli: Callable[..., Cli]) -> None:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    ivan = world.add_user(1001, "Иван")
    world.add_supergroup(1234567890, "Team Room", "team_room", members=[ivan])
    world.add_message(-1001234567890, 1, text="Привет", date=T0, sender=ivan)
    world.add_message(-1001234567890, 2, text="👋🏽", date=T0 + timedelta(hours=1), sender=ivan)
    cli = make_cli(world)
    data = cli("stats", "team_room", "--json").json()
    assert data["chars"] == 8  # 6 + 2 code points (emoji + skin tone)
    assert data["top"][0]["chars"] == 8 and data["top"][0]["avg_len"] == 4.0
    assert data["per_day"] == 2.0  # one hour apart: divided by max(1, days) = 1


def test_stats_costs_ceil_n_over_100_requests(
    make_cli: Callable[..., Cli], clean_environment: Path
) -> None:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    bob = world.add_user(1002, "Bob")
    team = world.add_supergroup(1234567890, "Team Room", "team_room", members=[bob])
    for n in range(1, 251):
        world.add_message(team, n, text="x" * n, date=T0 + timedelta(minutes=n), sender=bob)
    cli = make_cli(world)
    cli.world.reset_counts()
    data = cli("stats", "team_room", "--limit", "0", "--json").json()
    assert data["messages"] == 250
    assert cli.world.requests["GetHistoryRequest"] == 3


def test_bad_top_is_usage_error(cli: Cli) -> None:
    assert cli("stats", "team", "--top", "-1").code == 2


# --------------------------------------------------------------------------- unit


def test_shorten_counts_code_points() -> None:
    assert shorten("Привет") == "Привет"
    assert shorten("x" * 24) == "x" * 24
    assert shorten("y" * 25) == "y" * 23 + "…"
    assert len(shorten("Щ" * 40)) == 24


def test_unknown_senders_are_rows_but_not_unique_senders() -> None:
    chat = Chat(id=-5, raw_id=5, type=ChatType.GROUP, title="G")
    stats = ChatStats(chat)
    stats.add(Message(chat_id=-5, id=1, date=T0, text="abc", sender=None))
    stats.add(Message(chat_id=-5, id=2, date=T0, text="de", sender=Sender(None, "Signed")))
    assert stats.unique_senders == 1
    assert sorted(s.name for s in stats.top(0)) == ["Signed", "Unknown sender"]
    assert stats.per_day == 2.0 and stats.media_percent == 0.0
