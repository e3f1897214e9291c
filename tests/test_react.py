"""``tgpilot react``: allowed reactions, existing ones, plans, single actions, the long-flood
stop (spec telegram-cli §4.1, scenarios 8 and 26)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli

TEAM = -1001234567890
OPEN = -1000000000077
CONFIG = "chats:\n  team: {id: 1234567890, type: supergroup}\n  open: {id: 77, type: supergroup}\n"


def team_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", username="alice_smith", dialog=True)
    bob = world.add_user(1002, "Bob", dialog=True)
    team = world.add_supergroup(1234567890, "Team", members=[alice, bob], reactions=["👍", "🔥"])
    for n in range(1, 11):
        world.add_message(
            team, n, text=f"message {n}", sender=alice if n % 2 else bob,
            date=datetime(2025, 1, 2, 3, n, tzinfo=UTC),
        )  # fmt: skip
    opened = world.add_supergroup(77, "Open", members=[alice])
    world.add_message(opened, 5, text="has my heart", sender=alice, reactions=[("❤", 2, True)])
    world.add_message(opened, 6, text="plain", sender=alice)
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path) -> Cli:
    (clean_environment / "config.yml").write_text(CONFIG, encoding="utf-8")
    return make_cli(team_world())


def audit(cli: Cli) -> list[dict[str, object]]:
    path = cli.home / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def mine(cli: Cli, chat: int, message_id: int) -> list[str]:
    reactions = cli.world.message(chat, message_id).reactions or []
    return [r.emoji or "" for r in reactions if r.mine]


def test_an_emoji_the_chat_does_not_allow_stops_before_any_reaction(cli: Cli) -> None:
    result = cli("react", "team", "1", "2", "--emoji", "😀", "--yes")
    assert result.code == 2
    assert "😀 is not allowed in Team; allowed: 👍 🔥" in result.err
    assert cli.world.mutating_requests() == {}
    assert cli.world.requests["GetMessagesRequest"] == 0


def test_a_heart_with_a_variation_selector_is_sent_in_the_servers_spelling(cli: Cli) -> None:
    result = cli("react", "open", "6", "--emoji", "❤️")
    assert result.code == 0, result.err
    assert mine(cli, OPEN, 6) == ["❤"]
    (line,) = audit(cli)
    assert (line["action"], line["result"], line["message_id"]) == ("telegram.react", "ok", 6)
    assert line["params"] == {"emoji": ["❤"], "big": False}


def test_an_existing_reaction_of_the_account_is_kept_unless_replace(cli: Cli) -> None:
    result = cli("react", "open", "5", "--emoji", "👍")
    assert result.code == 0, result.err
    assert "skipped (has ❤; use --replace)" in result.err
    assert mine(cli, OPEN, 5) == ["❤"]
    assert cli.world.mutating_requests() == {}

    result = cli("react", "open", "5", "--emoji", "👍", "--replace")
    assert result.code == 0, result.err
    assert mine(cli, OPEN, 5) == ["👍"]
    counts = {r.emoji: r.count for r in cli.world.message(OPEN, 5).reactions or []}
    assert counts == {"❤": 1, "👍": 1}

    result = cli("react", "open", "5", "--emoji", "👍", "--json")
    assert result.code == 0, result.err
    (item,) = result.json()["items"]
    assert (item["result"], item["result_reason"]) == ("skipped", "already reacted")


def test_add_keeps_the_old_reaction_beside_the_new_one(cli: Cli) -> None:
    result = cli("react", "open", "5", "--emoji", "🔥", "--add")
    assert result.code == 1 and "PREMIUM_ACCOUNT_REQUIRED" in result.err  # one reaction each
    cli.world.me.premium = True
    assert cli("react", "open", "5", "--emoji", "🔥", "--add").code == 0
    assert sorted(mine(cli, OPEN, 5)) == sorted(["❤", "🔥"])


def test_dry_run_and_plans_without_yes_send_no_reaction(cli: Cli) -> None:
    result = cli("react", "team", "3", "--dry-run")
    assert result.code == 0, result.err
    assert "react 👍 -> Team #3: message 3" in result.out
    result = cli("react", "team", "1,2", "https://t.me/c/1234567890/4/", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["applied"] is False
    assert [i["message_id"] for i in data["items"]] == [1, 2, 4]
    assert cli.world.mutating_requests() == {}
    assert audit(cli) == []


def test_refs_from_links_alone_name_the_chat(cli: Cli, tmp_path: Path) -> None:
    refs = tmp_path / "refs.txt"
    refs.write_text("https://t.me/c/1234567890/7\n8, 9\nnonsense\n", encoding="utf-8")
    result = cli("react", "https://t.me/c/1234567890/6", "--file", str(refs), "--yes", "--json")
    assert result.code == 0, result.err
    assert "not a message id or link: 'nonsense'" in result.err
    assert [i["message_id"] for i in result.json()["items"]] == [6, 7, 8, 9]
    assert all(mine(cli, TEAM, n) == ["👍"] for n in (6, 7, 8, 9))
    assert [line["result"] for line in audit(cli)] == ["ok"] * 4


def test_a_link_to_another_chat_is_a_usage_error(cli: Cli) -> None:
    result = cli("react", "open", "6", "https://t.me/c/1234567890/7", "--yes")
    assert result.code == 2
    assert "not Open" in result.err
    assert cli.world.mutating_requests() == {}


def test_unreadable_file_and_empty_set_are_usage_errors(cli: Cli, tmp_path: Path) -> None:
    result = cli("react", "team", "--file", str(tmp_path / "missing.txt"))
    assert result.code == 2 and "cannot read" in result.err
    result = cli("react", "team", "abc")
    assert result.code == 2 and "no message ids to react to" in result.err


def test_missing_messages_are_skipped_and_all_missing_is_a_usage_error(cli: Cli) -> None:
    result = cli("react", "team", "2", "999", "--yes", "--json")
    assert result.code == 0, result.err
    results = {i["message_id"]: i["result"] for i in result.json()["items"]}
    assert results == {2: "done", 999: "skipped"}
    result = cli("react", "team", "998", "999", "--yes")
    assert result.code == 2 and "no such message in Team" in result.err


def test_recent_from_a_sender_reads_at_most_scan(cli: Cli) -> None:
    result = cli("react", "team", "--recent", "2", "--from", "@alice_smith", "--yes", "--json")
    assert result.code == 0, result.err
    assert [i["message_id"] for i in result.json()["items"]] == [9, 7]
    assert mine(cli, TEAM, 9) == ["👍"] and mine(cli, TEAM, 8) == []


def test_a_read_plan_file_is_rechecked_before_applying(cli: Cli, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    result = cli("react", "team", "1", "2", "3", "--plan-out", str(plan))
    assert result.code == 0, result.err
    assert (plan.stat().st_mode & 0o777) == 0o600
    saved = json.loads(plan.read_text(encoding="utf-8"))
    assert saved["kind"] == "telegram.react" and len(saved["items"]) == 3
    cli.world.delete_message(TEAM, 2)
    assert cli("react", "team", "3").code == 0  # already reacted by the time of apply
    cli.world.reset_counts()
    result = cli("apply", str(plan), "--yes", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert [(i["message_id"], i["result"], i["result_reason"]) for i in data["items"]] == [
        (1, "done", None),
        (2, "skipped", "not found"),
        (3, "skipped", "already reacted"),
    ]
    assert (
        cli.world.requests["channels.GetMessagesRequest"] + cli.world.requests["GetMessagesRequest"]
        >= 1
    )
    assert cli.world.requests["SendReactionRequest"] == 1


def test_apply_refuses_another_accounts_plan_and_unknown_kinds(cli: Cli, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    assert cli("react", "team", "1", "2", "--plan-out", str(plan)).code == 0
    data = json.loads(plan.read_text(encoding="utf-8"))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**data, "account": "work"}), encoding="utf-8")
    result = cli("apply", str(other), "--yes")
    assert result.code == 2 and "account 'work'" in result.err
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({**data, "kind": "telegram.nope"}), encoding="utf-8")
    result = cli("apply", str(odd), "--yes")
    assert result.code == 2 and "unknown plan kind" in result.err
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert cli("apply", str(broken)).code == 2
    assert cli.world.mutating_requests() == {}


def test_scenario_8_a_long_flood_stops_the_run_and_a_rerun_resumes(cli: Cli) -> None:
    cli.world.faults.fail("SendReactionRequest", nth=3, error="FLOOD_WAIT_3600")
    result = cli("--max-flood-wait", "300", "react", "team", "1", "2", "3", "4", "5", "--yes")
    assert result.code == 3
    assert "Telegram asks for a 3600 s wait (over --max-flood-wait 300)" in result.err
    assert "stopped after 2 of 5 items; rerun to resume" in result.err
    assert "done 2, skipped 0, failed 0, not processed 3" in result.out
    assert [(line["message_id"], line["result"]) for line in audit(cli)] == [(1, "ok"), (2, "ok")]
    result = cli("react", "team", "1", "2", "3", "4", "5", "--yes")
    assert result.code == 0, result.err
    assert "done 3, skipped 2, failed 0" in result.out
    assert all(mine(cli, TEAM, n) == ["👍"] for n in range(1, 6))
