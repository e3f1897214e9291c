"""The in-memory Linear workspace the fake GraphQL server serves.

Teams (each with the usual workflow states), users, labels (team or workspace),
projects (on one or more teams) and issues with identifiers such as ``ENG-1``. Tests
seed it directly (``add_team``, ``add_user``, ``add_issue`` …) and read it back to
assert (``issues_of("ENG")``).

Each entity gives the GraphQL executor a *view*: a dict keyed by schema field names
whose relation fields are callables taking ``(info, **arguments)``, which
graphql-core's default resolver calls. ``filter_value(name)`` feeds the filter
evaluator in :mod:`tests.fakes.linear.graph`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

PRIORITY_LABELS = {0: "No priority", 1: "Urgent", 2: "High", 3: "Medium", 4: "Low"}
DEFAULT_STATES = (
    ("Backlog", "backlog"),
    ("Todo", "unstarted"),
    ("In Progress", "started"),
    ("Done", "completed"),
    ("Canceled", "canceled"),
)

View = dict[str, Any]
Connect = Callable[..., View]
"""``connect(items, view, **arguments)``: a connection page (set by the executor)."""


def new_id() -> str:
    return str(uuid.uuid4())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]


@dataclass(eq=False)
class FakeTeam:
    id: str
    key: str
    name: str
    description: str | None = None
    created_at: str = ""
    updated_at: str = ""
    issue_count: int = 0

    def filter_value(self, name: str) -> Any:
        return {"id": self.id, "key": self.key, "name": self.name}[name]


@dataclass(eq=False)
class FakeUser:
    id: str
    name: str
    display_name: str
    email: str
    active: bool = True
    admin: bool = False

    def filter_value(self, name: str) -> Any:
        return {
            "id": self.id,
            "name": self.name,
            "displayName": self.display_name,
            "email": self.email,
            "active": self.active,
        }[name]


@dataclass(eq=False)
class FakeLabel:
    id: str
    name: str
    team: FakeTeam | None = None
    color: str = "#bec2c8"
    parent: FakeLabel | None = None
    archived_at: str | None = None
    created_at: str = ""
    updated_at: str = ""

    def filter_value(self, name: str) -> Any:
        return {"id": self.id, "name": self.name, "team": self.team, "parent": self.parent}[name]


@dataclass(eq=False)
class FakeState:
    id: str
    name: str
    type: str
    position: float
    team: FakeTeam
    color: str = "#95a2b3"

    def filter_value(self, name: str) -> Any:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "position": self.position,
            "team": self.team,
        }[name]


@dataclass(eq=False)
class FakeProject:
    id: str
    name: str
    teams: list[FakeTeam]
    description: str = ""
    state: str = "started"
    progress: float = 0.0
    start_date: str | None = None
    target_date: str | None = None
    created_at: str = ""
    updated_at: str = ""
    archived_at: str | None = None

    @property
    def url(self) -> str:
        return f"https://linear.app/fake/project/{slug(self.name)}-{self.id[:8]}"

    def filter_value(self, name: str) -> Any:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "updatedAt": self.updated_at,
            "accessibleTeams": self.teams,
        }[name]


@dataclass(eq=False)
class FakeIssue:
    id: str
    team: FakeTeam
    number: int
    title: str
    state: FakeState
    description: str | None = None
    priority: int = 0
    estimate: float | None = None
    project: FakeProject | None = None
    assignee: FakeUser | None = None
    creator: FakeUser | None = None
    parent: FakeIssue | None = None
    labels: list[FakeLabel] = field(default_factory=list)
    due_date: str | None = None
    created_at: str = ""
    updated_at: str = ""
    archived_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    canceled_at: str | None = None

    @property
    def identifier(self) -> str:
        return f"{self.team.key}-{self.number}"

    @property
    def url(self) -> str:
        return f"https://linear.app/fake/issue/{self.identifier}/{slug(self.title)}"

    def filter_value(self, name: str) -> Any:
        return {
            "id": self.id,
            "number": self.number,
            "title": self.title,
            "description": self.description,
            "priority": self.priority,
            "estimate": self.estimate,
            "team": self.team,
            "state": self.state,
            "project": self.project,
            "assignee": self.assignee,
            "creator": self.creator,
            "labels": self.labels,
            "dueDate": self.due_date,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }[name]


class Workspace:
    """Everything the fake Linear knows; ``viewer`` is the key's owner."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._ticks = 0
        self.teams: list[FakeTeam] = []
        self.users: list[FakeUser] = []
        self.labels: list[FakeLabel] = []
        self.states: list[FakeState] = []
        self.projects: list[FakeProject] = []
        self.issues: list[FakeIssue] = []
        self.members: dict[str, list[FakeUser]] = {}
        self.viewer = self.add_user("Owner Person", "owner", "owner@example.com")

    # ------------------------------------------------------------------ seeding

    def stamp(self) -> str:
        """The current time, a millisecond later than the previous stamp."""
        self._ticks += 1
        return iso(self._now() + timedelta(milliseconds=self._ticks))

    def add_team(self, key: str, name: str, *, description: str | None = None) -> FakeTeam:
        """A team with Backlog, Todo, In Progress, Done and Canceled states; the
        viewer is a member."""
        now = self.stamp()
        team = FakeTeam(new_id(), key, name, description, now, now)
        self.teams.append(team)
        for position, (state_name, state_type) in enumerate(DEFAULT_STATES):
            self.states.append(FakeState(new_id(), state_name, state_type, float(position), team))
        self.members[team.id] = [self.viewer]
        return team

    def add_user(
        self,
        name: str,
        display_name: str,
        email: str,
        *,
        active: bool = True,
        teams: tuple[FakeTeam, ...] = (),
    ) -> FakeUser:
        user = FakeUser(new_id(), name, display_name, email, active)
        self.users.append(user)
        for team in teams:
            self.members.setdefault(team.id, []).append(user)
        return user

    def add_label(self, name: str, team: FakeTeam | None = None) -> FakeLabel:
        now = self.stamp()
        label = FakeLabel(new_id(), name, team, created_at=now, updated_at=now)
        self.labels.append(label)
        return label

    def add_project(self, name: str, *teams: FakeTeam) -> FakeProject:
        now = self.stamp()
        project = FakeProject(new_id(), name, list(teams), created_at=now, updated_at=now)
        self.projects.append(project)
        return project

    def add_issue(self, team: FakeTeam, title: str, **fields: Any) -> FakeIssue:
        """An issue numbered next in its team, in the team's first backlog state."""
        now = self.stamp()
        team.issue_count += 1
        issue = FakeIssue(
            id=fields.pop("id", None) or new_id(),
            team=team,
            number=team.issue_count,
            title=title,
            state=fields.pop("state", None) or self.default_state(team),
            created_at=now,
            updated_at=now,
            **fields,
        )
        self.issues.append(issue)
        return issue

    # ------------------------------------------------------------------ lookups

    def team(self, key_or_id: str) -> FakeTeam:
        return next(t for t in self.teams if key_or_id in (t.key, t.id))

    def team_states(self, team: FakeTeam) -> list[FakeState]:
        return sorted((s for s in self.states if s.team is team), key=lambda s: s.position)

    def default_state(self, team: FakeTeam) -> FakeState:
        states = self.team_states(team)
        return next((s for s in states if s.type == "backlog"), states[0])

    def issues_of(self, team_key: str) -> list[FakeIssue]:
        return [i for i in self.issues if i.team.key == team_key]

    def find_issue(self, ref: str) -> FakeIssue | None:
        return next((i for i in self.issues if ref in (i.id, i.identifier)), None)

    def label_named(self, name: str) -> FakeLabel:
        return next(label for label in self.labels if label.name == name)

    # ------------------------------------------------------------------ views

    def team_view(self, team: FakeTeam, connect: Connect) -> View:
        return {
            "id": team.id,
            "key": team.key,
            "name": team.name,
            "description": team.description,
            "createdAt": team.created_at,
            "updatedAt": team.updated_at,
            "archivedAt": None,
            "labels": lambda _info, **a: connect(
                [x for x in self.labels if x.team is team], self.label_view, **a
            ),
            "states": lambda _info, **a: connect(self.team_states(team), self.state_view, **a),
            "projects": lambda _info, **a: connect(
                [p for p in self.projects if team in p.teams], self.project_view, **a
            ),
            "members": lambda _info, **a: connect(
                self.members.get(team.id, []), self.user_view, **a
            ),
            "issues": lambda _info, **a: connect(
                [i for i in self.issues if i.team is team], self.issue_view, **a
            ),
        }

    def user_view(self, user: FakeUser, connect: Connect) -> View:
        return {
            "id": user.id,
            "name": user.name,
            "displayName": user.display_name,
            "email": user.email,
            "active": user.active,
            "admin": user.admin,
            "isMe": user is self.viewer,
        }

    def label_view(self, label: FakeLabel, connect: Connect) -> View:
        return {
            "id": label.id,
            "name": label.name,
            "color": label.color,
            "isGroup": False,
            "createdAt": label.created_at,
            "updatedAt": label.updated_at,
            "archivedAt": label.archived_at,
            "team": None if label.team is None else self.team_view(label.team, connect),
            "parent": None if label.parent is None else self.label_view(label.parent, connect),
        }

    def state_view(self, state: FakeState, connect: Connect) -> View:
        return {
            "id": state.id,
            "name": state.name,
            "type": state.type,
            "position": state.position,
            "color": state.color,
            "team": self.team_view(state.team, connect),
        }

    def project_view(self, project: FakeProject, connect: Connect) -> View:
        return {
            "id": project.id,
            "name": project.name,
            "description": project.description,
            "state": project.state,
            "progress": project.progress,
            "startDate": project.start_date,
            "targetDate": project.target_date,
            "url": project.url,
            "createdAt": project.created_at,
            "updatedAt": project.updated_at,
            "archivedAt": project.archived_at,
            "teams": lambda _info, **a: connect(project.teams, self.team_view, **a),
        }

    def issue_view(self, issue: FakeIssue, connect: Connect) -> View:
        def maybe(value: Any, view: Callable[[Any, Connect], View]) -> View | None:
            return None if value is None else view(value, connect)

        return {
            "id": issue.id,
            "identifier": issue.identifier,
            "number": issue.number,
            "title": issue.title,
            "description": issue.description,
            "priority": issue.priority,
            "priorityLabel": PRIORITY_LABELS[issue.priority],
            "estimate": issue.estimate,
            "url": issue.url,
            "dueDate": issue.due_date,
            "createdAt": issue.created_at,
            "updatedAt": issue.updated_at,
            "archivedAt": issue.archived_at,
            "startedAt": issue.started_at,
            "completedAt": issue.completed_at,
            "canceledAt": issue.canceled_at,
            "team": self.team_view(issue.team, connect),
            "state": self.state_view(issue.state, connect),
            "project": maybe(issue.project, self.project_view),
            "assignee": maybe(issue.assignee, self.user_view),
            "creator": maybe(issue.creator, self.user_view),
            "parent": maybe(issue.parent, self.issue_view),
            "labels": lambda _info, **a: connect(issue.labels, self.label_view, **a),
        }
