"""The streamable HTTP transport: ``/mcp`` served by uvicorn, a bearer token off loopback.

:func:`serve_http` binds the socket itself (so ``--port 0`` works and the real port is
announced), checks ``Authorization: Bearer <token>`` on every request when a token is
set (:class:`BearerGuard`, constant-time compare), and leaves signal handling to its
owner — ``mcp serve`` or ``tgpilot run`` — by stopping when its ``stop`` event is set
or its task is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import socket
from collections.abc import Callable, Iterator

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp, Receive, Scope, Send

PATH = "/mcp"
LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` binds only this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BearerGuard:
    """ASGI middleware answering 401 to any HTTP request without the bearer token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                await _refuse(send)
                return
        await self._app(scope, receive, send)


async def _refuse(send: Send) -> None:
    body = b'{"error": "missing or wrong bearer token"}'
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b"Bearer"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _OwnedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the process owner decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    return socket.create_server((host.strip("[]"), port), family=family, reuse_port=False)


async def serve_http(
    server: MCPServer,
    host: str,
    port: int,
    token: str | None,
    *,
    announce: Callable[[str], None],
    stop: asyncio.Event | None = None,
) -> None:
    """Serve ``server`` at ``http://host:port/mcp`` until ``stop`` is set or cancelled."""
    app: ASGIApp = server.streamable_http_app(streamable_http_path=PATH, host=host)
    if token:
        app = BearerGuard(app, token)
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    web = _OwnedServer(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    serving = asyncio.create_task(web.serve(sockets=[sock]))
    shown = f"[{host}]" if ":" in host else host
    announce(f"serving MCP on http://{shown}:{bound_port}{PATH}")
    waiting = asyncio.create_task((stop or asyncio.Event()).wait())
    try:
        await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        web.should_exit = True
        waiting.cancel()
        await asyncio.shield(serving)
        sock.close()
