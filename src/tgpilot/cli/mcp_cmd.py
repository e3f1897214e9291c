"""``tgpilot mcp serve|print-config``: the account and the archive as tools for IDE agents
(spec ops-and-mcp.md §6)."""

from __future__ import annotations

import typer

app = typer.Typer(help="MCP server for IDE agents (Claude Desktop, Cursor).", no_args_is_help=True)
