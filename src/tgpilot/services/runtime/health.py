"""``/metrics`` and ``/healthz`` of ``tgpilot run`` (and ``mcp serve``), on a loopback address.

A deliberately tiny HTTP/1.1 server on ``asyncio.start_server`` (GET only, one request
per connection): ``/metrics`` is the Prometheus text exposition, ``/healthz`` a JSON
document — for ``run``, ``200`` while connected to Telegram, ``503`` while starting or
reconnecting. The address must be loopback (``run.metrics_addr`` is validated as such).
Any :class:`MetricsSource` and :class:`HealthSource` can be served.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from tgpilot.core.clock import Clock

MAX_REQUEST_BYTES = 8192
READ_TIMEOUT_S = 5.0


class MetricsSource(Protocol):
    """What ``/metrics`` shows (:class:`~tgpilot.services.runtime.metrics.RunMetrics`)."""

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format."""
        ...


class HealthSource(Protocol):
    """What ``/healthz`` answers (:class:`RunHealth`)."""

    def document(self) -> tuple[int, dict[str, object]]:
        """The HTTP status and the JSON body."""
        ...


@dataclass
class RunHealth:
    """What ``/healthz`` reports."""

    clock: Clock
    started: float
    connected: bool = False
    stopping: bool = False
    handlers: list[str] = field(default_factory=list)
    failures: Callable[[], dict[str, int]] = dict

    def document(self) -> tuple[int, dict[str, object]]:
        """The HTTP status and the JSON body."""
        healthy = self.connected and not self.stopping
        state = "stopping" if self.stopping else ("ok" if self.connected else "disconnected")
        body: dict[str, object] = {
            "status": state,
            "connected": self.connected,
            "uptime_s": round(self.clock.monotonic() - self.started, 3),
            "handlers": self.handlers,
            "handler_failures": self.failures(),
        }
        return (200 if healthy else 503), body


def split_address(address: str) -> tuple[str, int]:
    """``127.0.0.1:9464`` → ``("127.0.0.1", 9464)`` (``[::1]:9464`` too)."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


class HealthServer:
    """Serves ``/metrics`` and ``/healthz`` until closed."""

    def __init__(self, metrics: MetricsSource, health: HealthSource) -> None:
        self._metrics = metrics
        self._health = health
        self._server: asyncio.Server | None = None

    async def start(self, address: str) -> int:
        """Listen on ``address``; returns the port (``:0`` picks a free one)."""
        host, port = split_address(address)
        self._server = await asyncio.start_server(self._serve, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                head = await reader.readuntil(b"\r\n\r\n")
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        method, path = _request_line(head[:MAX_REQUEST_BYTES])
        status, content_type, body = self._answer(method, path)
        reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Unavailable"}
        writer.write(
            f"HTTP/1.1 {status} {reason.get(status, 'OK')}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    def _answer(self, method: str, path: str) -> tuple[int, str, bytes]:
        if method != "GET":
            return 405, "text/plain", b"GET only\n"
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", self._metrics.exposition()
        if path == "/healthz":
            status, document = self._health.document()
            return status, "application/json", orjson.dumps(document) + b"\n"
        return 404, "text/plain", b"not found\n"


def _request_line(head: bytes) -> tuple[str, str]:
    first = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(first) < 2:
        return "", ""
    return first[0].upper(), first[1].split("?", 1)[0]
