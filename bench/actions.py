"""Benchmark the plan/apply path of bulk actions on the fake Telegram, against bare Telethon.

    uv run python bench/actions.py [--messages N | --tiny] [--out FILE]

One supergroup of N messages (default 10,000), every tenth written by the account:

- ``clean_plan``: ``clean mine CHAT --plan-out FILE`` scans all N messages — history
  requests must be ceil(N/100) (+ 2 slack); baseline: a bare
  ``async for m in client.iter_messages(chat)`` over the same chat;
- ``clean_apply``: ``apply FILE --yes --delay 0`` deletes the N/10 planned messages —
  exactly ceil(N/10/100) delete requests (and as many re-check reads); baseline: bare
  ``client.delete_messages(chat, ids)`` over the same ids in a copy of the world;
- ``react_floods``: a ``react --yes`` plan on the newest 500 remaining messages with
  ``FLOOD_WAIT_2`` on 10 % of reaction requests (virtual clock: waits cost no time) —
  every item done once, one ``ok`` audit line each, reaction requests = items + floods.

Prints one JSON document (also written to ``--out``); exits 1 if a bound is violated.
The seconds are wall time of the whole command (config, lock, session, plan file,
audit); read the ratios.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import Bench, isolate, report
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
CHAT = "-1001777000001"
PAGE = 100
SLACK = 2
TINY = 1000
REACTIONS = 500


def build_world(messages: int) -> FakeTelegram:
    world = FakeTelegram(now=NOW, seed=5)
    me = world.add_me(1000, "Bench", username="bench_account", phone="+15550009999")
    members = [world.add_user(10_000 + n, f"Member {n:02d}") for n in range(20)]
    club = world.add_supergroup(1_777_000_001, "Bench Club", "bench_club", members=members)
    start = NOW - timedelta(days=30)
    for n in range(1, messages + 1):
        sender = me if n % 10 == 0 else members[n % len(members)]
        world.add_message(
            club, n, text=f"message {n}", sender=sender, date=start + timedelta(minutes=n)
        )
    return world


def measure(messages: int, home: Path) -> dict[str, Any]:
    problems: list[str] = []
    world = build_world(messages)
    spare = copy.deepcopy(world)
    bench = Bench(world, home, FakeClock(NOW))
    plan_file = home / "clean.json"
    code, _out, err, plan_requests, plan_s = bench.cli(
        "clean", "mine", CHAT, "--plan-out", str(plan_file)
    )
    if code != 0:
        problems.append(f"clean plan: exit {code}: {err.strip()}")
    planned = len(json.loads(plan_file.read_text(encoding="utf-8"))["items"]) if code == 0 else 0
    history_bound = math.ceil(messages / PAGE) + SLACK
    if plan_requests["GetHistoryRequest"] > history_bound:
        problems.append(
            f"clean plan: {plan_requests['GetHistoryRequest']} history > {history_bound}"
        )

    async def scan(client: Any) -> int:
        return sum([1 async for _ in client.iter_messages("bench_club", wait_time=0)])

    scanned, scan_requests, scan_s = bench.bare(scan)
    if scanned != messages:
        problems.append(f"baseline scan read {scanned} of {messages}")

    code, out, err, _requests, apply_s = bench.cli("apply", str(plan_file), "--yes", "--delay", "0")
    deletes = Counter(world.requests_qualified)["channels.DeleteMessagesRequest"]
    rechecks = Counter(world.requests_qualified)["channels.GetMessagesRequest"]
    delete_bound = math.ceil(planned / PAGE)
    if code != 0 or f"done {planned}," not in out:
        problems.append(f"apply: exit {code}: {err.strip()[-300:]}")
    if deletes != delete_bound:
        problems.append(f"apply: {deletes} delete requests, expected {delete_bound}")

    bare_bench = Bench(spare, home / "spare", FakeClock(NOW))
    ids = list(range(10, messages + 1, 10))

    async def delete(client: Any) -> int:
        chat = await client.get_input_entity("bench_club")
        affected = await client.delete_messages(chat, ids)
        return sum(a.pts_count for a in affected)

    deleted, _bare_requests, delete_s = bare_bench.bare(delete)
    if deleted != len(ids):
        problems.append(f"baseline deleted {deleted} of {len(ids)}")
    bare_deletes = Counter(spare.requests_qualified)["channels.DeleteMessagesRequest"]

    react = react_floods(bench, home, problems)
    return {
        "benchmark": "actions",
        "messages": messages,
        "clean_plan": {
            "command": f"tgpilot clean mine {CHAT} --plan-out FILE",
            "planned": planned,
            "history_requests": plan_requests["GetHistoryRequest"],
            "history_bound": history_bound,
            "delete_requests": plan_requests["DeleteMessagesRequest"],
            "seconds": round(plan_s, 6),
        },
        "scan_baseline": {
            "code": "async for m in client.iter_messages(chat)",
            "history_requests": scan_requests["GetHistoryRequest"],
            "seconds": round(scan_s, 6),
        },
        "clean_apply": {
            "command": "tgpilot apply FILE --yes --delay 0",
            "delete_requests": deletes,
            "delete_bound": delete_bound,
            "recheck_reads": rechecks,
            "seconds": round(apply_s, 6),
        },
        "delete_baseline": {
            "code": "client.delete_messages(chat, ids)",
            "delete_requests": bare_deletes,
            "seconds": round(delete_s, 6),
        },
        "react_floods": react,
        "ratios": {
            "plan_vs_bare_scan": round(scan_s / plan_s, 3) if plan_s else None,
            "apply_vs_bare_delete": round(delete_s / apply_s, 3) if apply_s else None,
        },
        "bounds_ok": not problems,
        "problems": problems,
    }


def react_floods(bench: Bench, home: Path, problems: list[str]) -> dict[str, Any]:
    """500 reactions on the messages ``clean`` left, with floods on 10 % of them."""
    world = bench.world
    targets = [m.id for m in world.history(int(CHAT))][-REACTIONS:]
    world.faults.fail("SendReactionRequest", probability=0.10, error="FLOOD_WAIT_2")
    refs = home / "refs.txt"
    refs.write_text(" ".join(str(n) for n in targets), encoding="utf-8")
    audit = home / "audit.jsonl"
    audit.unlink(missing_ok=True)
    slept = bench.clock.total_slept
    code, out, err, requests, seconds = bench.cli(
        "react", CHAT, "--file", str(refs), "--delay", "0.1", "--yes"
    )
    lines = [json.loads(x) for x in audit.read_text(encoding="utf-8").splitlines()]
    ok = Counter(line["message_id"] for line in lines if line["result"] == "ok")
    sent = requests["SendReactionRequest"]
    if code != 0 or f"done {len(targets)}, skipped 0, failed 0" not in out:
        problems.append(f"react: exit {code}: {err.strip()[-300:]}")
    if sorted(ok) != sorted(targets) or set(ok.values()) != {1}:
        problems.append("react: not exactly one ok audit line per item")
    return {
        "command": f"tgpilot react {CHAT} --file REFS --delay 0.1 --yes",
        "items": len(targets),
        "reaction_requests": sent,
        "floods": sent - len(targets),
        "ok_audit_lines": sum(ok.values()),
        "virtual_seconds_waited": round(bench.clock.total_slept - slept, 1),
        "seconds": round(seconds, 6),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/actions.py", description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--messages", type=int, default=10_000, help="messages (10000)")
    size.add_argument("--tiny", action="store_true", help=f"{TINY} messages (CI smoke test)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    messages = TINY if args.tiny else args.messages
    if messages < 10:
        parser.error("--messages must be at least 10")
    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-") as tmp:
        home = Path(tmp)
        isolate(home)
        return report(measure(messages, home), args.out)


if __name__ == "__main__":
    sys.exit(main())
