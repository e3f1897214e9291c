"""Backlog sync from YAML (spec linear-and-bots.md §1.5): the file, its plan, applying it.

A backlog file names a team, a key namespace (``source``), defaults and items. Each
item's issue carries a footer with its category and the marker
``[tgpilot-key:<source>/<key>]``; existing issues are found through ``linear_links``
*and* one paged query for the team's issues whose description holds the source's
marker prefix, so a wiped store still finds them. The plan says, per item, ``create``,
``update`` (only fields the YAML sets, and only when they differ), ``close`` (``done``
→ the team's first completed state, ``dropped`` → first canceled), ``unchanged`` or
``skip``; applying it goes through the issue service (safe creates, audit log) and
records the links. A rerun with nothing changed plans no mutation.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tgpilot.core.errors import TgpilotError, UsageError
from tgpilot.gateways.linear.errors import Ambiguous, NotFound
from tgpilot.gateways.linear.types import Issue, State, Team
from tgpilot.services.linear.issues import IssueDraft, PlannedCreate, PlannedUpdate, parse_due
from tgpilot.services.linear.linked_create import create_once
from tgpilot.services.linear.resolve import parse_priority, split_labels

if TYPE_CHECKING:
    from tgpilot.services.linear.issues import IssueService
    from tgpilot.store.linear import LinearLinkRepository

Status = Literal["open", "done", "dropped"]
ActionKind = Literal["create", "update", "close", "unchanged", "skip"]
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
LINK_PREFIX = "backlog:"
T = TypeVar("T")


def marker(source: str, key: str) -> str:
    """The marker that identifies an item's issue: ``[tgpilot-key:<source>/<key>]``."""
    return f"[tgpilot-key:{source}/{key}]"


def marker_prefix(source: str) -> str:
    """What every marker of ``source`` starts with (the paged query's filter)."""
    return f"[tgpilot-key:{source}/"


def markers_in(text: str | None, source: str) -> list[str]:
    """The keys of ``source`` whose markers ``text`` holds."""
    if not text:
        return []
    pattern = re.escape(marker_prefix(source)) + r"([A-Za-z0-9][A-Za-z0-9._-]*)\]"
    return re.findall(pattern, text)


def footer(category: str | None, source: str, key: str) -> str:
    """The footer appended to an item's description."""
    lines = ["---"]
    if category:
        lines.append(f"Category: {category}")
    lines.append(marker(source, key))
    return "\n".join(lines)


def _priority(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("a priority is 0–4 or a word (none, urgent, high, normal, low)")
    try:
        return parse_priority(value if isinstance(value, int) else str(value), option="priority")
    except UsageError as exc:
        raise ValueError(exc.message) from None


def _labels(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return split_labels([value])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return split_labels(value)
    raise ValueError("labels are a list of names (or one comma-separated string)")


def _due(value: object) -> str | None:
    if value is None or value == "":
        return None
    try:
        return parse_due(str(value), option="due")
    except UsageError as exc:
        raise ValueError(exc.message) from None


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BacklogDefaults(_Model):
    """Values every item gets unless it sets its own (labels are added to the item's)."""

    priority: int | None = None
    labels: list[str] = Field(default_factory=list)
    project: str | None = None
    assignee: str | None = None
    category: str | None = None

    @field_validator("priority", mode="before")
    @classmethod
    def check_priority(cls, value: object) -> int | None:
        return _priority(value)

    @field_validator("labels", mode="before")
    @classmethod
    def check_labels(cls, value: object) -> list[str]:
        return _labels(value)


class BacklogItem(_Model):
    """One backlog item; only the fields it sets are compared with its issue."""

    key: str = Field(pattern=KEY_PATTERN, max_length=120)
    title: str = Field(min_length=1)
    description: str | None = None
    category: str | None = None
    priority: int | None = None
    labels: list[str] = Field(default_factory=list)
    project: str | None = None
    assignee: str | None = None
    estimate: int | None = Field(default=None, ge=0)
    due: str | None = None
    status: Status = "open"

    @field_validator("priority", mode="before")
    @classmethod
    def check_priority(cls, value: object) -> int | None:
        return _priority(value)

    @field_validator("labels", mode="before")
    @classmethod
    def check_labels(cls, value: object) -> list[str]:
        return _labels(value)

    @field_validator("due", mode="before")
    @classmethod
    def check_due(cls, value: object) -> str | None:
        return _due(value)

    @field_validator("title", "description", "category", "project", "assignee", mode="after")
    @classmethod
    def _trim(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        return text or None


class BacklogFile(_Model):
    """A backlog file: ``team``, ``source`` (the key namespace), ``defaults``, ``items``."""

    team: str = Field(min_length=1)
    source: str = Field(pattern=KEY_PATTERN, max_length=60)
    defaults: BacklogDefaults = Field(default_factory=BacklogDefaults)
    items: list[BacklogItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_keys(self) -> BacklogFile:
        seen: dict[str, int] = {}
        for index, item in enumerate(self.items):
            if item.key in seen:
                raise ValueError(
                    f"items[{index}] ({item.key}).key: duplicate of items[{seen[item.key]}]"
                )
            seen[item.key] = index
        return self

    @property
    def link_source(self) -> str:
        """The ``linear_links.source`` of this file's items."""
        return LINK_PREFIX + self.source

    def categories(self) -> list[str]:
        """Every category used (items, else the default)."""
        found = {item.category or self.defaults.category for item in self.items}
        return sorted(c for c in found if c)

    def selected(self, only: str | None) -> list[BacklogItem]:
        """The items of category ``only`` (all without it); an unknown one lists the valid."""
        if only is None:
            return list(self.items)
        categories = self.categories()
        wanted = only.strip().lower()
        if wanted not in {c.lower() for c in categories}:
            valid = ", ".join(categories) or "(none: no item has a category)"
            raise UsageError(f"--only: unknown category {only!r}; valid: {valid}")
        return [
            item
            for item in self.items
            if (item.category or self.defaults.category or "").lower() == wanted
        ]


def _location(loc: Sequence[int | str], raw: Mapping[str, Any]) -> str:
    """``items[2] (web-login).priority`` for a pydantic error location."""
    parts: list[str] = []
    items = raw.get("items")
    for index, part in enumerate(loc):
        if isinstance(part, int):
            parts[-1] += f"[{part}]"
            if index == 1 and loc[0] == "items" and isinstance(items, list):
                entry = items[part] if part < len(items) else None
                if isinstance(entry, Mapping) and entry.get("key"):
                    parts[-1] += f" ({entry['key']})"
        else:
            parts.append(str(part))
    return ".".join(parts) or "(file)"


def load_backlog(path: Path) -> BacklogFile:
    """Read and validate a backlog file; every problem named by item and field (exit 2)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, Mapping):
        raise UsageError(f"{path}: expected a mapping with team, source and items")
    try:
        return BacklogFile.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"{_location(error['loc'], raw)}: {message}")
        raise UsageError(f"{path}: invalid backlog\n" + "\n".join(lines)) from None


@dataclass(frozen=True)
class SyncAction:
    """One line of the plan; ``changes`` maps a field to ``(now, wanted)``."""

    kind: ActionKind
    key: str
    title: str
    category: str | None = None
    issue: Issue | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    reason: str = ""
    create: PlannedCreate | None = None
    update: PlannedUpdate | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.kind, "key": self.key, "title": self.title}
        if self.category:
            data["category"] = self.category
        if self.issue is not None:
            data["issue"] = self.issue.identifier
            data["url"] = self.issue.url
            data["issue_id"] = self.issue.id
            data["issue_updated_at"] = self.issue.updated_at
        if self.changes:
            data["changes"] = {k: {"from": a, "to": b} for k, (a, b) in self.changes.items()}
        if self.reason:
            data["reason"] = self.reason
        if self.create is not None:
            data["input"] = self.create.input
        elif self.update is not None:
            data["input"] = self.update.input
        return data

    def describe(self) -> str:
        """``update web-login ENG-3: priority 3 → 2``."""
        target = f" {self.issue.identifier}" if self.issue is not None else ""
        head = f"{self.kind} {self.key}{target}: {self.title}"
        if self.changes:
            head += "  (" + ", ".join(f"{k}: {a!r} → {b!r}" for k, (a, b) in self.changes.items())
            head += ")"
        if self.reason:
            head += f"  [{self.reason}]"
        return head


@dataclass
class SyncPlan:
    """What a sync would do, item by item."""

    source: str
    team: Team
    actions: list[SyncAction]
    adopted: dict[str, str] = field(default_factory=dict)
    """Keys found only by their marker (no link stored): key → issue id."""

    def counts(self) -> dict[str, int]:
        counts = {kind: 0 for kind in ("create", "update", "close", "unchanged", "skip")}
        for action in self.actions:
            counts[action.kind] += 1
        return counts

    @property
    def mutations(self) -> list[SyncAction]:
        return [a for a in self.actions if a.kind in ("create", "update", "close")]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "linear.sync",
            "source": self.source,
            "team": self.team.key or self.team.id,
            "team_id": self.team.id,
            "adopted": dict(self.adopted),
            "counts": self.counts(),
            "actions": [a.to_json() for a in self.actions],
        }


@dataclass
class SyncResult:
    """What applying did: ``done`` mutations, ``failed`` ones with their reasons."""

    done: list[SyncAction] = field(default_factory=list)
    failed: list[tuple[SyncAction, str]] = field(default_factory=list)


class BacklogSync:
    """Plans and applies one backlog file against one Linear workspace."""

    def __init__(self, issues: IssueService, links: LinearLinkRepository) -> None:
        self.issues = issues
        self.links = links

    async def existing(self, backlog: BacklogFile, team: Team) -> tuple[dict[str, Issue], set[str]]:
        """Issues of the file's items: by stored link, and by marker from one paged query
        (archived included). Returns ``(key → issue, keys found only by marker)``."""
        found: dict[str, Issue] = {}
        variables = {
            "filter": {
                "team": {"id": {"eq": team.id}},
                "description": {"contains": marker_prefix(backlog.source)},
            },
            "includeArchived": True,
        }
        async for node in self.issues.client.paginate("Issues", variables, connection="issues"):
            issue = Issue.from_node(node)
            for key in markers_in(issue.description, backlog.source):
                found.setdefault(key, issue)
        by_marker = set(found)
        wanted = {item.key for item in backlog.items}
        for link in await self.links.for_source(backlog.link_source):
            if link.issue_id is None or link.external_key not in wanted:
                continue
            by_marker.discard(link.external_key)
            if link.external_key not in found:
                linked = await self.issues.client.find_issue(link.issue_id)
                if linked is not None:
                    found[link.external_key] = Issue.from_node(linked)
        return found, by_marker

    async def plan(
        self, backlog: BacklogFile, *, only: str | None = None, create_only: bool = False
    ) -> SyncPlan:
        """Resolve every name first (a bad one is exit 2 naming item and field), then
        compare each selected item with its issue."""
        selected = backlog.selected(only)
        team = await _named("team", self.issues.resolver.team(backlog.team))
        existing, by_marker = await self.existing(backlog, team)
        actions: list[SyncAction] = []
        problems: list[str] = []
        for item in selected:
            try:
                actions.append(await self._plan_item(backlog, team, item, existing, create_only))
            except _NameProblem as exc:
                problems.append(exc.message)
        if problems:
            raise UsageError("cannot plan the sync:\n" + "\n".join(problems))
        adopted = {k: existing[k].id for k in by_marker if k in {i.key for i in selected}}
        return SyncPlan(backlog.source, team, actions, adopted)

    async def _plan_item(
        self,
        backlog: BacklogFile,
        team: Team,
        item: BacklogItem,
        existing: Mapping[str, Issue],
        create_only: bool,
    ) -> SyncAction:
        defaults = backlog.defaults
        category = item.category or defaults.category
        labels = split_labels([*defaults.labels, *item.labels])
        priority = item.priority if item.priority is not None else defaults.priority
        project = item.project or defaults.project
        assignee = item.assignee or defaults.assignee
        tail = footer(category, backlog.source, item.key)
        description = f"{item.description}\n\n{tail}" if item.description else tail
        issue = existing.get(item.key)
        resolver = self.issues.resolver
        # names are resolved for every item, so a typo fails the plan even when unchanged
        where = f"item {item.key!r}"
        choice = await _named(f"{where} labels", resolver.labels(team, labels, allow_missing=False))
        label_ids = {label.id: label.name for label in choice.found}
        project_obj = (
            await _named(f"{where} project", resolver.project(team, project)) if project else None
        )
        user = (
            await _named(f"{where} assignee", resolver.assignee(team, assignee))
            if assignee
            else None
        )
        if issue is None:
            if item.status != "open":
                return SyncAction("skip", item.key, item.title, category, reason=item.status)
            draft = IssueDraft(
                title=item.title,
                description=description,
                team=team.id,
                project=project_obj.id if project_obj else None,
                priority=priority,
                assignee=user.id if user else None,
                labels=list(label_ids),
                due=item.due,
                estimate=item.estimate,
            )
            planned = await self.issues.plan_create(draft, client_id=str(uuid.uuid4()))
            return SyncAction("create", item.key, item.title, category, create=planned)
        if issue.archived_at:
            return SyncAction(
                "unchanged", item.key, item.title, category, issue, reason="archived in Linear"
            )
        if item.status != "open":
            wanted_type = "completed" if item.status == "done" else "canceled"
            if issue.state_type == wanted_type:
                return SyncAction("unchanged", item.key, item.title, category, issue)
            state = await self._first_state(team, wanted_type)
            closing: dict[str, tuple[Any, Any]] = {"state": (issue.state, state.name)}
            update = PlannedUpdate(issue, team, {"stateId": state.id})
            return SyncAction(
                "close", item.key, item.title, category, issue, closing, update=update
            )
        data: dict[str, Any] = {}
        changes: dict[str, tuple[Any, Any]] = {}
        if issue.title != item.title:
            data["title"], changes["title"] = item.title, (issue.title, item.title)
        if item.description is not None:
            if (issue.description or "").strip() != description.strip():
                data["description"] = description
                changes["description"] = ("…", "…")
        elif marker(backlog.source, item.key) not in (issue.description or ""):
            kept = (issue.description or "").rstrip()
            data["description"] = f"{kept}\n\n{tail}" if kept else tail
            changes["description"] = ("…", "+ marker")
        if priority is not None and issue.priority != priority:
            data["priority"], changes["priority"] = priority, (issue.priority, priority)
        missing = [i for i in label_ids if i not in issue.label_ids]
        if missing:
            data["addedLabelIds"] = missing
            changes["labels"] = (list(issue.labels), [label_ids[i] for i in missing])
        if project_obj is not None and (issue.project or "").lower() != project_obj.name.lower():
            data["projectId"] = project_obj.id
            changes["project"] = (issue.project, project_obj.name)
        if user is not None and not _same_user(issue, user.email, user.display_name, user.name):
            data["assigneeId"] = user.id
            changes["assignee"] = (issue.assignee, user.display_name or user.name)
        if item.estimate is not None and issue.estimate != item.estimate:
            data["estimate"], changes["estimate"] = item.estimate, (issue.estimate, item.estimate)
        if item.due is not None and issue.due_date != item.due:
            data["dueDate"], changes["due"] = item.due, (issue.due_date, item.due)
        if not data:
            return SyncAction("unchanged", item.key, item.title, category, issue)
        if create_only:
            return SyncAction(
                "skip", item.key, item.title, category, issue, changes, reason="--create-only"
            )
        update = PlannedUpdate(issue, team, data)
        return SyncAction("update", item.key, item.title, category, issue, changes, update=update)

    async def _first_state(self, team: Team, state_type: str) -> State:
        states = await self.issues.client.catalog.states(team.id)
        of_type = sorted((s for s in states if s.type == state_type), key=lambda s: s.position)
        if not of_type:
            raise UsageError(f"team {team.key or team.id} has no {state_type} state")
        return of_type[0]

    async def apply(self, plan: SyncPlan, backlog: BacklogFile) -> SyncResult:
        """Send the plan's mutations one by one (safe creates; links reserved first and
        attached after); a failure is recorded and the rest go on."""
        source = backlog.link_source
        for key, issue_id in plan.adopted.items():
            await self.links.link(source, key, issue_id)
        result = SyncResult()
        for action in plan.mutations:
            try:
                await self._apply_one(source, action)
            except TgpilotError as exc:
                result.failed.append((action, exc.message))
            else:
                result.done.append(action)
        return result

    async def _apply_one(self, source: str, action: SyncAction) -> None:
        if action.create is not None:
            planned = action.create
            # an attached key was made by an earlier, interrupted run: nothing is sent
            await create_once(
                self.links, source, action.key, lambda: self.issues.apply_create(planned)
            )
        elif action.update is not None:
            await self.issues.apply_update(action.update)


class _NameProblem(UsageError):
    """A name in the file that Linear does not know (exit 2), with where it is."""


async def _named(where: str, resolving: Awaitable[T]) -> T:
    """``resolving``'s result; a name problem is re-raised naming ``where`` and the
    close names (a transport or auth failure passes through unchanged)."""
    try:
        return await resolving
    except (NotFound, Ambiguous) as exc:
        detail = f"{where}: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
        raise _NameProblem(detail) from None


def _same_user(issue: Issue, *names: str) -> bool:
    current = {v.lower() for v in (issue.assignee, issue.assignee_email) if v}
    return bool(current & {n.lower() for n in names if n})


def describe_counts(counts: Mapping[str, int]) -> str:
    """``3 create, 0 update, 0 close, 1 unchanged, 0 skip``."""
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())
