"""``tgpilot linear sync FILE`` against the fake Linear (spec linear-and-bots.md §1.5,
acceptance scenarios 18 and 19)."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes.clock import FakeClock
from tests.fakes.linear import FakeLinear, Fault
from tests.fakes.linear.fixtures import API_KEY
from tgpilot.cli.app import run

MUTATIONS = ("IssueCreate", "IssueUpdate", "IssueLabelCreate")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> Any:
    def call(*args: str) -> Result:
        capsys.readouterr()
        code = run(list(args), clock=fake_clock)
        captured = capsys.readouterr()
        assert API_KEY not in captured.out + captured.err
        return Result(code, captured.out, captured.err)

    return call


@pytest.fixture
def fake(linear_env: FakeLinear) -> FakeLinear:
    ws = linear_env.workspace
    eng = ws.team("ENG")
    ws.add_label("backlog", eng)
    ws.add_label("website", eng)
    ws.add_project("Website", eng)
    return linear_env


def backlog(tmp_path: Path, items: list[dict[str, Any]], **extra: Any) -> Path:
    document = {
        "team": "ENG",
        "source": "roadmap",
        "defaults": {"priority": "normal", "labels": ["backlog"]},
        "items": items,
        **extra,
    }
    path = tmp_path / "backlog.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


THREE = [
    {
        "key": "web-login",
        "title": "Add passwordless login",
        "category": "website",
        "priority": "high",
    },
    {"key": "docs", "title": "Write the setup guide", "category": "docs"},
    {"key": "perf", "title": "Profile the export", "category": "core", "labels": ["website"]},
]


def mutations(fake: FakeLinear) -> list[str]:
    return [op for op in fake.operations() if op in MUTATIONS]


def test_scenario_18_plan_then_apply_then_unchanged_rerun(
    fake: FakeLinear, cli: Any, tmp_path: Path
) -> None:
    path = backlog(tmp_path, THREE)

    planned = cli("linear", "sync", str(path), "--json")
    assert planned.code == 0, planned.err
    document = planned.json()
    assert [a["action"] for a in document["actions"]] == ["create"] * 3
    assert document["applied"] is False
    assert mutations(fake) == []
    assert fake.workspace.issues_of("ENG") == []

    applied = cli("linear", "sync", str(path), "--yes")
    assert applied.code == 0, applied.err
    issues = fake.workspace.issues_of("ENG")
    assert sorted(i.title for i in issues) == sorted(item["title"] for item in THREE)
    login = next(i for i in issues if i.title == "Add passwordless login")
    assert login.priority == 2
    assert "[tgpilot-key:roadmap/web-login]" in (login.description or "")
    assert "Category: website" in (login.description or "")
    assert {label.name for label in login.labels} == {"backlog"}
    perf = next(i for i in issues if i.title == "Profile the export")
    assert {label.name for label in perf.labels} == {"backlog", "website"}
    docs = next(i for i in issues if i.title == "Write the setup guide")
    assert docs.priority == 3  # the file's default

    before = len(mutations(fake))
    rerun = cli("linear", "sync", str(path), "--yes", "--json")
    assert rerun.code == 0, rerun.err
    assert [a["action"] for a in rerun.json()["actions"]] == ["unchanged"] * 3
    assert len(mutations(fake)) == before
    assert len(fake.workspace.issues_of("ENG")) == 3


def test_scenario_19_wiped_store_adopts_by_marker_updates_and_closes(
    fake: FakeLinear, cli: Any, tmp_path: Path
) -> None:
    path = backlog(tmp_path, THREE)
    assert cli("linear", "sync", str(path), "--yes").code == 0
    home = Path(os.environ["TGPILOT_HOME"])
    for database in home.glob("*.db*"):
        database.unlink()

    changed = [dict(THREE[0], priority="urgent"), dict(THREE[1], status="done"), THREE[2]]
    path = backlog(tmp_path, changed)
    before = len(mutations(fake))
    result = cli("linear", "sync", str(path), "--yes", "--json")
    assert result.code == 0, result.err
    actions = {a["key"]: a for a in result.json()["actions"]}
    assert actions["web-login"]["action"] == "update"
    assert actions["web-login"]["input"] == {"priority": 1}
    assert actions["docs"]["action"] == "close"
    assert actions["perf"]["action"] == "unchanged"
    assert len(mutations(fake)) == before + 2
    issues = {i.title: i for i in fake.workspace.issues_of("ENG")}
    assert len(issues) == 3
    assert issues["Add passwordless login"].priority == 1
    assert issues["Write the setup guide"].state.type == "completed"

    # adopted links are stored: the next run needs no marker to find them, and is idle
    again = cli("linear", "sync", str(path), "--yes", "--json")
    assert [a["action"] for a in again.json()["actions"]] == ["unchanged"] * 3
    assert len(mutations(fake)) == before + 2


def test_dropped_closes_as_canceled_and_done_without_issue_is_skipped(
    fake: FakeLinear, cli: Any, tmp_path: Path
) -> None:
    path = backlog(tmp_path, [THREE[0]])
    assert cli("linear", "sync", str(path), "--yes").code == 0
    items = [
        dict(THREE[0], status="dropped"),
        {"key": "old-landing", "title": "Retire the old landing page", "status": "done"},
    ]
    result = cli("linear", "sync", str(backlog(tmp_path, items)), "--yes", "--json")
    assert result.code == 0, result.err
    actions = {a["key"]: a["action"] for a in result.json()["actions"]}
    assert actions == {"web-login": "close", "old-landing": "skip"}
    (issue,) = fake.workspace.issues_of("ENG")
    assert issue.state.type == "canceled"


def test_create_only_skips_updates_and_only_filters_by_category(
    fake: FakeLinear, cli: Any, tmp_path: Path
) -> None:
    assert cli("linear", "sync", str(backlog(tmp_path, THREE)), "--yes").code == 0
    changed = [dict(THREE[0], title="Passwordless login (v2)"), *THREE[1:]]
    path = backlog(tmp_path, changed)
    before = len(mutations(fake))
    result = cli("linear", "sync", str(path), "--yes", "--create-only", "--json")
    assert result.code == 0
    assert {a["key"]: a["action"] for a in result.json()["actions"]}["web-login"] == "skip"
    assert len(mutations(fake)) == before

    only = cli("linear", "sync", str(path), "--only", "website", "--json")
    assert [a["key"] for a in only.json()["actions"]] == ["web-login"]
    assert only.json()["actions"][0]["changes"]["title"]["to"] == "Passwordless login (v2)"

    unknown = cli("linear", "sync", str(path), "--only", "nope")
    assert unknown.code == 2
    assert "core, docs, website" in unknown.err


def test_invalid_file_exits_2_naming_item_and_field_before_any_request(
    fake: FakeLinear, cli: Any, tmp_path: Path
) -> None:
    items = [
        {"key": "a", "title": "One", "priority": "sky-high"},
        {"key": "a", "title": "Two"},
        {"key": "c", "title": "   "},
    ]
    result = cli("linear", "sync", str(backlog(tmp_path, items)))
    assert result.code == 2
    assert "items[0] (a).priority" in result.err
    assert fake.operations() == []

    duplicate = cli("linear", "sync", str(backlog(tmp_path, items[1:2] * 2)))
    assert duplicate.code == 2
    assert "duplicate" in duplicate.err


def test_unknown_label_fails_the_plan_naming_the_item(
    fake: FakeLinear, cli: Any, tmp_path: Path
) -> None:
    items = [{"key": "x", "title": "Label typo", "labels": ["webiste"]}]
    result = cli("linear", "sync", str(backlog(tmp_path, items)), "--yes")
    assert result.code == 2
    assert "item 'x' labels" in result.err and "did you mean: website" in result.err
    assert mutations(fake) == []


def test_plan_out_is_private_json_and_failures_exit_3(
    fake: FakeLinear, cli: Any, tmp_path: Path
) -> None:
    path = backlog(tmp_path, THREE)
    plan_file = tmp_path / "plan.json"
    assert cli("linear", "sync", str(path), "--plan-out", str(plan_file)).code == 0
    saved = json.loads(plan_file.read_text(encoding="utf-8"))
    assert saved["kind"] == "linear.sync" and saved["counts"]["create"] == 3
    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600

    fake.fail(Fault.http(400, "bad input"), times=1, operation="IssueCreate")
    result = cli("linear", "sync", str(path), "--yes")
    assert result.code == 3
    assert "failed 1" in result.err
    assert len(fake.workspace.issues_of("ENG")) == 2
    # the failed item is created by the next run, the others are unchanged
    again = cli("linear", "sync", str(path), "--yes", "--json")
    assert sorted(a["action"] for a in again.json()["actions"]) == [
        "create",
        "unchanged",
        "unchanged",
    ]
    assert len(fake.workspace.issues_of("ENG")) == 3


def test_a_saved_plan_is_applied_by_tgpilot_apply_and_rechecked(
    fake: FakeLinear, cli: Any, tmp_path: Path
) -> None:
    path = backlog(tmp_path, THREE)
    plan_file = tmp_path / "plan.json"
    assert cli("linear", "sync", str(path), "--plan-out", str(plan_file)).code == 0

    shown = cli("apply", str(plan_file))
    assert shown.code == 0 and "create web-login" in shown.out
    assert mutations(fake) == []

    applied = cli("apply", str(plan_file), "--yes", "--json")
    assert applied.code == 0, applied.err
    assert sorted(applied.json()["done"]) == ["docs", "perf", "web-login"]
    assert len(fake.workspace.issues_of("ENG")) == 3

    again = cli("apply", str(plan_file), "--yes", "--json")
    assert again.code == 0
    assert again.json()["done"] == []
    assert {s["reason"] for s in again.json()["skipped"]} == {"already created"}
    assert len(fake.workspace.issues_of("ENG")) == 3


def test_a_saved_update_is_skipped_when_the_issue_changed_since(
    fake: FakeLinear, cli: Any, tmp_path: Path
) -> None:
    assert cli("linear", "sync", str(backlog(tmp_path, THREE)), "--yes").code == 0
    changed = [dict(THREE[0], priority="urgent"), dict(THREE[1], title="Setup guide v2"), THREE[2]]
    plan_file = tmp_path / "plan.json"
    path = backlog(tmp_path, changed)
    assert cli("linear", "sync", str(path), "--plan-out", str(plan_file)).code == 0
    docs = next(i for i in fake.workspace.issues_of("ENG") if i.title == "Write the setup guide")
    docs.priority = 4  # someone edits the issue after the plan was made
    docs.updated_at = fake.workspace.stamp()

    result = cli("apply", str(plan_file), "--yes", "--json")
    assert result.code == 0, result.err
    assert result.json()["done"] == ["web-login"]
    [skipped] = result.json()["skipped"]
    assert skipped["item"] == "docs" and "changed in Linear" in skipped["reason"]
    assert docs.title == "Write the setup guide" and docs.priority == 4


def test_a_saved_plan_of_another_account_is_refused(
    fake: FakeLinear, cli: Any, tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.json"
    assert (
        cli("linear", "sync", str(backlog(tmp_path, THREE)), "--plan-out", str(plan_file)).code == 0
    )
    result = cli("--account", "work", "apply", str(plan_file), "--yes")
    assert result.code == 2
    assert "planned for account 'default'" in result.err
    assert mutations(fake) == []
