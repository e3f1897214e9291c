"""The MCP server's Prometheus metrics and its ``/healthz`` document (spec §7).

- ``tgpilot_mcp_tool_calls_total{tool,outcome}``: each tool call (and resource read)
  by outcome — ``ok``, ``refused`` (a write gate said no:
  :class:`~tgpilot.services.mcp.writes.WriteRefused`) or ``error``;
- ``tgpilot_mcp_tool_seconds{tool}``: how long each call took;
- ``tgpilot_session_lock_wait_seconds``: how long a call waited to take the account
  session when it was not open (the shared lock, then connecting; a busy lock counts
  the full ``session.lock_wait``).

Labels come from bounded sets only: the registered tool names and the two resource
URI templates, never a chat or an argument. ``mcp serve`` keeps them in a registry of
its own (served by ``--metrics-addr`` through the runtime's
:class:`~tgpilot.services.runtime.health.HealthServer`); inside ``tgpilot run`` they
join run's registry.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from tgpilot.core.clock import Clock
from tgpilot.services.mcp.writes import WriteRefused
from tgpilot.services.runtime.metrics import LATENCY_BUCKETS, process_registry

if TYPE_CHECKING:
    from tgpilot.services.mcp.session import LazySession

T = TypeVar("T")


class McpMetrics:
    """The MCP families, in ``registry`` (None: a registry of their own)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or process_registry()
        r = self.registry
        self.calls = Counter(
            "tgpilot_mcp_tool_calls",
            "MCP tool calls and resource reads by outcome (ok, error, refused).",
            ["tool", "outcome"],
            registry=r,
        )
        self.seconds = Histogram(
            "tgpilot_mcp_tool_seconds",
            "Time an MCP tool call took.",
            ["tool"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.lock_wait = Histogram(
            "tgpilot_session_lock_wait_seconds",
            "Time a call waited to take the account session (lock, then connection).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    async def measure(self, tool: str, work: Awaitable[T], clock: Clock) -> T:
        """Await ``work``, counting it under ``tool`` with its outcome and duration."""
        started = clock.monotonic()
        outcome = "error"
        try:
            result = await work
            outcome = "ok"
            return result
        except WriteRefused:
            outcome = "refused"
            raise
        finally:
            self.calls.labels(tool, outcome).inc()
            self.seconds.labels(tool).observe(clock.monotonic() - started)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


@dataclass
class McpHealth:
    """``/healthz`` of ``mcp serve``: 200 while serving, whether the session is held."""

    clock: Clock
    started: float
    transport: str
    session: LazySession

    def document(self) -> tuple[int, dict[str, object]]:
        """The HTTP status and the JSON body."""
        return 200, {
            "status": "ok",
            "transport": self.transport,
            "session_open": self.session.is_open,
            "uptime_s": round(self.clock.monotonic() - self.started, 3),
        }
