"""MCP inside ``tgpilot run``: the streamable HTTP server as a background service.

With ``mcp.enabled: true`` the run process also serves the MCP tools at
``http://<mcp.host>:<mcp.port>/mcp`` (loopback; another host needs the bearer token),
so agents keep working while the auto-responder and listeners run. The tools use the
host's already-connected gateway (:class:`~tgpilot.services.mcp.session.SharedSession`):
``run`` holds the session lock for its whole life, so no second lock is taken. The
host cancels the service at shutdown, which stops the HTTP server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mcp.server.mcpserver import MCPServer

from tgpilot.services.mcp.http import serve_http


@dataclass
class McpHttpService:
    """Serves one MCP server over streamable HTTP for the life of the host."""

    server: MCPServer
    host: str
    port: int
    token: str | None
    announce: Callable[[str], None]

    @property
    def name(self) -> str:
        return "mcp"

    async def run(self) -> None:
        await serve_http(self.server, self.host, self.port, self.token, announce=self.announce)
