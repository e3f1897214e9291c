"""``tgpilot linear …``: Linear issues, teams and the rest from the command line (spec
linear-and-bots.md §1.3).

``issue create|list|search|get|update`` and ``teams|projects|labels|states|users``.
Each command parses flags, builds the Linear client from ``linear:`` settings
(``LINEAR_API_KEY`` required: exit 2 before any request without it), calls
:class:`~tgpilot.services.linear.issues.IssueService` or the workspace catalog, and
renders a table or, with ``--json``, objects. ``create`` and ``update`` apply at once
(one change spelled out in full), are audit-logged, and offer ``--dry-run``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag
from tgpilot.core.errors import UsageError
from tgpilot.core.output import Output, progress_bar

if TYPE_CHECKING:
    from tgpilot.gateways.linear.client import LinearClient
    from tgpilot.gateways.linear.types import Issue
    from tgpilot.services.linear.issues import IssueService

T = TypeVar("T")

app = typer.Typer(help="Linear: issues, teams, backlog sync and the mirror.", no_args_is_help=True)
issue_app = typer.Typer(help="Create, list, search, show and update issues.", no_args_is_help=True)
app.add_typer(issue_app, name="issue")

COMMAND = "tgpilot linear"

TeamOpt = Annotated[
    str | None, typer.Option("--team", help="Team key or name (default: linear.team).")
]
ProjectOpt = Annotated[str | None, typer.Option("--project", help="Project name.")]
PriorityOpt = Annotated[
    str | None,
    typer.Option("--priority", help="0–4 or none, urgent, high, normal (medium), low."),
]
StateOpt = Annotated[
    str | None, typer.Option("--state", help="State name or type (backlog, started, …).")
]
AssigneeOpt = Annotated[
    str | None, typer.Option("--assignee", help="me, an email, a display or full name.")
]
LabelOpt = Annotated[
    list[str] | None,
    typer.Option("--label", help="Label name; repeat or separate with commas."),
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Description text.")]
DescriptionFileOpt = Annotated[
    Path | None,
    typer.Option("--description-file", help="Read the description from a file (- stdin)."),
]
DueOpt = Annotated[str | None, typer.Option("--due", help="Due date, YYYY-MM-DD.")]
EstimateOpt = Annotated[int | None, typer.Option("--estimate", help="Estimate (points).")]
CreateLabelsFlag = Annotated[
    bool, typer.Option("--create-labels", help="Create labels that do not exist yet.")
]
DryRunFlag = Annotated[
    bool, typer.Option("--dry-run", help="Print the resolved input; send no mutation.")
]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, help="Most issues to show.")]


@asynccontextmanager
async def open_linear(app_ctx: AppContext) -> AsyncIterator[LinearClient]:
    """The Linear client for ``linear:`` settings (a ConfigError without a key)."""
    from tgpilot.gateways.linear.client import LinearClient

    client = LinearClient.from_settings(app_ctx.config.linear, clock=app_ctx.runtime.clock)
    async with client:
        yield client


def issue_service(app_ctx: AppContext, client: LinearClient) -> IssueService:
    """The issue service with the account's audit log."""
    from tgpilot.core.audit import AuditLog
    from tgpilot.services.linear.issues import IssueService

    config = app_ctx.config
    return IssueService(
        client,
        config.linear,
        clock=app_ctx.runtime.clock,
        audit=AuditLog(config.paths_resolved.audit_log, config.account),
        command=app_ctx.command_line,
    )


def with_service(app_ctx: AppContext, work: Callable[[IssueService], Awaitable[T]]) -> T:
    """Run ``work`` with an issue service over a fresh client."""

    async def go() -> T:
        async with open_linear(app_ctx) as client:
            return await work(issue_service(app_ctx, client))

    return run_async(go())


def read_description(text: str | None, file: Path | None) -> str | None:
    """``--description`` or ``--description-file`` (``-`` reads stdin), not both."""
    if text is not None and file is not None:
        raise UsageError("give either --description or --description-file")
    if file is None:
        return text
    if str(file) == "-":
        return sys.stdin.read()
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--description-file: cannot read {file}: {exc.strerror}") from None


def print_plan(out: Output, json_mode: bool, plan: dict[str, Any]) -> None:
    """The ``--dry-run`` rendering of a planned create or update."""
    if json_mode:
        out.emit_json({**plan, "dry_run": True})
        return
    target = plan.get("issue") or plan.get("team")
    out.line(f"dry run: {plan['action']} in {target}, nothing sent")
    for key, value in plan["input"].items():
        out.line(f"  {key}: {value}")
    for name in plan["create_labels"]:
        out.line(f"  new label: {name}")


def print_issue(out: Output, issue: Issue) -> None:
    """One issue, in full, for ``get`` and ``update``."""
    out.line(f"{issue.identifier} {issue.url}")
    out.line(f"  title: {issue.title}")
    out.line(f"  state: {issue.state or ''}   priority: {issue.priority_label}")
    if issue.assignee:
        out.line(f"  assignee: {issue.assignee}")
    if issue.project:
        out.line(f"  project: {issue.project}")
    if issue.labels:
        out.line(f"  labels: {', '.join(issue.labels)}")
    if issue.due_date:
        out.line(f"  due: {issue.due_date}")
    if issue.estimate is not None:
        out.line(f"  estimate: {issue.estimate:g}")
    if issue.description:
        out.line("")
        out.line(issue.description)


def print_issues(out: Output, json_mode: bool, issues: list[Issue]) -> None:
    """A table of issues, or their objects with ``--json``."""
    if json_mode:
        out.emit_json([issue.to_json() for issue in issues])
        return
    table = Table("ID", "State", "Priority", "Assignee", "Title", header_style="bold")
    for issue in issues:
        table.add_row(
            issue.identifier,
            issue.state or "",
            issue.priority_label,
            issue.assignee or "",
            issue.title,
        )
    out.print(table)
    out.info(f"{len(issues)} issue{'' if len(issues) == 1 else 's'}")


async def collect(out: Output, issues: AsyncIterator[Issue], limit: int) -> list[Issue]:
    """Drain a paged issue iterator under a progress bar."""
    found: list[Issue] = []
    with progress_bar(out, "fetching issues") as update:
        async for issue in issues:
            found.append(issue)
            update(len(found), None)
    return found[:limit]


def show_issues(
    app_ctx: AppContext,
    json_mode: bool,
    *,
    text: str | None,
    limit: int,
    updated_since: str | None = None,
    include_archived: bool = False,
    label: list[str] | None = None,
    **names: str | None,
) -> None:
    """``issue list`` (no ``text``) or ``issue search``: fetch up to ``limit`` issues
    matching the filters and print them."""
    from tgpilot.core.dates import parse_when
    from tgpilot.services.linear.issues import IssueQuery

    since = (
        parse_when(updated_since, app_ctx.config.output.tz, option="--updated-since")
        if updated_since
        else None
    )
    query = IssueQuery(
        labels=tuple(label or ()),
        updated_since=since,
        include_archived=include_archived,
        **names,
    )

    def fetch(service: IssueService) -> Awaitable[list[Issue]]:
        found = (
            service.list_issues(query, limit=limit)
            if text is None
            else service.search_issues(text, query, limit=limit)
        )
        return collect(app_ctx.output, found, limit)

    print_issues(app_ctx.output, json_mode, with_service(app_ctx, fetch))


# --------------------------------------------------------------------------- issues


@issue_app.command("create")
def issue_create(
    ctx: typer.Context,
    title: Annotated[str, typer.Option("--title", help="Issue title (trimmed).")],
    description: DescriptionOpt = None,
    description_file: DescriptionFileOpt = None,
    team: TeamOpt = None,
    project: ProjectOpt = None,
    priority: PriorityOpt = None,
    state: StateOpt = None,
    assignee: AssigneeOpt = None,
    label: LabelOpt = None,
    due: DueOpt = None,
    estimate: EstimateOpt = None,
    create_labels: CreateLabelsFlag = False,
    dry_run: DryRunFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Create one issue; prints ``<identifier> <url>``."""
    from tgpilot.services.linear.issues import IssueDraft

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if not title.strip():
        raise UsageError("the title is empty", hint="pass --title TEXT")
    draft = IssueDraft(
        title=title,
        description=read_description(description, description_file),
        team=team,
        project=project,
        priority=priority,
        state=state,
        assignee=assignee,
        labels=tuple(label or ()),
        due=due,
        estimate=estimate,
        create_labels=create_labels,
    )
    out = app_ctx.output

    async def work(service: IssueService) -> None:
        plan = await service.plan_create(draft)
        if dry_run:
            print_plan(out, json_mode, plan.describe())
            return
        issue = await service.apply_create(plan)
        if json_mode:
            out.emit_json(issue.to_json())
        else:
            out.line(f"{issue.identifier} {issue.url}")

    with_service(app_ctx, work)


@issue_app.command("update")
def issue_update(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID", help="Issue identifier, e.g. ENG-42.")],
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    description: DescriptionOpt = None,
    description_file: DescriptionFileOpt = None,
    team: Annotated[str | None, typer.Option("--team", help="Move to this team.")] = None,
    project: ProjectOpt = None,
    priority: PriorityOpt = None,
    state: StateOpt = None,
    assignee: AssigneeOpt = None,
    label: LabelOpt = None,
    add_label: Annotated[
        list[str] | None, typer.Option("--add-label", help="Add a label (repeatable).")
    ] = None,
    remove_label: Annotated[
        list[str] | None, typer.Option("--remove-label", help="Remove a label (repeatable).")
    ] = None,
    due: DueOpt = None,
    estimate: EstimateOpt = None,
    unassign: Annotated[bool, typer.Option("--unassign", help="Remove the assignee.")] = False,
    clear_due: Annotated[bool, typer.Option("--clear-due", help="Remove the due date.")] = False,
    create_labels: CreateLabelsFlag = False,
    dry_run: DryRunFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Change one issue; labels set by others are kept."""
    from tgpilot.services.linear.issues import IssueChanges

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    changes = IssueChanges(
        title=title,
        description=read_description(description, description_file),
        team=team,
        project=project,
        priority=priority,
        state=state,
        assignee=assignee,
        labels=tuple(label or ()),
        add_labels=tuple(add_label or ()),
        remove_labels=tuple(remove_label or ()),
        due=due,
        estimate=estimate,
        unassign=unassign,
        clear_due=clear_due,
        create_labels=create_labels,
    )
    if changes.is_empty():
        raise UsageError(
            "nothing to change",
            hint="give --title, --state, --priority, --add-label, --unassign, …",
        )
    out = app_ctx.output

    async def work(service: IssueService) -> None:
        plan = await service.plan_update(ref, changes)
        if dry_run:
            print_plan(out, json_mode, plan.describe())
            return
        issue = await service.apply_update(plan)
        if json_mode:
            out.emit_json(issue.to_json())
        else:
            print_issue(out, issue)

    with_service(app_ctx, work)


@issue_app.command("get")
def issue_get(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID", help="Issue identifier, e.g. ENG-42.")],
    json_flag: JsonFlag = False,
) -> None:
    """Show one issue."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    issue = with_service(app_ctx, lambda service: service.get(ref))
    if json_mode:
        app_ctx.output.emit_json(issue.to_json())
    else:
        print_issue(app_ctx.output, issue)


@issue_app.command("list")
def issue_list(
    ctx: typer.Context,
    team: TeamOpt = None,
    project: ProjectOpt = None,
    priority: PriorityOpt = None,
    state: StateOpt = None,
    assignee: AssigneeOpt = None,
    label: LabelOpt = None,
    updated_since: Annotated[
        str | None, typer.Option("--updated-since", help="Only issues updated after this date.")
    ] = None,
    include_archived: Annotated[
        bool, typer.Option("--include-archived", help="Include archived issues.")
    ] = False,
    limit: LimitOpt = 50,
    json_flag: JsonFlag = False,
) -> None:
    """List issues matching the filters (paged up to --limit)."""
    app_ctx: AppContext = ctx.obj
    show_issues(
        app_ctx,
        app_ctx.use_json(json_flag),
        text=None,
        limit=limit,
        updated_since=updated_since,
        include_archived=include_archived,
        label=label,
        team=team,
        project=project,
        priority=priority,
        state=state,
        assignee=assignee,
    )


@issue_app.command("search")
def issue_search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What to search for.")],
    team: TeamOpt = None,
    project: ProjectOpt = None,
    priority: PriorityOpt = None,
    state: StateOpt = None,
    assignee: AssigneeOpt = None,
    label: LabelOpt = None,
    include_archived: Annotated[
        bool, typer.Option("--include-archived", help="Include archived issues.")
    ] = False,
    limit: LimitOpt = 50,
    json_flag: JsonFlag = False,
) -> None:
    """Search issues with Linear's search (paged up to --limit)."""
    app_ctx: AppContext = ctx.obj
    show_issues(
        app_ctx,
        app_ctx.use_json(json_flag),
        text=text,
        limit=limit,
        include_archived=include_archived,
        label=label,
        team=team,
        project=project,
        priority=priority,
        state=state,
        assignee=assignee,
    )


# --------------------------------------------------------------------------- workspace


def _render_rows(
    app_ctx: AppContext, json_mode: bool, columns: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    out = app_ctx.output
    if json_mode:
        out.emit_json(rows)
        return
    table = Table(*(c.replace("_", " ").capitalize() for c in columns), header_style="bold")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row[c]) for c in columns))
    out.print(table)


def _team_rows(
    app_ctx: AppContext,
    team: str | None,
    fetch: Callable[[LinearClient, str], Awaitable[list[Any]]],
) -> list[dict[str, Any]]:
    """Rows of a per-team collection, as dicts."""
    from tgpilot.services.linear.resolve import NameResolver

    async def go() -> list[dict[str, Any]]:
        async with open_linear(app_ctx) as client:
            resolver = NameResolver(client.catalog, default_team=app_ctx.config.linear.team)
            chosen = await resolver.team(team)
            return [asdict(item) for item in await fetch(client, chosen.id)]

    return run_async(go())


@app.command("teams")
def teams(ctx: typer.Context, json_flag: JsonFlag = False) -> None:
    """List the teams the key can see."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)

    async def go() -> list[dict[str, Any]]:
        async with open_linear(app_ctx) as client:
            return [asdict(t) for t in await client.catalog.teams()]

    _render_rows(app_ctx, json_mode, ("key", "name", "id"), run_async(go()))


@app.command("projects")
def projects(ctx: typer.Context, team: TeamOpt = None, json_flag: JsonFlag = False) -> None:
    """List a team's projects."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    rows = _team_rows(app_ctx, team, lambda client, team_id: client.catalog.projects(team_id))
    _render_rows(app_ctx, json_mode, ("name", "state", "id"), rows)


@app.command("labels")
def labels(ctx: typer.Context, team: TeamOpt = None, json_flag: JsonFlag = False) -> None:
    """List a team's labels and the workspace labels."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    rows = _team_rows(app_ctx, team, lambda client, team_id: client.catalog.labels(team_id))
    for row in rows:
        row["scope"] = "team" if row["team_id"] else "workspace"
    _render_rows(app_ctx, json_mode, ("name", "scope", "id"), rows)


@app.command("states")
def states(ctx: typer.Context, team: TeamOpt = None, json_flag: JsonFlag = False) -> None:
    """List a team's workflow states in order."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    rows = _team_rows(app_ctx, team, lambda client, team_id: client.catalog.states(team_id))
    _render_rows(app_ctx, json_mode, ("name", "type", "id"), rows)


@app.command("users")
def users(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", help="Only this team's members.")] = None,
    json_flag: JsonFlag = False,
) -> None:
    """List workspace users (or a team's members), active or not."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    columns = ("name", "display_name", "email", "active", "id")
    if team:
        rows = _team_rows(app_ctx, team, lambda client, team_id: client.catalog.members(team_id))
        _render_rows(app_ctx, json_mode, columns, rows)
        return

    async def go() -> list[dict[str, Any]]:
        async with open_linear(app_ctx) as client:
            return [asdict(u) for u in await client.catalog.users()]

    _render_rows(app_ctx, json_mode, columns, run_async(go()))
