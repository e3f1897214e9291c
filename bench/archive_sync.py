"""Benchmark ``tgpilot archive sync`` of N messages against a bare Telethon → JSONL loop.

    uv run python bench/archive_sync.py [--messages N | --tiny] [--repeat R] [--out FILE]

One fake supergroup holds N messages. Measured in one run, on the same world, after one
warm-up sync into a store of its own and one warm-up baseline (as bench/export.py does,
so imports and first compilations are not timed):

- ``first_sync``: ``tgpilot archive sync bench_club`` into a fresh SQLite store —
  history requests (bound ceil(N/100) + 2), seconds;
- ``nothing_new``: the same command again — history requests (must be 1), seconds;
- ``baseline``: ``async for m in client.iter_messages(chat)`` writing one JSON line per
  message to a file (the same loop as bench/export.py).

The figure that matters is ``throughput_vs_bare`` (baseline seconds / first-sync
seconds, issue #3 asks ≥ 0.7 thanks to batched writes). Prints one JSON document;
exits 1 if a round-trip bound is violated.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import Bench, bare_jsonl, isolate, median, message_world, report
from tests.fakes.clock import FakeClock

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
PAGE = 100
SLACK = 2
TINY = 1000


def measure(messages: int, repeat: int) -> dict[str, Any]:
    world = message_world(messages, now=NOW)
    problems: list[str] = []
    firsts, reruns, baselines = [], [], []
    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-") as tmp:
        home = Path(tmp)
        cwd = Path.cwd()
        isolate(home)
        try:
            bench = Bench(world, home, FakeClock(start=NOW))
            bare_target = home / "bare.jsonl"

            async def bare(client: Any) -> int:
                return await bare_jsonl(client, "bench_club", bare_target)

            os.environ["TGPILOT_STORE__URL"] = f"sqlite:///{home / 'store-warm-up.db'}"
            bench.cli("archive", "sync", "bench_club", "--json")  # warm-up, as for export.py
            bench.bare(bare)
            for n in range(repeat):
                os.environ["TGPILOT_STORE__URL"] = f"sqlite:///{home / f'store-{n}.db'}"
                firsts.append(bench.cli("archive", "sync", "bench_club", "--json"))
                reruns.append(bench.cli("archive", "sync", "bench_club", "--json"))
                baselines.append(bench.bare(bare))
        finally:
            os.chdir(cwd)
    for name, runs in (("first_sync", firsts), ("nothing_new", reruns)):
        for code, out, err, _requests, _seconds in runs:
            if code != 0:
                problems.append(f"{name}: exit {code}: {err.strip()}")
            elif name == "first_sync" and f'"inserted": {messages}' not in out:
                problems.append(f"{name}: did not insert {messages} messages")
    history = max(r[3]["GetHistoryRequest"] for r in firsts)
    bound = math.ceil(messages / PAGE) + SLACK
    if history > bound:
        problems.append(f"first_sync: {history} GetHistoryRequest > bound {bound}")
    rerun_history = max(r[3]["GetHistoryRequest"] for r in reruns)
    if rerun_history != 1:
        problems.append(f"nothing_new: {rerun_history} GetHistoryRequest, expected 1")
    first_s = median([r[4] for r in firsts])
    rerun_s = median([r[4] for r in reruns])
    bare_s = median([b[2] for b in baselines])
    return {
        "benchmark": "archive_sync",
        "messages": messages,
        "repeat": repeat,
        "store": "sqlite (WAL)",
        "first_sync": {
            "command": "tgpilot archive sync bench_club",
            "history_requests": history,
            "history_bound": bound,
            "seconds": first_s,
            "messages_per_second": round(messages / first_s) if first_s else None,
        },
        "nothing_new": {"history_requests": rerun_history, "seconds": rerun_s},
        "baseline": {
            "code": "async for m in client.iter_messages(chat): write one JSON line",
            "seconds": bare_s,
            "messages_per_second": round(messages / bare_s) if bare_s else None,
        },
        "ratios": {"throughput_vs_bare": round(bare_s / first_s, 3) if first_s else None},
        "target": {"throughput_vs_bare": 0.7, "nothing_new_history_requests": 1},
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/archive_sync.py", description=__doc__.split("\n")[0]
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--messages", type=int, default=100_000, help="messages (100000)")
    size.add_argument("--tiny", action="store_true", help=f"{TINY} messages (CI smoke test)")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs (3)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    messages = TINY if args.tiny else args.messages
    if messages < 1 or args.repeat < 1:
        parser.error("--messages and --repeat must be positive")
    return report(measure(messages, args.repeat), args.out)


if __name__ == "__main__":
    sys.exit(main())
