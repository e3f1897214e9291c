"""The issue service: create, update, get, list and search Linear issues (spec §1.3).

The CLI, the Telegram → Linear listener and the backlog sync all go through
:class:`IssueService`, so titles are trimmed, empty fields left out, names resolved
and mutations audit-logged the same way everywhere. Creating and updating are two
steps — ``plan_*`` resolves names to a ready input (what ``--dry-run`` prints, no
mutation sent) and ``apply_*`` sends it — and ``create``/``update`` do both.

A caller that must never create twice (the listener reserves a link first) passes its
own ``client_id``: it becomes the issue's ``id``, and the gateway's safe create returns
the stored issue when a retry finds that id taken.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tgpilot.core.errors import UsageError
from tgpilot.core.output import iso_time
from tgpilot.gateways.linear.errors import IssueNotFound, LinearError
from tgpilot.gateways.linear.types import Issue, Label, Team
from tgpilot.services.linear.resolve import NameResolver, parse_priority, split_labels

if TYPE_CHECKING:
    from tgpilot.core.audit import AuditLog
    from tgpilot.core.clock import Clock
    from tgpilot.core.config.settings import LinearSettings
    from tgpilot.gateways.linear.client import LinearClient

IDENTIFIER = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)-(\d+)\s*$")
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class IssueDraft:
    """A new issue as the user names things (``None``/empty: not given)."""

    title: str
    description: str | None = None
    team: str | None = None
    project: str | None = None
    priority: str | int | None = None
    state: str | None = None
    assignee: str | None = None
    labels: Sequence[str] = ()
    due: str | None = None
    estimate: int | None = None
    create_labels: bool = False


@dataclass(frozen=True)
class IssueChanges:
    """Changes to an existing issue; ``labels`` and ``add_labels`` both add."""

    title: str | None = None
    description: str | None = None
    team: str | None = None
    project: str | None = None
    priority: str | int | None = None
    state: str | None = None
    assignee: str | None = None
    labels: Sequence[str] = ()
    add_labels: Sequence[str] = ()
    remove_labels: Sequence[str] = ()
    due: str | None = None
    estimate: int | None = None
    unassign: bool = False
    clear_due: bool = False
    create_labels: bool = False

    def is_empty(self) -> bool:
        """True when nothing would change (blank texts and empty label lists count as
        not given)."""
        texts = [self.title, self.description, self.team, self.project, self.state]
        texts += [self.assignee, self.due]
        given = any((t or "").strip() for t in texts)
        given |= self.priority is not None and str(self.priority).strip() != ""
        given |= self.estimate is not None or self.unassign or self.clear_due
        given |= bool(split_labels([*self.labels, *self.add_labels, *self.remove_labels]))
        return not given


@dataclass(frozen=True)
class IssueQuery:
    """Filters of ``issue list`` and ``issue search`` (names, resolved per team)."""

    team: str | None = None
    project: str | None = None
    state: str | None = None
    assignee: str | None = None
    labels: Sequence[str] = ()
    priority: str | int | None = None
    updated_since: datetime | None = None
    include_archived: bool = False


@dataclass(frozen=True)
class PlannedCreate:
    """A resolved ``issueCreate`` input; ``new_labels`` are created first."""

    team: Team
    input: dict[str, Any]
    new_labels: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """What ``--dry-run`` prints."""
        return {
            "action": "create",
            "team": self.team.key or self.team.id,
            "input": self.input,
            "create_labels": list(self.new_labels),
        }


@dataclass(frozen=True)
class PlannedUpdate:
    """A resolved ``issueUpdate`` of ``issue``; ``new_labels`` are created and added."""

    issue: Issue
    team: Team
    input: dict[str, Any]
    new_labels: tuple[str, ...] = field(default=())

    def describe(self) -> dict[str, Any]:
        """What ``--dry-run`` prints."""
        return {
            "action": "update",
            "issue": self.issue.identifier,
            "input": self.input,
            "create_labels": list(self.new_labels),
        }


def clean_text(value: str | None) -> str | None:
    """Trimmed text, or None when blank."""
    text = (value or "").strip()
    return text or None


def parse_due(value: str, *, option: str = "--due") -> str:
    """A due date as ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise UsageError(
            f"{option}: not a date: {value.strip()!r}", hint="use YYYY-MM-DD"
        ) from None


def check_estimate(value: int) -> int:
    if value < 0:
        raise UsageError(f"--estimate must be 0 or more, not {value}")
    return value


def normalise_ref(ref: str) -> str:
    """An identifier upper-cased (``eng-42`` → ``ENG-42``); ids pass unchanged."""
    match = IDENTIFIER.match(ref)
    if match:
        return f"{match.group(1).upper()}-{match.group(2)}"
    text = ref.strip()
    if not text:
        raise UsageError("give an issue identifier such as ENG-42")
    return text


class IssueService:
    """Issues of one Linear workspace, through one client."""

    def __init__(
        self,
        client: LinearClient,
        settings: LinearSettings,
        *,
        clock: Clock,
        audit: AuditLog | None = None,
        command: str = "tgpilot linear",
    ) -> None:
        self.client = client
        self.settings = settings
        self.clock = clock
        self.audit = audit
        self.command = command
        self.resolver = NameResolver(client.catalog, default_team=settings.team)

    # ------------------------------------------------------------------ create

    async def plan_create(
        self, draft: IssueDraft, *, client_id: str | None = None
    ) -> PlannedCreate:
        """Resolve ``draft`` into an ``issueCreate`` input; no mutation is sent.

        Trimmed title (empty fails before any request), blank description left out,
        priority from ``linear.default_priority`` when not given and left out when 0.
        """
        title = clean_text(draft.title)
        if title is None:
            raise UsageError("the title is empty", hint="pass --title TEXT")
        priority = (
            self.settings.default_priority
            if draft.priority is None or str(draft.priority).strip() == ""
            else parse_priority(draft.priority)
        )
        due = parse_due(draft.due) if draft.due and draft.due.strip() else None
        estimate = None if draft.estimate is None else check_estimate(draft.estimate)
        team = await self.resolver.team(draft.team)
        data: dict[str, Any] = {"teamId": team.id, "title": title}
        if client_id:
            data["id"] = client_id
        description = clean_text(draft.description)
        if description:
            data["description"] = description
        if priority:
            data["priority"] = priority
        if clean_text(draft.project):
            data["projectId"] = (await self.resolver.project(team, str(draft.project))).id
        if clean_text(draft.state):
            data["stateId"] = (await self.resolver.state(team, str(draft.state))).id
        if clean_text(draft.assignee):
            data["assigneeId"] = (await self.resolver.assignee(team, str(draft.assignee))).id
        labels = await self.resolver.labels(team, draft.labels, allow_missing=draft.create_labels)
        if labels.found:
            data["labelIds"] = [label.id for label in labels.found]
        if due:
            data["dueDate"] = due
        if estimate is not None:
            data["estimate"] = estimate
        return PlannedCreate(team, data, labels.missing)

    async def apply_create(self, plan: PlannedCreate) -> Issue:
        """Create the planned issue (its new labels first); audit-logged."""
        data = dict(plan.input)
        created = await self._create_labels(plan.team, plan.new_labels)
        if created:
            data["labelIds"] = [*data.get("labelIds", []), *(label.id for label in created)]
        params = {"team": plan.team.key, "title": data["title"], "fields": sorted(data)}
        try:
            issue = Issue.from_node(await self.client.create_issue(data))
        except LinearError as exc:
            self._record("linear.issue_create", "failed", params, error=exc.message)
            raise
        self._record("linear.issue_create", "ok", {**params, "issue": issue.identifier})
        return issue

    async def create(self, draft: IssueDraft, *, client_id: str | None = None) -> Issue:
        """Plan and apply one create."""
        return await self.apply_create(await self.plan_create(draft, client_id=client_id))

    # ------------------------------------------------------------------ update

    async def plan_update(self, ref: str, changes: IssueChanges) -> PlannedUpdate:
        """Resolve ``changes`` to ``ref`` into an ``issueUpdate`` input; nothing to
        change is a usage error (before any request)."""
        if changes.is_empty():
            raise UsageError(
                "nothing to change",
                hint="give --title, --state, --priority, --add-label, --unassign, …",
            )
        if changes.title is not None and clean_text(changes.title) is None:
            raise UsageError("the title is empty")
        if changes.assignee and changes.unassign:
            raise UsageError("give either --assignee or --unassign")
        if changes.due and changes.clear_due:
            raise UsageError("give either --due or --clear-due")
        priority = (
            None
            if changes.priority is None or str(changes.priority).strip() == ""
            else parse_priority(changes.priority)
        )
        due = parse_due(changes.due) if changes.due and changes.due.strip() else None
        estimate = None if changes.estimate is None else check_estimate(changes.estimate)
        issue = await self.get(ref)
        data: dict[str, Any] = {}
        team = Team(issue.team_id, issue.team_key, "")
        if clean_text(changes.team):
            team = await self.resolver.team(changes.team)
            if team.id != issue.team_id:
                data["teamId"] = team.id
        if clean_text(changes.title):
            data["title"] = clean_text(changes.title)
        if clean_text(changes.description):
            data["description"] = clean_text(changes.description)
        if priority is not None:
            data["priority"] = priority
        if clean_text(changes.project):
            data["projectId"] = (await self.resolver.project(team, str(changes.project))).id
        if clean_text(changes.state):
            data["stateId"] = (await self.resolver.state(team, str(changes.state))).id
        if clean_text(changes.assignee):
            data["assigneeId"] = (await self.resolver.assignee(team, str(changes.assignee))).id
        if changes.unassign:
            data["assigneeId"] = None
        if due:
            data["dueDate"] = due
        if changes.clear_due:
            data["dueDate"] = None
        if estimate is not None:
            data["estimate"] = estimate
        added = await self.resolver.labels(
            team, [*changes.labels, *changes.add_labels], allow_missing=changes.create_labels
        )
        if added.found:
            data["addedLabelIds"] = [label.id for label in added.found]
        removed = await self.resolver.labels(team, changes.remove_labels, allow_missing=False)
        if removed.found:
            data["removedLabelIds"] = [label.id for label in removed.found]
        return PlannedUpdate(issue, team, data, added.missing)

    async def apply_update(self, plan: PlannedUpdate) -> Issue:
        """Send the planned update (new labels created first); audit-logged."""
        data = dict(plan.input)
        created = await self._create_labels(plan.team, plan.new_labels)
        if created:
            data["addedLabelIds"] = [*data.get("addedLabelIds", []), *(x.id for x in created)]
        params = {"issue": plan.issue.identifier, "fields": sorted(data)}
        try:
            node = await self.client.mutate(
                "IssueUpdate",
                {"id": plan.issue.id, "input": data},
                field="issueUpdate",
                entity="issue",
            )
        except LinearError as exc:
            self._record("linear.issue_update", "failed", params, error=exc.message)
            raise
        self._record("linear.issue_update", "ok", params)
        return Issue.from_node(node)

    async def update(self, ref: str, changes: IssueChanges) -> Issue:
        """Plan and apply one update."""
        return await self.apply_update(await self.plan_update(ref, changes))

    # ------------------------------------------------------------------ read

    async def get(self, ref: str) -> Issue:
        """The issue with this identifier (``ENG-42``) or id; :class:`IssueNotFound`
        (exit 2) when there is none."""
        wanted = normalise_ref(ref)
        node = await self.client.find_issue(wanted)
        if node is None:
            raise IssueNotFound(wanted)
        return Issue.from_node(node)

    async def list_issues(
        self, query: IssueQuery, *, limit: int = DEFAULT_LIMIT
    ) -> AsyncIterator[Issue]:
        """Issues matching ``query``, newest pages followed up to ``limit``."""
        variables: dict[str, Any] = {"filter": await self._filter(query)}
        if query.include_archived:
            variables["includeArchived"] = True
        async for node in self.client.paginate(
            "Issues", variables, connection="issues", limit=limit
        ):
            yield Issue.from_node(node)

    async def search_issues(
        self, text: str, query: IssueQuery, *, limit: int = DEFAULT_LIMIT
    ) -> AsyncIterator[Issue]:
        """Issues found by Linear's ``searchIssues`` for ``text``, up to ``limit``."""
        term = text.strip()
        if not term:
            raise UsageError("give a search text")
        variables: dict[str, Any] = {"term": term}
        condition = await self._filter(query)
        if condition:
            variables["filter"] = condition
        if query.include_archived:
            variables["includeArchived"] = True
        async for node in self.client.paginate(
            "SearchIssues", variables, connection="searchIssues", limit=limit
        ):
            yield Issue.from_node(node)

    # ------------------------------------------------------------------ plumbing

    async def _filter(self, query: IssueQuery) -> dict[str, Any]:
        """An ``IssueFilter`` for ``query``; names resolve within the team."""
        condition: dict[str, Any] = {}
        needs_team = any(
            clean_text(v) for v in (query.project, query.state, query.assignee)
        ) or bool(split_labels(query.labels))
        team: Team | None = None
        if clean_text(query.team) or (needs_team or self.settings.team):
            team = await self.resolver.team(query.team)
            condition["team"] = {"id": {"eq": team.id}}
        if query.priority is not None and str(query.priority).strip():
            condition["priority"] = {"eq": parse_priority(query.priority)}
        if query.updated_since is not None:
            condition["updatedAt"] = {"gt": iso_time(query.updated_since)}
        if team is None:
            return condition
        if clean_text(query.project):
            project = await self.resolver.project(team, str(query.project))
            condition["project"] = {"id": {"eq": project.id}}
        if clean_text(query.state):
            state = await self.resolver.state(team, str(query.state))
            condition["state"] = {"id": {"eq": state.id}}
        if clean_text(query.assignee):
            user = await self.resolver.assignee(team, str(query.assignee))
            condition["assignee"] = {"id": {"eq": user.id}}
        labels = await self.resolver.labels(team, query.labels, allow_missing=False)
        if labels.found:
            condition["and"] = [{"labels": {"some": {"id": {"eq": x.id}}}} for x in labels.found]
        return condition

    async def _create_labels(self, team: Team, names: Sequence[str]) -> list[Label]:
        created: list[Label] = []
        for name in names:
            params = {"team": team.key, "label": name}
            try:
                node = await self.client.mutate(
                    "IssueLabelCreate",
                    {"input": {"name": name, "teamId": team.id}},
                    field="issueLabelCreate",
                    entity="issueLabel",
                )
            except LinearError as exc:
                self._record("linear.label_create", "failed", params, error=exc.message)
                raise
            label = Label.from_node(node)
            self.client.catalog.remember_label(team.id, label)
            self._record("linear.label_create", "ok", params)
            created.append(label)
        return created

    def _record(
        self, action: str, result: str, params: dict[str, Any], *, error: str | None = None
    ) -> None:
        if self.audit is not None:
            self.audit.record(
                ts=self.clock.now(),
                command=self.command,
                action=action,
                result=result,
                params=params,
                error=error,
            )
