"""Benchmark ``linear mirror``: rows written per run, and comparing before writing.

    uv run python bench/linear_mirror.py [--issues N | --tiny] [--page P] [--repeat R] [--out FILE]

Starts the fake Linear GraphQL server (``tests/fakes/linear``) with two teams, N issues
(0–3 labels each, a project spanning both teams) and mirrors it into a SQLite store in
a temporary folder through :class:`~tgpilot.services.linear.mirror.LinearMirror` on a
real :class:`~tgpilot.gateways.linear.client.LinearClient`:

- ``first``: the first (full) mirror — rows written, GraphQL requests, seconds;
- ``rerun``: incremental, nothing changed in Linear — must write 0 rows and fetch only
  the issues of the last five minutes before the watermark (issues are seeded a
  minute apart);
- ``edit``: 10 issues edited — must write exactly those 10 rows;
- ``full_rerun``: ``--full`` with nothing changed — every node fetched again, 0 rows written.

Baseline in the same run (DESIGN "Performance habits"): the N issue rows upserted
blindly (one INSERT … ON CONFLICT per batch, as a mirror without the comparison would)
against :meth:`LinearMirrorRepository.upsert` over the same unchanged rows (one SELECT
per batch, nothing written): ``compare_vs_blind_write`` is the ratio of their medians.
``--tiny`` is 120 issues at page 50 for CI. Prints one JSON document (also written to
``--out``); exits 1 if a bound is violated.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from harness import median, report
from tests.fakes.linear import FakeLinear, Workspace
from tgpilot.core.clock import SystemClock
from tgpilot.core.config.settings import LinearSettings
from tgpilot.gateways.linear.client import LinearClient
from tgpilot.services.linear.mirror import LinearMirror, MirrorOptions
from tgpilot.store import Store
from tgpilot.store.batches import chunked
from tgpilot.store.linear import MIRROR_BATCH_SIZE, LinearMirrorRepository
from tgpilot.store.schema import linear_issues
from tgpilot.store.upsert import upsert_statement

TINY_ISSUES, TINY_PAGE = 120, 50
EDITS = 10
OVERLAP_MINUTES = 5
KEY = "lin_api_bench_key"


class SeedClock:
    """The workspace's clock: a minute passes between seeded issues, so an incremental
    run has something to skip; edits after seeding are stamped later still."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC) - timedelta(days=30)

    def __call__(self) -> datetime:
        return self.moment


def seed(ws: Workspace, clock: SeedClock, issues: int) -> None:
    """ENG and OPS, labels, a project on both, ``issues`` issues a minute apart."""
    eng, ops = ws.add_team("ENG", "Engineering"), ws.add_team("OPS", "Operations")
    labels = [ws.add_label(name) for name in ("bug", "feature", "backend", "frontend")]
    project = ws.add_project("Platform", eng, ops)
    for n in range(issues):
        clock.moment += timedelta(minutes=1)
        ws.add_issue(
            eng if n % 2 else ops,
            f"Benchmark issue {n}",
            description=f"Body {n}",
            priority=n % 5,
            estimate=(n % 7) / 2 or None,
            labels=labels[: n % 4],
            project=project if n % 3 == 0 else None,
        )


async def mirror_once(
    store: Store, settings: LinearSettings, *, full: bool = False
) -> dict[str, Any]:
    """One mirror run: rows written, requests, seconds."""
    async with LinearClient.from_settings(settings, clock=SystemClock()) as client:
        service = LinearMirror(client, LinearMirrorRepository(store))
        began = time.perf_counter()
        result = await service.run(MirrorOptions(full=full))
        seconds = time.perf_counter() - began
    return {
        "rows_written": result.rows_written,
        "requests": result.requests,
        "issues_fetched": result.entities["issues"].fetched,
        "seconds": round(seconds, 6),
    }


async def issue_rows(store: Store) -> list[dict[str, Any]]:
    """The stored issues as the mirror builds them (every column but ``synced_at``)."""
    async with store.engine.connect() as conn:
        result = await conn.execute(linear_issues.select())
        return [
            {k: v for k, v in row.items() if k != "synced_at"} for row in result.mappings().all()
        ]


async def store_baseline(store: Store, repeat: int) -> dict[str, Any]:
    """Comparing unchanged issue rows against writing them blindly, same rows, same store."""
    rows = await issue_rows(store)
    repository = LinearMirrorRepository(store)
    statement = upsert_statement(store.backend, linear_issues)
    compare, blind = [], []
    for _ in range(repeat):
        began = time.perf_counter()
        counts = await repository.upsert("issues", rows)
        compare.append(time.perf_counter() - began)
        assert counts.written == 0
        stamped = [{**row, "synced_at": row["updated_at"]} for row in rows]
        began = time.perf_counter()
        for batch in chunked(stamped, MIRROR_BATCH_SIZE):
            async with store.engine.begin() as conn:
                await conn.execute(statement, list(batch))
        blind.append(time.perf_counter() - began)
    return {
        "rows": len(rows),
        "compare_seconds": median(compare),
        "blind_write_seconds": median(blind),
        "compare_vs_blind_write": round(median(compare) / max(median(blind), 1e-9), 3),
    }


async def measure(issues: int, page: int, repeat: int) -> dict[str, Any]:
    clock = SeedClock()
    workspace = Workspace(now=clock)
    with FakeLinear(workspace=workspace) as fake, tempfile.TemporaryDirectory() as folder:
        seed(workspace, clock, issues)
        settings = LinearSettings(api_url=fake.url, api_key=SecretStr(KEY), page_size=page)
        async with await Store.open(f"sqlite:///{Path(folder) / 'mirror.db'}") as store:
            first = await mirror_once(store, settings)
            reruns = [await mirror_once(store, settings) for _ in range(repeat)]
            clock.moment += timedelta(hours=1)
            for issue in fake.workspace.issues[:EDITS]:
                issue.title += " (edited)"
                issue.updated_at = fake.workspace.stamp()
            edit = await mirror_once(store, settings)
            full_rerun = await mirror_once(store, settings, full=True)
            baseline = await store_baseline(store, repeat)
    rerun = min(reruns, key=lambda r: r["seconds"]) | {
        "seconds": median([r["seconds"] for r in reruns])
    }
    problems = []
    if first["issues_fetched"] != issues:
        problems.append(f"first run fetched {first['issues_fetched']} of {issues} issues")
    if any(r["rows_written"] for r in reruns):
        problems.append(f"a rerun wrote rows: {[r['rows_written'] for r in reruns]}")
    if edit["rows_written"] != EDITS:
        problems.append(f"{EDITS} edits wrote {edit['rows_written']} rows")
    if issues >= 4 * OVERLAP_MINUTES and rerun["issues_fetched"] >= issues:
        problems.append("an incremental rerun fetched every issue again")
    if full_rerun["rows_written"] != 0:
        problems.append(f"a full rerun wrote {full_rerun['rows_written']} rows")
    if full_rerun["issues_fetched"] != issues:
        problems.append("a full rerun did not fetch every issue")
    return {
        "benchmark": "linear_mirror",
        "issues": issues,
        "page_size": page,
        "first": first,
        "rerun": rerun,
        "edit": edit,
        "full_rerun": full_rerun,
        "store": baseline,
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/linear_mirror.py", description=__doc__.split("\n")[0]
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--issues", type=int, default=5000, help="issues in the workspace (5000)")
    size.add_argument("--tiny", action="store_true", help=f"{TINY_ISSUES} issues, page {TINY_PAGE}")
    parser.add_argument("--page", type=int, default=250, help="linear.page_size (250)")
    parser.add_argument("--repeat", type=int, default=3, help="measured reruns (3)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    issues, page = (TINY_ISSUES, TINY_PAGE) if args.tiny else (args.issues, args.page)
    if issues < EDITS or args.repeat < 1 or not 1 <= page <= 250:
        parser.error(f"--issues at least {EDITS}, --repeat positive, --page 1–250")
    return report(asyncio.run(measure(issues, page, args.repeat)), args.out)


if __name__ == "__main__":
    sys.exit(main())
