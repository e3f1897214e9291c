"""Bulk actions under flood waits: with FLOOD_WAIT on 10 % of mutating requests, a 500-item
reaction plan and a 500-message clean plan each end with every item done exactly once and
one ``ok`` audit line per item (issue #4; spec telegram-cli §1.5)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli

TEAM = -1001234567890
CONFIG = "chats:\n  team: {id: 1234567890, type: supergroup}\n"
N = 500


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path, fake_clock: FakeClock) -> Cli:
    (clean_environment / "config.yml").write_text(CONFIG, encoding="utf-8")
    world = FakeTelegram(seed=11)
    me = world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice")
    team = world.add_supergroup(1234567890, "Team", members=[alice])
    start = fake_clock.now() - timedelta(days=3)
    for n in range(1, 2 * N + 1):
        sender = me if n % 2 == 0 else alice
        world.add_message(team, n, text=f"m{n}", sender=sender, date=start + timedelta(minutes=n))
    return make_cli(world)


def audit(cli: Cli) -> list[dict[str, object]]:
    path = cli.home / "audit.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_a_500_item_reaction_plan_survives_floods_on_10_percent(
    cli: Cli, tmp_path: Path, fake_clock: FakeClock
) -> None:
    refs = tmp_path / "refs.txt"
    refs.write_text(" ".join(str(n) for n in range(1, N + 1)), encoding="utf-8")
    cli.world.faults.fail("SendReactionRequest", probability=0.10, error="FLOOD_WAIT_2")
    result = cli("react", "team", "--file", str(refs), "--delay", "0.1", "--yes")
    assert result.code == 0, result.err
    assert f"done {N}, skipped 0, failed 0" in result.out
    sent = cli.world.requests["SendReactionRequest"]
    floods = sent - N
    assert 25 <= floods <= 80, floods  # about 10 % of requests hit a flood wait
    assert fake_clock.sleeps.count(3) >= floods  # each one waited 2 + 1 s
    for n in range(1, N + 1):
        reactions = cli.world.message(TEAM, n).reactions or []
        assert [(r.emoji, r.count, r.mine) for r in reactions] == [("👍", 1, True)], n
    lines = audit(cli)
    assert Counter(line["result"] for line in lines) == {"ok": N}
    assert sorted(line["message_id"] for line in lines) == list(range(1, N + 1))  # type: ignore[type-var]


def test_a_500_message_clean_plan_survives_floods_on_10_percent(cli: Cli) -> None:
    cli.world.faults.fail("channels.DeleteMessagesRequest", probability=0.10, error="FLOOD_WAIT_2")
    cli.world.faults.fail("channels.DeleteMessagesRequest", nth=3, error="FLOOD_WAIT_5")
    cli.world.faults.fail("channels.GetMessagesRequest", probability=0.10, error="FLOOD_WAIT_1")
    plan = cli.home / "clean.json"
    assert cli("clean", "mine", "team", "--plan-out", str(plan)).code == 0
    result = cli("apply", str(plan), "--yes", "--delay", "0.2")
    assert result.code == 0, result.err
    assert f"done {N}, skipped 0, failed 0" in result.out
    assert cli.world.requests_qualified["channels.DeleteMessagesRequest"] > N // 100  # floods
    assert sorted(m.id for m in cli.world.history(TEAM)) == list(range(1, 2 * N + 1, 2))
    lines = audit(cli)
    assert Counter(line["result"] for line in lines) == {"ok": N}
    assert sorted(line["message_id"] for line in lines) == list(range(2, 2 * N + 1, 2))  # type: ignore[type-var]
