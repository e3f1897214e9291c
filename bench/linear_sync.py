"""Benchmark ``tgpilot linear sync FILE`` over N backlog items: mutations and round trips.

    uv run python bench/linear_sync.py [--items N | --tiny] [--page P] [--repeat R] [--out FILE]

Starts the fake Linear GraphQL server (``tests/fakes/linear``) with one empty team and
a backlog file of N items, then runs the real CLI (``tgpilot.cli.app.run``, a temporary
TGPILOT_HOME, ``linear.page_size`` = P):

- ``first``: ``linear sync FILE --yes`` — N ``issueCreate`` mutations;
- ``rerun``: the same with nothing changed — **0 mutations** (the figure the issue asks
  for), its GraphQL requests (the team lookup, its labels, and ceil(N / P) pages of the
  one marker query) and wall time (median of ``--repeat``);
- ``wiped``: the rerun after the store is deleted — still 0 mutations (issues found by
  their markers), links re-adopted;
- ``baseline``: a bare httpx loop fetching the same marker-query pages — the least any
  sync must read to know what exists; ``rerun_vs_bare`` is the ratio of wall times.

``--tiny`` is 30 items at page 10 for CI. Prints one JSON document (also written to
``--out``); exits 1 if a bound is violated.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness import isolate, median, report
from tests.fakes.clock import FakeClock
from tests.fakes.linear import FakeLinear
from tgpilot.gateways.linear.documents import load_document

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
TINY_ITEMS, TINY_PAGE = 30, 10
KEY = "lin_api_bench_key"
MUTATIONS = ("IssueCreate", "IssueUpdate", "IssueLabelCreate")


def backlog(path: Path, items: int) -> None:
    """A backlog of ``items`` items over three categories, defaults with one label."""
    document = {
        "team": "ENG",
        "source": "bench",
        "defaults": {"priority": "normal", "labels": ["backlog"]},
        "items": [
            {
                "key": f"item-{n}",
                "title": f"Backlog item {n}",
                "category": ("web", "core", "docs")[n % 3],
                "priority": ("high", "normal", "low")[n % 3],
                "description": f"What item {n} is about.",
            }
            for n in range(items)
        ],
    }
    path.write_text(yaml.safe_dump(document), encoding="utf-8")


def run_cli(clock: FakeClock, *args: str) -> tuple[int, str, float]:
    """Run ``tgpilot args``: exit code, stderr, seconds."""
    from tgpilot.cli.app import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        began = time.perf_counter()
        code = run(list(args), clock=clock)
        seconds = time.perf_counter() - began
    return code, err.getvalue(), seconds


def bare_marker_pages(url: str, team_id: str, page: int) -> tuple[int, int, float]:
    """The baseline: the marker query's pages with httpx: issues, requests, seconds."""
    query = load_document("Issues")
    seen = requests = 0
    after: str | None = None
    began = time.perf_counter()
    with httpx.Client(headers={"Authorization": KEY}, timeout=30) as client:
        while True:
            variables = {
                "filter": {
                    "team": {"id": {"eq": team_id}},
                    "description": {"contains": "[tgpilot-key:bench/"},
                },
                "includeArchived": True,
                "first": page,
                "after": after,
            }
            body = {"query": query, "operationName": "Issues", "variables": variables}
            data = client.post(url, json=body).json()["data"]["issues"]
            requests += 1
            seen += len(data["nodes"])
            if not data["pageInfo"]["hasNextPage"]:
                break
            after = data["pageInfo"]["endCursor"]
    return seen, requests, time.perf_counter() - began


def _mutations(fake: FakeLinear, since: int) -> int:
    return sum(1 for r in fake.requests[since:] if r.operation in MUTATIONS)


def measure(items: int, page: int, repeat: int) -> dict[str, Any]:
    """Every figure of the benchmark, plus the bounds and whether they held."""
    problems: list[str] = []
    clock = FakeClock(start=NOW)
    with FakeLinear(clock=clock) as fake, tempfile.TemporaryDirectory(prefix="tgpilot-") as tmp:
        eng = fake.workspace.add_team("ENG", "Engineering")
        fake.workspace.add_label("backlog", eng)
        cwd = Path.cwd()
        home = Path(tmp)
        isolate(home)
        for name in [n for n in os.environ if n.startswith("LINEAR_")]:
            del os.environ[name]
        os.environ.update(
            LINEAR_API_KEY=KEY,
            TGPILOT_LINEAR__API_URL=fake.url,
            TGPILOT_LINEAR__PAGE_SIZE=str(page),
        )
        file = home / "backlog.yml"
        backlog(file, items)
        sync = ("linear", "sync", str(file), "--yes", "--json")
        try:
            before = len(fake.requests)
            code, err, first_s = run_cli(clock, *sync)
            first = {
                "exit": code,
                "requests": len(fake.requests) - before,
                "mutations": _mutations(fake, before),
                "seconds": round(first_s, 4),
            }
            if code != 0:
                problems.append(f"first sync: exit {code}: {err.strip()[:300]}")
            if first["mutations"] != items:
                problems.append(f"first sync: {first['mutations']} mutations for {items} items")
            bare_marker_pages(fake.url, eng.id, page)  # warm-up
            reruns: list[float] = []
            bare: list[float] = []
            rerun_requests = rerun_mutations = bare_requests = 0
            for _ in range(repeat):
                before = len(fake.requests)
                code, err, seconds = run_cli(clock, *sync)
                reruns.append(seconds)
                rerun_requests = len(fake.requests) - before
                rerun_mutations = max(rerun_mutations, _mutations(fake, before))
                if code != 0:
                    problems.append(f"rerun: exit {code}: {err.strip()[:300]}")
                seen, bare_requests, seconds = bare_marker_pages(fake.url, eng.id, page)
                bare.append(seconds)
                if seen != items:
                    problems.append(f"baseline: saw {seen} of {items} issues")
            for database in home.glob("*.db*"):
                database.unlink()
            before = len(fake.requests)
            code, err, wiped_s = run_cli(clock, *sync)
            wiped = {
                "exit": code,
                "requests": len(fake.requests) - before,
                "mutations": _mutations(fake, before),
                "seconds": round(wiped_s, 4),
            }
        finally:
            os.chdir(cwd)
        issues_now = len(fake.workspace.issues_of("ENG"))
    pages = math.ceil(items / page)
    if rerun_mutations != 0:
        problems.append(f"rerun: {rerun_mutations} mutations, expected 0")
    if wiped["mutations"] != 0:
        problems.append(f"after wiping the store: {wiped['mutations']} mutations, expected 0")
    if issues_now != items:
        problems.append(f"the team holds {issues_now} issues, expected {items}")
    rerun_s, bare_s = median(reruns), median(bare)
    return {
        "benchmark": "linear_sync",
        "items": items,
        "page_size": page,
        "repeat": repeat,
        "first": first,
        "rerun": {
            "command": "tgpilot " + " ".join(sync[:2]) + " FILE --yes --json",
            "mutations": rerun_mutations,
            "requests": rerun_requests,
            "marker_query_pages": pages,
            "seconds": round(rerun_s, 4),
        },
        "wiped_store": wiped,
        "baseline": {
            "code": "httpx.post(Issues, marker filter, first=page, after=endCursor)",
            "requests": bare_requests,
            "seconds": round(bare_s, 4),
        },
        "ratios": {
            "rerun_vs_bare": round(rerun_s / bare_s, 3) if bare_s else None,
            "rerun_requests_vs_bare": round(rerun_requests / max(1, bare_requests), 3),
        },
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--page", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="30 items at page 10 (CI)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    items, page = (TINY_ITEMS, TINY_PAGE) if args.tiny else (args.items, args.page)
    return report(measure(items, page, max(1, args.repeat)), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
