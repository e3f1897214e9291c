"""``tgpilot linear`` end to end through the real CLI against the fake Linear GraphQL
server (spec linear-and-bots.md §1.3, acceptance scenarios 1–11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.linear import FakeLinear, Fault
from tests.fakes.linear.fixtures import API_KEY, RunCli

TITLE_SECRET = "quarterly numbers for Mallory"


@pytest.fixture
def cli(linear_cli: RunCli) -> RunCli:
    """``tgpilot …`` in-process; no output may show the key (shared fixture)."""
    return linear_cli


@pytest.fixture
def seeded(linear_env: FakeLinear) -> FakeLinear:
    """ENG with a project, team and workspace labels, and members."""
    ws = linear_env.workspace
    eng = ws.team("ENG")
    ws.add_project("Website", eng)
    ws.add_label("backlog", eng)
    ws.add_label("l1")
    ws.add_user("Dev One", "dev", "dev@example.com", teams=(eng,))
    ws.add_user("Alex Smith", "alex", "alex.smith@example.com", teams=(eng,))
    ws.add_user("Alex Jones", "alex", "alex.jones@example.com", teams=(eng,))
    ws.add_user("Gone Person", "gone", "gone@example.com", active=False, teams=(eng,))
    return linear_env


def create_input(fake: FakeLinear) -> dict[str, Any]:
    (request,) = fake.requests_of("IssueCreate")[-1:]
    return dict(request.variables["input"])


# ----------------------------------------------------------------- scenario 1


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_or_blank_key_exits_2_naming_it_before_any_request(
    linear: FakeLinear,
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    value: str | None,
) -> None:
    monkeypatch.setenv("TGPILOT_LINEAR__API_URL", linear.url)
    monkeypatch.setenv("TGPILOT_LINEAR__TEAM", "ENG")
    if value is not None:
        monkeypatch.setenv("LINEAR_API_KEY", value)
    result = cli("linear", "issue", "create", "--title", "Hello")
    assert result.code == 2
    assert "LINEAR_API_KEY" in result.err
    assert linear.requests == []


def test_api_key_is_sent_raw_and_oauth_token_as_bearer(
    linear: FakeLinear,
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TGPILOT_LINEAR__API_URL", linear.url)
    monkeypatch.setenv("LINEAR_OAUTH_TOKEN", "oauth-token-1")
    assert cli("linear", "teams", "--json").code == 0
    assert linear.requests[-1].headers["authorization"] == "Bearer oauth-token-1"
    monkeypatch.setenv("LINEAR_API_KEY", API_KEY)
    assert cli("linear", "teams").code == 0
    assert linear.requests[-1].headers["authorization"] == API_KEY


# ----------------------------------------------------------------- scenario 2


def test_title_is_trimmed_and_blank_description_left_out(seeded: FakeLinear, cli: RunCli) -> None:
    result = cli("linear", "issue", "create", "--title", "  Trimmed  ", "--description", "   ")
    assert result.code == 0, result.err
    sent = create_input(seeded)
    assert set(sent) == {"teamId", "title", "id"}
    assert sent["title"] == "Trimmed"
    assert sent["teamId"] == seeded.workspace.team("ENG").id
    (issue,) = seeded.workspace.issues_of("ENG")
    assert issue.id == sent["id"]
    assert result.out.strip() == f"{issue.identifier} {issue.url}"


def test_empty_title_fails_before_any_request(seeded: FakeLinear, cli: RunCli) -> None:
    result = cli("linear", "issue", "create", "--title", "   ")
    assert result.code == 2
    assert "title" in result.err
    assert seeded.requests == []


def test_create_json_prints_the_issue_object_and_is_audited(
    seeded: FakeLinear, cli: RunCli, tgpilot_home: Path
) -> None:
    result = cli("linear", "issue", "create", "--title", TITLE_SECRET, "--json")
    assert result.code == 0, result.err
    issue = result.json()
    assert issue["identifier"] == "ENG-1" and issue["title"] == TITLE_SECRET
    lines = [json.loads(x) for x in (tgpilot_home / "audit.jsonl").read_text().splitlines()]
    assert [(x["action"], x["result"]) for x in lines] == [("linear.issue_create", "ok")]
    assert lines[0]["params"]["issue"] == "ENG-1"
    assert API_KEY not in (tgpilot_home / "audit.jsonl").read_text()


# ----------------------------------------------------------------- scenario 3


def test_names_resolve_to_ids_and_empty_labels_are_dropped(seeded: FakeLinear, cli: RunCli) -> None:
    ws = seeded.workspace
    result = cli(
        "linear", "issue", "create", "--title", "Landing", "--project", "Website",
        "--priority", "high", "--assignee", "dev@example.com", "--label", " l1 ", "--label", "",
    )  # fmt: skip
    assert result.code == 0, result.err
    sent = create_input(seeded)
    assert sent["projectId"] == next(p.id for p in ws.projects if p.name == "Website")
    assert sent["priority"] == 2
    assert sent["assigneeId"] == next(u.id for u in ws.users if u.email == "dev@example.com")
    assert sent["labelIds"] == [ws.label_named("l1").id]


def test_comma_separated_labels_state_by_type_and_me(seeded: FakeLinear, cli: RunCli) -> None:
    ws = seeded.workspace
    result = cli(
        "linear", "issue", "create", "--title", "T", "--label", "backlog, l1,,",
        "--state", "started", "--assignee", "me", "--due", "2025-02-01", "--estimate", "3",
    )  # fmt: skip
    assert result.code == 0, result.err
    sent = create_input(seeded)
    assert sent["labelIds"] == [ws.label_named("backlog").id, ws.label_named("l1").id]
    eng = ws.team("ENG")
    assert sent["stateId"] == next(s.id for s in ws.team_states(eng) if s.type == "started")
    assert sent["assigneeId"] == ws.viewer.id
    assert (sent["dueDate"], sent["estimate"]) == ("2025-02-01", 3)


def test_dry_run_prints_the_resolved_input_and_sends_no_mutation(
    seeded: FakeLinear, cli: RunCli
) -> None:
    result = cli(
        "linear", "issue", "create", "--title", " Plan me ", "--label", "fresh",
        "--create-labels", "--dry-run", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    plan = result.json()
    assert plan["dry_run"] is True
    assert plan["input"]["title"] == "Plan me"
    assert plan["create_labels"] == ["fresh"]
    assert not [op for op in seeded.operations() if op and op.startswith("Issue")]
    assert seeded.workspace.issues == []


def test_create_labels_creates_unknown_labels_then_the_issue(
    seeded: FakeLinear, cli: RunCli
) -> None:
    result = cli("linear", "issue", "create", "--title", "T", "--label", "fresh",
                 "--create-labels")  # fmt: skip
    assert result.code == 0, result.err
    fresh = seeded.workspace.label_named("fresh")
    assert fresh.team is seeded.workspace.team("ENG")
    assert create_input(seeded)["labelIds"] == [fresh.id]


# ----------------------------------------------------------------- scenario 5–8


def test_http_500_throughout_is_retried_four_times_then_exit_1(
    seeded: FakeLinear, cli: RunCli, fake_clock: FakeClock
) -> None:
    seeded.fail(Fault.http(500, "boom"), times=None)
    result = cli("linear", "issue", "create", "--title", "T")
    assert result.code == 1
    assert "500" in result.err and "boom" in result.err
    assert len(seeded.requests) == 5
    assert len(fake_clock.sleeps) == 4 and fake_clock.total_slept < 60


def test_non_json_body_is_reported_and_not_retried(seeded: FakeLinear, cli: RunCli) -> None:
    seeded.fail(Fault.http(200, "<html>maintenance</html>"), operation="IssueCreate")
    result = cli("linear", "issue", "create", "--title", "T")
    assert result.code == 1
    assert "non-JSON response" in result.err and "200" in result.err
    assert len(seeded.requests_of("IssueCreate")) == 1


def test_graphql_error_is_shown_as_is(seeded: FakeLinear, cli: RunCli) -> None:
    seeded.fail(Fault.error("project not found"), operation="IssueCreate")
    result = cli("linear", "issue", "create", "--title", TITLE_SECRET)
    assert result.code == 1
    assert "error: project not found" in result.err
    assert TITLE_SECRET not in result.err


def test_success_false_is_did_not_confirm(seeded: FakeLinear, cli: RunCli) -> None:
    seeded.fail(Fault.unconfirmed("issueCreate"), operation="IssueCreate")
    result = cli("linear", "issue", "create", "--title", "T")
    assert result.code == 1
    assert "did not confirm IssueCreate" in result.err


def test_rate_limited_with_a_near_reset_waits_and_retries_once(
    seeded: FakeLinear, cli: RunCli, fake_clock: FakeClock
) -> None:
    seeded.fail(Fault.rate_limited(2.0), operation="IssueCreate")
    result = cli("linear", "issue", "create", "--title", "T")
    assert result.code == 0, result.err
    assert len(seeded.requests_of("IssueCreate")) == 2
    assert fake_clock.sleeps == [pytest.approx(2.0, abs=0.01)]
    assert len(seeded.workspace.issues) == 1


def test_rate_limited_with_a_far_reset_fails_at_once(
    seeded: FakeLinear, cli: RunCli, fake_clock: FakeClock
) -> None:
    seeded.fail(Fault.rate_limited(600.0), operation="IssueCreate")
    result = cli("linear", "issue", "create", "--title", "T")
    assert result.code == 1
    assert "rate limit" in result.err and "600 s" in result.err
    assert len(seeded.requests_of("IssueCreate")) == 1
    assert fake_clock.sleeps == []


def test_create_that_timed_out_after_being_stored_returns_the_stored_issue(
    seeded: FakeLinear, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TGPILOT_LINEAR__TIMEOUT_S", "0.5")
    seeded.fail(Fault.late(1.5), operation="IssueCreate")
    result = cli("linear", "issue", "create", "--title", "Once")
    assert result.code == 0, result.err
    creates = seeded.requests_of("IssueCreate")
    assert len(creates) >= 2  # more only if the loaded machine misses another deadline
    assert len({c.variables["input"]["id"] for c in creates}) == 1
    assert seeded.operations()[-1] == "IssueGet"
    (issue,) = seeded.workspace.issues_of("ENG")
    assert result.out.strip() == f"{issue.identifier} {issue.url}"


# ----------------------------------------------------------------- scenario 9


def test_list_of_600_issues_pages_by_250_in_3_requests(
    linear_env: FakeLinear,
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TGPILOT_LINEAR__TEAM")
    ws = linear_env.workspace
    eng = ws.team("ENG")
    for n in range(600):
        ws.add_issue(eng, f"Issue {n}")
    result = cli("linear", "issue", "list", "--limit", "1000", "--json")
    assert result.code == 0, result.err
    rows = result.json()
    assert len(rows) == 600
    assert len({r["identifier"] for r in rows}) == 600
    assert linear_env.operations() == ["Issues"] * 3
    assert [r.variables["first"] for r in linear_env.requests] == [250, 250, 250]


def test_list_stops_at_the_limit_and_filters_by_team(linear_env: FakeLinear, cli: RunCli) -> None:
    ws = linear_env.workspace
    ops = ws.add_team("OPS", "Operations")
    for n in range(5):
        ws.add_issue(ws.team("ENG"), f"Eng {n}")
        ws.add_issue(ops, f"Ops {n}")
    result = cli("linear", "issue", "list", "--limit", "3", "--json")
    assert result.code == 0, result.err
    assert [r["identifier"] for r in result.json()] == ["ENG-1", "ENG-2", "ENG-3"]
    assert linear_env.requests_of("Issues")[0].variables["first"] == 3
    table = cli("linear", "issue", "list", "--team", "Operations")
    assert table.code == 0 and "OPS-5" in table.out and "ENG-1" not in table.out


def test_search_uses_search_issues(seeded: FakeLinear, cli: RunCli) -> None:
    ws = seeded.workspace
    ws.add_issue(ws.team("ENG"), "Login button broken")
    ws.add_issue(ws.team("ENG"), "Unrelated")
    result = cli("linear", "issue", "search", "login", "--json")
    assert result.code == 0, result.err
    assert [r["title"] for r in result.json()] == ["Login button broken"]
    assert seeded.requests_of("SearchIssues")[0].variables["term"] == "login"


# ----------------------------------------------------------------- scenario 10


def test_no_priority_sends_none_and_words_are_numbers(seeded: FakeLinear, cli: RunCli) -> None:
    assert cli("linear", "issue", "create", "--title", "A").code == 0
    assert "priority" not in create_input(seeded)
    assert cli("linear", "issue", "create", "--title", "B", "--priority", "urgent").code == 0
    assert create_input(seeded)["priority"] == 1


def test_out_of_range_priority_is_a_usage_error_naming_0_to_4(
    seeded: FakeLinear, cli: RunCli
) -> None:
    result = cli("linear", "issue", "create", "--title", "A", "--priority", "7")
    assert result.code == 2
    assert "0–4" in result.err
    assert seeded.requests_of("IssueCreate") == []


def test_default_priority_setting_applies_when_none_given(
    seeded: FakeLinear, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEAR_DEFAULT_PRIORITY", "normal")
    assert cli("linear", "issue", "create", "--title", "A").code == 0
    assert create_input(seeded)["priority"] == 3


def test_invalid_default_priority_fails_config_check(
    cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_API_ID", "12345")
    monkeypatch.setenv("TELEGRAM_API_HASH", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("LINEAR_DEFAULT_PRIORITY", "3")
    valid = cli("config", "check")
    assert "linear.default_priority" not in valid.err + valid.out
    monkeypatch.setenv("LINEAR_DEFAULT_PRIORITY", "not-a-number")
    result = cli("config", "check")
    assert result.code == 2
    assert "linear.default_priority" in result.err + result.out
    assert valid.code == 0


# ----------------------------------------------------------------- scenario 11


def test_unknown_label_suggests_the_close_name(seeded: FakeLinear, cli: RunCli) -> None:
    result = cli("linear", "issue", "create", "--title", "A", "--label", "bakclog")
    assert result.code == 2
    assert 'label "bakclog" not found' in result.err and "backlog" in result.err
    assert seeded.requests_of("IssueCreate") == []


def test_name_shared_by_two_users_is_ambiguous_listing_both(
    seeded: FakeLinear, cli: RunCli
) -> None:
    result = cli("linear", "issue", "create", "--title", "A", "--assignee", "ALEX")
    assert result.code == 2
    assert "ambiguous" in result.err
    assert "alex.smith@example.com" in result.err and "alex.jones@example.com" in result.err


def test_inactive_users_are_not_assignable(seeded: FakeLinear, cli: RunCli) -> None:
    result = cli("linear", "issue", "create", "--title", "A", "--assignee", "gone@example.com")
    assert result.code == 2 and "not found" in result.err


def test_get_missing_issue_exits_2(seeded: FakeLinear, cli: RunCli) -> None:
    result = cli("linear", "issue", "get", "ENG-999")
    assert result.code == 2
    assert "ENG-999 not found" in result.err


def test_update_with_nothing_to_change_exits_2_without_a_request(
    seeded: FakeLinear, cli: RunCli
) -> None:
    seeded.workspace.add_issue(seeded.workspace.team("ENG"), "Existing")
    result = cli("linear", "issue", "update", "ENG-1")
    assert result.code == 2
    assert "nothing to change" in result.err
    assert seeded.requests == []


# ----------------------------------------------------------------- get / update


def test_get_shows_an_issue_by_identifier(seeded: FakeLinear, cli: RunCli) -> None:
    ws = seeded.workspace
    ws.add_issue(ws.team("ENG"), "Existing", description="Body text")
    result = cli("linear", "issue", "get", "eng-1")
    assert result.code == 0, result.err
    assert result.out.startswith("ENG-1 https://") and "Body text" in result.out


def test_update_adds_and_removes_labels_keeping_others(seeded: FakeLinear, cli: RunCli) -> None:
    ws = seeded.workspace
    other = ws.add_label("set-by-others", ws.team("ENG"))
    issue = ws.add_issue(ws.team("ENG"), "Existing", labels=[other, ws.label_named("l1")])
    result = cli(
        "linear", "issue", "update", "ENG-1", "--add-label", "backlog", "--remove-label", "l1",
        "--unassign", "--clear-due", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    sent = seeded.requests_of("IssueUpdate")[0].variables["input"]
    assert sent == {
        "addedLabelIds": [ws.label_named("backlog").id],
        "removedLabelIds": [ws.label_named("l1").id],
        "assigneeId": None,
        "dueDate": None,
    }
    assert sorted(label.name for label in issue.labels) == ["backlog", "set-by-others"]
    assert sorted(result.json()["labels"]) == ["backlog", "set-by-others"]


def test_update_dry_run_sends_no_mutation(seeded: FakeLinear, cli: RunCli) -> None:
    ws = seeded.workspace
    issue = ws.add_issue(ws.team("ENG"), "Existing")
    result = cli("linear", "issue", "update", "ENG-1", "--state", "Done", "--dry-run")
    assert result.code == 0, result.err
    assert "stateId" in result.out
    assert seeded.requests_of("IssueUpdate") == []
    assert issue.state.name == "Backlog"


# ----------------------------------------------------------------- workspace lists


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("teams", {"ENG"}),
        ("projects", {"Website"}),
        ("labels", {"backlog", "l1"}),
        ("states", {"Backlog", "Todo", "In Progress", "Done", "Canceled"}),
        ("users", {"Owner Person", "Dev One", "Alex Smith", "Alex Jones", "Gone Person"}),
    ],
)
def test_workspace_lists_print_objects(
    seeded: FakeLinear, cli: RunCli, command: str, expected: set[str]
) -> None:
    result = cli("linear", command, "--json")
    assert result.code == 0, result.err
    rows = result.json()
    assert {r.get("key") or r["name"] for r in rows} == expected


def test_list_updated_since_and_include_archived_reach_the_query(
    seeded: FakeLinear, cli: RunCli
) -> None:
    ws = seeded.workspace
    eng = ws.team("ENG")
    old = ws.add_issue(eng, "Old")
    old.updated_at = "2024-06-01T00:00:00.000Z"
    archived = ws.add_issue(eng, "Archived")
    archived.archived_at = "2025-01-10T00:00:00.000Z"
    ws.add_issue(eng, "Fresh")
    plain = cli("linear", "issue", "list", "--updated-since", "2025-01-01", "--json")
    assert [r["title"] for r in plain.json()] == ["Fresh"]
    result = cli(
        "linear", "issue", "list", "--updated-since", "2025-01-01T00:00:00+00:00",
        "--include-archived", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert [r["title"] for r in result.json()] == ["Archived", "Fresh"]
    sent = seeded.requests_of("Issues")[-1].variables
    assert sent["filter"]["updatedAt"] == {"gt": "2025-01-01T00:00:00Z"}
    assert sent["includeArchived"] is True


def test_a_failed_create_is_audited_as_failed(
    seeded: FakeLinear, cli: RunCli, tgpilot_home: Path
) -> None:
    seeded.fail(Fault.error("project not found"), operation="IssueCreate")
    assert cli("linear", "issue", "create", "--title", "T").code == 1
    (line,) = [json.loads(x) for x in (tgpilot_home / "audit.jsonl").read_text().splitlines()]
    assert (line["action"], line["result"], line["error"]) == (
        "linear.issue_create",
        "failed",
        "project not found",
    )


def test_description_comes_from_a_file_or_stdin_but_not_both(
    seeded: FakeLinear, cli: RunCli, tmp_path: Path
) -> None:
    body = tmp_path / "body.md"
    body.write_text("  Steps to reproduce\n", encoding="utf-8")
    result = cli("linear", "issue", "create", "--title", "T", "--description-file", str(body))
    assert result.code == 0, result.err
    assert create_input(seeded)["description"] == "Steps to reproduce"
    both = cli("linear", "issue", "create", "--title", "T", "--description", "x",
               "--description-file", str(body))  # fmt: skip
    assert both.code == 2 and "either" in both.err
    missing = cli("linear", "issue", "create", "--title", "T", "--description-file",
                  str(tmp_path / "nope.md"))  # fmt: skip
    assert missing.code == 2 and "cannot read" in missing.err


def test_list_filters_by_state_assignee_label_and_priority(seeded: FakeLinear, cli: RunCli) -> None:
    ws = seeded.workspace
    eng = ws.team("ENG")
    started = next(s for s in ws.team_states(eng) if s.type == "started")
    dev = next(u for u in ws.users if u.email == "dev@example.com")
    backlog = ws.label_named("backlog")
    ws.add_issue(eng, "Match", state=started, assignee=dev, labels=[backlog], priority=2)
    ws.add_issue(eng, "Wrong state", assignee=dev, labels=[backlog], priority=2)
    ws.add_issue(eng, "Wrong label", state=started, assignee=dev, priority=2)
    ws.add_issue(eng, "Wrong priority", state=started, assignee=dev, labels=[backlog])
    result = cli(
        "linear", "issue", "list", "--state", "started", "--assignee", "dev",
        "--label", "backlog", "--priority", "high", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert [r["title"] for r in result.json()] == ["Match"]
