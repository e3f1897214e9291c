"""Executing GraphQL documents against Linear's published schema over a fake workspace.

The schema is ``/work/shared/reference/linear/schema.graphql`` (path overridable with
``TGPILOT_LINEAR_SCHEMA``), built once per process with graphql-core. Every document
is validated against it, then executed with a root value whose fields are the
resolvers below; relation fields come from the workspace views.

Supported root fields: ``viewer``, ``teams``, ``team``, ``users``, ``issueLabels``,
``workflowStates``, ``projects``, ``issue`` (id or identifier), ``issues``,
``searchIssues`` (term in title, description or identifier, case-insensitive),
``issueCreate`` (duplicate ``id`` rejected), ``issueUpdate`` (``labelIds``,
``addedLabelIds``, ``removedLabelIds``, explicit nulls clear), ``issueLabelCreate``.

Filters: every key of a filter maps to an entity field; comparators ``eq``, ``neq``,
``in``, ``nin``, ``eqIgnoreCase``, ``contains``, ``containsIgnoreCase``,
``notContains``, ``startsWith``, ``endsWith``, ``gt``, ``gte``, ``lt``, ``lte``,
``null``; ``and``/``or``; ``some``/``every`` on collections (issue labels, project
teams). Relation filters nest (``team: {key: {eq: "ENG"}}``, ``team: {null: true}``).
A filter field the fake does not model is an error naming it, so a test never passes
on an ignored filter. Pagination: ``first`` (default 50, at most 250) and ``after``
(the cursor is the last node's id); archived entities only with ``includeArchived``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, build_schema

from tests.fakes.linear.workspace import (
    FakeIssue,
    FakeLabel,
    View,
    Workspace,
    new_id,
)

SCHEMA_PATH = Path("/work/shared/reference/linear/schema.graphql")
DEFAULT_PAGE = 50
MAX_PAGE = 250
COMPARATORS = frozenset(
    {
        "eq",
        "neq",
        "in",
        "nin",
        "eqIgnoreCase",
        "contains",
        "containsIgnoreCase",
        "notContains",
        "startsWith",
        "endsWith",
        "gt",
        "gte",
        "lt",
        "lte",
        "null",
    }
)


@cache
def linear_schema() -> GraphQLSchema:
    """Linear's published schema (built once per process, ~1.5 s)."""
    path = Path(os.environ.get("TGPILOT_LINEAR_SCHEMA", str(SCHEMA_PATH)))
    return build_schema(path.read_text(encoding="utf-8"))


def input_error(message: str) -> GraphQLError:
    """A refusal shaped like Linear's ``invalid input`` errors."""
    return GraphQLError(
        message,
        extensions={
            "type": "invalid input",
            "code": "INPUT_ERROR",
            "userPresentableMessage": message,
        },
    )


# ---------------------------------------------------------------------- filters


def _compare(value: Any, op: str, expected: Any) -> bool:
    if op == "null":
        return (value is None) == bool(expected)
    if op == "eq":
        return bool(value == expected)
    if op == "neq":
        return bool(value != expected)
    if op == "in":
        return value in expected
    if op == "nin":
        return value not in expected
    if value is None:
        return False
    if op == "eqIgnoreCase":
        return str(value).lower() == str(expected).lower()
    if op == "contains":
        return str(expected) in str(value)
    if op == "containsIgnoreCase":
        return str(expected).lower() in str(value).lower()
    if op == "notContains":
        return str(expected) not in str(value)
    if op == "startsWith":
        return str(value).startswith(str(expected))
    if op == "endsWith":
        return str(value).endswith(str(expected))
    ordering = {"gt": value > expected, "gte": value >= expected}
    ordering |= {"lt": value < expected, "lte": value <= expected}
    return bool(ordering[op])


def _entity_value(entity: Any, name: str) -> Any:
    try:
        return entity.filter_value(name)
    except KeyError:
        raise GraphQLError(
            f"fake Linear: filtering {type(entity).__name__} on {name!r} is not modelled"
        ) from None


def matches(entity: Any, condition: Mapping[str, Any]) -> bool:
    """True if ``entity`` satisfies the filter ``condition``."""
    for key, cond in condition.items():
        if cond is None:
            continue
        if key == "and":
            if not all(matches(entity, part) for part in cond):
                return False
        elif key == "or":
            if not any(matches(entity, part) for part in cond):
                return False
        elif not _value_matches(_entity_value(entity, key), cond):
            return False
    return True


def _value_matches(value: Any, cond: Mapping[str, Any]) -> bool:
    if isinstance(value, list):
        for op, sub in cond.items():
            if op == "some" and not any(matches(v, sub) for v in value):
                return False
            if op == "every" and not all(matches(v, sub) for v in value):
                return False
            if op == "length" and not all(_compare(len(value), k, v) for k, v in sub.items()):
                return False
            if op not in ("some", "every", "length"):
                raise GraphQLError(f"fake Linear: collection filter {op!r} is not modelled")
        return True
    if set(cond) <= COMPARATORS:
        return all(_compare(value, op, expected) for op, expected in cond.items())
    if value is None:
        return cond.get("null") is True
    rest = {k: v for k, v in cond.items() if k != "null"}
    if cond.get("null") is True:
        return False
    return matches(value, rest)


# ---------------------------------------------------------------------- paging


def connect(items: Sequence[Any], view: Callable[..., View], **arguments: Any) -> View:
    """One page of ``items`` (filtered, archived hidden) as a connection."""
    chosen = list(items)
    condition = arguments.get("filter")
    if condition:
        chosen = [i for i in chosen if matches(i, condition)]
    if not arguments.get("includeArchived"):
        chosen = [i for i in chosen if getattr(i, "archived_at", None) is None]
    if arguments.get("orderBy") == "updatedAt":
        chosen.sort(key=lambda i: getattr(i, "updated_at", ""))
    first = arguments.get("first")
    first = DEFAULT_PAGE if first is None else first
    if first > MAX_PAGE:
        raise input_error(f"first must be at most {MAX_PAGE}")
    start = 0
    after = arguments.get("after")
    if after:
        ids = [i.id for i in chosen]
        if after not in ids:
            raise input_error("invalid cursor")
        start = ids.index(after) + 1
    page = chosen[start : start + first]
    nodes = [view(i, connect) for i in page]
    return {
        "nodes": nodes,
        "edges": [{"node": n, "cursor": n["id"]} for n in nodes],
        "pageInfo": {
            "hasNextPage": start + first < len(chosen),
            "hasPreviousPage": start > 0,
            "startCursor": page[0].id if page else None,
            "endCursor": page[-1].id if page else None,
        },
    }


# ---------------------------------------------------------------------- resolvers


class Resolvers:
    """The root value of every request: query and mutation fields of the fake."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    def root(self) -> dict[str, Any]:
        ws = self.ws
        return {
            "viewer": lambda _i: ws.user_view(ws.viewer, connect),
            "teams": lambda _i, **a: connect(ws.teams, ws.team_view, **a),
            "team": lambda _i, id: ws.team_view(self._team(id), connect),
            "users": lambda _i, **a: connect(
                ws.users if a.get("includeDisabled") else [u for u in ws.users if u.active],
                ws.user_view,
                **a,
            ),
            "issueLabels": lambda _i, **a: connect(ws.labels, ws.label_view, **a),
            "workflowStates": lambda _i, **a: connect(ws.states, ws.state_view, **a),
            "projects": lambda _i, **a: connect(ws.projects, ws.project_view, **a),
            "issue": lambda _i, id: ws.issue_view(self._issue(id), connect),
            "issues": lambda _i, **a: connect(ws.issues, ws.issue_view, **a),
            "searchIssues": self._search,
            "issueCreate": self._create,
            "issueUpdate": self._update,
            "issueLabelCreate": self._label_create,
        }

    def _team(self, ref: str) -> Any:
        team = next((t for t in self.ws.teams if t.id == ref), None)
        if team is None:
            raise input_error("Entity not found: Team")
        return team

    def _issue(self, ref: str) -> FakeIssue:
        issue = self.ws.find_issue(ref)
        if issue is None:
            raise input_error("Entity not found: Issue")
        return issue

    def _search(self, _info: Any, term: str, **arguments: Any) -> View:
        needle = term.lower()
        found = [
            i
            for i in self.ws.issues
            if needle in i.title.lower()
            or needle in (i.description or "").lower()
            or needle == i.identifier.lower()
        ]
        page = connect(found, self.ws.issue_view, **arguments)
        page["totalCount"] = len(found)
        page["archivePayload"] = {"success": True, "lastSyncId": 0}
        return page

    # ------------------------------------------------------------------ mutations

    def _lookup(self, kind: str, items: Sequence[Any], ref: str) -> Any:
        found = next((x for x in items if x.id == ref), None)
        if found is None:
            raise input_error(f"{kind} not found")
        return found

    def _labels(self, ids: Sequence[str]) -> list[FakeLabel]:
        return [self._lookup("label", self.ws.labels, i) for i in ids]

    def _apply(self, issue: FakeIssue, data: Mapping[str, Any]) -> None:
        """Set the fields present in ``data`` (explicit nulls clear them)."""
        ws = self.ws
        simple = {
            "title": "title",
            "description": "description",
            "priority": "priority",
            "estimate": "estimate",
            "dueDate": "due_date",
        }
        for key, attr in simple.items():
            if key in data:
                setattr(issue, attr, data[key])
        if data.get("priority") is not None and not 0 <= data["priority"] <= 4:
            raise input_error("priority must be between 0 and 4")
        if "stateId" in data and data["stateId"] is not None:
            state = self._lookup("state", ws.states, data["stateId"])
            if state.team is not issue.team:
                raise input_error("state does not belong to the issue's team")
            issue.state = state
        if "projectId" in data:
            pid = data["projectId"]
            issue.project = None if pid is None else self._lookup("project", ws.projects, pid)
        if "assigneeId" in data:
            uid = data["assigneeId"]
            issue.assignee = None if uid is None else self._lookup("user", ws.users, uid)
        if "labelIds" in data and data["labelIds"] is not None:
            issue.labels = self._labels(data["labelIds"])
        for label in self._labels(data.get("addedLabelIds") or ()):
            if label not in issue.labels:
                issue.labels.append(label)
        removed = set(data.get("removedLabelIds") or ())
        issue.labels = [x for x in issue.labels if x.id not in removed]

    def _create(self, _info: Any, input: dict[str, Any]) -> View:
        ws = self.ws
        issue_id = input.get("id")
        if issue_id is not None and any(i.id == issue_id for i in ws.issues):
            raise input_error(f"Issue with id {issue_id} already exists")
        team = self._lookup("team", ws.teams, input["teamId"])
        title = (input.get("title") or "").strip()
        if not title:
            raise input_error("title must not be empty")
        issue = ws.add_issue(team, title, id=issue_id or new_id(), creator=ws.viewer)
        try:
            self._apply(issue, {k: v for k, v in input.items() if k != "title"})
        except GraphQLError:
            ws.issues.remove(issue)
            team.issue_count -= 1
            raise
        return {"success": True, "lastSyncId": 1.0, "issue": ws.issue_view(issue, connect)}

    def _update(self, _info: Any, id: str, input: dict[str, Any]) -> View:
        issue = self._issue(id)
        self._apply(issue, input)
        issue.updated_at = self.ws.stamp()
        return {"success": True, "lastSyncId": 2.0, "issue": self.ws.issue_view(issue, connect)}

    def _label_create(self, _info: Any, input: dict[str, Any]) -> View:
        ws = self.ws
        team = (
            None if input.get("teamId") is None else self._lookup("team", ws.teams, input["teamId"])
        )
        label = ws.add_label(input["name"], team)
        if input.get("color"):
            label.color = input["color"]
        return {"success": True, "lastSyncId": 3.0, "issueLabel": ws.label_view(label, connect)}
