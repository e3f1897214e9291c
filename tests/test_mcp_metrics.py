"""The MCP server's metrics (spec ops-and-mcp.md §7): ``mcp serve --metrics-addr`` serves
``/metrics`` and ``/healthz``; tool calls are counted by tool and outcome (ok, error,
refused) and timed, and taking the session is timed as the lock wait. Inside ``tgpilot
run`` the same families join run's registry."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.fakes.clock import FakeClock
from tests.mcp_support import HttpServer, http_client, install, payload
from tgpilot.cli.app import run
from tgpilot.core.errors import SessionBusy, UsageError
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.services.mcp.metrics import McpMetrics
from tgpilot.services.mcp.session import LazySession
from tgpilot.services.mcp.writes import WriteRefused
from tgpilot.services.runtime.metrics import RunMetrics

pytestmark = pytest.mark.timeout(180)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus text exposition (None: absent)."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        found = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if found is None or found.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', found.group(2) or ""))
        if have == labels:
            return float(found.group(3))
    return None


async def test_metrics_addr_serves_tool_counters_durations_lock_wait_and_health(
    tmp_path: Path,
) -> None:
    inst = install(tmp_path)
    port = _free_port()
    server = HttpServer(
        inst, "mcp", "serve", "--transport", "http", "--port", "0",
        "--metrics-addr", f"127.0.0.1:{port}",
    )  # fmt: skip
    try:
        url = server.wait_for_url()
        base = f"http://127.0.0.1:{port}"
        assert any(f"metrics and health on {base}" in line for line in server.seen)
        async with httpx.AsyncClient(base_url=base) as web, http_client(url) as client:
            before = (await web.get("/healthz")).json()
            for _ in range(2):
                payload(await client.call_tool("get_messages", {"chat": "team", "limit": 3}))
            refused = await client.call_tool("send_message", {"chat": "team", "text": "hi"})
            unknown = await client.call_tool("get_messages", {"chat": "nowhere"})
            scraped = await web.get("/metrics")
            health = await web.get("/healthz")
            missing = await web.get("/nope")
        assert refused.is_error and unknown.is_error
    finally:
        assert server.stop() == 0, server.seen
    assert scraped.status_code == 200
    text = scraped.text
    calls = "tgpilot_mcp_tool_calls_total"
    assert sample(text, calls, tool="get_messages", outcome="ok") == 2
    assert sample(text, calls, tool="get_messages", outcome="error") == 1
    assert sample(text, calls, tool="send_message", outcome="refused") == 1
    assert sample(text, "tgpilot_mcp_tool_seconds_count", tool="get_messages") == 3
    assert sample(text, "tgpilot_session_lock_wait_seconds_count") == 1  # opened once
    assert "nowhere" not in text and "team" not in text  # no chat ever becomes a label
    assert (before["status"], before["session_open"]) == ("ok", False)
    assert health.status_code == 200 and health.json()["session_open"] is True
    assert missing.status_code == 404
    assert sample(text, "process_resident_memory_bytes") is not None  # the standard families


@pytest.mark.parametrize("address", ["0.0.0.0:9464", "example.org:9464", "127.0.0.1"])
def test_metrics_addr_must_be_a_loopback_host_and_port(
    address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["mcp", "serve", "--metrics-addr", address]) == 2
    assert "--metrics-addr" in capsys.readouterr().err


async def test_inside_run_the_mcp_families_join_runs_registry() -> None:
    run_metrics = RunMetrics()
    metrics = McpMetrics(run_metrics.registry)
    clock = FakeClock()

    async def refuse() -> None:
        raise WriteRefused("writing is disabled")

    async def fail() -> None:
        raise UsageError("bad")

    async def answer() -> int:
        await clock.sleep(0.2)
        return 7

    assert await metrics.measure("digest", answer(), clock) == 7
    with pytest.raises(WriteRefused):
        await metrics.measure("send_reaction", refuse(), clock)
    with pytest.raises(UsageError):
        await metrics.measure("digest", fail(), clock)
    text = run_metrics.exposition().decode()
    calls = "tgpilot_mcp_tool_calls_total"
    assert sample(text, calls, tool="digest", outcome="ok") == 1
    assert sample(text, calls, tool="digest", outcome="error") == 1
    assert sample(text, calls, tool="send_reaction", outcome="refused") == 1
    assert sample(text, "tgpilot_mcp_tool_seconds_sum", tool="digest") == pytest.approx(0.2)
    assert "tgpilot_command_inflight" in text  # run's own families are still there


async def test_a_busy_lock_is_timed_as_the_wait_before_giving_up() -> None:
    clock = FakeClock()
    metrics = McpMetrics()

    @asynccontextmanager
    async def busy() -> AsyncIterator[TelegramGateway]:
        await clock.sleep(15)
        raise SessionBusy("pid 4242 (tgpilot run)")
        yield  # pragma: no cover

    session = LazySession(busy, 60, clock, waited=metrics.lock_wait.observe)
    with pytest.raises(SessionBusy):
        async with session.gateway():
            pass  # pragma: no cover
    text = metrics.exposition().decode()
    assert sample(text, "tgpilot_session_lock_wait_seconds_count") == 1
    assert sample(text, "tgpilot_session_lock_wait_seconds_sum") == 15
    assert not session.is_open


async def test_tool_calls_of_mcp_inside_run_show_on_runs_metrics(tmp_path: Path) -> None:
    mcp_port, metrics_port = _free_port(), _free_port()
    extra = f"  enabled: true\n  port: {mcp_port}\nautoanswer: {{mode: off}}\n"
    inst = install(tmp_path, extra_config=extra)
    server = HttpServer(inst, "run", "--metrics-addr", f"127.0.0.1:{metrics_port}")
    try:
        url = server.wait_for_url()
        async with http_client(url) as client:
            payload(await client.call_tool("get_messages", {"chat": "team", "limit": 5}))
            refused = await client.call_tool("send_message", {"chat": "team", "text": "x"})
        assert refused.is_error
        async with httpx.AsyncClient() as web:
            text = (await web.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    finally:
        assert server.stop() == 0, server.seen
    calls = "tgpilot_mcp_tool_calls_total"
    assert sample(text, calls, tool="get_messages", outcome="ok") == 1
    assert sample(text, calls, tool="send_message", outcome="refused") == 1
    assert "tgpilot_command_inflight" in text
    assert sample(text, "process_resident_memory_bytes") is not None
