"""Benchmark: `tgpilot rag index` over N archived messages, and `rag search` latency.

Fills a fresh store with N messages of one supergroup (20 senders, a quiet spell every
10 messages, so chunks are conversations), then runs the real CLI with the in-process
``hash`` embedder and embedded Qdrant:

1. ``rag index --all``: the embedding requests must be exactly ceil(chunks / 100);
2. ``rag index --all`` again with nothing new: zero embedding requests, zero chunks
   embedded, the point count unchanged;
3. ``rag search`` latency over that index in local mode: median and p95 of Q queries
   through the search service (the CLI's code path, without process start-up).

The baseline, measured in the same run, is embedding the same chunk texts alone (no
store reads, no Qdrant): ``index_vs_embedding_only`` says what the rest costs.

    uv run python bench/rag_index.py [--messages 100000 | --tiny] [--queries 100] [--out F]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import WORDS, isolate, report

TINY = 2000
QUERIES = 100
TINY_QUERIES = 20
RUN_LENGTH = 10
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def build_messages(count: int) -> list[Any]:
    """``count`` messages: 3 minutes apart, a 2-hour pause every ``RUN_LENGTH``."""
    from tgpilot.models import Message, Sender

    senders = [Sender(10_000 + n, f"Member {n:02d}", f"member{n:02d}") for n in range(20)]
    chat_id = -1_001_777_000_001
    start = NOW - timedelta(days=400)
    when = start
    messages = []
    for n in range(1, count + 1):
        when += timedelta(hours=2) if n % RUN_LENGTH == 1 else timedelta(minutes=3)
        text = " ".join(WORDS[(n * k) % len(WORDS)] for k in range(1, 4 + n % 12))
        messages.append(
            Message(chat_id, n, when, f"{text} #{n % 97}", sender=senders[n % len(senders)])
        )
    return messages


async def fill_store(url: str, messages: list[Any]) -> None:
    from tgpilot.models import Chat, ChatType
    from tgpilot.store import Store
    from tgpilot.store.records import ChatRecord

    async with await Store.open(url) as store:
        chat = Chat(
            -1_001_777_000_001, 1_777_000_001, ChatType.SUPERGROUP, "Bench Club", "bench_club"
        )
        await store.upsert_chats([ChatRecord.from_chat(chat)])
        await store.upsert_messages(messages, fetched_at=NOW)


def cli(*args: str) -> tuple[int, Any, str, float]:
    from tests.fakes.clock import FakeClock
    from tgpilot.cli.app import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        began = time.perf_counter()
        code = run(list(args), clock=FakeClock(start=NOW))
        seconds = time.perf_counter() - began
    document = json.loads(out.getvalue()) if code == 0 and out.getvalue().strip() else None
    return code, document, err.getvalue(), seconds


async def search_latencies(home: Path, queries: int) -> tuple[list[float], int]:
    from tgpilot.core.config import ConfigOptions, load_config
    from tgpilot.gateways.llm.embeddings import HashBackend, TextEmbedder
    from tgpilot.gateways.vectors import open_vector_store
    from tgpilot.services.rag.search import search_archive

    config = load_config(ConfigOptions())
    embedder = TextEmbedder(HashBackend())
    samples: list[float] = []
    found = 0
    async with open_vector_store(config) as vectors:
        for q in range(queries):
            query = " ".join(WORDS[(q * k + 3) % len(WORDS)] for k in range(1, 4))
            began = time.perf_counter()
            hits = await search_archive(vectors, embedder, query, limit=10)
            samples.append(time.perf_counter() - began)
            found += len(hits)
    return samples, found


async def embedding_only(messages: list[Any], chunk_tokens: int) -> float:
    """The baseline: chunk and embed the same texts, nothing else."""
    from tgpilot.gateways.llm.embeddings import HashBackend, TextEmbedder
    from tgpilot.gateways.llm.tokens import count_tokens
    from tgpilot.services.rag.chunking import chunk_messages

    embedder = TextEmbedder(HashBackend())
    began = time.perf_counter()
    chunks = list(
        chunk_messages(
            messages, max_tokens=chunk_tokens, gap=timedelta(minutes=30), count_tokens=count_tokens
        )
    )
    await embedder.embed([c.text for c in chunks])
    return time.perf_counter() - began


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def measure(count: int, queries: int) -> dict[str, Any]:
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-rag-") as folder:
        home = Path(folder)
        isolate(home)
        messages = build_messages(count)
        began = time.perf_counter()
        asyncio.run(fill_store(f"sqlite:///{home / 'tgpilot.db'}", messages))
        fill_seconds = time.perf_counter() - began

        code, first, err, first_seconds = cli(
            "rag", "index", "--all", "--embeddings", "hash", "--json"
        )
        if code != 0 or first is None:
            return {
                "benchmark": "rag_index",
                "bounds_ok": False,
                "problems": [f"exit {code}: {err}"],
            }
        bound = math.ceil(first["embedded"] / 100)
        if first["embedding_requests"] != bound:
            problems.append(f"{first['embedding_requests']} embedding requests, expected {bound}")
        _, stats, _, _ = cli("rag", "stats", "--embeddings", "hash", "--json")
        points = stats["points"] if stats else None
        if points != first["embedded"]:
            problems.append(f"{points} points after indexing {first['embedded']} chunks")

        code, second, err, second_seconds = cli(
            "rag", "index", "--all", "--embeddings", "hash", "--json"
        )
        if code != 0 or second is None:
            problems.append(f"second index: exit {code}: {err}")
            second = {"embedding_requests": None, "embedded": None}
        elif second["embedding_requests"] != 0 or second["embedded"] != 0:
            problems.append(f"second index made {second['embedding_requests']} requests")
        _, stats_again, _, _ = cli("rag", "stats", "--embeddings", "hash", "--json")
        if stats_again is None or stats_again["points"] != points:
            problems.append("the second index changed the point count")

        latencies, found = asyncio.run(search_latencies(home, queries))
        if found == 0:
            problems.append("no search found anything")
        baseline = asyncio.run(embedding_only(messages, 400))
    search = {
        "median_ms": round(statistics.median(latencies) * 1000, 3),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 3),
        "max_ms": round(max(latencies) * 1000, 3),
        "queries": queries,
        "results": found,
    }
    return {
        "benchmark": "rag_index",
        "messages": count,
        "embeddings": "hash (256, in-process)",
        "vectors": "embedded Qdrant (local mode)",
        "store_fill_seconds": round(fill_seconds, 3),
        "first_index": {
            "chunks": first["embedded"],
            "embedding_requests": first["embedding_requests"],
            "requests_bound": bound,
            "points": points,
            "seconds": round(first_seconds, 3),
            "messages_per_second": round(count / first_seconds) if first_seconds else None,
        },
        "nothing_new": {
            "embedding_requests": second["embedding_requests"],
            "chunks_embedded": second["embedded"],
            "seconds": round(second_seconds, 3),
        },
        "search": search,
        "baseline": {"embedding_only_seconds": round(baseline, 3)},
        "ratios": {
            "index_vs_embedding_only": round(first_seconds / baseline, 3) if baseline else None,
            "nothing_new_vs_first": round(second_seconds / first_seconds, 4)
            if first_seconds
            else None,
        },
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/rag_index.py", description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--messages", type=int, default=100_000, help="messages (100000)")
    size.add_argument("--tiny", action="store_true", help=f"{TINY} messages (CI smoke test)")
    parser.add_argument("--queries", type=int, default=None, help=f"search queries ({QUERIES})")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    count = TINY if args.tiny else args.messages
    queries = args.queries or (TINY_QUERIES if args.tiny else QUERIES)
    if count < 1 or queries < 1:
        parser.error("--messages and --queries must be positive")
    return report(measure(count, queries), args.out)


if __name__ == "__main__":
    sys.exit(main())
