"""Ready-to-paste MCP client configuration for this installation (``mcp print-config``).

Claude Desktop (``claude_desktop_config.json``) and Cursor (``~/.cursor/mcp.json``)
both read an ``mcpServers`` object; the entry starts ``tgpilot mcp serve`` over stdio
with the absolute path of this install's ``tgpilot`` script (or ``python -m tgpilot``
when there is none) and the data dir in ``TGPILOT_HOME``, so the agent's process finds
the same session, config and archive as the shell.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLIENT_FILES = {
    "claude": {
        "macOS": "~/Library/Application Support/Claude/claude_desktop_config.json",
        "Windows": "%APPDATA%\\Claude\\claude_desktop_config.json",
        "Linux": "~/.config/Claude/claude_desktop_config.json",
    },
    "cursor": {"global": "~/.cursor/mcp.json", "project": ".cursor/mcp.json"},
}
SERVER_KEY = "tgpilot"


@dataclass(frozen=True)
class Install:
    """What the client needs to start the server: the program, the data dir and the
    config file and account in use."""

    executable: Path
    home: Path
    account: str
    config_file: Path | None = None


def launch_command(executable: Path) -> tuple[str, list[str]]:
    """The command and leading args: the ``tgpilot`` script, else ``python -m tgpilot``."""
    if executable.name == "tgpilot" and executable.is_file():
        return str(executable.absolute()), []
    return str(Path(sys.executable).absolute()), ["-m", "tgpilot"]


def client_config(client: str, install: Install) -> dict[str, Any]:
    """The ``mcpServers`` document ``client`` (``claude`` or ``cursor``) reads."""
    if client not in CLIENT_FILES:
        raise ValueError(f"unknown client {client!r}")
    command, args = launch_command(install.executable)
    if install.config_file is not None:
        args += ["--config", str(install.config_file.absolute())]
    if install.account != "default":
        args += ["--account", install.account]
    entry: dict[str, Any] = {
        "command": command,
        "args": [*args, "mcp", "serve"],
        "env": {"TGPILOT_HOME": str(install.home.absolute())},
    }
    if client == "cursor":
        entry = {"type": "stdio", **entry}
    return {"mcpServers": {SERVER_KEY: entry}}
