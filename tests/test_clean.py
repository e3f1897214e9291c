"""``tgpilot clean``: rules, windows, link patterns, the admin-right check, batched deletes,
plans applied only with --yes (spec telegram-cli §4.3, scenarios 28 and 29)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli

TEAM = -1001234567890
MEETINGS = r"https://([\w-]+\.)?meet\.example\.com/j/\d+"
CONFIG = (
    "chats:\n  team: {id: 1234567890, type: supergroup}\n"
    f"clean:\n  link_patterns:\n    meetings: '{MEETINGS}'\n"
)


def engagement_world(now: datetime) -> FakeTelegram:
    """Scenario 28: m1 replied, m2 reacted, m3 nothing (all 2 h old, mine), m4 mine 10 min
    old, m5 someone else's; m6 is Alice's reply to m1."""
    world = FakeTelegram()
    me = world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", dialog=True)
    team = world.add_supergroup(1234567890, "Team", members=[alice])
    two_hours = now - timedelta(hours=2)
    world.add_message(team, 1, text="m1", sender=me, out=True, date=two_hours)
    world.add_message(
        team, 2, text="m2", sender=me, out=True, date=two_hours, reactions=[("👍", 1)]
    )
    world.add_message(team, 3, text="m3", sender=me, out=True, date=two_hours)
    world.add_message(team, 4, text="m4", sender=me, out=True, date=now - timedelta(minutes=10))
    world.add_message(team, 5, text="m5", sender=alice, date=now - timedelta(hours=3))
    world.add_message(
        team, 6, text="re m1", sender=alice, reply_to=1, date=now - timedelta(hours=1)
    )
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path, fake_clock: FakeClock) -> Cli:
    (clean_environment / "config.yml").write_text(CONFIG, encoding="utf-8")
    return make_cli(engagement_world(fake_clock.now()))


def audit(cli: Cli) -> list[dict[str, object]]:
    path = cli.home / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def planned(cli: Cli, *args: str) -> list[int]:
    result = cli("clean", *args, "--json")
    assert result.code == 0, result.err
    return sorted(item["message_id"] for item in result.json()["items"])


def alive(cli: Cli) -> list[int]:
    return sorted(m.id for m in cli.world.history(TEAM))


def test_scenario_28_unengaged_unanswered_and_the_age_window(cli: Cli) -> None:
    assert planned(cli, "unengaged", "team") == [3]
    assert planned(cli, "unengaged", "team", "--older-than", "5m") == [3, 4]
    assert planned(cli, "unanswered", "team") == [2, 3]
    assert planned(cli, "mine", "team") == [1, 2, 3, 4]
    assert cli.world.mutating_requests() == {}
    assert alive(cli) == [1, 2, 3, 4, 5, 6]
    assert audit(cli) == []


def test_scenario_28_with_yes_deletes_and_audits_each_message(cli: Cli) -> None:
    result = cli("clean", "unengaged", "team", "--older-than", "5m", "--yes")
    assert result.code == 0, result.err
    assert "done 2, skipped 0, failed 0" in result.out
    assert alive(cli) == [1, 2, 5, 6]
    assert cli.world.requests_qualified["channels.DeleteMessagesRequest"] == 1
    lines = audit(cli)
    assert sorted(line["message_id"] for line in lines) == [3, 4]  # type: ignore[type-var]
    assert {(line["action"], line["result"]) for line in lines} == {("telegram.delete", "ok")}
    assert all("m3" not in json.dumps(line) for line in lines)


def test_scenario_29_links_match_only_the_configured_pattern(cli: Cli) -> None:
    cli.world.add_message(TEAM, 10, text="join https://team.meet.example.com/j/123 now", out=True)
    cli.world.add_message(TEAM, 11, text="see https://example.com/meet", out=True)
    cli.world.add_message(TEAM, 12, text="https://meet.example.com/j/9", sender=1001)
    assert planned(cli, "links", "team") == [10]
    assert planned(cli, "links", "team", "--pattern", "meetings") == [10]
    assert planned(cli, "links", "team", "--pattern-regex", r"example\.com/meet") == [11]


def test_links_match_the_hidden_targets_of_text_links(cli: Cli, tmp_path: Path) -> None:
    # "join here" shows no URL: the meeting link is the target of the word "here"
    cli.world.add_message(
        TEAM, 10, text="join here", out=True,
        entities=[("text_url", 5, 4, "https://team.meet.example.com/j/123")],
    )  # fmt: skip
    cli.world.add_message(
        TEAM, 11, text="the agenda", out=True,
        entities=[("text_url", 4, 6, "https://docs.example.com/agenda")],
    )  # fmt: skip
    assert planned(cli, "links", "team") == [10]
    plan = tmp_path / "links.json"
    assert cli("clean", "links", "team", "--plan-out", str(plan)).code == 0
    result = cli("apply", str(plan), "--yes", "--json")
    assert result.code == 0, result.err
    assert [(i["message_id"], i["result"]) for i in result.json()["items"]] == [(10, "done")]
    assert 10 not in alive(cli) and 11 in alive(cli)


def test_scenario_29_no_pattern_and_scope_all_without_the_right_are_usage_errors(
    cli: Cli, clean_environment: Path
) -> None:
    result = cli("clean", "links", "team", "--scope", "all")
    assert result.code == 2
    assert 'missing the "delete messages" admin right in Team' in result.err
    assert cli.world.requests["GetHistoryRequest"] == 0
    assert cli.world.mutating_requests() == {}
    (clean_environment / "config.yml").write_text(
        "chats:\n  team: {id: 1234567890, type: supergroup}\n", encoding="utf-8"
    )
    result = cli("clean", "links", "team")
    assert result.code == 2
    assert "clean links needs --pattern or clean.link_patterns" in result.err
    assert cli("clean", "links", "team", "--pattern", "nope").code == 2
    assert cli("clean", "links", "team", "--pattern-regex", "(").code == 2


def test_scope_all_with_the_right_deletes_others_links(
    make_cli: Callable[..., Cli], clean_environment: Path, fake_clock: FakeClock
) -> None:
    (clean_environment / "config.yml").write_text(CONFIG, encoding="utf-8")
    world = engagement_world(fake_clock.now())
    world.peer(TEAM).admin_rights = frozenset({"delete_messages"})  # type: ignore[union-attr]
    world.add_message(TEAM, 12, text="https://meet.example.com/j/9", sender=1001)
    cli = make_cli(world)
    result = cli("clean", "links", "team", "--scope", "all", "--yes")
    assert result.code == 0, result.err
    assert 12 not in alive(cli)


def test_usage_errors(cli: Cli) -> None:
    assert cli("clean", "mine").code == 2  # no chat
    assert cli("clean", "mine", "team", "--scope", "all").code == 2
    assert cli("clean", "unanswered", "team", "--older-than", "soon").code == 2
    assert cli("clean", "unused", "team").code == 2
    assert cli.world.mutating_requests() == {}


def test_a_saved_plan_is_rechecked_replied_messages_are_kept(cli: Cli, tmp_path: Path) -> None:
    plan = tmp_path / "clean.json"
    result = cli("clean", "unanswered", "team", "--plan-out", str(plan))
    assert result.code == 0, result.err
    cli.world.add_message(TEAM, 7, text="re m2", sender=1001, reply_to=2)
    cli.world.message(TEAM, 2).replies = 1  # the server counts the reply
    result = cli("apply", str(plan))
    assert result.code == 0 and cli.world.mutating_requests() == {}
    result = cli("apply", str(plan), "--yes", "--json")
    assert result.code == 0, result.err
    outcome = {i["message_id"]: (i["result"], i["result_reason"]) for i in result.json()["items"]}
    assert outcome == {2: ("skipped", "replied since the plan"), 3: ("done", None)}
    assert 3 not in alive(cli) and 2 in alive(cli)


def test_a_failing_chat_never_stops_the_rest(
    make_cli: Callable[..., Cli], clean_environment: Path, fake_clock: FakeClock
) -> None:
    (clean_environment / "config.yml").write_text(
        CONFIG.replace("chats:\n", "chats:\n  other: {id: 99, type: supergroup}\n"),
        encoding="utf-8",
    )
    world = engagement_world(fake_clock.now())
    other = world.add_supergroup(99, "Other")
    world.add_message(other, 1, text="old", out=True, date=fake_clock.now() - timedelta(days=1))
    world.faults.fail("GetHistoryRequest", nth=1, error="CHANNEL_PRIVATE")
    cli = make_cli(world)
    result = cli("clean", "mine", "other", "team", "--yes")
    assert result.code == 3, result.err
    assert "CHANNEL_PRIVATE" in result.err
    assert alive(cli) == [5, 6]


def test_ten_thousand_candidates_cost_a_hundred_reads_and_ten_deletes(
    make_cli: Callable[..., Cli], clean_environment: Path, fake_clock: FakeClock
) -> None:
    (clean_environment / "config.yml").write_text(CONFIG, encoding="utf-8")
    world = FakeTelegram()
    me = world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice")
    team = world.add_supergroup(1234567890, "Team", members=[alice])
    start = fake_clock.now() - timedelta(days=30)
    for n in range(1, 10_001):
        sender = me if n % 10 == 0 else alice
        world.add_message(team, n, text=f"m{n}", sender=sender, date=start + timedelta(seconds=n))
    cli = make_cli(world)
    result = cli("clean", "mine", "team", "--json", "--plan-out", str(clean_environment / "p.json"))
    assert result.code == 0, result.err
    assert len(result.json()["items"]) == 1000
    assert cli.world.requests["GetHistoryRequest"] == 100
    cli.world.reset_counts()
    result = cli("apply", str(clean_environment / "p.json"), "--yes", "--delay", "0")
    assert result.code == 0, result.err
    assert cli.world.requests_qualified["channels.DeleteMessagesRequest"] == 10
    assert (
        cli.world.requests_qualified["channels.GetMessagesRequest"] == 10
    )  # the re-check, 100 per read
