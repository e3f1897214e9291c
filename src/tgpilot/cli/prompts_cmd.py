"""``tgpilot prompts list|show|copy|check``: the prompt files models receive (ai.md §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from tgpilot.cli.context import AppContext
from tgpilot.cli.options import JsonFlag
from tgpilot.core.errors import EXIT_USAGE

if TYPE_CHECKING:
    from tgpilot.services.prompts import PromptLibrary

app = typer.Typer(
    help="Prompt files: list them, show one, copy a default for editing, check them all.",
    no_args_is_help=True,
)


def _library(app_ctx: AppContext) -> PromptLibrary:
    from tgpilot.services.prompts import PromptLibrary

    return PromptLibrary.from_config(app_ctx.config, clock=app_ctx.runtime.clock)


@app.command("list")
def list_prompts(ctx: typer.Context, json_flag: JsonFlag = False) -> None:
    """Every prompt with its source (packaged or override), placeholders and hash."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    infos = _library(app_ctx).infos()
    out = app_ctx.output
    if json_mode:
        out.emit_json({"prompts": [info.to_json() for info in infos]})
        return
    table = Table("Name", "Source", "Placeholders", "Hash", "Description", header_style="bold")
    for info in infos:
        placeholders = ", ".join(info.placeholders)
        description = Text(info.description)
        if info.problem:
            description = Text(f"invalid: {info.problem}", style="red")
        table.add_row(info.name, info.source, placeholders, info.hash, description)
    out.print(table)
    overridden = sum(1 for info in infos if info.source == "override")
    out.info(f"{len(infos)} prompts, {overridden} overridden")


@app.command()
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Prompt name (digest, sales/cold_email) or path.")],
    json_flag: JsonFlag = False,
) -> None:
    """Print the effective text of a prompt (the override if there is one)."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    prompt = _library(app_ctx).load(name)
    if json_mode:
        app_ctx.output.emit_json(
            {
                "name": prompt.name,
                "source": prompt.source,
                "origin": prompt.origin,
                "hash": prompt.hash,
                "description": prompt.description,
                "placeholders": list(prompt.placeholders),
                "defaults": {
                    "temperature": prompt.defaults.temperature,
                    "max_tokens": prompt.defaults.max_tokens,
                    "json": prompt.defaults.json,
                    "schema": prompt.defaults.schema,
                },
                "system": prompt.system,
                "user_template": prompt.user_template,
                "text": prompt.text,
            }
        )
        return
    app_ctx.output.info(f"{prompt.origin} ({prompt.source}, hash {prompt.hash})")
    typer.echo(prompt.text, nl=not prompt.text.endswith("\n"))


@app.command()
def copy(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Packaged prompt name, e.g. digest.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing copy.")] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Copy a packaged prompt into the override folder, where edits take effect."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    target = _library(app_ctx).copy(name, force=force)
    if json_mode:
        app_ctx.output.emit_json({"name": name, "path": str(target)})
    else:
        app_ctx.output.info(f"copied {name} to {target}; edit it there")


@app.command()
def check(ctx: typer.Context, json_flag: JsonFlag = False) -> None:
    """Validate every effective prompt file; exit 2 listing every problem."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    library = _library(app_ctx)
    checked = len(library.names())
    problems = library.check()
    out = app_ctx.output
    if json_mode:
        out.emit_json(
            {
                "valid": not problems,
                "checked": checked,
                "problems": [problem.to_json() for problem in problems],
            }
        )
    else:
        for problem in problems:
            out.err.print(Text(f"{problem.origin}: {problem.message}", style="red"))
        summary = f"{len(problems)} problem(s)" if problems else "all prompts are valid"
        out.info(f"checked {checked} prompts: {summary}")
    if problems:
        raise typer.Exit(EXIT_USAGE)
