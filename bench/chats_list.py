"""Benchmark ``tgpilot chats list`` over N dialogs against bare Telethon, in one run.

    uv run python bench/chats_list.py [--dialogs N | --tiny] [--repeat R] [--out FILE]

Builds a fake Telegram world with N dialogs (users, basic groups, supergroups and
channels, each with a last message) and measures, through the real CLI path
(``tgpilot.cli.app.run`` with the world's client factory and a ``FakeClock``, in a
temporary TGPILOT_HOME with an authorised session):

- ``refresh``: ``chats list --scan 0 --limit 0 --json --refresh`` — requests by name
  (``GetDialogsRequest`` must stay within ceil(N/100) + 2), wall time;
- ``cache_hit``: ``chats list --scan 0 --limit 0 --json`` right after, on the fresh
  dialog cache — requests (must be 0), wall time;
- ``baseline``: a bare Telethon loop ``async for d in client.iter_dialogs()`` on a
  client from ``world.client_factory()`` (connect, walk, disconnect), same world.

Times are medians over ``--repeat`` runs after one warm-up; figures that matter are the
ratios (DESIGN "Performance habits"): ``refresh_vs_bare`` and ``cache_hit_vs_refresh``.
Prints one JSON document (also written to ``--out``); exits 1 if a round-trip bound is
violated or the listing is wrong.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import Bench, isolate, median, report
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
PAGE = 100  # dialogs per messages.getDialogs
SLACK = 2  # extra getDialogs allowed over ceil(N/100)
TINY = 50


def build_world(dialogs: int) -> FakeTelegram:
    """A world whose account has ``dialogs`` dialogs of every kind, each with a message."""
    world = FakeTelegram(now=NOW)
    world.add_me(1000, "Bench", "Account", username="bench_account", phone="+15550009999")
    start = NOW - timedelta(days=90)
    for n in range(dialogs):
        kind = n % 4
        if kind == 0:
            peer: Any = world.add_user(100_000 + n, f"User {n:05d}", dialog=True)
        elif kind == 1:
            peer = world.add_group(200_000 + n, f"Group {n:05d}")
        elif kind == 2:
            peer = world.add_supergroup(3_000_000 + n, f"Supergroup {n:05d}")
        else:
            peer = world.add_channel(4_000_000 + n, f"Channel {n:05d}")
        world.add_message(peer, text=f"last message {n}", date=start + timedelta(minutes=7 * n))
    return world


async def count_dialogs(client: Any) -> int:
    """The baseline: walk every dialog with Telethon alone."""
    seen = 0
    async for _dialog in client.iter_dialogs():
        seen += 1
    return seen


def measure(dialogs: int, repeat: int) -> dict[str, Any]:
    """Every figure of the benchmark, plus the bounds and whether they held."""
    world = build_world(dialogs)
    problems: list[str] = []
    listing = ("chats", "list", "--scan", "0", "--limit", "0", "--json")
    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-") as tmp:
        home = Path(tmp)
        cwd = Path.cwd()
        isolate(home)
        try:
            bench = Bench(world, home, FakeClock(start=NOW))
            # warm-up: imports, first connection
            bench.bare(count_dialogs)
            bench.cli(*listing, "--refresh")
            refresh: list[tuple[int, str, str, Counter[str], float]] = []
            hits: list[tuple[int, str, str, Counter[str], float]] = []
            bare: list[tuple[int, Counter[str], float]] = []
            for _ in range(repeat):
                refresh.append(bench.cli(*listing, "--refresh"))
                hits.append(bench.cli(*listing))
                bare.append(bench.bare(count_dialogs))
        finally:
            os.chdir(cwd)

    def check(name: str, runs: Sequence[tuple[int, str, str, Counter[str], float]]) -> None:
        for code, out, err, _requests, _seconds in runs:
            if code != 0:
                problems.append(f"{name}: exit {code}: {err.strip()}")
            elif len(json.loads(out)) != dialogs:
                problems.append(f"{name}: listed {len(json.loads(out))} of {dialogs} dialogs")

    check("refresh", refresh)
    check("cache_hit", hits)
    bound = math.ceil(dialogs / PAGE) + SLACK
    refresh_requests = max(refresh, key=lambda r: sum(r[3].values()))[3]
    get_dialogs = max(r[3]["GetDialogsRequest"] for r in refresh)
    if get_dialogs > bound:
        problems.append(f"refresh: {get_dialogs} GetDialogsRequest > bound {bound}")
    if refresh_requests["GetHistoryRequest"]:
        problems.append("refresh: fetched last messages although every dialog had one")
    hit_requests = max(sum(r[3].values()) for r in hits)
    if hit_requests:
        problems.append(f"cache_hit: {hit_requests} requests, expected 0")
    seen = [b[0] for b in bare]
    if any(s != dialogs for s in seen):
        problems.append(f"baseline: iter_dialogs saw {seen}, expected {dialogs}")
    bare_requests = bare[0][1]
    refresh_s = median([r[4] for r in refresh])
    hit_s = median([r[4] for r in hits])
    bare_s = median([b[2] for b in bare])
    return {
        "benchmark": "chats_list",
        "dialogs": dialogs,
        "repeat": repeat,
        "refresh": {
            "command": "tgpilot " + " ".join((*listing, "--refresh")),
            "get_dialogs_requests": get_dialogs,
            "get_dialogs_bound": bound,
            "requests": dict(sorted(refresh_requests.items())),
            "seconds": refresh_s,
        },
        "cache_hit": {
            "command": "tgpilot " + " ".join(listing),
            "requests": hit_requests,
            "requests_bound": 0,
            "seconds": hit_s,
        },
        "baseline": {
            "code": "async for d in client.iter_dialogs(): ...",
            "get_dialogs_requests": bare_requests["GetDialogsRequest"],
            "requests": dict(sorted(bare_requests.items())),
            "seconds": bare_s,
        },
        "ratios": {
            "refresh_vs_bare": round(refresh_s / bare_s, 3) if bare_s else None,
            "cache_hit_vs_refresh": round(hit_s / refresh_s, 3) if refresh_s else None,
            "get_dialogs_refresh_vs_bare": round(
                get_dialogs / max(1, bare_requests["GetDialogsRequest"]), 3
            ),
        },
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/chats_list.py", description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--dialogs", type=int, default=1000, help="dialogs in the world (1000)")
    size.add_argument("--tiny", action="store_true", help=f"{TINY} dialogs (CI smoke test)")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per figure (3)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    dialogs = TINY if args.tiny else args.dialogs
    if dialogs < 1 or args.repeat < 1:
        parser.error("--dialogs and --repeat must be positive")
    return report(measure(dialogs, args.repeat), args.out)


if __name__ == "__main__":
    sys.exit(main())
