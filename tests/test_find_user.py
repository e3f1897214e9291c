"""``tgpilot find-user CHAT NAME`` (live, from recent senders) on the fake Telegram.

Spec telegram-cli §3.4: case-folded substring of name or username, most messages
first, ``No users matching "NAME" among N senders`` with exit 0, JSON rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TEAM_ID = -1001234567890


def team_world() -> FakeTelegram:
    world = FakeTelegram()
    me = world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", "Smith", username="alice")
    alicia = world.add_user(1002, "Alicia", "Keys")
    bob = world.add_user(1003, "Bob", username="bobby_b")
    team = world.add_supergroup(1234567890, "Team Room", members=[alice, alicia, bob])
    script = [alice, bob, alice, alicia, me, bob, alice]
    for n, who in enumerate(script, 1):
        world.add_message(team, n, text=f"m{n}", date=T0 + timedelta(hours=n), sender=who)
    world.add_message(team, 8, date=T0 + timedelta(hours=8), sender=alicia, action="pin")
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path) -> Cli:
    (clean_environment / "config.yml").write_text(
        f"chats:\n  team: {{id: {TEAM_ID}}}\n", encoding="utf-8"
    )
    return make_cli(team_world())


def rows(out: str) -> list[list[str]]:
    found = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 5 and cells[0].isdigit():
            found.append(cells)
    return found


def test_substring_of_name_most_messages_first(cli: Cli) -> None:
    result = cli("--tz", "UTC", "find-user", "team", "ALI")
    assert result.code == 0, result.err
    assert rows(result.out) == [
        ["1001", "@alice", "Alice Smith", "3", "2025-03-01 16:00"],
        ["1002", "", "Alicia Keys", "1", "2025-03-01 13:00"],
    ]
    assert "2 of 4 senders in 8 messages" in result.err
    assert "\x1b" not in result.out


def test_username_matches_and_leading_at_is_ignored(cli: Cli) -> None:
    assert [r[0] for r in rows(cli("find-user", "team", "bobby").out)] == ["1003"]
    assert [r[0] for r in rows(cli("find-user", "team", "@alice").out)] == ["1001"]


def test_none_matching_is_exit_0_with_sender_count(cli: Cli) -> None:
    result = cli("find-user", "team", "zed")
    assert result.code == 0, result.err
    assert 'No users matching "zed" among 4 senders' in result.out
    as_json = cli("find-user", "team", "zed", "--json")
    assert as_json.code == 0 and as_json.json() == []
    assert 'No users matching "zed" among 4 senders' in as_json.err


def test_json_rows(cli: Cli) -> None:
    result = cli("--tz", "UTC", "find-user", "team", "a", "--json")
    assert result.code == 0, result.err
    assert result.json() == [
        {
            "user_id": 1001,
            "username": "alice",
            "name": "Alice Smith",
            "messages": 3,
            "last_seen": "2025-03-01T16:00:00Z",
        },
        {
            "user_id": 1002,
            "username": None,
            "name": "Alicia Keys",
            "messages": 1,
            "last_seen": "2025-03-01T13:00:00Z",
        },
    ]


def test_ties_go_to_the_most_recently_seen(cli: Cli) -> None:
    result = cli("find-user", "team", "e", "--json")
    # Alice Smith 3; then Me (1, seen 14:00) before Alicia Keys (1, seen 13:00); Bob has no "e".
    assert [r["user_id"] for r in result.json()] == [1001, 1000, 1002]


def test_limit_reads_only_the_newest(cli: Cli) -> None:
    result = cli("find-user", "team", "b", "--limit", "3", "--json")
    # newest 3: the pin, m7 Alice, m6 Bob → Bob's one message in the window.
    assert [(r["user_id"], r["messages"]) for r in result.json()] == [(1003, 1)]


def test_empty_name_is_usage_error(cli: Cli) -> None:
    cli.world.reset_counts()
    assert cli("find-user", "team", " @ ").code == 2
    assert cli.world.requests["GetHistoryRequest"] == 0


def test_limit_counts_senders_in_the_window(cli: Cli) -> None:
    result = cli("find-user", "team", "zed", "--limit", "2")
    assert 'No users matching "zed" among 1 senders' in result.out  # the pin is not a sender


def test_title_contains(cli: Cli) -> None:
    result = cli("find-user", "--title-contains", "team room", "alicia", "--json")
    assert result.code == 0, result.err
    assert [r["user_id"] for r in result.json()] == [1002]


def test_missing_name_is_usage_error(cli: Cli) -> None:
    result = cli("find-user", "team")
    assert result.code == 2
    assert "missing NAME" in result.err


def members_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    people = [
        world.add_user(2000 + n, f"Member {n:03d}", username=f"member_{n:03d}") for n in range(450)
    ]
    alice = world.add_user(1001, "Alice", "Smith", username="alice")
    quiet = world.add_user(1002, "Alicia", "Quiet")
    world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice, quiet, *people])
    world.add_group(77, "Family", members=[alice, quiet])
    news = world.add_channel(555, "Example News", "example_news")
    news.members = (alice.marked_id,)
    world.add_message(-1001234567890, 1, text="hello", sender=alice)
    return world


def test_members_are_found_server_side_with_their_message_counts(
    make_cli: Callable[..., Cli],
) -> None:
    cli = make_cli(members_world())
    result = cli("find-user", "bookclub", "ali", "--members", "--json")
    assert result.code == 0, result.err
    rows = result.json()
    assert [(r["name"], r["messages"]) for r in rows] == [("Alice Smith", 1), ("Alicia Quiet", 0)]
    assert rows[1]["last_seen"] is None
    # Telethon: one count request, the page, and the empty page that ends the search
    assert cli.world.requests["GetParticipantsRequest"] == 3


def test_member_search_pages_200_at_a_time(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    result = cli("find-user", "bookclub", "member_", "--members", "--json")
    assert result.code == 0, result.err
    assert len(result.json()) == 450
    # ceil(450/200) pages, plus Telethon's count request and its final empty page
    assert cli.world.requests["GetParticipantsRequest"] == 3 + 2


def test_members_of_a_basic_group_and_by_username(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    result = cli("find-user", "-77", "@alice", "--members", "--json")
    assert result.code == 0, result.err
    assert [r["username"] for r in result.json()] == ["alice"]


def test_channel_members_need_admin_rights(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    result = cli("find-user", "example_news", "ali", "--members")
    assert result.code == 1
    assert "CHAT_ADMIN_REQUIRED" in result.err


def test_members_cannot_come_from_the_archive(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    assert cli("find-user", "bookclub", "ali", "--members", "--archive").code == 2
