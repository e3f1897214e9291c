"""``tgpilot config check|paths``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag
from tgpilot.core.errors import EXIT_USAGE

app = typer.Typer(
    help="Validate the configuration and show where files live.", no_args_is_help=True
)

_STYLE = {"ok": "green", "warning": "yellow", "missing": "red", "invalid": "red", "problem": "red"}


@app.command()
def check(
    ctx: typer.Context,
    online: Annotated[
        bool, typer.Option("--online", help="Also connect and check the session is authorised.")
    ] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Print every setting with its value, source and status; exit 2 if anything is wrong."""
    from tgpilot.services.config_report import check_config

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    report = run_async(check_config(app_ctx.config_options))
    authorised: bool | None = None
    if online and report.valid:
        authorised = run_async(_authorised(app_ctx))
    out = app_ctx.output
    problems = list(report.problems)
    if authorised is False:
        problems.append("session: not authorised — run tgpilot session login")
    if json_mode:
        data = report.to_json()
        if online:
            data["authorised"] = authorised
            data["problems"] = problems
            data["valid"] = not problems
        out.emit_json(data)
    else:
        table = Table("Field", "Value", "Source", "Status", header_style="bold")
        for row in report.inspection.rows:
            status = row.status if not row.message else f"{row.status}: {row.message}"
            table.add_row(
                row.path,
                Text(row.value),
                row.source,
                Text(status, style=_STYLE.get(row.status, "")),
            )
        for extra in report.checks:
            status = extra.status if not extra.message else f"{extra.status}: {extra.message}"
            table.add_row(
                extra.name, Text(extra.value), "", Text(status, style=_STYLE.get(extra.status, ""))
            )
        if authorised is not None:
            table.add_row(
                "session (online)",
                "authorised" if authorised else "not authorised",
                "",
                "ok" if authorised else "problem",
            )
        out.print(table)
        for warning in report.warnings:
            out.warn(warning)
        for problem in problems:
            out.err.print(Text(problem, style="red"))
        out.info("configuration is valid" if not problems else f"{len(problems)} problem(s)")
    if problems:
        raise typer.Exit(EXIT_USAGE)


def _status(status: str) -> Text:
    return Text(status, style=_STYLE.get(status, ""))


async def _authorised(app_ctx: AppContext) -> bool:
    async with app_ctx.open_gateway(require_auth=False) as gateway:
        return await gateway.is_authorized()


@app.command()
def paths(ctx: typer.Context, json_flag: JsonFlag = False) -> None:
    """Print every file and folder tgpilot uses for this account."""
    from tgpilot.core.config import inspect_config
    from tgpilot.services.config_report import paths_report

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    report = paths_report(inspect_config(app_ctx.config_options, require_credentials=False))
    if json_mode:
        app_ctx.output.emit_json(report)
        return
    width = max(len(k) for k in report)
    for name, value in report.items():
        app_ctx.output.line(f"{name.ljust(width)}  {value}")
