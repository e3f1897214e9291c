"""Soak ``tgpilot run``'s host on the fake Telegram and the fake LLM, and time its overhead.

    uv run python bench/run_soak.py [--messages 2000 --chats 50 | --tiny] [--rate 20]
                                    [--out FILE]

Pushes N incoming messages across C private chats, with about a fifth that must never
be answered (blank texts, a denied user, a bot, a group without a mention), into a
running host with the auto-responder (debounce 0, no cooldown, no caps). Checks that
every eligible message is answered exactly once, no ineligible one ever, and no handler
failed; reports the responder's overhead from an event (or the moment its chat was
free) to the first LLM request — median and p99, LLM latency and debounce excluded.
Messages arrive at ``--rate`` per second (0: as fast as they can be added): the host is
one event loop, and above its throughput the "overhead" is mostly queueing for it —
the figures report the achieved throughput beside the latency.
Prints one JSON document (also written to ``--out``); exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import isolate, report
from tests.fakes.llm.server import FakeLLMServer
from tests.run_support import soak

MESSAGES, CHATS = 2000, 50
TINY_MESSAGES, TINY_CHATS = 60, 6
RATE = 20.0


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--chats", type=int, default=CHATS)
    parser.add_argument("--rate", type=float, default=RATE, help="messages per second (0: max)")
    parser.add_argument("--tiny", action="store_true", help="a quick run (smoke tests)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.tiny:
        args.messages, args.chats = TINY_MESSAGES, TINY_CHATS
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    if args.chats < 1:
        parser.error("--chats must be at least 1")
    if args.rate < 0:
        parser.error("--rate must be 0 or more")
    return args


async def measure(home: Path, messages: int, chats: int, rate: float) -> dict[str, Any]:
    gap = 1 / rate if rate else 0.0
    with FakeLLMServer() as llm:
        result = await soak(home, llm, messages=messages, chats=chats, gap_s=gap)
    problems = []
    if result.unanswered:
        problems.append(f"{result.unanswered} eligible messages never answered")
    if result.answered_twice:
        problems.append(f"{result.answered_twice} messages answered twice")
    if result.ineligible_answered:
        problems.append(f"{result.ineligible_answered} ineligible messages answered")
    if result.handler_failures:
        problems.append(f"{result.handler_failures} handler failures")
    if result.replies != result.llm_requests:
        problems.append(f"{result.replies} replies for {result.llm_requests} LLM requests")
    return {
        "benchmark": "run_soak",
        "messages": messages,
        "chats": chats,
        "rate_per_second": rate or None,
        "eligible": result.eligible,
        "answered": result.answered,
        "answered_twice": result.answered_twice,
        "ineligible_answered": result.ineligible_answered,
        "replies": result.replies,
        "llm_requests": result.llm_requests,
        "handler_failures": result.handler_failures,
        "overhead_ms": {
            "median": round(result.percentile(0.5) * 1000, 3),
            "p99": round(result.percentile(0.99) * 1000, 3),
            "max": round(max(result.overheads, default=0.0) * 1000, 3),
            "samples": len(result.overheads),
        },
        "seconds": round(result.seconds, 3),
        "messages_per_second": round(messages / result.seconds, 1) if result.seconds else None,
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-") as folder:
        home = Path(folder)
        isolate(home)
        result = asyncio.run(measure(home / "data", args.messages, args.chats, args.rate))
    return report(result, args.out)


if __name__ == "__main__":
    sys.exit(main())
