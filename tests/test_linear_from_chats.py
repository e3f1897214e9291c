"""``tgpilot linear from-chats``: tasks found in chats (the fake Telegram) become issues
in the fake Linear, without duplicates (spec linear-and-bots.md §1.6, scenario 20)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.analyze_fixtures import FROZEN_NOW
from tests.fakes.clock import FakeClock
from tests.fakes.linear import FakeLinear
from tests.fakes.linear.fixtures import API_KEY
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli, CliResult
from tgpilot.services.linear.fingerprint import fingerprint
from tgpilot.services.linear.from_chats import title_of

SHARED = "@mehandle сделай, пожалуйста, бэкап базы данных до вечера"
UNIQUE = "@mehandle проверь логи сервера после вчерашнего релиза"
TEAM = "-1001700000601"
OPS = "-1001700000602"
LATER = "@mehandle сделай пожалуйста бэкап базы данных до вечера!!"
SIMILAR = "@mehandle сделай, пожалуйста, бэкап базы данных до вечера среды"


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(FROZEN_NOW)


def world() -> FakeTelegram:
    telegram = FakeTelegram(now=FROZEN_NOW)
    me = telegram.add_me(1000, "Ivan", "Orlov", username="mehandle")
    anna = telegram.add_user(201, "Anna")
    boris = telegram.add_user(202, "Boris")
    team = telegram.add_supergroup(1_700_000_601, "Team", members=[me, anna, boris])
    ops = telegram.add_supergroup(1_700_000_602, "Ops", members=[me, anna, boris])
    when = FROZEN_NOW - timedelta(hours=20)
    telegram.add_message(team, 1, text=SHARED, date=when, sender=anna)
    telegram.add_message(team, 2, text=UNIQUE, date=when + timedelta(minutes=1), sender=boris)
    telegram.add_message(ops, 1, text=SHARED, date=when + timedelta(minutes=2), sender=boris)
    telegram.add_message(ops, 2, text="Ок", date=when + timedelta(minutes=3), sender=anna)
    return telegram


@pytest.fixture
def cli(make_cli: Callable[..., Cli], linear_env: FakeLinear) -> Cli:
    return make_cli(world())


def from_chats(cli: Cli, *args: str) -> CliResult:
    result = cli(
        "linear", "from-chats", "--provider", "local", "--embeddings", "hash", "--json", *args
    )
    assert API_KEY not in result.out + result.err
    return result


def actions(result: CliResult) -> list[tuple[str, str, int]]:
    document = json.loads(result.out)
    return [(c["action"], c["chat"], c["message_id"]) for c in document["candidates"]]


def test_fingerprint_ignores_case_links_mentions_punctuation_and_spacing() -> None:
    assert fingerprint(SHARED) == fingerprint(LATER)
    assert fingerprint("Fix  the LOGIN page, see https://x.io/a @bob") == fingerprint(
        "fix the login page see"
    )
    assert fingerprint(SHARED) != fingerprint(SIMILAR)


def test_title_is_the_first_sentence_cut_to_80_characters() -> None:
    from tgpilot.services.ai.tasks.local import Signal

    long = "Перенести " + "очень " * 30 + "длинную задачу. Вторая фраза."
    signal = Signal(1, "Team", 1, FROZEN_NOW, "Anna", long)
    title = title_of(signal)
    assert len(title) <= 80 and title.endswith("…") and "Вторая" not in title
    short = Signal(1, "Team", 2, FROZEN_NOW, "Anna", "Почини сервер. Срочно!")
    assert title_of(short) == "Почини сервер."
    worded = Signal(1, "Team", 3, FROZEN_NOW, "Anna", "длинный текст", task="Fix the server")
    assert title_of(worded) == "Fix the server"


def test_scenario_20_one_create_per_text_and_a_rerun_creates_nothing(
    cli: Cli,
    linear_env: FakeLinear,
) -> None:
    planned = from_chats(cli, "--chat", TEAM, "--chat", OPS)
    assert planned.code == 0, planned.err
    assert sorted(actions(planned)) == [
        ("create", "Team", 1),
        ("create", "Team", 2),
        ("duplicate", "Ops", 1),
    ]
    assert linear_env.requests_of("IssueCreate") == []

    applied = from_chats(cli, "--chat", TEAM, "--chat", OPS, "--yes")
    assert applied.code == 0, applied.err
    created = json.loads(applied.out)["created"]
    assert len(created) == 2
    issues = linear_env.workspace.issues_of("ENG")
    assert len(issues) == 2
    backup = next(i for i in issues if "бэкап" in i.title)
    assert backup.description is not None
    assert "> " + SHARED in backup.description
    assert "Chat: Team" in backup.description and "From: Anna" in backup.description
    assert "https://t.me/c/1700000601/1" in backup.description

    rerun = from_chats(cli, "--chat", TEAM, "--chat", OPS, "--yes")
    assert rerun.code == 0, rerun.err
    assert sorted(actions(rerun)) == [
        ("skip", "Ops", 1),
        ("skip", "Team", 1),
        ("skip", "Team", 2),
    ]
    assert len(linear_env.workspace.issues_of("ENG")) == 2
    assert len(linear_env.requests_of("IssueCreate")) == 2


def test_same_text_later_is_a_duplicate_and_a_close_text_is_left_out(
    cli: Cli,
    linear_env: FakeLinear,
) -> None:
    assert from_chats(cli, "--chat", TEAM, "--yes").code == 0
    team = cli.world.peer(-1_001_700_000_601)
    anna = cli.world.peer(201)
    when = FROZEN_NOW - timedelta(hours=2)
    cli.world.add_message(team, 3, text=LATER, date=when, sender=anna)
    cli.world.add_message(team, 4, text=SIMILAR, date=when + timedelta(minutes=1), sender=anna)

    planned = from_chats(cli, "--chat", TEAM)
    verdicts = {mid: action for action, _, mid in actions(planned)}
    assert verdicts == {1: "skip", 2: "skip", 3: "duplicate", 4: "similar"}
    similar = next(c for c in json.loads(planned.out)["candidates"] if c["message_id"] == 4)
    assert similar["similarity"] >= 0.9

    applied = from_chats(cli, "--chat", TEAM, "--yes")
    assert applied.code == 0
    assert json.loads(applied.out)["created"] == []
    assert len(linear_env.workspace.issues_of("ENG")) == 2

    included = from_chats(cli, "--chat", TEAM, "--include-similar", "--yes")
    assert [c["message_id"] for c in json.loads(included.out)["created"]] == [4]
    assert len(linear_env.workspace.issues_of("ENG")) == 3


def test_a_retried_create_reuses_its_id_and_makes_one_issue(
    cli: Cli,
    linear_env: FakeLinear,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.fakes.linear import Fault

    monkeypatch.setenv("TGPILOT_LINEAR__TIMEOUT_S", "0.3")
    linear_env.fail(Fault.late(1.0), times=1, operation="IssueCreate")
    result = from_chats(cli, "--chat", TEAM, "--yes")
    assert result.code == 0, result.err
    assert len(linear_env.workspace.issues_of("ENG")) == 2
    ids = [r.variables["input"]["id"] for r in linear_env.requests_of("IssueCreate")]
    assert len(ids) == 3 and ids[0] == ids[1]


def test_a_saved_plan_is_applied_once_by_tgpilot_apply(
    cli: Cli,
    linear_env: FakeLinear,
    tmp_path: Path,
) -> None:
    plan_file = tmp_path / "tasks-plan.json"
    assert from_chats(cli, "--chat", TEAM, "--chat", OPS, "--plan-out", str(plan_file)).code == 0
    applied = cli("apply", str(plan_file), "--yes", "--json")
    assert applied.code == 0, applied.err
    assert len(json.loads(applied.out)["done"]) == 2
    assert len(linear_env.workspace.issues_of("ENG")) == 2
    again = cli("apply", str(plan_file), "--yes", "--json")
    assert json.loads(again.out)["done"] == []
    # the command itself now sees every message as linked (the duplicate too)
    rerun = from_chats(cli, "--chat", TEAM, "--chat", OPS)
    assert {action for action, _, _ in actions(rerun)} == {"skip"}


def test_a_linear_command_is_fingerprinted_by_the_text_it_files() -> None:
    """The listener stores this fingerprint with its link, so from-chats' same-text check
    finds an issue made by ``!linear`` (on a reply, the replied-to text; else the
    command's own)."""
    from tgpilot.services.linear.commands import SourceMessage, draft_issue, parse_command

    replied = SourceMessage(SHARED, "Anna", FROZEN_NOW)
    command = parse_command("!linear Backup")
    assert command is not None
    on_reply = draft_issue(command, replied)
    assert on_reply is not None and fingerprint(on_reply.task_text) == fingerprint(SHARED)
    alone = parse_command("!linear Fix login | users see 500")
    assert alone is not None
    issue = draft_issue(alone, None)
    assert issue is not None and issue.task_text == "Fix login\nusers see 500"
