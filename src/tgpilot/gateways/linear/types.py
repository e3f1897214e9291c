"""Plain values for what Linear returns: teams, labels, states, projects, users, issues.

Built from the nodes our documents select (``from_node``); services and the CLI work
with these, never with raw JSON. ``Issue.to_json`` is the object ``--json`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


def _text(node: Mapping[str, Any], key: str) -> str:
    value = node.get(key)
    return "" if value is None else str(value)


def _optional(node: Mapping[str, Any], key: str) -> str | None:
    value = node.get(key)
    return None if value is None else str(value)


def _child(node: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = node.get(key)
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Team:
    """A Linear team."""

    id: str
    key: str
    name: str

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> Team:
        return cls(_text(node, "id"), _text(node, "key"), _text(node, "name"))


@dataclass(frozen=True)
class Label:
    """An issue label; ``team_id`` None means a workspace label."""

    id: str
    name: str
    team_id: str | None = None
    color: str | None = None

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> Label:
        return cls(
            _text(node, "id"),
            _text(node, "name"),
            _optional(_child(node, "team"), "id"),
            _optional(node, "color"),
        )


@dataclass(frozen=True)
class State:
    """A workflow state of a team (``type``: backlog, unstarted, started, …)."""

    id: str
    name: str
    type: str
    position: float

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> State:
        return cls(
            _text(node, "id"),
            _text(node, "name"),
            _text(node, "type"),
            float(node.get("position") or 0.0),
        )


@dataclass(frozen=True)
class Project:
    """A project one of the team's issues can belong to."""

    id: str
    name: str
    state: str = ""

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> Project:
        return cls(_text(node, "id"), _text(node, "name"), _text(node, "state"))


@dataclass(frozen=True)
class User:
    """A workspace user."""

    id: str
    name: str
    display_name: str
    email: str
    active: bool

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> User:
        return cls(
            _text(node, "id"),
            _text(node, "name"),
            _text(node, "displayName"),
            _text(node, "email"),
            bool(node.get("active", True)),
        )

    def render(self) -> str:
        """``Full Name <email>`` for candidate lists."""
        return f"{self.name} <{self.email}>" if self.email else self.name


@dataclass(frozen=True)
class Issue:
    """An issue as the ``IssueFields`` fragment selects it."""

    id: str
    identifier: str
    number: int
    title: str
    description: str | None
    priority: int
    priority_label: str
    estimate: float | None
    url: str
    due_date: str | None
    created_at: str | None
    updated_at: str | None
    archived_at: str | None
    team_id: str
    team_key: str
    state: str | None
    state_type: str | None
    project: str | None
    assignee: str | None
    assignee_email: str | None
    labels: tuple[str, ...]
    label_ids: tuple[str, ...]

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> Issue:
        team = _child(node, "team")
        state = _child(node, "state")
        assignee = _child(node, "assignee")
        label_nodes = [
            n for n in _child(node, "labels").get("nodes") or () if isinstance(n, Mapping)
        ]
        estimate = node.get("estimate")
        return cls(
            id=_text(node, "id"),
            identifier=_text(node, "identifier"),
            number=int(node.get("number") or 0),
            title=_text(node, "title"),
            description=_optional(node, "description"),
            priority=int(node.get("priority") or 0),
            priority_label=_text(node, "priorityLabel"),
            estimate=None if estimate is None else float(estimate),
            url=_text(node, "url"),
            due_date=_optional(node, "dueDate"),
            created_at=_optional(node, "createdAt"),
            updated_at=_optional(node, "updatedAt"),
            archived_at=_optional(node, "archivedAt"),
            team_id=_text(team, "id"),
            team_key=_text(team, "key"),
            state=_optional(state, "name"),
            state_type=_optional(state, "type"),
            project=_optional(_child(node, "project"), "name"),
            assignee=_optional(assignee, "displayName") or _optional(assignee, "name"),
            assignee_email=_optional(assignee, "email"),
            labels=tuple(_text(n, "name") for n in label_nodes),
            label_ids=tuple(_text(n, "id") for n in label_nodes),
        )

    def to_json(self) -> dict[str, Any]:
        """The issue object ``--json`` prints."""
        data = asdict(self)
        data["labels"] = list(self.labels)
        data["label_ids"] = list(self.label_ids)
        return data
