"""``tgpilot linear mirror`` against the fake Linear on SQLite, MariaDB and PostgreSQL
(spec linear-and-bots.md §1.7; scenario 21): whole small collections, incremental
projects and issues, associations read to the end, a rerun that writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.fakes.linear import FakeLinear
from tests.fakes.linear.fixtures import API_KEY
from tests.fakes.linear.workspace import FakeIssue
from tests.harness import Cli
from tests.run_support import make_world
from tgpilot.cli import linear_cmd, linear_mirror_cmd
from tgpilot.services.linear.mirror import parse_time
from tgpilot.store import Store


@pytest.fixture(autouse=True)
def mirror_command() -> Iterator[None]:
    """``linear mirror`` on the ``linear`` group (as ``cli/app.py`` registers it)."""
    if not any(c.name == "mirror" for c in linear_cmd.app.registered_commands):
        linear_cmd.app.command("mirror")(linear_mirror_cmd.mirror)
    yield


@pytest.fixture
def fake(linear_env: FakeLinear) -> FakeLinear:
    """The fake Linear (team ENG), with the CLI's environment pointing at it."""
    return linear_env


@pytest.fixture
def cli(make_cli: Callable[..., Cli], fake: FakeLinear) -> Cli:
    return make_cli(make_world(), logged_in=False)


def seed(server: FakeLinear) -> dict[str, Any]:
    """ENG and OPS, a project on both, labels, users, and a 3-label issue estimated 1.5."""
    ws = server.workspace
    eng = ws.team("ENG")
    ops = ws.add_team("OPS", "Operations")
    ann = ws.add_user("Ann Lee", "ann", "ann@example.com", teams=(eng,))
    ws.add_user("Old Timer", "old", "old@example.com", active=False)
    labels = [ws.add_label(name) for name in ("bug", "backend")] + [ws.add_label("api", eng)]
    web = ws.add_project("Website", eng, ops)
    web.start_date, web.progress = "2026-01-05", 0.25
    big = ws.add_issue(
        eng, "Login fails", estimate=1.5, labels=labels, project=web, assignee=ann,
        due_date="2026-02-01", priority=2,
    )  # fmt: skip
    ws.add_issue(eng, "Plain one")
    ws.add_issue(ops, "Rotate keys", state=ws.team_states(ops)[3])
    return {"issue": big, "project": web, "labels": labels}


def rows(store_url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows ``sql`` reads from the store at ``store_url``."""

    async def read() -> list[tuple[Any, ...]]:
        async with await Store.open(store_url) as store, store.engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]

    return asyncio.run(read())


def mirror(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("linear", "mirror", "--json", *args)
    assert result.code == 0, result.err
    data: dict[str, Any] = result.json()
    return data


def test_scenario_21_mirror_rerun_and_one_edit(
    cli: Cli, fake: FakeLinear, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TGPILOT_STORE__URL", store_url)
    seeded = seed(fake)
    issue: FakeIssue = seeded["issue"]

    first = mirror(cli)
    counts = {name: e["inserted"] for name, e in first["entities"].items()}
    assert counts == {
        "teams": 2, "users": 3, "labels": 3, "states": 10, "projects": 1,
        "project_teams": 2, "issues": 3, "issue_labels": 3,
    }  # fmt: skip
    assert first["entities"]["projects"]["fetched"] == 1  # one project of two teams
    assert first["issues_by_state_type"] == {"backlog": 2, "completed": 1}
    assert first["rows_written"] == sum(counts.values())

    project_teams = rows(store_url, "SELECT project_id, team_id FROM linear_project_teams")
    assert len(project_teams) == 2
    issue_labels = rows(
        store_url, f"SELECT label_id FROM linear_issue_labels WHERE issue_id = '{issue.id}'"
    )
    assert sorted(r[0] for r in issue_labels) == sorted(x.id for x in seeded["labels"])
    [(estimate, priority, due, created, identifier)] = rows(
        store_url,
        "SELECT estimate, priority, due_date, created_at, identifier FROM linear_issues "
        f"WHERE id = '{issue.id}'",
    )
    assert (estimate, priority, str(due), identifier) == (1.5, 2, "2026-02-01", issue.identifier)
    stored_created = created if isinstance(created, datetime) else datetime.fromisoformat(created)
    assert stored_created.replace(tzinfo=UTC) == parse_time(issue.created_at)
    [flat] = rows(
        store_url,
        f"SELECT team_key, state_type, project_name, assignee_name, labels "
        f"FROM linear_issues_flat WHERE id = '{issue.id}'",
    )
    assert flat == ("ENG", "backlog", "Website", "Ann Lee", "api, backend, bug")

    fake.requests.clear()
    again = mirror(cli)
    assert again["rows_written"] == 0
    assert all(e["written"] == 0 for e in again["entities"].values())
    [issue_request, *_] = [r for r in fake.requests if r.operation == "MirrorIssues"]
    assert "updatedAt" in issue_request.variables["filter"]  # incremental

    issue.title, issue.updated_at = "Login fails on Safari", fake.workspace.stamp()
    edited = mirror(cli)
    assert edited["rows_written"] == 1
    assert edited["entities"]["issues"]["updated"] == 1
    assert rows(store_url, f"SELECT title FROM linear_issues WHERE id = '{issue.id}'") == [
        ("Login fails on Safari",)
    ]


def test_full_ignores_watermarks_and_a_team_filter_limits_projects_and_issues(
    cli: Cli, fake: FakeLinear, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_url = f"sqlite:///{tmp_path / 'mirror.db'}"
    monkeypatch.setenv("TGPILOT_STORE__URL", store_url)
    seed(fake)
    ops_only = mirror(cli, "--team", "ops")
    assert ops_only["teams"] == ["OPS"]
    assert ops_only["entities"]["issues"]["inserted"] == 1
    assert ops_only["issues_by_state_type"] == {"completed": 1}

    fake.requests.clear()
    full = mirror(cli, "--full", "--team", "OPS")
    assert full["rows_written"] == 0
    [issue_request] = [r for r in fake.requests if r.operation == "MirrorIssues"]
    assert "updatedAt" not in issue_request.variables["filter"]

    unknown = cli("linear", "mirror", "--team", "OPZ")
    assert unknown.code == 2 and "OPS" in unknown.err


def test_archived_issues_come_along_and_long_label_lists_are_read_to_the_end(
    cli: Cli, fake: FakeLinear, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_url = f"sqlite:///{tmp_path / 'mirror.db'}"
    monkeypatch.setenv("TGPILOT_STORE__URL", store_url)
    ws = fake.workspace
    eng = ws.team("ENG")
    labels = [ws.add_label(f"label-{n:02d}") for n in range(30)]
    teams = [eng, *(ws.add_team(f"T{n:02d}", f"Team {n}") for n in range(19))]
    ws.add_project("Everything", *teams)
    ws.add_issue(eng, "Many labels", labels=labels)
    old = ws.add_issue(eng, "Archived")
    old.archived_at = ws.stamp()

    report = mirror(cli, "--team", "ENG")
    assert report["entities"]["issue_labels"]["inserted"] == 30
    assert report["entities"]["project_teams"]["inserted"] == 20
    assert fake.operations().count("MirrorIssueLabels") == 1
    archived = rows(store_url, f"SELECT archived_at FROM linear_issues WHERE id = '{old.id}'")
    assert len(archived) == 1 and archived[0][0] is not None
    assert API_KEY not in cli("linear", "mirror").err
