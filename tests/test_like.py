"""``tgpilot like``: the sender matcher, exact scan counts, auto-emoji, human-like pacing,
flood waits retried on the same message (spec telegram-cli §4.2, scenario 27)."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.model import ChatRec, ReactionPolicy
from tests.harness import Cli
from tgpilot.services.actions.pacing import HumanPacer

CLUB = -1001234567890
CONFIG = "chats:\n  club: {id: 1234567890, type: supergroup}\n"
BASE = 1.5


def club_world(now: datetime) -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(12345, "Alice", "Smith", username="alice", dialog=True)
    bob = world.add_user(2002, "Bob", username="bobby", dialog=True)
    club = world.add_supergroup(1234567890, "Club", members=[alice, bob])
    texts = ["thanks a lot!", "haha that is funny", "ok", "see you", "plain words", "done"]
    for n in range(1, 13):
        sender = alice if n % 2 else bob
        world.add_message(
            club, n, text=texts[n % len(texts)], sender=sender,
            date=now - timedelta(hours=13 - n),
        )  # fmt: skip
    world.add_message(club, 13, action="pin", date=now - timedelta(minutes=5))
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path, fake_clock: FakeClock) -> Cli:
    (clean_environment / "config.yml").write_text(CONFIG, encoding="utf-8")
    return make_cli(club_world(fake_clock.now()))


def audit(cli: Cli) -> list[dict[str, object]]:
    path = cli.home / "audit.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def mine(cli: Cli, message_id: int) -> list[str]:
    return [r.emoji or "" for r in cli.world.message(CLUB, message_id).reactions or [] if r.mine]


@pytest.mark.parametrize("matcher", ["12345", "@Alice", "ali"])
def test_matchers_pick_alice_and_never_bob(cli: Cli, matcher: str) -> None:
    result = cli("like", "club", "--from", matcher, "--limit", "13", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert [i["message_id"] for i in data["items"]] == [11, 9, 7, 5, 3, 1]
    assert data["params"]["scan"] == {
        "scanned": 13, "planned": 6, "not_matching": 6, "no_sender": 1, "already_reacted": 0,
    }  # fmt: skip
    assert cli.world.mutating_requests() == {}


def test_limit_scans_exactly_that_many_and_counts_each_once(cli: Cli) -> None:
    cli.world.add_message(CLUB, 14, text="mine already", sender=12345, reactions=[("❤", 1, True)])
    result = cli("like", "club", "--from", "@alice", "--limit", "5", "--json")
    data = result.json()
    scan = data["params"]["scan"]
    assert scan["scanned"] == 5
    assert scan["planned"] + scan["not_matching"] + scan["no_sender"] + scan["already_reacted"] == 5
    assert (scan["already_reacted"], scan["no_sender"]) == (1, 1)
    assert "scanned 5" not in result.err  # JSON mode: the summary is in the document


def test_auto_emoji_follows_the_table_and_drops_emoji_the_chat_refuses(
    cli: Cli, clean_environment: Path
) -> None:
    (clean_environment / "config.yml").write_text(
        CONFIG + "like:\n  auto_emoji:\n    - {match: [thanks], emoji: '🙏'}\n"
        "    - {match: [funny], emoji: '🦄'}\n  fallback: ['👍', '🔥']\n",
        encoding="utf-8",
    )
    club = cli.world.peer(CLUB)
    assert isinstance(club, ChatRec)
    club.reactions = ReactionPolicy("some", emoji=("🙏", "👍", "🔥"))
    result = cli("like", "club", "--from", "@bobby", "--auto-emoji", "--limit", "12", "--json")
    assert result.code == 0, result.err
    chosen = {i["message_id"]: i["emoji"] for i in result.json()["items"]}
    texts = {n: cli.world.message(CLUB, n).text for n in chosen}
    for n, emoji in chosen.items():
        if "thanks" in texts[n]:
            assert emoji == ["🙏"]
        else:  # "funny" maps to 🦄, which the chat refuses: dropped, the fallback decides
            assert emoji == [["👍", "🔥"][len(texts[n]) % 2]]


def test_scenario_27_flood_on_the_third_target_waits_retries_and_doubles(
    cli: Cli, fake_clock: FakeClock
) -> None:
    cli.world.faults.fail("SendReactionRequest", nth=3, error="FLOOD_WAIT_30")
    result = cli("like", "club", "--from", "ali", "--limit", "13", "--seed", "7", "--yes")
    assert result.code == 0, result.err
    assert "rate limited by Telegram: waiting 30 s" in result.err
    assert 31 in fake_clock.sleeps
    assert cli.world.requests["SendReactionRequest"] == 7  # 6 targets, the third sent twice
    assert all(mine(cli, n) == ["❤"] for n in (11, 9, 7, 5, 3, 1))
    assert [line["result"] for line in audit(cli)] == ["ok"] * 6
    after_flood = fake_clock.sleeps[fake_clock.sleeps.index(31) + 1]
    assert after_flood >= 0.85 * 2 * BASE * 0.85 + 0.09  # the delay was doubled (then decayed)


def test_scenario_27_every_pause_at_base_lies_in_the_spec_range() -> None:
    clock = FakeClock()
    pacer = HumanPacer(BASE, clock, random.Random(7))
    asyncio.run(_drive(pacer, 500))
    assert len(pacer.waits) == 500
    assert all(0.85 * BASE + 0.090 <= w <= 1.30 * BASE + 4.820 for w in pacer.waits)
    assert any(w > 1.30 * BASE + 0.320 for w in pacer.waits)  # bursts end in a long pause
    replay = HumanPacer(BASE, FakeClock(), random.Random(7))
    asyncio.run(_drive(replay, 500))
    assert replay.waits == pacer.waits  # --seed makes it reproducible


async def _drive(pacer: HumanPacer, n: int) -> None:
    for _ in range(n):
        await pacer.wait()


def test_after_a_flood_the_pacer_doubles_then_decays_to_base() -> None:
    pacer = HumanPacer(BASE, FakeClock(), random.Random(1))
    pacer.on_flood(30)
    assert pacer.current == 2 * BASE and pacer.burst == 0
    asyncio.run(_drive(pacer, 200))
    assert pacer.current == BASE
    pacer.current = 9.0
    pacer.on_flood(5)
    assert pacer.current == 10.0  # capped


def test_today_and_replace(cli: Cli, fake_clock: FakeClock) -> None:
    result = cli("like", "club", "--from", "@alice", "--today", "--json")
    assert result.code == 0, result.err
    today = fake_clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    for item in result.json()["items"]:
        assert cli.world.message(CLUB, item["message_id"]).date >= today
    assert cli("react", "club", "11", "--emoji", "👍").code == 0
    result = cli("like", "club", "--from", "@alice", "--limit", "3", "--json")
    assert result.json()["params"]["scan"]["already_reacted"] == 1
    result = cli("like", "club", "--from", "@alice", "--limit", "3", "--replace", "--yes")
    assert result.code == 0, result.err
    assert mine(cli, 11) == ["❤"]
