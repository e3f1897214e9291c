"""``moderate watch|stats|check``: every new message judged as it arrives, warnings that
never quote the text, deletes only with the right, counts over history (spec
telegram-cli §4.6, scenario 32)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli, session_options
from tgpilot.core.audit import AuditLog
from tgpilot.core.config.settings import ModerationSettings, ProfanitySettings
from tgpilot.gateways.telegram.session import open_session
from tgpilot.services.moderation.verdict import Moderator
from tgpilot.services.moderation.watch import ModerationWatch, WatchOptions

TEAM = -1001234567890
CONFIG = (
    "chats:\n  team: {id: 1234567890, type: supergroup}\n"
    "moderation:\n  profanity: {patterns: [heck]}\n"
)
OFFENSIVE = ["what the heck", "heck yes", "oh HECK no"]


def team_world(clock: FakeClock) -> FakeTelegram:
    world = FakeTelegram()
    me = world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", "Smith", dialog=True)
    bob = world.add_user(1002, "Bob", dialog=True)
    team = world.add_supergroup(1234567890, "Team", members=[alice, bob])
    before = clock.now() - timedelta(hours=1)
    world.add_message(team, 1, text="heck, before the watch", sender=alice, date=before)
    world.add_message(team, 2, text="checked it", sender=bob, date=before)
    world.add_message(team, 3, text="heck from me", sender=me, date=before)
    return world


async def settle(condition: Callable[[], bool]) -> None:
    for _ in range(300):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the watch did not catch up")


def moderator() -> Moderator:
    return Moderator.from_settings(
        ModerationSettings(profanity=ProfanitySettings(patterns=["heck"]))
    )


def test_profanity_matches_stems_at_word_start_only() -> None:
    judge = moderator()
    assert judge.judge("what the heck").profanity == ("heck",)
    assert not judge.judge("checked").flagged
    assert not judge.judge("Normal text").flagged


async def test_scenario_32_three_offences_in_one_second_get_three_warnings(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    world = team_world(clock)
    options = session_options(world, tmp_path, clock, receive_updates=True)
    audit = AuditLog(tmp_path / "audit.jsonl", "default")
    log: list[str] = []
    async with open_session(options) as gateway:
        chat = await gateway.resolve_chat(str(TEAM))
        watch = ModerationWatch(
            gateway, chat, moderator(), WatchOptions(warn=True, apply=True), audit, clock,
            log.append,
        )  # fmt: skip
        after_id = await watch.start()
        assert after_id == 3
        task = asyncio.create_task(watch.follow(after_id))
        await asyncio.sleep(0.05)
        now = clock.now()
        world.add_message(TEAM, 4, text="Normal text", sender=1002, date=now)
        for n, text in enumerate(OFFENSIVE, 5):
            world.add_message(TEAM, n, text=text, sender=1001, date=now)
        world.add_message(TEAM, 8, text="heck, said by me", out=True, sender=1000, date=now)
        world.add_message(TEAM, 9, text="", sender=1001, date=now)
        await settle(lambda: watch.counts.warned == 3)
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    warnings = [m for m in world.history(TEAM) if m.id > 9]
    assert sorted(m.reply_to for m in warnings) == [5, 6, 7]
    for warning in warnings:
        assert warning.text == "⚠️ Alice Smith, please keep it civil."
        assert all(text.lower() not in warning.text.lower() for text in OFFENSIVE)
    assert watch.counts.judged == 4 and watch.counts.flagged == 3  # own and empty ignored
    assert log.count("profanity from Alice Smith: [heck]") == 3
    gaps = [s for s in clock.sleeps if s > 0]
    assert len(gaps) == 2 and all(0 < g <= 1.0 for g in gaps)  # ≥ 1 s between actions
    lines = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(x["action"], x["message_id"], x["result"]) for x in lines] == [
        ("telegram.moderate.warn", n, "ok") for n in (5, 6, 7)
    ]
    assert all("heck" not in json.dumps(x) for x in lines)


async def test_without_apply_it_only_logs_what_it_would_do(tmp_path: Path) -> None:
    clock = FakeClock()
    world = team_world(clock)
    world.set_admin_rights(TEAM, {"delete_messages"})
    options = session_options(world, tmp_path, clock, receive_updates=True)
    log: list[str] = []
    async with open_session(options) as gateway:
        chat = await gateway.resolve_chat(str(TEAM))
        watch = ModerationWatch(
            gateway, chat, moderator(), WatchOptions(warn=True, delete=True),
            AuditLog(tmp_path / "audit.jsonl", "default"), clock, log.append,
        )  # fmt: skip
        task = asyncio.create_task(watch.follow(await watch.start()))
        await asyncio.sleep(0.05)
        world.reset_counts()
        spam = "Join now! bonus up to 6000 USDT t.me/example?start=ref123"
        world.add_message(TEAM, 4, text=spam, sender=1002, date=clock.now())
        await settle(lambda: "would delete #4" in log)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert any(line.startswith("spam (score ") and "from Bob" in line for line in log)
    assert "would warn Bob" in log
    assert world.mutating_requests() == {}
    assert not (tmp_path / "audit.jsonl").exists()


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path, fake_clock: FakeClock) -> Cli:
    (clean_environment / "config.yml").write_text(CONFIG, encoding="utf-8")
    return make_cli(team_world(fake_clock))


def test_delete_without_the_right_stops_at_startup(cli: Cli) -> None:
    result = cli("moderate", "watch", "team", "--delete", "--yes")
    assert result.code == 2
    assert 'missing the "delete messages" admin right in Team' in result.err
    assert cli.world.mutating_requests() == {}


def test_stats_counts_offenders_words_and_spam(cli: Cli) -> None:
    for n, (text, sender) in enumerate(
        [("heck heck", 1001), ("HECK", 1001), ("fine", 1002), ("oh heck", 1002)], 10
    ):
        cli.world.add_message(TEAM, n, text=text, sender=sender)
    cli.world.add_message(TEAM, 20, text="bonus up to 6000 USDT, only today!", sender=1002)
    result = cli("moderate", "stats", "team", "--spam", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["scanned"] == 8
    assert data["profanity"]["messages"] == 5  # #1 and #3 (own) count: history is history
    assert data["profanity"]["top_words"][0] == {"word": "heck", "count": 6}
    assert data["spam"]["messages"] == 1 and "crypto" in data["spam"]["categories"]
    human = cli("moderate", "stats", "team", "--limit", "3")
    assert human.code == 0, human.err
    assert "Messages with profanity: 1 (33.3%)" in human.out  # #20, #13, #12
    assert "Bob — 1 violations" in human.out and "Alice" not in human.out


def test_check_prints_matches_score_and_rules(cli: Cli) -> None:
    result = cli("moderate", "check", "bonus up to 6000 USDT at bit.ly/abc123", "--json")
    assert result.code == 0, result.err
    spam = result.json()["spam"]
    assert spam["score"] >= 30
    result = cli("moderate", "check", "what the heck")
    assert "profanity: heck" in result.out and "not spam" in result.out
