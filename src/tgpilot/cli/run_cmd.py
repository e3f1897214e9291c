"""``tgpilot run``: the one long-running process for the account (spec telegram-cli §4.7).

Holds the session lock for its whole life, connects once, and hosts the handlers the
configuration enables: the auto-responder (``autoanswer.mode``), the moderation
watches and export watches (``run.handlers``), the draft courier, and the MCP server
over HTTP on loopback (``mcp.enabled``), sharing the connected client. SIGTERM or
SIGINT stops it cleanly (replies in flight are finished within
``run.shutdown_timeout_s``; exit 0). ``--print-systemd-unit`` prints a unit for it.
"""

from __future__ import annotations

import asyncio
import signal
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag
from tgpilot.core.config.settings import check_loopback_addr
from tgpilot.core.errors import UsageError

if TYPE_CHECKING:
    from tgpilot.core.audit import AuditLog
    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.services.autoanswer.responder import AutoResponder
    from tgpilot.services.runtime.handler import BackgroundService, MessageHandler
    from tgpilot.services.runtime.host import RunSummary
    from tgpilot.services.runtime.metrics import RunMetrics
    from tgpilot.store import Store


def run(
    ctx: typer.Context,
    metrics_addr: Annotated[
        str | None,
        typer.Option(
            "--metrics-addr", help="Serve /metrics and /healthz on this loopback HOST:PORT."
        ),
    ] = None,
    print_systemd_unit: Annotated[
        bool, typer.Option("--print-systemd-unit", help="Print a systemd unit and exit.")
    ] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Run every long-running handler of the account in one process, until stopped.

    With ``--json`` the closing summary (handlers, failures per handler, whether the
    queue was drained) is one JSON document on stdout; the unit of
    ``--print-systemd-unit`` is ``{"unit": TEXT}``."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if print_systemd_unit:
        _print_unit(app_ctx, json_mode)
        return
    if metrics_addr is not None:
        try:
            check_loopback_addr(metrics_addr)
        except ValueError as exc:
            raise UsageError(f"--metrics-addr: {exc}") from None
    summary = run_async(_serve(app_ctx, metrics_addr))
    failures = sum(summary.failures.values())
    drained = "" if summary.drained else "; some queued messages were left for the next start"
    app_ctx.output.info(f"stopped ({failures} handler failures{drained})")
    if json_mode:
        app_ctx.output.emit_json(
            {
                "handlers": summary.handlers,
                "failures": summary.failures,
                "drained": summary.drained,
            }
        )


def _print_unit(app_ctx: AppContext, json_mode: bool) -> None:
    from tgpilot.services.runtime.systemd import UnitSpec, render_unit, tgpilot_executable

    config = app_ctx.config
    env_file = config.env_file or config.home / ".env"
    spec = UnitSpec(
        executable=tgpilot_executable(),
        account=config.account,
        data_dir=config.home,
        env_file=Path(env_file),
        config_file=config.config_file,
        shutdown_timeout_s=config.run.shutdown_timeout_s,
    )
    unit = render_unit(spec)
    if json_mode:
        app_ctx.output.emit_json({"unit": unit})
    else:
        app_ctx.output.line(unit.rstrip("\n"))


async def _serve(app_ctx: AppContext, metrics_addr: str | None) -> RunSummary:
    from tgpilot.core.audit import AuditLog
    from tgpilot.services.runtime.cursors import CursorBook
    from tgpilot.services.runtime.host import RunHost
    from tgpilot.services.runtime.metrics import RunMetrics
    from tgpilot.store.run_state import RunStateRepository

    config = app_ctx.config
    clock = app_ctx.runtime.clock
    log = app_ctx.output.info
    audit = AuditLog(config.paths_resolved.audit_log, config.account)
    metrics = RunMetrics()
    async with AsyncExitStack() as stack:
        store = await stack.enter_async_context(app_ctx.open_store())
        gateway = await stack.enter_async_context(app_ctx.open_gateway(receive_updates=True))
        handlers, services = await _tenants(app_ctx, stack, gateway, store, audit, metrics)
        host = RunHost(
            gateway=gateway,
            cursors=CursorBook(RunStateRepository(store), clock),
            handlers=handlers,
            services=services,
            clock=clock,
            log=log,
            metrics=metrics,
            metrics_addr=metrics_addr or config.run.metrics_addr,
            shutdown_timeout_s=config.run.shutdown_timeout_s,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            return await host.serve(stop)
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
    raise AssertionError("unreachable")  # pragma: no cover


async def _tenants(
    app_ctx: AppContext,
    stack: AsyncExitStack,
    gateway: TelegramGateway,
    store: Store,
    audit: AuditLog,
    metrics: RunMetrics,
) -> tuple[list[MessageHandler], list[BackgroundService]]:
    """The handlers and services the configuration enables."""
    from tgpilot.services.autoanswer.drafts import DraftCourier, DraftSender
    from tgpilot.store.autoanswer import AutoanswerRepository

    config = app_ctx.config
    clock = app_ctx.runtime.clock
    handlers: list[MessageHandler] = []
    services: list[BackgroundService] = []
    responder = await _responder(app_ctx, stack, gateway, store, audit, metrics)
    if responder is not None:
        from tgpilot.services.autoanswer.responder import ResponderHeartbeat

        handlers.append(responder)
        services.append(ResponderHeartbeat(responder))
    if config.run.moderate:
        handlers.append(await _moderation(app_ctx, gateway, audit))
    if config.run.export_watch:
        handlers.append(await _exports(app_ctx, gateway))
    if config.linear.listener.enabled:
        handlers.append(await _linear(app_ctx, stack, gateway, store, audit))
    sender = DraftSender(
        gateway, AutoanswerRepository(store), audit, clock, app_ctx.command_line,
        app_ctx.output.info,
    )  # fmt: skip
    services.append(DraftCourier(sender, config.run.drafts_poll_s))
    if config.mcp.enabled:
        services.append(_mcp(app_ctx, gateway, metrics))
    return handlers, services


async def _responder(
    app_ctx: AppContext,
    stack: AsyncExitStack,
    gateway: TelegramGateway,
    store: Store,
    audit: AuditLog,
    metrics: RunMetrics,
) -> AutoResponder | None:
    """The auto-responder, or None when it is off or has no model (it stays silent)."""
    from tgpilot.gateways.llm.factory import create_llm_client, load_config_catalogue
    from tgpilot.gateways.llm.resolve import MissingProviderKey, resolve_llm
    from tgpilot.services.autoanswer.responder import AutoResponder, ResponderSetup
    from tgpilot.services.autoanswer.voice import voice_transcriber
    from tgpilot.services.prompts import PromptLibrary
    from tgpilot.store.llm import LLMRepository

    config = app_ctx.config
    settings = config.autoanswer
    if settings.mode == "off":
        return None
    catalogue = load_config_catalogue(config)
    try:
        target = resolve_llm(config, "autoanswer", catalogue)
    except MissingProviderKey as exc:
        app_ctx.output.warn(f"auto-responder unavailable, staying silent: {exc.message}")
        return None
    if target.provider == "local":
        app_ctx.output.warn("auto-responder unavailable without a model (llm.provider local)")
        return None
    clock = app_ctx.runtime.clock
    client = await stack.enter_async_context(
        create_llm_client(target, catalogue, clock=clock, recorder=LLMRepository(store))
    )
    prompt = PromptLibrary.from_config(config, clock=clock).load("autoanswer")
    transcriber, voice_unavailable = voice_transcriber(config, gateway, store, clock)
    return AutoResponder(
        ResponderSetup(
            gateway=gateway,
            store=store,
            llm=client,
            prompt=prompt,
            settings=settings,
            aliases=config.chats,
            tz=config.output.tz,
            audit=audit,
            clock=clock,
            log=app_ctx.output.info,
            metrics=metrics,
            command=app_ctx.command_line,
            transcriber=transcriber,
            voice_unavailable=voice_unavailable,
        )
    )


async def _linear(
    app_ctx: AppContext,
    stack: AsyncExitStack,
    gateway: TelegramGateway,
    store: Store,
    audit: AuditLog,
) -> MessageHandler:
    """The ``!linear`` listener (a ConfigError without ``LINEAR_API_KEY``, at start)."""
    from tgpilot.services.linear.listener import build_listener

    config = app_ctx.config
    return await build_listener(
        settings=config.linear,
        gateway=gateway,
        store=store,
        audit=audit,
        clock=app_ctx.runtime.clock,
        log=app_ctx.output.info,
        stack=stack,
        command=app_ctx.command_line,
        tz=config.output.tz,
    )


def _mcp(app_ctx: AppContext, gateway: TelegramGateway, metrics: RunMetrics) -> BackgroundService:
    """The MCP tools over HTTP, on run's own gateway (run already holds the lock)."""
    from tgpilot.cli.mcp_cmd import mcp_tools
    from tgpilot.services.mcp.http import is_loopback
    from tgpilot.services.mcp.metrics import McpMetrics
    from tgpilot.services.mcp.server import build_server
    from tgpilot.services.mcp.session import SharedSession
    from tgpilot.services.runtime.mcp_http import McpHttpService

    settings = app_ctx.config.mcp
    token = settings.http_token.get_secret_value() if settings.http_token else None
    if not is_loopback(settings.host) and not token:
        raise UsageError(
            f"mcp.host {settings.host} is not loopback: a bearer token is required",
            hint="set TGPILOT_MCP__HTTP_TOKEN, or keep mcp.host at 127.0.0.1",
        )
    tools = mcp_tools(app_ctx, SharedSession(gateway), McpMetrics(metrics.registry))
    server = build_server(tools, "http")
    return McpHttpService(server, settings.host, settings.port, token, app_ctx.output.info)


async def _moderation(
    app_ctx: AppContext, gateway: TelegramGateway, audit: AuditLog
) -> MessageHandler:
    from tgpilot.services.moderation.verdict import Moderator
    from tgpilot.services.moderation.watch import ModerationWatch, WatchOptions
    from tgpilot.services.runtime.watches import ModerationHandler

    config = app_ctx.config
    settings = config.moderation
    watches = []
    for entry in config.run.moderate:
        chat = await gateway.resolve_chat(entry.chat)
        options = WatchOptions(
            warn=entry.warn,
            delete=entry.delete,
            apply=settings.apply,
            warn_template=settings.warn_template,
        )
        judge = Moderator.from_settings(
            settings, threshold=entry.spam_threshold, override_dir=config.home / "wordlists"
        )
        watches.append(
            ModerationWatch(
                gateway=gateway, chat=chat, moderator=judge, options=options, audit=audit,
                clock=app_ctx.runtime.clock, log=app_ctx.output.info,
                command=app_ctx.command_line,
            )
        )  # fmt: skip
    return ModerationHandler(gateway, watches)


async def _exports(app_ctx: AppContext, gateway: TelegramGateway) -> MessageHandler:
    from tgpilot.services.export.run import ExportOptions
    from tgpilot.services.runtime.watches import ExportTarget, ExportWatchHandler

    config = app_ctx.config
    targets = []
    for entry in config.run.export_watch:
        chat = await gateway.resolve_chat(entry.chat)
        path = entry.out if entry.out.is_absolute() else config.home / entry.out
        options = ExportOptions(
            format=entry.format,
            out=path,
            text_only=entry.text_only,
            include_service=entry.include_service,
        )
        targets.append(ExportTarget(chat, path, options))
    return ExportWatchHandler(
        gateway, targets, config.output.tz, app_ctx.runtime.clock, app_ctx.output.info
    )
