"""Benchmark ``tgpilot linear issue list`` over N issues against a bare httpx loop, in one run.

    uv run python bench/linear_list.py [--issues N | --tiny] [--page P] [--repeat R] [--out FILE]

Starts the fake Linear GraphQL server (``tests/fakes/linear``) with one team of N
issues and measures:

- ``tgpilot``: ``linear issue list --limit N --json`` through the real CLI
  (``tgpilot.cli.app.run``, ``FakeClock``, a temporary TGPILOT_HOME, ``linear.page_size``
  = P) — GraphQL requests (must be ceil(N / P)), issues printed (must be N), wall time;
- ``service``: the same listing through ``IssueService.list_issues`` on a
  ``LinearClient`` in-process, without the CLI around it (Typer start-up, config);
- ``baseline``: a bare httpx loop posting the same ``Issues`` document page by page,
  following ``endCursor`` — requests and wall time on the same server.

Times are medians over ``--repeat`` runs after one warm-up; the figure that matters is
the ratio of the time per listed issue (DESIGN "Performance habits"):
``per_issue_service_vs_bare`` is the gateway's own cost, ``per_issue_tgpilot_vs_bare``
adds the CLI's fixed start-up. ``--tiny`` is 60
issues at page 25 (still three pages) for CI. Prints one JSON document (also written
to ``--out``); exits 1 if a bound is violated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from harness import isolate, median, report
from tests.fakes.clock import FakeClock
from tests.fakes.linear import FakeLinear
from tgpilot.gateways.linear.documents import load_document

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
TINY_ISSUES, TINY_PAGE = 60, 25
KEY = "lin_api_bench_key"


def seed(fake: FakeLinear, issues: int) -> None:
    """One team, ENG, holding ``issues`` issues."""
    ws = fake.workspace
    eng = ws.add_team("ENG", "Engineering")
    for n in range(issues):
        ws.add_issue(eng, f"Benchmark issue {n}", description=f"Body {n}", priority=n % 5)


def run_cli(clock: FakeClock, *args: str) -> tuple[int, str, str, float]:
    """Run ``tgpilot args``: exit code, stdout, stderr, seconds."""
    from tgpilot.cli.app import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        began = time.perf_counter()
        code = run(list(args), clock=clock)
        seconds = time.perf_counter() - began
    return code, out.getvalue(), err.getvalue(), seconds


def bare_list(url: str, page: int) -> tuple[int, float]:
    """The baseline: post the ``Issues`` document with httpx, following cursors."""
    query = load_document("Issues")
    seen = 0
    after: str | None = None
    began = time.perf_counter()
    with httpx.Client(headers={"Authorization": KEY}, timeout=30) as client:
        while True:
            variables = {"filter": {}, "first": page, "after": after}
            body = {"query": query, "operationName": "Issues", "variables": variables}
            data = client.post(url, json=body).json()["data"]["issues"]
            seen += len(data["nodes"])
            if not data["pageInfo"]["hasNextPage"]:
                break
            after = data["pageInfo"]["endCursor"]
    return seen, time.perf_counter() - began


def service_list(url: str, page: int, issues: int) -> tuple[int, int, float]:
    """The listing through the issue service and the client: issues, requests, seconds."""
    from tgpilot.core.config.settings import LinearSettings
    from tgpilot.gateways.linear import LinearClient
    from tgpilot.services.linear.issues import IssueQuery, IssueService

    settings = LinearSettings.model_validate({"api_url": url, "page_size": page})

    async def go() -> tuple[int, int]:
        clock = FakeClock(start=NOW)
        async with LinearClient(
            api_url=url, authorization=KEY, clock=clock, page_size=page
        ) as client:
            service = IssueService(client, settings, clock=clock)
            seen = [i async for i in service.list_issues(IssueQuery(), limit=issues)]
            return len(seen), client.requests

    began = time.perf_counter()
    seen, requests = asyncio.run(go())
    return seen, requests, time.perf_counter() - began


def measure(issues: int, page: int, repeat: int) -> dict[str, Any]:
    """Every figure of the benchmark, plus the bound and whether it held."""
    problems: list[str] = []
    clock = FakeClock(start=NOW)
    listing = ("linear", "issue", "list", "--limit", str(issues), "--json")
    bound = math.ceil(issues / page)
    with FakeLinear(clock=clock) as fake, tempfile.TemporaryDirectory(prefix="tgpilot-") as tmp:
        seed(fake, issues)
        cwd = Path.cwd()
        isolate(Path(tmp))
        for name in [n for n in os.environ if n.startswith("LINEAR_")]:
            del os.environ[name]
        os.environ.update(
            LINEAR_API_KEY=KEY,
            TGPILOT_LINEAR__API_URL=fake.url,
            TGPILOT_LINEAR__PAGE_SIZE=str(page),
        )
        try:
            run_cli(clock, *listing)  # warm-up: imports, first connection
            bare_list(fake.url, page)
            ours: list[float] = []
            service: list[float] = []
            bare: list[float] = []
            requests: list[int] = []
            bare_requests: list[int] = []
            for _ in range(repeat):
                before = len(fake.requests)
                code, out, err, seconds = run_cli(clock, *listing)
                requests.append(len(fake.requests) - before)
                ours.append(seconds)
                if code != 0:
                    problems.append(f"tgpilot: exit {code}: {err.strip()}")
                elif len(json.loads(out)) != issues:
                    problems.append(f"tgpilot: listed {len(json.loads(out))} of {issues}")
                seen, service_requests, seconds = service_list(fake.url, page, issues)
                service.append(seconds)
                if (seen, service_requests) != (issues, bound):
                    problems.append(f"service: {seen} issues in {service_requests} requests")
                before = len(fake.requests)
                seen, seconds = bare_list(fake.url, page)
                bare_requests.append(len(fake.requests) - before)
                bare.append(seconds)
                if seen != issues:
                    problems.append(f"baseline: listed {seen} of {issues}")
        finally:
            os.chdir(cwd)
    if max(requests) != bound:
        problems.append(
            f"tgpilot: {max(requests)} requests, expected ceil({issues}/{page}) = {bound}"
        )
    ours_s, service_s, bare_s = median(ours), median(service), median(bare)
    per_ours, per_service, per_bare = ours_s / issues, service_s / issues, bare_s / issues
    return {
        "benchmark": "linear_list",
        "issues": issues,
        "page_size": page,
        "repeat": repeat,
        "tgpilot": {
            "command": "tgpilot " + " ".join(listing),
            "requests": max(requests),
            "requests_bound": bound,
            "seconds": ours_s,
            "seconds_per_issue": round(per_ours, 9),
        },
        "service": {
            "code": "IssueService.list_issues(IssueQuery(), limit=N) on a LinearClient",
            "requests": bound,
            "seconds": service_s,
            "seconds_per_issue": round(per_service, 9),
        },
        "baseline": {
            "code": "httpx.post(Issues, first=page, after=endCursor) until not hasNextPage",
            "requests": max(bare_requests),
            "seconds": bare_s,
            "seconds_per_issue": round(per_bare, 9),
        },
        "ratios": {
            "per_issue_tgpilot_vs_bare": round(per_ours / per_bare, 3) if per_bare else None,
            "per_issue_service_vs_bare": round(per_service / per_bare, 3) if per_bare else None,
            "requests_tgpilot_vs_bare": round(max(requests) / max(1, max(bare_requests)), 3),
        },
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/linear_list.py", description=__doc__.split("\n")[0]
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--issues", type=int, default=600, help="issues in the team (600)")
    size.add_argument("--tiny", action="store_true", help=f"{TINY_ISSUES} issues, page {TINY_PAGE}")
    parser.add_argument("--page", type=int, default=250, help="linear.page_size (250)")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per figure (3)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    issues, page = (TINY_ISSUES, TINY_PAGE) if args.tiny else (args.issues, args.page)
    if issues < 1 or args.repeat < 1 or not 1 <= page <= 250:
        parser.error("--issues and --repeat must be positive, --page 1–250")
    return report(measure(issues, page, args.repeat), args.out)


if __name__ == "__main__":
    sys.exit(main())
