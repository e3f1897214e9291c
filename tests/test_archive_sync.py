"""``archive sync`` and ``db export-chats|upgrade`` on the fake Telegram and every store backend.

Spec telegram-cli §3.3, scenarios 21 and 22.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli
from tgpilot.core.errors import StoreError
from tgpilot.store import Store, SyncState, UpsertCounts
from tgpilot.store import messages as message_rows

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CLUB_ID = -1001234567890


def club_world(count: int = 250) -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", "Smith", username="alice")
    bob = world.add_user(1002, "Bob")
    club = world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice, bob])
    world.add_group(77, "Family", members=[alice])
    world.add_channel(555, "Example News", "example_news")
    for n in range(1, count + 1):
        world.add_message(
            club, n, text=f"message {n} привет", date=T0 + timedelta(minutes=n),
            sender=alice if n % 2 else bob,
        )  # fmt: skip
    world.dialog(club).unread_count = 7
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli], store_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("TGPILOT_STORE__URL", store_url)
    return make_cli(club_world())


async def stored(store_url: str, chat_id: int = CLUB_ID) -> int:
    async with await Store.open(store_url) as store:
        return await store.count_messages(chat_id)


def test_first_sync_then_nothing_new_then_an_edit(cli: Cli, store_url: str) -> None:
    first = cli("archive", "sync", "bookclub")
    assert first.code == 0, first.err
    assert "Book Club (-1001234567890): inserted 250, updated 0, unchanged 0" in first.out
    assert cli.world.requests["GetHistoryRequest"] == 3

    cli.world.reset_counts()
    second = cli("archive", "sync", "bookclub")
    assert second.code == 0, second.err
    assert "inserted 0, updated 0, unchanged 250" in second.out
    assert cli.world.requests["GetHistoryRequest"] == 1

    edited = cli.world.message(CLUB_ID, 240)
    edited.text = "message 240, edited"
    edited.edit_date = T0 + timedelta(days=1)
    cli.world.add_message(CLUB_ID, 251, text="a new one", date=T0 + timedelta(days=2))
    cli.world.reset_counts()
    third = cli("archive", "sync", "bookclub", "--json")
    assert third.code == 0, third.err
    (row,) = third.json()
    assert (row["inserted"], row["updated"], row["unchanged"], row["stored"]) == (1, 1, 249, 251)
    assert cli.world.requests["GetHistoryRequest"] == 1


def test_a_reaction_counts_as_an_update(cli: Cli) -> None:
    assert cli("archive", "sync", "bookclub").code == 0
    from tests.fakes.telegram.model import ReactionRec

    cli.world.message(CLUB_ID, 245).reactions = [ReactionRec("emoji", 2, emoji="👍")]
    again = cli("archive", "sync", "bookclub", "--json")
    assert again.json()[0]["updated"] == 1


def test_killed_run_resumes_to_exactly_every_message(
    make_cli: Callable[..., Cli], store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TGPILOT_STORE__URL", store_url)
    cli = make_cli(club_world(2500))
    # the 11th page fails: the first batch of 1000 is stored and its progress saved
    cli.world.faults.fail("GetHistoryRequest", nth=11, error="CHANNEL_PRIVATE")
    broken = cli("archive", "sync", "bookclub", "--json")
    assert broken.code == 1
    assert broken.json()[0]["error"] and broken.json()[0]["stored"] == 1000
    cli.world.reset_counts()
    resumed = cli("archive", "sync", "bookclub", "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.json()[0]["stored"] == 2500
    assert resumed.json()[0]["inserted"] == 1500
    # catch up re-reads one page, then the backfill goes on below the stored 1000
    assert cli.world.requests["GetHistoryRequest"] == 1 + 15


def test_a_failed_write_stores_nothing_below_it_so_a_rerun_fills_the_rest(
    make_cli: Callable[..., Cli], store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TGPILOT_STORE__URL", store_url)
    cli = make_cli(club_world(2500))
    write = message_rows.write_messages
    writes = 0

    def second_write_fails(*args: Any, **kwargs: Any) -> UpsertCounts:
        nonlocal writes
        writes += 1
        if writes == 2:
            raise StoreError("disk full")
        return write(*args, **kwargs)

    monkeypatch.setattr(message_rows, "write_messages", second_write_fails)
    broken = cli("archive", "sync", "bookclub", "--json")
    assert broken.code == 1
    assert broken.json()[0]["error"] == "disk full" and broken.json()[0]["stored"] == 1000
    state = asyncio.run(sync_state_of(store_url))
    assert state is not None and state.oldest_id == 1501  # not past the lost batch

    monkeypatch.setattr(message_rows, "write_messages", write)
    resumed = cli("archive", "sync", "bookclub", "--json")
    assert resumed.code == 0, resumed.err
    assert (resumed.json()[0]["inserted"], resumed.json()[0]["stored"]) == (1500, 2500)


def test_failing_chat_is_recorded_and_the_others_go_on(cli: Cli) -> None:
    cli.world.faults.fail("GetHistoryRequest", nth=1, error="CHANNEL_PRIVATE")
    result = cli("archive", "sync", "example_news", "bookclub", "--json")
    assert result.code == 3
    rows = {r["title"]: r for r in result.json()}
    assert rows["Example News"]["error"] == "Telegram error CHANNEL_PRIVATE on GetHistoryRequest"
    assert rows["Book Club"]["inserted"] == 250


def test_sync_all_takes_dialogs_of_the_chosen_types(cli: Cli) -> None:
    result = cli("archive", "sync", "--all", "--json")
    assert result.code == 0, result.err
    assert {r["title"] for r in result.json()} == {"Book Club", "Family", "Example News"}
    limited = cli("archive", "sync", "--all", "--types", "channel", "--json")
    assert [r["title"] for r in limited.json()] == ["Example News"]


def test_since_bounds_the_backfill(cli: Cli) -> None:
    result = cli("archive", "sync", "bookclub", "--since", "2025-01-01T03:00", "--json")
    assert result.code == 0, result.err
    assert result.json()[0]["stored"] == 71  # minutes 180..250


async def sync_state_of(store_url: str, chat_id: int = CLUB_ID) -> SyncState | None:
    async with await Store.open(store_url) as store:
        return await store.get_sync_state(chat_id)


def test_an_earlier_since_goes_on_backfilling_below_a_reached_bound(
    cli: Cli, store_url: str
) -> None:
    bounded = cli("archive", "sync", "bookclub", "--since", "2025-01-01T03:00", "--json")
    assert bounded.json()[0]["stored"] == 71  # minutes 180..250
    state = asyncio.run(sync_state_of(store_url))
    assert state is not None and (state.oldest_id, state.newest_id) == (180, 250)
    assert not state.backfill_complete  # complete for that bound only

    cli.world.reset_counts()
    same = cli("archive", "sync", "bookclub", "--since", "2025-01-01T03:00", "--json")
    assert same.json()[0]["inserted"] == 0 and same.json()[0]["stored"] == 71
    assert cli.world.requests["GetHistoryRequest"] == 2  # catch up; one page below the bound

    earlier = cli("archive", "sync", "bookclub", "--since", "2025-01-01T02:00", "--json")
    assert earlier.code == 0, earlier.err
    assert earlier.json()[0]["inserted"] == 60 and earlier.json()[0]["stored"] == 131

    unbounded = cli("archive", "sync", "bookclub", "--json")
    assert unbounded.json()[0]["inserted"] == 119 and unbounded.json()[0]["stored"] == 250
    state = asyncio.run(sync_state_of(store_url))
    assert state is not None and (state.oldest_id, state.backfill_complete) == (1, True)

    cli.world.reset_counts()
    assert cli("archive", "sync", "bookclub", "--since", "2025-01-01T03:00").code == 0
    assert cli.world.requests["GetHistoryRequest"] == 1  # complete for every bound


def test_limit_per_chat_resumes_on_the_next_run(cli: Cli) -> None:
    first = cli("archive", "sync", "bookclub", "--limit-per-chat", "100", "--json")
    assert first.json()[0]["stored"] == 100
    second = cli("archive", "sync", "bookclub", "--limit-per-chat", "100", "--json")
    assert second.json()[0]["stored"] == 200
    third = cli("archive", "sync", "bookclub", "--json")
    assert third.json()[0]["stored"] == 250


def test_usage_errors(cli: Cli) -> None:
    assert cli("archive", "sync").code == 2
    assert cli("archive", "sync", "bookclub", "--all").code == 2
    assert cli("archive", "sync", "bookclub", "--since", "x").code == 2


def test_export_chats_twice_and_never_nulls_a_known_count(cli: Cli, store_url: str) -> None:
    first = cli("db", "export-chats")
    assert first.code == 0, first.err
    assert "[supergroup] Book Club (id -1001234567890)" in first.out
    assert "inserted 3, updated 0, unchanged 0, failed 0" in first.err
    second = cli("db", "export-chats")
    assert "inserted 0, updated 0, unchanged 3, failed 0" in second.err
    cli.world.dialog(CLUB_ID).unread_count = 0
    third = cli("db", "export-chats", "--json")
    assert third.json()["updated"] == 0

    import asyncio

    async def unread() -> int | None:
        async with await Store.open(store_url) as store:
            record = await store.chat_record(CLUB_ID)
            assert record is not None
            return record.unread_count

    assert asyncio.run(unread()) == 7


def test_messages_join_chats(cli: Cli, store_url: str) -> None:
    assert cli("archive", "sync", "bookclub").code == 0
    import asyncio

    async def joined() -> int:
        async with await Store.open(store_url) as store, store.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT COUNT(*) FROM messages m JOIN chats c ON m.chat_id = c.id "
                    "WHERE c.title = 'Book Club'"
                )
            )
            return int(result.scalar_one())

    assert asyncio.run(joined()) == 250


def test_db_upgrade_reports_head(cli: Cli) -> None:
    first = cli("db", "upgrade", "--json")
    assert first.code == 0, first.err
    again = cli("db", "upgrade", "--json")
    assert again.json()["from"] == again.json()["to"]


def test_export_from_the_archive_needs_no_session(cli: Cli, tmp_path: Path) -> None:
    assert cli("archive", "sync", "bookclub").code == 0
    cli.session_file.unlink()
    live_out, archive_out = tmp_path / "live.jsonl", tmp_path / "archive.jsonl"
    connections = len(cli.world.connections)
    result = cli(
        "export",
        "bookclub",
        "--archive",
        "--format",
        "jsonl",
        "--limit",
        "0",
        "--out",
        str(archive_out),
    )
    assert result.code == 0, result.err
    assert len(cli.world.connections) == connections  # never connected
    lines = archive_out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 250
    cli.login_session()
    assert (
        cli("export", "bookclub", "--format", "jsonl", "--limit", "0", "--out", str(live_out)).code
        == 0
    )
    assert archive_out.read_text(encoding="utf-8") == live_out.read_text(encoding="utf-8")


def test_archive_export_resolves_ids_and_titles_offline(cli: Cli, tmp_path: Path) -> None:
    assert cli("archive", "sync", "bookclub").code == 0
    for ref in ("-1001234567890", "1234567890", "t.me/c/1234567890/5", "@bookclub"):
        out = tmp_path / "x.md"
        assert cli("export", ref, "--archive", "--out", str(out)).code == 0, ref
    assert cli("export", "--title-contains", "book", "--archive", "--out", str(out)).code == 0
    missing = cli("export", "example_news", "--archive")
    assert missing.code == 2
    assert "archive sync" in missing.err


def test_search_archive_needs_no_session(cli: Cli) -> None:
    cli.world.add_message(CLUB_ID, 300, text="Release notes are ready", date=T0 + timedelta(days=3))
    cli.world.add_message(
        CLUB_ID, 301, text="Release draft, do not share", date=T0 + timedelta(days=4)
    )
    assert cli("archive", "sync", "bookclub").code == 0
    cli.session_file.unlink()
    connections = len(cli.world.connections)
    result = cli("search", "--archive", "release -draft", "--json")
    assert result.code == 0, result.err
    assert [h["message_id"] for h in result.json()] == [300]
    assert result.json()[0]["chat"] == "Book Club"
    assert len(cli.world.connections) == connections
    scoped = cli("search", "--archive", "привет", "--chat", "bookclub", "--limit", "5", "--json")
    assert len(scoped.json()) == 5
    human = cli("search", "--archive", '"notes are"')
    assert "(Book Club, msg 300)" in human.out
    assert cli("search", "--archive", "-draft").code == 2  # only an exclusion
    assert cli("search", "--archive").code == 2


def test_stats_and_find_user_from_the_archive(cli: Cli) -> None:
    assert cli("archive", "sync", "bookclub").code == 0
    live = cli("stats", "bookclub", "--limit", "0", "--json").json()
    cli.session_file.unlink()
    offline = cli("stats", "bookclub", "--archive", "--limit", "0", "--json")
    assert offline.code == 0, offline.err
    assert offline.json() == live
    users = cli("find-user", "bookclub", "ali", "--archive", "--json")
    assert users.code == 0, users.err
    assert [u["name"] for u in users.json()] == ["Alice Smith"]
