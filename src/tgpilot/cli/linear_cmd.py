"""``tgpilot linear …``: Linear issues, teams and the rest from the command line (spec
linear-and-bots.md §1.3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Linear: issues, teams, backlog sync and the mirror.", no_args_is_help=True)
