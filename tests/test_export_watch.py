"""``export --watch``: pushed messages are appended; a dropped connection loses or repeats
nothing (spec telegram-cli §3.2, scenario 20)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli, session_options
from tgpilot.gateways.telegram.session import open_session
from tgpilot.services.export.run import ExportOptions, export_chat
from tgpilot.services.export.watch import watch_chat

T0 = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
CLUB = -1001234567890
UTC_ZONE = ZoneInfo("UTC")


def club_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice")
    club = world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice])
    for n in range(1, 6):
        world.add_message(club, n, text=f"old {n}", date=T0 + timedelta(minutes=n), sender=alice)
    return world


async def settle(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the watcher did not catch up")


async def test_new_messages_are_appended_and_a_drop_loses_or_repeats_nothing(
    tmp_path: Path,
) -> None:
    world = club_world()
    clock = FakeClock()
    options = session_options(
        world, tmp_path, clock, receive_updates=True, command="tgpilot export bookclub --watch"
    )
    out = tmp_path / "club.jsonl"
    export = ExportOptions(format="jsonl", out=out, limit=0)
    echoed: list[str] = []

    def ids() -> list[int]:
        return [json.loads(line)["message_id"] for line in out.read_text().splitlines()]

    async with open_session(options) as gateway:
        chat = await gateway.resolve_chat("bookclub")
        result = await export_chat(
            chat, gateway, export, exports_dir=tmp_path, tz=UTC_ZONE, now=clock.now
        )
        assert result.newest_id == 5
        with out.open("a", encoding="utf-8") as handle:
            watcher = asyncio.create_task(
                watch_chat(
                    chat,
                    gateway,
                    export,
                    handle,
                    after_id=result.newest_id,
                    tz=UTC_ZONE,
                    clock=clock,
                    echo=echoed.append,
                )
            )
            await asyncio.sleep(0.05)
            world.add_message(CLUB, 6, text="pushed six", date=T0 + timedelta(hours=1), sender=1001)
            world.add_message(
                CLUB, 7, text="pushed seven", date=T0 + timedelta(hours=2), sender=1001
            )
            await settle(lambda: ids()[-1:] == [7])
            # the connection drops; two messages arrive while we are away
            for sender in world.live_senders():
                sender.drop()
            world.add_message(CLUB, 8, text="while away", date=T0 + timedelta(hours=3), sender=1001)
            world.add_message(CLUB, 9, text="still away", date=T0 + timedelta(hours=4), sender=1001)
            await settle(lambda: ids()[-1:] == [9])
            world.add_message(CLUB, 10, text="back", date=T0 + timedelta(hours=5), sender=1001)
            await settle(lambda: ids()[-1:] == [10])
            watcher.cancel()
            with pytest.raises(asyncio.CancelledError):
                await watcher
    assert ids() == list(range(1, 11))
    assert echoed[0] == "[04:04:00] Alice: pushed six"
    assert len(echoed) == 5


def test_watch_refuses_the_json_format(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(club_world())
    result = cli("export", "bookclub", "--watch", "--format", "json")
    assert result.code == 2
    assert "--watch" in result.err


def test_ctrl_c_ends_a_watch_with_exit_0(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    repo = Path(__file__).resolve().parents[1]
    world = club_world()
    home = tmp_path / "home"
    (home / "sessions").mkdir(parents=True)
    world.authorize_session_file(home / "sessions" / "default.session")
    world_file = tmp_path / "world.pickle"
    world.save(world_file)
    out = tmp_path / "club.jsonl"
    env = dict(os.environ)
    env.update(
        PYTHONPATH=f"{repo}:{repo / 'src'}",
        TGPILOT_HOME=str(home),
        TELEGRAM_API_ID="1",
        TELEGRAM_API_HASH="a" * 32,
    )
    command = [sys.executable, "-m", "tests.fakes.telegram.launch", "--world", str(world_file)]
    command += ["--", "export", "bookclub", "--watch", "--format", "jsonl", "--out", str(out)]
    proc = subprocess.Popen(command, cwd=repo, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    seen = ""
    while "watching Book Club" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    assert "watching Book Club" in seen, seen
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5
