"""Benchmark ``tgpilot analyze`` map-reduce over a long chat and a small window.

    uv run python bench/map_reduce.py [--messages N | --tiny] [--window W] [--out FILE]

A Telegram Desktop export of N messages (default 50,000; 20 senders, Russian and
English text, reactions) is analysed through the real CLI with a model whose window is
W tokens (default 16,000, declared in a ``models.yml``) against the fake LLM server
(OpenAI-compatible, on loopback): one map call per chunk, then the reduce. Figures:

- ``map.calls`` against the lower bound ``ceil(payload tokens / input budget)`` — how
  well the chunker fills each request (``map.fill_ratio`` = bound / calls, 1.0 ideal);
- ``reduce.calls`` and the plan's estimate (an upper bound);
- every request's prompt tokens plus its ``max_tokens``: the largest must not exceed
  the window, and every map payload must fit the budget;
- every message sent exactly once, in order (no message in two chunks);
- seconds for the whole command.

Prints one JSON document; exits 1 if a bound is violated.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import WORDS, isolate, report
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, RecordedRequest, Reply

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
TINY = 2000
WINDOW = 16_000
MODEL = "bench-16k"
FILL_SLACK = 1.05
"""Map calls may exceed the lower bound by 5 % (+1): a chunk never splits a message."""
LINE = re.compile(r"^\[\d\d\.\d\d\.\d{4} \d\d:\d\d\] ", re.MULTILINE)
MAP_ANSWER = {
    "category": "Book club",
    "topics": [{"name": "Reading", "mentions": 12}, {"name": "Meetings", "mentions": 5}],
    "key_participants": [{"name": "Member 01", "message_count": 9, "engagement_score": 7}],
    "summary": "One part of the club's chat.",
}


def export_document(messages: int) -> dict[str, Any]:
    """A single-chat Desktop export of ``messages`` texts over the last 300 days."""
    start = NOW - timedelta(days=300)
    step = timedelta(days=300) / messages
    items = []
    for n in range(1, messages + 1):
        when = start + step * n
        member = n % 20
        text = " ".join(WORDS[(n * k) % len(WORDS)] for k in range(1, 6 + n % 12))
        item: dict[str, Any] = {
            "id": n,
            "type": "message",
            "date": when.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(int(when.timestamp())),
            "from": f"Member {member:02d}",
            "from_id": f"user{10_000 + member}",
            "text": text,
            "text_entities": [{"type": "plain", "text": text}],
        }
        if n % 3 == 0:
            item["reactions"] = [{"type": "emoji", "count": 1 + n % 5, "emoji": "👍"}]
        items.append(item)
    return {
        "name": "Bench Club",
        "type": "public_supergroup",
        "id": 1_777_000_001,
        "messages": items,
    }


def request_figures(
    requests: list[RecordedRequest], budget: dict[str, int], messages: int
) -> tuple[dict[str, Any], list[str]]:
    from tgpilot.gateways.llm.tokens import count_tokens

    problems: list[str] = []
    largest = 0
    sent_lines: list[tuple[int, list[str]]] = []
    for request in requests:
        turns = request.json["messages"]
        prompt = sum(count_tokens(turn["content"]) for turn in turns)
        total = prompt + int(request.json.get("max_tokens") or 0)
        largest = max(largest, total)
        if total > budget["window"]:
            problems.append(f"a request takes {total} tokens > window {budget['window']}")
        user = turns[-1]["content"]
        part = re.search(r"Part (\d+) of \d+", user)
        if part is not None:
            lines = [line for line in user.splitlines() if LINE.match(line)]
            payload = count_tokens("\n".join(lines))
            if payload > budget["input"]:
                problems.append(f"map part {part.group(1)}: {payload} > budget {budget['input']}")
            sent_lines.append((int(part.group(1)), lines))
    ordered = [line for _, lines in sorted(sent_lines) for line in lines]
    if len(ordered) != messages or len(set(ordered)) != len(ordered):
        problems.append(f"{len(ordered)} message lines sent for {messages} messages")
    figures = {
        "requests": len(requests),
        "largest_request_tokens": largest,
        "payload_tokens": count_tokens("\n".join(ordered)),
    }
    return figures, problems


def measure(messages: int, window: int) -> dict[str, Any]:
    from tgpilot.cli.app import run

    problems: list[str] = []
    cwd = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-") as tmp, FakeLLMServer() as server:
        home = Path(tmp)
        isolate(home)
        try:
            os.environ.update(
                TGPILOT_LLM__BASE_URL=server.openai_url,
                TGPILOT_LLM__REQUESTS_PER_MINUTE="1000000",
                TGPILOT_LLM__CACHE="false",
                OPENAI_API_KEY="sk-bench",
            )
            (home / "models.yml").write_text(
                f"models:\n  {MODEL}:\n    {{provider: openai, window: {window}, "
                "max_output: 4096, price: {input: 0.15, output: 0.6}, json: true}\n",
                encoding="utf-8",
            )
            export = home / "export" / "result.json"
            export.parent.mkdir()
            export.write_text(json.dumps(export_document(messages), ensure_ascii=False), "utf-8")
            # More answers than any plan needs: the maps, then every reduce level.
            server.script(*[Reply.of_text(json.dumps(MAP_ANSWER))] * messages)
            command = ["analyze", "Bench Club", "--source", str(export), "--limit", "0"]
            command += ["--days", "0", "--model", MODEL, "--format", "json", "--json"]
            command += ["--out", str(home / "reports")]
            began = time.perf_counter()
            code, out, err = _run(run, command)
            seconds = time.perf_counter() - began
        finally:
            os.chdir(cwd)
        requests = server.requests_to("/chat/completions")
    if code != 0:
        return {"benchmark": "map_reduce", "bounds_ok": False, "problems": [f"exit {code}: {err}"]}
    [row] = json.loads(out)["reports"]
    plan, budget = row["plan"], row["plan"]["budget"]
    map_calls = sum(
        1 for r in requests if re.search(r"Part \d+ of", r.json["messages"][-1]["content"])
    )
    reduce_calls = len(requests) - map_calls
    figures, request_problems = request_figures(requests, budget, messages)
    problems += request_problems
    payload = figures.pop("payload_tokens")
    lower_bound = math.ceil(payload / budget["input"])
    if map_calls != plan["map_calls"]:
        problems.append(f"{map_calls} map calls, the plan said {plan['map_calls']}")
    if map_calls > math.ceil(lower_bound * FILL_SLACK) + 1:
        problems.append(f"{map_calls} map calls > {FILL_SLACK} × lower bound {lower_bound} + 1")
    if reduce_calls > plan["reduce_calls"]:
        problems.append(f"{reduce_calls} reduce calls > the plan's {plan['reduce_calls']}")
    return {
        "benchmark": "map_reduce",
        "messages": messages,
        "window": window,
        "command": "tgpilot analyze 'Bench Club' --source EXPORT "
        + " ".join(command[4:-1])
        + " DIR",
        "budget": budget,
        "map": {
            "calls": map_calls,
            "payload_tokens": payload,
            "lower_bound": lower_bound,
            "fill_ratio": round(lower_bound / map_calls, 3) if map_calls else None,
        },
        "reduce": {"calls": reduce_calls, "plan_upper_bound": plan["reduce_calls"]},
        "plan": {k: plan[k] for k in ("calls", "input_tokens", "output_tokens", "cost_usd")},
        **figures,
        "seconds": round(seconds, 3),
        "messages_per_second": round(messages / seconds) if seconds else None,
        "bounds_ok": not problems,
        "problems": problems,
    }


def _run(run: Any, command: list[str]) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(command, clock=FakeClock(start=NOW))
    return code, out.getvalue(), err.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/map_reduce.py", description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--messages", type=int, default=50_000, help="messages (50000)")
    size.add_argument("--tiny", action="store_true", help=f"{TINY} messages (CI smoke test)")
    parser.add_argument("--window", type=int, default=WINDOW, help=f"model window ({WINDOW})")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    messages = TINY if args.tiny else args.messages
    if messages < 1 or args.window < 1:
        parser.error("--messages and --window must be positive")
    return report(measure(messages, args.window), args.out)


if __name__ == "__main__":
    sys.exit(main())
