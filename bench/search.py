"""Benchmark ``search --archive`` (full text) against a regex scan of the same rows.

    uv run python bench/search.py [--messages N | --tiny] [--cache DIR] [--out FILE]

Issue #3: "archive full-text search over 1,000,000 stored messages is ≥ 50× faster than
a regex scan of the same rows (median of 20 queries)". The archive is
``bench/analyze_local.py``'s (one busy supergroup, Russian and English, default
1,000,000 messages), taken from its cache (``bench/out/analyze_local/``) or built there
once by its own builder; ``--tiny``: 5,000 messages and the first 3 queries.

For each of 20 fixed queries (:data:`QUERIES`: common words, topic words, rare words,
near misses, phrases, two words ANDed and a ``-word`` exclusion — from ~500 to ~76,000
matches in the million), in one process, alternating which side goes first:

- **tgpilot** — ``Store.search(query, limit=50)``, exactly what ``tgpilot search
  --archive QUERY`` calls (the CLI's default limit is 50): the portable query parsed,
  the FTS5 ``MATCH`` ranked by ``bm25`` then date; the store is opened once before the
  queries (as the CLI opens it once per command), the query timed alone;
- **baseline** — a regex scan of the same rows: ``SELECT chat_id, message_id, date,
  text FROM messages`` streamed through ``sqlite3``, each text tested with compiled
  case-insensitive patterns equivalent to the query (each word or phrase on word
  boundaries, words of a phrase separated by non-word characters, every included term
  must match, no excluded one may), then the newest 50 of the matches. A regex cannot
  know the best 50 matches before it has seen every row, so it reads them all (as FTS
  ranks all its matches); it does not reproduce ``bm25``, so its top 50 are ordered by
  date, not by relevance.

Agreement (untimed): for each query the number of FTS matches (``count(*)`` of the same
``MATCH``) is compared with the number of regex matches, and every one of tgpilot's 50
hits must be among the regex matches; a query ``agrees`` if both hold. They may differ
slightly where FTS5's ``unicode61`` tokenizer and Python's ``\\w`` disagree (``_`` is a
separator for FTS5 but a word character for ``\\w``; an emoji is a token for FTS5 but a
separator for the regex, so ``как 🤔 дела`` is the phrase "как дела" for the regex only;
FTS5 folds diacritics of Latin letters); the report says how many agree (at a million:
19 of 20, the phrase query counts 910 vs 911 for that reason).

Figures: ``tgpilot.median_seconds`` and ``baseline.median_seconds`` over the queries,
each query's seconds and counts, ``ratios.regex_vs_fts`` = baseline median / tgpilot
median against the target 50, ``agreement``. Prints one JSON document; exits 1 if fewer
than 90 % of the queries agree or a search fails.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for entry in (REPO / "src", REPO):
    if str(entry) not in sys.path:  # `python bench/x.py` puts only bench/ on the path
        sys.path.insert(0, str(entry))

from analyze_local import CACHE, DEFAULT_MESSAGES, ensure_archive  # noqa: E402

TINY = 5000
TINY_QUERIES = 3
LIMIT = 50  # `tgpilot search --archive` without --limit
TARGET = 50.0
AGREEMENT = 0.9
QUERIES = (
    "сегодня",
    "github",
    '"как дела"',
    "today",
    "давайте",
    "deal",
    "спасибо",
    "semester",
    "заработок",
    "python",
    "кофе",
    "нейросеть",
    "concert",
    "кало",
    "lunch",
    "мудрость",
    '"12:30"',
    '"sure got"',
    "python github",
    "кофе -чай",
)
"""Words and phrases of the generated chat, from ~76,000 matches (сегодня) in a million
down to a few hundred ("sure got") and 75 (python github)."""

_WORD = re.compile(r"\w+")


def query_patterns(query: str) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
    """Case-insensitive patterns equivalent to the portable query: included, excluded."""
    include: list[re.Pattern[str]] = []
    exclude: list[re.Pattern[str]] = []
    for negative, term in _terms(query):
        words = _WORD.findall(term)
        if words:
            pattern = re.compile(r"\b" + r"\W+".join(map(re.escape, words)) + r"\b", re.IGNORECASE)
            (exclude if negative else include).append(pattern)
    return include, exclude


def _terms(query: str) -> list[tuple[bool, str]]:
    return [
        (sign == "-", quoted or bare)
        for sign, quoted, bare in re.findall(r'(-?)(?:"([^"]*)"|(\S+))', query)
    ]


def regex_scan(
    db: Path, query: str, limit: int
) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """The baseline: every row scanned; the newest ``limit`` matches and all matches."""
    include, exclude = query_patterns(query)
    first, rest = include[0].search, [p.search for p in include[1:]]
    unwanted = [p.search for p in exclude]
    found: list[tuple[str, int, int]] = []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT chat_id, message_id, date, text FROM messages")
        for chat_id, message_id, date, text in rows:
            if (
                text
                and first(text)
                and all(s(text) for s in rest)
                and not any(s(text) for s in unwanted)
            ):
                found.append((str(date), message_id, chat_id))
    found.sort(reverse=True)
    top = [(chat_id, message_id) for _, message_id, chat_id in found[:limit]]
    return top, {(chat_id, message_id) for _, message_id, chat_id in found}


def fts_count(db: Path, query: str) -> int:
    """How many rows the FTS expression tgpilot builds for ``query`` matches."""
    from tgpilot.store.search import fts5_match, parse_query

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?",
            (fts5_match(parse_query(query)),),
        ).fetchone()
    return int(count)


async def run_queries(db: Path, queries: Sequence[str]) -> list[dict[str, Any]]:
    from tgpilot.store import Store

    results: list[dict[str, Any]] = []
    async with await Store.open(f"sqlite:///{db}") as store:
        await store.search(queries[0], limit=LIMIT)  # warm-up: the first query's compile
        for n, query in enumerate(queries):
            for side in ("tgpilot", "baseline") if n % 2 == 0 else ("baseline", "tgpilot"):
                began = time.perf_counter()
                if side == "tgpilot":
                    hits = await store.search(query, limit=LIMIT)
                    fts_s = time.perf_counter() - began
                else:
                    top, matched = regex_scan(db, query, LIMIT)
                    scan_s = time.perf_counter() - began
            fts_ids = [(h.chat_id, h.message_id) for h in hits]
            total = fts_count(db, query)
            inside = sum(1 for key in fts_ids if key in matched)
            results.append(
                {
                    "query": query,
                    "fts_seconds": round(fts_s, 6),
                    "regex_seconds": round(scan_s, 6),
                    "ratio": round(scan_s / fts_s, 1) if fts_s else None,
                    "fts_matches": total,
                    "regex_matches": len(matched),
                    "hits": len(fts_ids),
                    "hits_in_regex_matches": inside,
                    "same_newest_first": sorted(fts_ids) == sorted(top) if total <= LIMIT else None,
                    "agrees": total == len(matched) and inside == len(fts_ids) == min(total, LIMIT),
                }
            )
    return results


def measure(messages: int, queries: Sequence[str], cache: Path) -> dict[str, Any]:
    db, built = ensure_archive(messages, cache)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:  # warm the page cache
        conn.execute("SELECT count(*), sum(length(text)) FROM messages").fetchone()
    results = asyncio.run(run_queries(db, queries))
    problems: list[str] = []
    fts_median = statistics.median(r["fts_seconds"] for r in results)
    scan_median = statistics.median(r["regex_seconds"] for r in results)
    agreeing = sum(1 for r in results if r["agrees"])
    if agreeing < AGREEMENT * len(results):
        problems.append(f"only {agreeing} of {len(results)} queries agree with the regex scan")
    if any(r["hits"] == 0 for r in results):
        problems.append(
            "a query found nothing: " + ", ".join(r["query"] for r in results if not r["hits"])
        )
    ratio = round(scan_median / fts_median, 1) if fts_median else None
    return {
        "benchmark": "search",
        "sizes": {"messages": messages, "queries": len(results), "limit": LIMIT},
        "archive": {"path": str(db), "bytes": db.stat().st_size, "built_seconds": built},
        "tgpilot": {
            "call": f"Store.search(query, limit={LIMIT}) as `tgpilot search --archive QUERY`",
            "median_seconds": round(fts_median, 6),
        },
        "baseline": {
            "code": "SELECT chat_id, message_id, date, text FROM messages; compiled re.IGNORECASE"
            " word-bounded patterns; newest 50 of all matches",
            "median_seconds": round(scan_median, 6),
        },
        "ratios": {"regex_vs_fts": ratio},
        "agreement": {"agreeing_queries": agreeing, "queries": len(results)},
        "queries": results,
        "target": {"regex_vs_fts": TARGET},
        "target_met": ratio is not None and ratio >= TARGET,
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/search.py", description=(__doc__ or "").split("\n")[0]
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--messages", type=int, default=DEFAULT_MESSAGES, help="messages (1000000)")
    size.add_argument("--tiny", action="store_true", help=f"{TINY} messages, 3 queries (CI)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where archives are kept")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    messages = TINY if args.tiny else args.messages
    if messages < 1:
        parser.error("--messages must be positive")
    queries = QUERIES[:TINY_QUERIES] if args.tiny else QUERIES
    from harness import report

    return report(measure(messages, queries, args.cache), args.out)


if __name__ == "__main__":
    sys.exit(main())
