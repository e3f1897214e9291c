"""The fake Linear itself: it validates every document against the published schema,
pages with real cursors, filters as documented and rejects duplicate issue ids."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.linear import FakeLinear
from tests.fakes.linear.graph import matches


@pytest.fixture
def fake(fake_clock: FakeClock) -> Iterator[FakeLinear]:
    with FakeLinear(clock=fake_clock) as server:
        yield server


def post(fake: FakeLinear, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.post(fake.url, json={"query": query, "variables": variables or {}}, timeout=10)


def test_an_invalid_document_is_refused_with_validation_errors(fake: FakeLinear) -> None:
    response = post(fake, 'query Bad { teamByKey(key: "ENG") { id } }')
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert "teamByKey" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_answers_carry_the_rate_limit_headers(fake: FakeLinear, fake_clock: FakeClock) -> None:
    response = post(fake, "query V { viewer { id } }")
    assert response.headers["X-RateLimit-Requests-Limit"] == "1500"
    assert response.headers["X-RateLimit-Requests-Remaining"] == "1499"
    reset = int(response.headers["X-RateLimit-Requests-Reset"]) / 1000
    assert reset == pytest.approx(fake_clock.now().timestamp() + 3600, abs=1)


def test_issue_filters_and_cursor_pages(fake: FakeLinear) -> None:
    ws = fake.workspace
    eng, ops = ws.add_team("ENG", "Engineering"), ws.add_team("OPS", "Operations")
    for n in range(5):
        ws.add_issue(eng, f"Eng {n}", description=f"[tgpilot-key:roadmap/k{n}]")
        ws.add_issue(ops, f"Ops {n}")
    query = """query Q($filter: IssueFilter, $after: String) {
      issues(filter: $filter, first: 2, after: $after) {
        nodes { id identifier } pageInfo { hasNextPage endCursor } } }"""
    condition = {
        "team": {"key": {"eq": "ENG"}},
        "description": {"contains": "[tgpilot-key:roadmap/"},
    }
    seen: list[str] = []
    after = None
    while True:
        page = post(fake, query, {"filter": condition, "after": after}).json()["data"]["issues"]
        seen += [n["identifier"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"ENG-{n}" for n in range(1, 6)]


def test_duplicate_issue_ids_are_rejected(fake: FakeLinear) -> None:
    eng = fake.workspace.add_team("ENG", "Engineering")
    mutation = """mutation C($input: IssueCreateInput!) {
      issueCreate(input: $input) { success issue { identifier } } }"""
    variables = {"input": {"id": "x" * 36, "teamId": eng.id, "title": "T"}}
    assert post(fake, mutation, variables).json()["data"]["issueCreate"]["success"] is True
    again = post(fake, mutation, variables).json()
    assert "already exists" in again["errors"][0]["message"]
    assert len(fake.workspace.issues) == 1


def test_unmodelled_filters_are_errors_not_silently_ignored(fake: FakeLinear) -> None:
    ws = fake.workspace
    ws.add_issue(ws.add_team("ENG", "Engineering"), "T")
    response = post(fake, "query Q { issues(filter: {cycle: {number: {eq: 1}}}) { nodes { id } } }")
    assert "not modelled" in response.json()["errors"][0]["message"]


def test_matches_supports_null_nesting_and_collections(fake: FakeLinear) -> None:
    ws = fake.workspace
    eng = ws.add_team("ENG", "Engineering")
    team_label, global_label = ws.add_label("bug", eng), ws.add_label("docs")
    assert matches(global_label, {"team": {"null": True}})
    assert not matches(team_label, {"team": {"null": True}})
    assert matches(team_label, {"or": [{"team": {"id": {"eq": eng.id}}}, {"team": {"null": True}}]})
    issue = ws.add_issue(eng, "T", labels=[team_label, global_label])
    assert matches(issue, {"labels": {"some": {"name": {"eq": "docs"}}}})
    assert not matches(issue, {"labels": {"every": {"name": {"eq": "docs"}}}})
    assert matches(issue, {"updatedAt": {"gt": "2000-01-01T00:00:00.000Z"}, "number": {"eq": 1}})
