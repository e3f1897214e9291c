"""Per-process caches of the workspace: teams by key, and each team's labels, states,
projects and members (spec §1.1).

One :class:`WorkspaceCatalog` lives on each :class:`~tgpilot.gateways.linear.client.LinearClient`
(``client.catalog``); a process that keeps its client (the CLI run, the chat listener,
a sync) looks each thing up once. Name matching is not done here: that is
:mod:`tgpilot.services.linear.resolve`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tgpilot.gateways.linear.types import Label, Project, State, Team, User

if TYPE_CHECKING:
    from tgpilot.gateways.linear.client import LinearClient


def _labels_filter(team_id: str) -> dict[str, object]:
    """The team's labels and the workspace labels (no team)."""
    return {"or": [{"team": {"id": {"eq": team_id}}}, {"team": {"null": True}}]}


class WorkspaceCatalog:
    """Fetch-once views of the workspace over one client."""

    def __init__(self, client: LinearClient) -> None:
        self._client = client
        self._teams_by_key: dict[str, Team | None] = {}
        self._teams: list[Team] | None = None
        self._labels: dict[str, list[Label]] = {}
        self._states: dict[str, list[State]] = {}
        self._projects: dict[str, list[Project]] = {}
        self._members: dict[str, list[User]] = {}
        self._users: list[User] | None = None
        self._viewer: User | None = None

    async def team_by_key(self, key: str) -> Team | None:
        """The team whose key is exactly ``key`` (one request per key per process)."""
        if key not in self._teams_by_key:
            data = await self._client.execute("TeamByKey", {"key": key})
            nodes = (data.get("teams") or {}).get("nodes") or []
            self._teams_by_key[key] = Team.from_node(nodes[0]) if nodes else None
        return self._teams_by_key[key]

    async def teams(self) -> list[Team]:
        """Every team the key can see."""
        if self._teams is None:
            self._teams = [
                Team.from_node(n) async for n in self._client.paginate("Teams", connection="teams")
            ]
            for team in self._teams:
                self._teams_by_key.setdefault(team.key, team)
        return self._teams

    async def labels(self, team_id: str) -> list[Label]:
        """The team's labels followed by the workspace labels."""
        if team_id not in self._labels:
            found = [
                Label.from_node(n)
                async for n in self._client.paginate(
                    "Labels", {"filter": _labels_filter(team_id)}, connection="issueLabels"
                )
            ]
            found.sort(key=lambda label: label.team_id is None)
            self._labels[team_id] = found
        return self._labels[team_id]

    def remember_label(self, team_id: str, label: Label) -> None:
        """Add a label this process created to the team's cached labels."""
        self._labels.setdefault(team_id, []).append(label)

    async def states(self, team_id: str) -> list[State]:
        """The team's workflow states by position."""
        if team_id not in self._states:
            found = [
                State.from_node(n)
                async for n in self._client.paginate(
                    "TeamStates", {"teamId": team_id}, connection="workflowStates"
                )
            ]
            self._states[team_id] = sorted(found, key=lambda s: s.position)
        return self._states[team_id]

    async def projects(self, team_id: str) -> list[Project]:
        """The team's projects."""
        if team_id not in self._projects:
            self._projects[team_id] = [
                Project.from_node(n)
                async for n in self._client.paginate(
                    "TeamProjects", {"teamId": team_id}, connection="team.projects"
                )
            ]
        return self._projects[team_id]

    async def members(self, team_id: str) -> list[User]:
        """The team's members, active or not."""
        if team_id not in self._members:
            self._members[team_id] = [
                User.from_node(n)
                async for n in self._client.paginate(
                    "TeamMembers", {"teamId": team_id}, connection="team.members"
                )
            ]
        return self._members[team_id]

    async def users(self) -> list[User]:
        """Every workspace user, active or not."""
        if self._users is None:
            self._users = [
                User.from_node(n) async for n in self._client.paginate("Users", connection="users")
            ]
        return self._users

    async def viewer(self) -> User:
        """The user the key belongs to (``me``)."""
        if self._viewer is None:
            data = await self._client.execute("Viewer")
            self._viewer = User.from_node(data.get("viewer") or {})
        return self._viewer
