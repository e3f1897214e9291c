"""``tgpilot linear mirror``: copy Linear into the store (spec linear-and-bots.md §1.7).

Teams, users, labels and states whole; projects and issues of the chosen teams (all
by default) since the stored watermark minus five minutes, or whole with ``--full``.
Prints counts per entity, issues per state type and the rows written (0 when nothing
changed in Linear); ``--json`` prints the same as one object. Registered on the
``linear`` group by :mod:`tgpilot.cli.app`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.linear_cmd import open_linear
from tgpilot.cli.options import JsonFlag
from tgpilot.core.output import Output, progress_bar

if TYPE_CHECKING:
    from tgpilot.services.linear.mirror import MirrorReport

TeamsOpt = Annotated[
    list[str] | None,
    typer.Option("--team", help="Mirror this team's projects and issues (key or name; repeat)."),
]
FullFlag = Annotated[
    bool, typer.Option("--full", help="Fetch every project and issue, ignoring watermarks.")
]


def mirror(
    ctx: typer.Context,
    team: TeamsOpt = None,
    full: FullFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Copy teams, users, labels, states, projects and issues into the store."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    report = run_async(_mirror(app_ctx, tuple(team or ()), full))
    if json_mode:
        app_ctx.output.emit_json(report.to_json())
    else:
        render_report(app_ctx.output, report)


async def _mirror(app_ctx: AppContext, teams: tuple[str, ...], full: bool) -> MirrorReport:
    from tgpilot.services.linear.mirror import LinearMirror, MirrorOptions
    from tgpilot.store.linear import LinearMirrorRepository

    async with open_linear(app_ctx) as client, app_ctx.open_store() as store:
        repository = LinearMirrorRepository(store, app_ctx.runtime.clock)
        with progress_bar(app_ctx.output, "mirroring Linear") as update:
            fetched = {"count": 0}

            def progress(_entity: str, _done: int) -> None:
                fetched["count"] += 1
                update(fetched["count"], None)

            service = LinearMirror(client, repository, progress=progress)
            return await service.run(MirrorOptions(teams=teams, full=full))


def render_report(out: Output, report: MirrorReport) -> None:
    """The human rendering: a table per entity, then issues per state type."""
    table = Table(title=f"Linear mirror ({'full' if report.full else 'incremental'})")
    for column in ("entity", "fetched", "inserted", "updated", "deleted", "unchanged"):
        table.add_column(column, justify="left" if column == "entity" else "right")
    for name, entity in report.entities.items():
        c = entity.counts
        table.add_row(
            name.replace("_", " "),
            *(str(v) for v in (entity.fetched, c.inserted, c.updated, c.deleted, c.unchanged)),
        )
    out.print(table)
    by_type = ", ".join(f"{kind} {count}" for kind, count in report.issues_by_state_type.items())
    out.line(f"issues by state type: {by_type or 'none'}")
    out.line(
        f"teams: {', '.join(report.teams) or 'none'}; rows written: {report.rows_written}; "
        f"requests: {report.requests}"
    )
