"""``chats list|active|dialogs`` on the fake Telegram: filters, formats, cache, round trips.

Spec telegram-cli §3.1 and scenarios 6 and 12.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli

T0 = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def listing_world() -> FakeTelegram:
    """3 users, 1 bot, 1 group, 1 supergroup, 2 channels; one channel has no messages."""
    world = FakeTelegram()
    world.add_me(1000, "Me", username="me_user", phone="+15550001000")
    users = [
        world.add_user(1001, "Alice", "Smith", username="alice", dialog=True),
        world.add_user(1002, "Bob", dialog=True),
        world.add_user(1003, "Carol", dialog=True),
    ]
    bot = world.add_user(2001, "Helper Bot", username="helper_bot", bot=True, dialog=True)
    group = world.add_group(77, "Family")
    supergroup = world.add_supergroup(1234567890, 'Book "Club": readers', "bookclub")
    news = world.add_channel(555, "Example News", "example_news")
    world.add_channel(556, "Silent Channel")
    for n, chat in enumerate([*users, bot, group, supergroup, news]):
        world.add_message(chat, text=f"message {n}", date=T0 + timedelta(hours=n))
    world.dialog(group).unread_count = 5
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(listing_world())


def test_default_listing_shows_all_but_bots_newest_first_undated_last(cli: Cli) -> None:
    result = cli("chats", "list", "--json")
    assert result.code == 0, result.err
    rows = result.json()
    assert len(rows) == 7
    assert [r["title"] for r in rows] == [
        "Example News",
        'Book "Club": readers',
        "Family",
        "Carol",
        "Bob",
        "Alice Smith",
        "Silent Channel",
    ]
    assert "last_message" not in rows[-1]
    assert rows[0]["last_message"].endswith("Z")
    family = next(r for r in rows if r["title"] == "Family")
    assert (family["id"], family["raw_id"], family["type"], family["unread"]) == (
        -77,
        77,
        "group",
        5,
    )
    club = next(r for r in rows if r["raw_id"] == 1234567890)
    assert (club["id"], club["type"], club["username"]) == (
        -1001234567890,
        "supergroup",
        "bookclub",
    )


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ("user", 3),
        ("bot", 1),
        ("group", 1),
        ("supergroup", 1),
        ("channel", 2),
        ("all", 8),
        ("user,bot", 4),
    ],
)
def test_type_filter_selects_exactly_its_rows(cli: Cli, types: str, expected: int) -> None:
    result = cli("chats", "list", "--type", types, "--json")
    assert result.code == 0, result.err
    rows = result.json()
    assert len(rows) == expected
    if "," not in types and types != "all":
        assert {r["type"] for r in rows} == {types}


def test_unknown_type_is_usage_error(cli: Cli) -> None:
    result = cli("chats", "list", "--type", "robot")
    assert result.code == 2
    assert "robot" in result.err and "supergroup" in result.err


def test_yaml_output_loads_as_chats_section_with_quotes_and_colons(
    cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "nested" / "chats.yml"
    result = cli("chats", "list", "--format", "yaml", "--out", str(out))
    assert result.code == 0, result.err
    assert f"saved: {out} (7 chats)" in result.err
    loaded = yaml.safe_load(out.read_text(encoding="utf-8"))
    aliases = loaded["chats"]
    assert aliases["book_club_readers"] == {
        "id": -1001234567890,
        "type": "supergroup",
        "title": 'Book "Club": readers',
    }
    assert aliases["example_news"]["id"] == -1000000000555


def test_yaml_keys_are_deduplicated(cli: Cli) -> None:
    cli.world.add_user(1004, "Alice", "Smith", dialog=True)
    cli.world.add_message(1004, text="hi", date=T0)
    result = cli("chats", "list", "--format", "yaml", "--type", "user")
    keys = list(yaml.safe_load(result.out)["chats"])
    assert "alice_smith" in keys and "alice_smith-2" in keys


def test_csv_has_header_and_rfc4180_quoting(cli: Cli) -> None:
    result = cli("chats", "list", "--format", "csv")
    assert result.code == 0, result.err
    rows = list(csv.reader(io.StringIO(result.out)))
    assert rows[0] == ["id", "raw_id", "type", "title", "username", "unread", "last_message"]
    assert rows[2][:4] == ["-1001234567890", "1234567890", "supergroup", 'Book "Club": readers']
    assert '"Book ""Club"": readers"' in result.out


def test_table_output_has_spec_columns(cli: Cli) -> None:
    result = cli("chats", "list")
    assert result.code == 0, result.err
    for column in ("#", "ID", "Type", "Unread", "Last message", "Title"):
        assert column in result.out
    assert "\x1b[" not in result.out


def test_sort_by_unread_and_title(cli: Cli) -> None:
    by_unread = cli("chats", "list", "--sort", "unread", "--json").json()
    assert by_unread[0]["title"] == "Family"
    by_title = cli("chats", "list", "--sort", "title", "--json").json()
    assert [r["title"] for r in by_title] == sorted(
        (r["title"] for r in by_title), key=str.casefold
    )


def test_fresh_cache_answers_without_connecting_or_locking(cli: Cli) -> None:
    first = cli("chats", "list", "--json")
    assert first.code == 0
    cli.world.reset_counts()
    connections = len(cli.world.connections)
    second = cli("chats", "list", "--json", "--type", "all")
    assert second.code == 0
    assert len(second.json()) == 8  # the cache holds the unfiltered list
    assert sum(cli.world.requests.values()) == 0
    assert len(cli.world.connections) == connections


def test_cache_hit_while_another_process_holds_the_lock(cli: Cli) -> None:
    import asyncio

    from tgpilot.core.session_lock import SessionLock

    assert cli("chats", "list").code == 0
    lock = SessionLock(cli.home / "sessions" / "default.lock", "tgpilot export team --watch")
    asyncio.run(lock.acquire(0))
    try:
        cli.world.reset_counts()
        hit = cli("chats", "list", "--json")
        assert hit.code == 0
        assert sum(cli.world.requests.values()) == 0
        busy = cli("--lock-wait", "0", "chats", "list", "--cache-ttl", "0")
        assert busy.code == 4
        assert "tgpilot export team --watch" in busy.err
    finally:
        lock.release()


def test_cache_ttl_zero_and_refresh_fetch_again(cli: Cli) -> None:
    cli("chats", "list")
    cli.world.reset_counts()
    assert cli("chats", "list", "--cache-ttl", "0").code == 0
    assert cli.world.requests["GetDialogsRequest"] == 1
    cli.world.reset_counts()
    assert cli("chats", "list", "--refresh").code == 0
    assert cli.world.requests["GetDialogsRequest"] == 1


def test_cache_expires_after_ttl(cli: Cli) -> None:
    cli("chats", "list")
    cli.clock.advance(301)
    cli.world.reset_counts()
    cli("chats", "list")
    assert cli.world.requests["GetDialogsRequest"] == 1


def test_corrupt_cache_warns_and_refreshes(cli: Cli) -> None:
    cache = cli.home / "cache" / "dialogs-default.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("{not json", encoding="utf-8")
    result = cli("chats", "list", "--json")
    assert result.code == 0
    assert "dialog cache unreadable, refreshing" in result.err
    assert json.loads(cache.read_text(encoding="utf-8"))["chats"]


def test_empty_dialog_list_writes_no_cache(
    make_cli: Callable[..., Cli], tgpilot_home: Path
) -> None:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    harness = make_cli(world)
    result = harness("chats", "list", "--json")
    assert result.code == 0, result.err
    assert result.json() == []
    assert not (tgpilot_home / "cache" / "dialogs-default.json").exists()


def test_cache_file_holds_generated_at_account_scan_and_chats(cli: Cli) -> None:
    cli("chats", "list", "--scan", "50")
    cache = json.loads((cli.home / "cache" / "dialogs-default.json").read_text(encoding="utf-8"))
    assert set(cache) == {"generated_at", "account", "scan", "chats"}
    assert (cache["account"], cache["scan"], len(cache["chats"])) == ("default", 50, 8)


def test_active_and_dialogs_always_refresh(cli: Cli) -> None:
    cli("chats", "list")
    cli.world.reset_counts()
    active = cli("chats", "active", "--json")
    assert {r["type"] for r in active.json()} == {"group", "supergroup", "channel"}
    assert cli.world.requests["GetDialogsRequest"] == 1
    everything = cli("chats", "dialogs", "--json")
    assert len(everything.json()) == 8


def test_dialogs_without_top_message_get_one_fetch_each(cli: Cli) -> None:
    cli.world.dialog(1002).hide_top_message = True
    result = cli("chats", "list", "--refresh", "--json")
    assert result.code == 0, result.err
    bob = next(r for r in result.json() if r["title"] == "Bob")
    assert bob["last_message"].startswith("2025-01-10T13:00")
    # one fetch for Bob, one for the channel that has no messages at all
    assert cli.world.requests["GetHistoryRequest"] == 2


def test_failed_last_message_fetch_keeps_row_warns_and_exits_3(cli: Cli) -> None:
    cli.world.dialog(1002).hide_top_message = True
    cli.world.faults.fail("GetHistoryRequest", nth=1, error="CHANNEL_PRIVATE")
    result = cli("chats", "list", "--refresh", "--json")
    assert result.code == 3
    bob = next(r for r in result.json() if r["title"] == "Bob")
    assert "last_message" not in bob and bob["error"] == "CHANNEL_PRIVATE"
    assert "Bob" in result.err


def thousand_dialogs() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    for n in range(1000):
        user = world.add_user(10_000 + n, f"User {n:04d}", dialog=True)
        world.add_message(user, text="hello", date=T0 + timedelta(minutes=n))
    return world


def test_thousand_dialogs_cost_ten_requests_and_a_cache_hit_costs_none(
    make_cli: Callable[..., Cli],
) -> None:
    harness = make_cli(thousand_dialogs())
    result = harness("chats", "list", "--scan", "0", "--limit", "0", "--json")
    assert result.code == 0, result.err
    assert len(result.json()) == 1000
    assert harness.world.requests["GetDialogsRequest"] <= 10 + 2
    assert harness.world.requests["GetHistoryRequest"] == 0
    harness.world.reset_counts()
    again = harness("chats", "list", "--scan", "0", "--limit", "0", "--json")
    assert len(again.json()) == 1000
    assert sum(harness.world.requests.values()) == 0


def test_concurrency_out_of_range_is_usage_error(cli: Cli) -> None:
    assert cli("chats", "list", "--concurrency", "33").code == 2
