"""The gateway's single flood-wait policy on real Telethon requests (spec §1.5, scenario 7).

History is read through ``open_session`` and the gateway exactly as commands do, on the
fake Telegram and a fake clock, so waits cost no real time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.harness import session_options
from tgpilot.core.errors import FloodWaitTooLong, NetworkError
from tgpilot.gateways.telegram.session import SessionOptions, open_session
from tgpilot.models import Chat, ChatType

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def history_world(count: int = 250) -> tuple[FakeTelegram, Chat]:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", dialog=True)
    club = world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice])
    for n in range(1, count + 1):
        world.add_message(
            club, n, text=f"message {n}", sender=alice, date=T0 + timedelta(minutes=n)
        )
    chat = Chat(id=-1001234567890, raw_id=1234567890, type=ChatType.SUPERGROUP, title="Book Club")
    return world, chat


def options(
    world: FakeTelegram, tmp_path: Path, clock: FakeClock, notices: list[str], max_wait: int = 300
) -> SessionOptions:
    return session_options(world, tmp_path, clock, max_flood_wait=max_wait, notice=notices.append)


async def read_all(opts: SessionOptions, chat: Chat, **kwargs: object) -> list[int]:
    async with open_session(opts) as gateway:
        resolved = await gateway.resolve_chat("bookclub")
        assert resolved.id == chat.id
        return [m.id async for m in gateway.history(resolved, **kwargs)]  # type: ignore[arg-type]


async def test_short_flood_is_waited_out_and_the_same_request_retried(tmp_path: Path) -> None:
    world, chat = history_world()
    clock = FakeClock()
    notices: list[str] = []
    world.faults.fail("GetHistoryRequest", nth=2, error="FLOOD_WAIT_3")
    ids = await read_all(options(world, tmp_path, clock, notices), chat, limit=250)
    assert ids == list(range(250, 0, -1))
    assert world.requests["GetHistoryRequest"] == 4
    assert clock.sleeps == [4]
    assert len(notices) == 1
    assert notices[0].startswith("rate limited by Telegram: waiting 3 s (until ")


async def test_slowmode_and_premium_waits_follow_the_same_policy(tmp_path: Path) -> None:
    world, chat = history_world(120)
    clock = FakeClock()
    world.faults.fail("GetHistoryRequest", nth=1, error="SLOWMODE_WAIT_5")
    world.faults.fail("GetHistoryRequest", nth=3, error="FLOOD_PREMIUM_WAIT_7")
    ids = await read_all(options(world, tmp_path, clock, []), chat, limit=0)
    assert len(ids) == 120
    assert sorted(clock.sleeps) == [6, 8]


async def test_wait_over_the_threshold_stops_with_rerun_hint(tmp_path: Path) -> None:
    world, chat = history_world()
    clock = FakeClock()
    world.faults.fail("GetHistoryRequest", nth=2, error="FLOOD_WAIT_3600")
    with pytest.raises(FloodWaitTooLong) as caught:
        await read_all(options(world, tmp_path, clock, []), chat, limit=250)
    assert "3600 s wait (over --max-flood-wait 300)" in caught.value.message
    assert "rerun to resume" in caught.value.message
    assert clock.sleeps == []
    assert caught.value.exit_code == 1


async def test_fourth_flood_on_one_request_stops(tmp_path: Path) -> None:
    world, chat = history_world()
    clock = FakeClock()
    world.faults.fail("GetHistoryRequest", every=1, error="FLOOD_WAIT_2", times=4)
    with pytest.raises(FloodWaitTooLong):
        await read_all(options(world, tmp_path, clock, []), chat, limit=250)
    assert clock.sleeps == [3, 3, 3]


async def test_dropped_connection_is_retried_without_gaps_or_duplicates(tmp_path: Path) -> None:
    world, chat = history_world()
    clock = FakeClock()
    world.faults.disconnect("GetHistoryRequest", nth=2)
    ids = await read_all(options(world, tmp_path, clock, []), chat, limit=0)
    assert ids == list(range(250, 0, -1))


async def test_connection_that_never_comes_back_is_a_network_error(tmp_path: Path) -> None:
    world, chat = history_world()
    clock = FakeClock()
    world.faults.disconnect("GetHistoryRequest", every=1)
    with pytest.raises(NetworkError):
        await read_all(options(world, tmp_path, clock, []), chat, limit=0)


async def test_since_until_window_stops_at_the_first_older_page(tmp_path: Path) -> None:
    world, chat = history_world(1000)
    clock = FakeClock()
    since = T0 + timedelta(minutes=101)
    until = T0 + timedelta(minutes=301)
    ids = await read_all(
        options(world, tmp_path, clock, []), chat, since=since, until=until, limit=None
    )
    assert ids == list(range(300, 100, -1))
    # 200 messages in range from 300 down: pages 300..201, 200..101, 100.. (stops there)
    assert world.requests["GetHistoryRequest"] == 3


async def test_flood_listeners_hear_each_wait(tmp_path: Path) -> None:
    world, _chat = history_world()
    clock = FakeClock()
    heard: list[int] = []
    world.faults.fail("GetHistoryRequest", nth=1, error="FLOOD_WAIT_10")
    opts = options(world, tmp_path, clock, [])
    async with open_session(opts) as gateway:
        gateway.flood_policy.listeners.append(heard.append)
        resolved = await gateway.resolve_chat("bookclub")
        assert len([m async for m in gateway.history(resolved, limit=10)]) == 10
    assert heard == [10]
    assert gateway.flood_policy.waited_seconds == 11
