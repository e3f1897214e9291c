"""``tgpilot mcp serve|print-config``: the account and the archive as tools for IDE agents
(spec ops-and-mcp.md §6).

``serve`` speaks MCP over stdio (stdout carries only the protocol; messages and logs go
to stderr) or, with ``--transport http``, streamable HTTP at ``/mcp``. Start-up touches
no Telegram: the session is taken on the first tool that needs it and released after
``mcp.idle_release`` idle seconds. A host off loopback needs ``TGPILOT_MCP__HTTP_TOKEN``
(exit 2 without it). ``--metrics-addr HOST:PORT`` (loopback) serves ``/metrics`` and
``/healthz`` beside it, as ``tgpilot run`` does. ``print-config`` prints the client
configuration to paste into Claude Desktop or Cursor. The server itself is
:mod:`tgpilot.services.mcp`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag
from tgpilot.core.config.settings import check_loopback_addr
from tgpilot.core.errors import UsageError

if TYPE_CHECKING:
    from tgpilot.services.mcp.metrics import McpMetrics
    from tgpilot.services.mcp.server import TgpilotMcpServer
    from tgpilot.services.mcp.session import SessionProvider
    from tgpilot.services.mcp.tools import McpTools

app = typer.Typer(help="MCP server for IDE agents (Claude Desktop, Cursor).", no_args_is_help=True)

TRANSPORTS = ("stdio", "http")
CLIENTS = ("claude", "cursor")


def mcp_tools(
    app_ctx: AppContext, session: SessionProvider, metrics: McpMetrics | None = None
) -> McpTools:
    """The tools over the configured store, audit log and write settings, counted in
    ``metrics`` (None: a registry nobody serves)."""
    from tgpilot.core.audit import AuditLog
    from tgpilot.services.mcp.metrics import McpMetrics
    from tgpilot.services.mcp.tools import McpDeps, McpTools
    from tgpilot.services.mcp.writes import WriteGate

    config = app_ctx.config
    audit = AuditLog(config.paths_resolved.audit_log, config.account)
    deps = McpDeps(
        config=config,
        clock=app_ctx.runtime.clock,
        session=session,
        open_store=app_ctx.open_store,
        gate=WriteGate(config.mcp, audit),
        command=app_ctx.command_line,
        metrics=metrics or McpMetrics(),
    )
    return McpTools(deps)


def log_to_stderr() -> None:
    """The server's own log lines (session taken, released, tool failures) on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("tgpilot.mcp")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


@app.command("serve")
def serve(
    ctx: typer.Context,
    transport: Annotated[
        str, typer.Option("--transport", help="stdio (default) or http (streamable, at /mcp).")
    ] = "stdio",
    host: Annotated[
        str | None, typer.Option("--host", help="HTTP host (default mcp.host, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help="HTTP port (default mcp.port, 8765)."),
    ] = None,
    metrics_addr: Annotated[
        str | None,
        typer.Option(
            "--metrics-addr", help="Serve /metrics and /healthz on this loopback HOST:PORT."
        ),
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Serve the account and the archive to an MCP client until it disconnects or is stopped.

    ``--json`` changes nothing on stdio (stdout is the protocol); over HTTP the
    address is announced on stderr either way, as is the metrics address."""
    from tgpilot.services.mcp.http import is_loopback

    app_ctx: AppContext = ctx.obj
    app_ctx.use_json(json_flag)
    if transport not in TRANSPORTS:
        raise UsageError(f"--transport: unknown transport {transport!r}", hint="stdio or http")
    config = app_ctx.config
    host = host or config.mcp.host
    port = config.mcp.port if port is None else port
    token = config.mcp.http_token.get_secret_value() if config.mcp.http_token else None
    if transport == "http" and not is_loopback(host) and not token:
        raise UsageError(
            f"--host {host} is not loopback: a bearer token is required",
            hint="set TGPILOT_MCP__HTTP_TOKEN, or serve on 127.0.0.1",
        )
    if metrics_addr is not None:
        try:
            check_loopback_addr(metrics_addr)
        except ValueError as exc:
            raise UsageError(f"--metrics-addr: {exc}") from None
    log_to_stderr()
    run_async(_serve(app_ctx, transport, host, port, token, metrics_addr))


async def _serve(
    app_ctx: AppContext,
    transport: str,
    host: str,
    port: int,
    token: str | None,
    metrics_addr: str | None,
) -> None:
    from tgpilot.services.mcp.metrics import McpHealth, McpMetrics
    from tgpilot.services.mcp.server import build_server
    from tgpilot.services.mcp.session import LazySession
    from tgpilot.services.runtime.health import HealthServer

    config, clock = app_ctx.config, app_ctx.runtime.clock
    metrics = McpMetrics()
    session = LazySession(
        app_ctx.open_gateway, config.mcp.idle_release, clock, waited=metrics.lock_wait.observe
    )
    server = build_server(mcp_tools(app_ctx, session, metrics), transport)
    health = HealthServer(metrics, McpHealth(clock, clock.monotonic(), transport, session))
    try:
        if metrics_addr is not None:
            bound = await health.start(metrics_addr)
            shown = metrics_addr.rsplit(":", 1)[0]
            app_ctx.output.info(f"metrics and health on http://{shown}:{bound}")
        await _transport(app_ctx, server, transport, host, port, token)
    finally:
        await health.close()
        await session.close()


async def _transport(
    app_ctx: AppContext,
    server: TgpilotMcpServer,
    transport: str,
    host: str,
    port: int,
    token: str | None,
) -> None:
    """Serve ``server`` over ``transport`` until the client leaves or a signal stops it."""
    from tgpilot.services.mcp.http import serve_http

    if transport == "stdio":
        await server.run_stdio_async()
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await serve_http(server, host, port, token, announce=app_ctx.output.info, stop=stop)


@app.command("print-config")
def print_config(
    ctx: typer.Context,
    client: Annotated[
        str, typer.Option("--client", help="claude (Claude Desktop) or cursor.")
    ] = "claude",
    json_flag: JsonFlag = False,
) -> None:
    """Print the MCP client configuration for this install, ready to paste.

    With ``--json``: ``{"client", "files", "config"}``, where ``files`` says where the
    client reads it from."""
    from tgpilot.services.mcp.client_config import CLIENT_FILES, Install, client_config
    from tgpilot.services.runtime.systemd import tgpilot_executable

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if client not in CLIENTS:
        raise UsageError(f"--client: unknown client {client!r}", hint="claude or cursor")
    config = app_ctx.config
    install = Install(
        executable=tgpilot_executable(),
        home=config.home,
        account=config.account,
        config_file=config.config_file,
    )
    document = client_config(client, install)
    files = CLIENT_FILES[client]
    out = app_ctx.output
    if json_mode:
        out.emit_json({"client": client, "files": files, "config": document})
        return
    from tgpilot.core.output import to_json

    where = "; ".join(f"{k}: {v}" for k, v in files.items())
    out.info(f"merge into the mcpServers object of {where}")
    out.line(to_json(document))
