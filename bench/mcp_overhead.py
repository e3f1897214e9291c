"""Benchmark the MCP server's tool-call overhead against the same service call made directly.

    uv run python bench/mcp_overhead.py [--calls N | --tiny] [--limit M] [--out FILE]

Issue #9: "report tool-call overhead (server-side median and p99 over 1,000
``get_messages`` calls on a warm client, fake Telegram latency zero)". One process, one
fake world (a supergroup of 500 messages, no added latency, the fake clock), one
session opened once and kept (the warm client the MCP server keeps while it holds the
lock), and both sides alternating call by call:

- **mcp** — ``call_tool("get_messages", {"chat": "club", "limit": M})`` through the
  ``mcp`` SDK's own ``Client`` connected in-process to the real ``tgpilot`` MCPServer
  (``tgpilot.services.mcp.server.build_server``): request dispatch, argument
  validation, the tool, error reporting and the result's conversion to JSON content and
  structured output — everything the server does per call, without a transport;
- **baseline** — ``McpTools.get_messages("club", M)``: the same service call (chat
  resolution, history read, records), made directly.

Figures: each side's median and p99 seconds per call, the overhead (mcp − baseline of
each pair) median and p99, and ``ratios.mcp_vs_direct`` = mcp median / baseline median.
Bounds: every MCP answer equals the direct answer (same message ids). ``--tiny``: 50
calls (CI smoke test).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python bench/x.py` puts only bench/ on the path
    sys.path.insert(0, str(REPO))

from bench.harness import isolate, message_world, report  # noqa: E402
from tests.fakes.clock import FakeClock  # noqa: E402
from tests.harness import session_options  # noqa: E402

CALLS = 1000
TINY_CALLS = 50
WARMUP = 20
MESSAGES = 500
CLUB_ID = -(1_000_000_000_000 + 1_777_000_001)
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in (0, 1])."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[rank - 1], 9)


def summary(samples: Sequence[float]) -> dict[str, float]:
    return {"median_seconds": percentile(samples, 0.5), "p99_seconds": percentile(samples, 0.99)}


async def measure(calls: int, limit: int, home: Path) -> dict[str, Any]:
    from mcp.client import Client

    from tgpilot.core.audit import AuditLog
    from tgpilot.core.config import ConfigOptions, load_config
    from tgpilot.gateways.telegram.resolve import AliasTarget
    from tgpilot.gateways.telegram.session import open_session
    from tgpilot.services.mcp.server import build_server
    from tgpilot.services.mcp.session import SharedSession
    from tgpilot.services.mcp.tools import McpDeps, McpTools
    from tgpilot.services.mcp.writes import WriteGate
    from tgpilot.store import Store

    config_file = home / "config.yml"
    config_file.write_text(f"chats:\n  club: {{id: {CLUB_ID}}}\n", encoding="utf-8")
    config = load_config(ConfigOptions(config_file=config_file))
    clock = FakeClock(start=NOW)
    world = message_world(MESSAGES, now=NOW)

    @asynccontextmanager
    async def open_store() -> Any:
        store = await Store.open(f"sqlite:///{home / 'tgpilot.db'}", clock=clock)
        try:
            yield store
        finally:
            await store.close()

    aliases = {"club": AliasTarget(id=CLUB_ID)}
    async with open_session(session_options(world, home, clock, aliases=aliases)) as gateway:
        deps = McpDeps(
            config=config, clock=clock, session=SharedSession(gateway), open_store=open_store,
            gate=WriteGate(config.mcp, AuditLog(home / "audit.jsonl", "default")),
            command="bench",
        )  # fmt: skip
        tools = McpTools(deps)
        server = build_server(tools, "bench")
        arguments = {"chat": "club", "limit": limit}
        direct: list[float] = []
        via_mcp: list[float] = []
        mismatches = 0
        async with Client(server) as client:
            for n in range(WARMUP + calls):
                mcp_first = n % 2 == 0
                for side in ("mcp", "direct") if mcp_first else ("direct", "mcp"):
                    began = time.perf_counter()
                    if side == "mcp":
                        result = await client.call_tool("get_messages", arguments)
                        seconds = time.perf_counter() - began
                        content = result.structured_content or {"messages": []}
                        got = [m["id"] for m in content["messages"]]
                    else:
                        answer = await tools.get_messages("club", limit)
                        seconds = time.perf_counter() - began
                        want = [m["id"] for m in answer["messages"]]
                    if n >= WARMUP:
                        (via_mcp if side == "mcp" else direct).append(seconds)
                if got != want:
                    mismatches += 1
    overhead = [m - d for m, d in zip(via_mcp, direct, strict=True)]
    problems = [f"{mismatches} MCP answers differ from the direct ones"] if mismatches else []
    return {
        "benchmark": "mcp_overhead",
        "calls": calls,
        "limit": limit,
        "messages_per_call": limit,
        "mcp": summary(via_mcp),
        "baseline": summary(direct),
        "overhead": summary(overhead),
        "ratios": {"mcp_vs_direct": round(percentile(via_mcp, 0.5) / percentile(direct, 0.5), 3)},
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--calls", type=int, default=CALLS, help=f"timed calls per side ({CALLS})")
    size.add_argument("--tiny", action="store_true", help=f"{TINY_CALLS} calls (CI)")
    parser.add_argument("--limit", type=int, default=50, help="messages per call (50)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    calls = TINY_CALLS if args.tiny else args.calls
    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-mcp-") as tmp:
        home = Path(tmp)
        isolate(home)
        result = asyncio.run(measure(calls, args.limit, home))
    return report(result, args.out)


if __name__ == "__main__":
    sys.exit(main())
