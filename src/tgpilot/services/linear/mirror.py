"""``linear mirror``: Linear copied into the store (spec linear-and-bots.md §1.7).

Teams, users, labels and workflow states are small and fetched whole; projects (with
every team) and issues (with every label) are fetched per team incrementally — only
what changed after the stored watermark minus :data:`OVERLAP`, archived ones included
— or whole with ``full``. Nodes become rows (timestamps parsed as aware ISO 8601 and
stored UTC, dates as dates, estimates kept with their fractions) and go to
:class:`~tgpilot.store.linear.LinearMirrorRepository` in batches of ~1,000, which
writes only rows that differ: a rerun with no change in Linear writes nothing.

A nested list cut at its first page (a project's teams, an issue's labels) is read
to the end with its own paged query, so no association is ever partial.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tgpilot.gateways.linear.client import LinearClient
from tgpilot.gateways.linear.types import Team
from tgpilot.services.linear.resolve import pick
from tgpilot.store.batches import Row
from tgpilot.store.linear import (
    MIRROR_BATCH_SIZE,
    Association,
    LinearMirrorRepository,
    MirrorEntity,
    RowCounts,
)
from tgpilot.store.types import as_utc

OVERLAP = timedelta(minutes=5)
"""Incremental fetches start this long before the watermark (clock skew, late writes)."""

Progress = Callable[[str, int], None]
"""Called with an entity name and how many of its nodes were fetched so far."""


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time (``Z`` or an offset) as aware UTC; None stays None."""
    if value is None or value == "":
        return None
    return as_utc(datetime.fromisoformat(str(value)))


def parse_date(value: object) -> date | None:
    """A ``TimelessDate`` (``YYYY-MM-DD``) as a date; None stays None."""
    if value is None or value == "":
        return None
    return date.fromisoformat(str(value)[:10])


def linear_time(value: datetime) -> str:
    """``value`` as Linear writes times: UTC, milliseconds, ``Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _id_of(node: Mapping[str, Any], key: str) -> str | None:
    child = node.get(key)
    return str(child["id"]) if isinstance(child, Mapping) and child.get("id") else None


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _float(value: object) -> float | None:
    return None if value is None else float(str(value))


def team_row(node: Mapping[str, Any]) -> Row:
    return {
        "id": str(node["id"]),
        "key": str(node["key"]),
        "name": str(node["name"]),
        "description": _text(node.get("description")),
        "updated_at": parse_time(node.get("updatedAt")),
    }


def user_row(node: Mapping[str, Any]) -> Row:
    return {
        "id": str(node["id"]),
        "name": str(node.get("name") or ""),
        "display_name": _text(node.get("displayName")),
        "email": _text(node.get("email")),
        "active": bool(node.get("active")),
    }


def label_row(node: Mapping[str, Any]) -> Row:
    return {
        "id": str(node["id"]),
        "team_id": _id_of(node, "team"),
        "name": str(node["name"]),
        "color": _text(node.get("color")),
        "parent_id": _id_of(node, "parent"),
        "archived_at": parse_time(node.get("archivedAt")),
    }


def state_row(node: Mapping[str, Any]) -> Row:
    return {
        "id": str(node["id"]),
        "team_id": _id_of(node, "team"),
        "name": str(node["name"]),
        "type": str(node["type"]),
        "position": _float(node.get("position")),
        "color": _text(node.get("color")),
    }


def project_row(node: Mapping[str, Any]) -> Row:
    return {
        "id": str(node["id"]),
        "name": str(node["name"]),
        "description": _text(node.get("description")),
        "state": _text(node.get("state")),
        "start_date": parse_date(node.get("startDate")),
        "target_date": parse_date(node.get("targetDate")),
        "progress": _float(node.get("progress")),
        "url": _text(node.get("url")),
        "updated_at": parse_time(node.get("updatedAt")),
        "archived_at": parse_time(node.get("archivedAt")),
    }


def issue_row(node: Mapping[str, Any]) -> Row:
    return {
        "id": str(node["id"]),
        "identifier": str(node["identifier"]),
        "number": int(float(str(node["number"]))),
        "title": str(node["title"]),
        "description": _text(node.get("description")),
        "priority": int(float(str(node.get("priority") or 0))),
        "priority_label": _text(node.get("priorityLabel")),
        "estimate": _float(node.get("estimate")),
        "team_id": _id_of(node, "team"),
        "state_id": _id_of(node, "state"),
        "project_id": _id_of(node, "project"),
        "assignee_id": _id_of(node, "assignee"),
        "creator_id": _id_of(node, "creator"),
        "parent_id": _id_of(node, "parent"),
        "due_date": parse_date(node.get("dueDate")),
        "url": _text(node.get("url")),
        "created_at": parse_time(node.get("createdAt")),
        "updated_at": parse_time(node.get("updatedAt")),
        "started_at": parse_time(node.get("startedAt")),
        "completed_at": parse_time(node.get("completedAt")),
        "canceled_at": parse_time(node.get("canceledAt")),
        "archived_at": parse_time(node.get("archivedAt")),
    }


SMALL_COLLECTIONS: tuple[tuple[MirrorEntity, str, str, Callable[[Mapping[str, Any]], Row]], ...] = (
    ("users", "MirrorUsers", "users", user_row),
    ("labels", "MirrorLabels", "issueLabels", label_row),
    ("states", "MirrorStates", "workflowStates", state_row),
)
"""Fetched whole on every run (after the teams): entity, document, connection, row."""


@dataclass(frozen=True)
class IncrementalEntity:
    """An entity fetched per team after its watermark, with a nested member list."""

    entity: MirrorEntity
    operation: str
    connection: str
    build: Callable[[Mapping[str, Any]], Row]
    team_filter: Callable[[str], dict[str, Any]]
    association: Association
    members_field: str
    """The node's connection of members (first page inline)."""
    members_operation: str
    """The document reading one node's members to the end."""
    members_connection: str
    shared: bool = False
    """A node can belong to several teams (projects): written once per run."""


INCREMENTAL = (
    IncrementalEntity(
        "projects", "MirrorProjects", "projects", project_row,
        lambda team_id: {"accessibleTeams": {"some": {"id": {"eq": team_id}}}},
        "project_teams", "teams", "MirrorProjectTeams", "project.teams", shared=True,
    ),
    IncrementalEntity(
        "issues", "MirrorIssues", "issues", issue_row,
        lambda team_id: {"team": {"id": {"eq": team_id}}},
        "issue_labels", "labels", "MirrorIssueLabels", "issue.labels",
    ),
)  # fmt: skip
"""Projects (with their teams), then issues (with their labels), per team."""


@dataclass(frozen=True)
class MirrorOptions:
    """What to mirror: the teams' projects and issues (keys or names; empty: every
    team), and whether to ignore the watermarks."""

    teams: tuple[str, ...] = ()
    full: bool = False


@dataclass
class EntityReport:
    """One entity's fetch and write."""

    fetched: int = 0
    counts: RowCounts = field(default_factory=RowCounts)

    def to_json(self) -> dict[str, int]:
        c = self.counts
        return {
            "fetched": self.fetched,
            "inserted": c.inserted,
            "updated": c.updated,
            "deleted": c.deleted,
            "unchanged": c.unchanged,
            "written": c.written,
        }


ENTITIES: tuple[MirrorEntity | Association, ...] = (
    "teams",
    "users",
    "labels",
    "states",
    "projects",
    "project_teams",
    "issues",
    "issue_labels",
)


@dataclass
class MirrorReport:
    """What a mirror run did, per entity, and the stored issues per state type."""

    teams: list[str]
    full: bool
    entities: dict[str, EntityReport] = field(
        default_factory=lambda: {name: EntityReport() for name in ENTITIES}
    )
    issues_by_state_type: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    @property
    def rows_written(self) -> int:
        return sum(e.counts.written for e in self.entities.values())

    def add(self, entity: str, fetched: int, counts: RowCounts) -> None:
        report = self.entities[entity]
        report.fetched += fetched
        report.counts += counts

    def to_json(self) -> dict[str, Any]:
        return {
            "teams": self.teams,
            "full": self.full,
            "entities": {name: e.to_json() for name, e in self.entities.items()},
            "issues_by_state_type": self.issues_by_state_type,
            "rows_written": self.rows_written,
            "requests": self.requests,
        }


class LinearMirror:
    """Copies one Linear workspace into the store (see the module docstring)."""

    def __init__(
        self,
        client: LinearClient,
        repository: LinearMirrorRepository,
        *,
        batch_size: int = MIRROR_BATCH_SIZE,
        progress: Progress | None = None,
    ) -> None:
        self._client = client
        self._repository = repository
        self._batch_size = batch_size
        self._progress = progress or (lambda _entity, _done: None)
        self._seen: dict[MirrorEntity, set[str]] = {}

    async def run(self, options: MirrorOptions) -> MirrorReport:
        """Mirror the workspace; a :class:`NotFound` for an unknown ``--team`` comes
        before anything is written."""
        requests_before = self._client.requests
        team_rows = await self._fetch_all("MirrorTeams", "teams", team_row)
        chosen = self._choose(team_rows, options.teams)
        report = MirrorReport(teams=[str(t["key"]) for t in chosen], full=options.full)
        report.add("teams", len(team_rows), await self._repository.upsert("teams", team_rows))
        for entity, operation, connection, build in SMALL_COLLECTIONS:
            rows = await self._fetch_all(operation, connection, build)
            report.add(entity, len(rows), await self._repository.upsert(entity, rows))
        self._seen = {}
        for team in chosen:
            for spec in INCREMENTAL:
                await self._incremental(spec, str(team["id"]), options.full, report)
        report.issues_by_state_type = await self._repository.issues_by_state_type(
            [str(t["id"]) for t in chosen]
        )
        report.requests = self._client.requests - requests_before
        return report

    @staticmethod
    def _choose(team_rows: Sequence[Row], wanted: Sequence[str]) -> list[Row]:
        if not wanted:
            return sorted(team_rows, key=lambda t: str(t["key"]))
        teams = [Team(str(t["id"]), str(t["key"]), str(t["name"])) for t in team_rows]
        by_id = {str(t["id"]): t for t in team_rows}
        chosen: dict[str, Row] = {}
        for text in wanted:
            team = pick("team", text, teams, lambda t: (t.key, t.name), lambda t: t.key)
            chosen[team.id] = by_id[team.id]
        return list(chosen.values())

    async def _fetch_all(
        self, operation: str, connection: str, build: Callable[[Mapping[str, Any]], Row]
    ) -> list[Row]:
        rows = []
        async for node in self._client.paginate(operation, {}, connection=connection):
            rows.append(build(node))
            self._progress(connection, len(rows))
        return rows

    async def _since(self, entity: MirrorEntity, team_id: str, full: bool) -> str | None:
        if full:
            return None
        watermark = await self._repository.watermark(entity, team_id)
        return None if watermark is None else linear_time(watermark - OVERLAP)

    async def _incremental(
        self, spec: IncrementalEntity, team_id: str, full: bool, report: MirrorReport
    ) -> None:
        """One team's changed nodes of ``spec`` and their members, written in batches;
        then the team's watermark moves to the newest ``updatedAt`` seen. A shared node
        already written in this run (a project of two teams) is not written again."""
        condition = spec.team_filter(team_id)
        since = await self._since(spec.entity, team_id, full)
        if since is not None:
            condition["updatedAt"] = {"gt": since}
        seen = self._seen.setdefault(spec.entity, set())
        fetched = 0
        rows: list[Row] = []
        members: dict[str, list[str]] = {}
        newest: datetime | None = None

        async def flush() -> None:
            counts = await self._repository.upsert(spec.entity, rows)
            report.add(spec.entity, len(rows), counts)
            pairs = sum(len(ids) for ids in members.values())
            counts = await self._repository.sync_members(spec.association, members)
            report.add(spec.association, pairs, counts)
            rows.clear()
            members.clear()

        nodes = self._client.paginate(
            spec.operation, {"filter": condition}, connection=spec.connection
        )
        async for node in nodes:
            row = spec.build(node)
            updated = row.get("updated_at")
            if isinstance(updated, datetime) and (newest is None or updated > newest):
                newest = updated
            if spec.shared:
                if row["id"] in seen:
                    continue
                seen.add(row["id"])
            rows.append(row)
            members[row["id"]] = await self._members(node, spec)
            fetched += 1
            self._progress(spec.entity, fetched)
            if len(rows) >= self._batch_size:
                await flush()
        if rows:
            await flush()
        if newest is not None:
            await self._repository.advance_watermark(spec.entity, team_id, newest)

    async def _members(self, node: Mapping[str, Any], spec: IncrementalEntity) -> list[str]:
        """The ids of a node's nested list, read to its end."""
        page = node.get(spec.members_field) or {}
        ids = [str(n["id"]) for n in page.get("nodes") or ()]
        if (page.get("pageInfo") or {}).get("hasNextPage"):
            ids = [
                str(n["id"])
                async for n in self._client.paginate(
                    spec.members_operation, {"id": node["id"]}, connection=spec.members_connection
                )
            ]
        return ids
