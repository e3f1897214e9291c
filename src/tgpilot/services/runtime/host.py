"""The ``tgpilot run`` process: its handlers, services and lifecycle.

:meth:`RunHost.serve` takes an open gateway (the session lock is held by whoever opened
it, for the life of the process) and:

1. serves ``/metrics`` and ``/healthz`` if an address is given;
2. starts every handler (a handler that cannot start — a chat not found, a missing
   admin right — stops the process: a service should fail loudly, not half-run);
3. starts the dispatcher, the account follower and the background services (a service
   that crashes is logged and restarted after a pause);
4. waits for ``stop`` (SIGTERM/SIGINT in the CLI) or for the follower to end (the
   session was revoked);
5. shuts down: stops following, drains the queues and lets handlers finish work in
   flight — the auto-responder's replies being streamed — within
   ``shutdown_timeout_s``, then cancels the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tgpilot.core.clock import Clock
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.services.runtime.cursors import CursorBook
from tgpilot.services.runtime.dispatcher import Dispatcher
from tgpilot.services.runtime.feed import AccountFollower
from tgpilot.services.runtime.handler import (
    BackgroundService,
    CountsOwnFailures,
    MessageHandler,
)
from tgpilot.services.runtime.health import HealthServer, RunHealth
from tgpilot.services.runtime.metrics import RunMetrics

SERVICE_RESTART_S = 5.0


@dataclass(frozen=True)
class RunSummary:
    """What the process did, for the closing line."""

    handlers: list[str]
    failures: dict[str, int]
    drained: bool


@dataclass
class RunHost:
    """One account's long-running process (see the module docstring)."""

    gateway: TelegramGateway
    cursors: CursorBook
    handlers: Sequence[MessageHandler]
    services: Sequence[BackgroundService]
    clock: Clock
    log: Callable[[str], None]
    metrics: RunMetrics = field(default_factory=RunMetrics)
    metrics_addr: str | None = None
    shutdown_timeout_s: float = 30.0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once every handler has started and the first catch-up is under way."""
    port: int | None = None
    """The port ``/metrics`` and ``/healthz`` are served on (once ready)."""
    dispatcher: Dispatcher | None = None
    health: RunHealth | None = None

    async def serve(self, stop: asyncio.Event) -> RunSummary:
        """Run until ``stop`` is set (or the follower ends); then shut down cleanly."""
        health = self.health = RunHealth(self.clock, self.clock.monotonic())
        health.handlers = [h.name for h in self.handlers]
        server = HealthServer(self.metrics, health)
        if self.metrics_addr is not None:
            self.port = await server.start(self.metrics_addr)
            host = self.metrics_addr.rsplit(":", 1)[0]
            self.log(f"metrics and health on http://{host}:{self.port}")
        try:
            for handler in self.handlers:
                await handler.start(self.cursors)
            dispatcher = self.dispatcher = Dispatcher(
                self.handlers, self.cursors, self.metrics, self.clock, self.log
            )
            health.failures = lambda: self.failures(dispatcher)
            dispatcher.start()
            follower = AccountFollower(
                self.gateway, dispatcher, clock=self.clock, log=self.log,
                metrics=self.metrics, health=health,
            )  # fmt: skip
            following = asyncio.create_task(follower.run(), name="tgpilot-run-feed")
            services = [
                asyncio.create_task(self._keep(s), name=f"tgpilot-run-{s.name}")
                for s in self.services
            ]
            self.ready.set()
            names = ", ".join(health.handlers) or "none"
            self.log(f"running; handlers: {names}; SIGTERM or Ctrl-C stops")
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({following, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            return await self._shut_down(dispatcher, following, services)
        finally:
            await server.close()

    async def _shut_down(
        self,
        dispatcher: Dispatcher,
        following: asyncio.Task[None],
        services: list[asyncio.Task[None]],
    ) -> RunSummary:
        assert self.health is not None
        self.health.stopping = True
        self.log("stopping: finishing work in flight")
        fatal = following.exception() if following.done() else None
        following.cancel()
        with contextlib.suppress(BaseException):
            await following
        deadline = self.clock.monotonic() + self.shutdown_timeout_s
        drained = await dispatcher.drain(self.shutdown_timeout_s)
        for handler in self.handlers:
            left = max(0.0, deadline - self.clock.monotonic())
            try:
                await handler.stop(left)
            except Exception as exc:
                self.log(f"handler {handler.name} did not stop cleanly: {exc}")
        await dispatcher.stop()
        for task in services:
            task.cancel()
        for task in services:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if fatal is not None:
            raise fatal  # NotAuthorized: the session was revoked
        return RunSummary([h.name for h in self.handlers], self.failures(dispatcher), drained)

    def failures(self, dispatcher: Dispatcher) -> dict[str, int]:
        """Failures per handler: in the dispatcher, plus those handlers count themselves."""
        counts = dict(dispatcher.failures)
        for handler in self.handlers:
            if isinstance(handler, CountsOwnFailures):
                counts[handler.name] = counts.get(handler.name, 0) + handler.failures
        return counts

    async def _keep(self, service: BackgroundService) -> None:
        while True:
            try:
                await service.run()
                return
            except Exception as exc:
                self.log(f"service {service.name} failed: {exc}; restarting")
                await asyncio.sleep(SERVICE_RESTART_S)
