"""Benchmark ``tgpilot export`` of N messages against a bare Telethon → JSONL loop.

    uv run python bench/export.py [--messages N | --tiny] [--repeat R] [--out FILE]

One fake supergroup holds N messages (Russian and English text, replies, reactions).
Measured in one run, on the same world, clock and account:

- ``export``: ``tgpilot export bench_club --format jsonl --limit 0`` through the real
  CLI, Telethon and the fake — history requests (bound ceil(N/100) + 2), seconds;
- ``baseline``: ``async for m in client.iter_messages(chat)`` writing one small JSON
  line per message (id, date, sender, text, reply, reactions) to a file.

The figure that matters is ``throughput_vs_bare`` (baseline seconds / export seconds,
issue #3 asks ≥ 0.9). Prints one JSON document; exits 1 if a bound is violated.
"""

from __future__ import annotations

import argparse
import math
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
    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-") as tmp:
        home = Path(tmp)
        cwd = Path.cwd()
        isolate(home)
        try:
            bench = Bench(world, home, FakeClock(start=NOW))
            target = home / "export.jsonl"
            bare_target = home / "bare.jsonl"
            command = ("export", "bench_club", "--format", "jsonl", "--limit", "0")
            command += ("--out", str(target))

            async def bare(client: Any) -> int:
                return await bare_jsonl(client, "bench_club", bare_target)

            bench.cli(*command)  # warm-up
            bench.bare(bare)
            exports, baselines = [], []
            for _ in range(repeat):
                exports.append(bench.cli(*command))
                baselines.append(bench.bare(bare))
                lines = sum(1 for _ in target.open("rb"))
                if lines != messages:
                    problems.append(f"export wrote {lines} of {messages} messages")
        finally:
            import os

            os.chdir(cwd)
    for code, _out, err, _requests, _seconds in exports:
        if code != 0:
            problems.append(f"export: exit {code}: {err.strip()}")
    history = max(e[3]["GetHistoryRequest"] for e in exports)
    bound = math.ceil(messages / PAGE) + SLACK
    if history > bound:
        problems.append(f"export: {history} GetHistoryRequest > bound {bound}")
    if any(b[0] != messages for b in baselines):
        problems.append("baseline: wrong message count")
    export_s = median([e[4] for e in exports])
    bare_s = median([b[2] for b in baselines])
    ratio = round(bare_s / export_s, 3) if export_s else None
    return {
        "benchmark": "export",
        "messages": messages,
        "repeat": repeat,
        "export": {
            "command": "tgpilot " + " ".join(command[:-1]) + " FILE",
            "history_requests": history,
            "history_bound": bound,
            "seconds": export_s,
            "messages_per_second": round(messages / export_s) if export_s else None,
        },
        "baseline": {
            "code": "async for m in client.iter_messages(chat): write one JSON line",
            "history_requests": baselines[0][1]["GetHistoryRequest"],
            "seconds": bare_s,
            "messages_per_second": round(messages / bare_s) if bare_s else None,
        },
        "ratios": {"throughput_vs_bare": ratio},
        "target": {"throughput_vs_bare": 0.9},
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/export.py", description=__doc__.split("\n")[0])
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
