"""The Prometheus metrics of ``tgpilot run`` (one registry per process).

Per handler: events received, handled and failed, and the handler's latency as
``tgpilot_command_duration_seconds{command=<handler>}`` with
``tgpilot_command_total{command, status}`` and ``tgpilot_command_inflight{command}``
(the names spec telegram-cli §4.7 gives). The auto-responder adds replies sent by kind
and its own overhead from an event to the first LLM request (debounce wait and LLM
latency excluded). The connection state and reconnects are exported too.
"""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def process_registry() -> CollectorRegistry:
    """A registry of this process's own, with the standard ``process_*``,
    ``python_info`` and ``python_gc_*`` families (spec ops-and-mcp.md §7) in it."""
    registry = CollectorRegistry(auto_describe=True)
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    return registry


class RunMetrics:
    """Counters, gauges and histograms of one process."""

    def __init__(self) -> None:
        self.registry = process_registry()
        r = self.registry
        self.received = Counter(
            "tgpilot_run_events_received", "Events queued for a handler.", ["handler"], registry=r
        )
        self.handled = Counter(
            "tgpilot_run_events_handled", "Events a handler finished.", ["handler"], registry=r
        )
        self.failed = Counter(
            "tgpilot_run_events_failed", "Events a handler failed on.", ["handler"], registry=r
        )
        self.duration = Histogram(
            "tgpilot_command_duration_seconds",
            "Time a handler took per event.",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.total = Counter(
            "tgpilot_command", "Handler invocations by outcome.", ["command", "status"], registry=r
        )
        self.inflight = Gauge(
            "tgpilot_command_inflight", "Handler invocations running.", ["command"], registry=r
        )
        self.replies = Counter(
            "tgpilot_autoanswer_replies", "Auto-responder messages sent.", ["kind"], registry=r
        )
        self.overhead = Histogram(
            "tgpilot_autoanswer_request_overhead_seconds",
            "From an event (or the end of its debounce window) to the LLM request.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.connected = Gauge(
            "tgpilot_run_connected", "1 while connected to Telegram.", registry=r
        )
        self.reconnects = Counter(
            "tgpilot_run_reconnects", "Reconnections after a lost connection.", registry=r
        )

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
