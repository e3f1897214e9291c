"""What every benchmark shares: an isolated home, the real CLI and a bare Telethon client
on one fake world, medians, and the JSON report.

Benchmarks compare tgpilot with a baseline measured in the same run (DESIGN
"Performance habits"); this module keeps both sides on identical ground: the same fake
Telegram world, the same fake clock, the same authorised account.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python bench/x.py` puts only bench/ on the path
    sys.path.insert(0, str(REPO))

from tests.fakes.clock import FakeClock  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402

API_ID = "12345"
API_HASH = "0123456789abcdef0123456789abcdef"
T = TypeVar("T")


class Bench:
    """The CLI and a bare Telethon client, both on one world, in a private home."""

    def __init__(self, world: FakeTelegram, home: Path, clock: FakeClock) -> None:
        self.world = world
        self.home = home
        self.clock = clock
        sessions = home / "sessions"
        sessions.mkdir(parents=True, mode=0o700)
        world.authorize_session_file(sessions / "default.session").chmod(0o600)
        self.bare_session = world.authorize_session_file(home / "bare.session")

    def cli(self, *args: str) -> tuple[int, str, str, Counter[str], float]:
        """Run ``tgpilot args``: exit code, stdout, stderr, requests sent, seconds."""
        from tgpilot.cli.app import run

        out, err = io.StringIO(), io.StringIO()
        self.world.reset_counts()
        factory = self.world.client_factory(self.clock)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            began = time.perf_counter()
            code = run(list(args), client_factory=factory, clock=self.clock)
            seconds = time.perf_counter() - began
        return code, out.getvalue(), err.getvalue(), Counter(self.world.requests), seconds

    def bare(self, work: Callable[[Any], Awaitable[T]]) -> tuple[T, Counter[str], float]:
        """Run ``work(client)`` on a connected bare Telethon client: result, requests, seconds
        (connecting and disconnecting included, as for the CLI)."""
        from tgpilot.gateways.telegram.client import ClientSpec

        spec = ClientSpec(session_path=self.bare_session, api_id=int(API_ID), api_hash=API_HASH)

        async def session() -> T:
            client = self.world.client_factory(self.clock)(spec)
            await client.connect()
            try:
                return await work(client)
            finally:
                await client.disconnect()

        self.world.reset_counts()
        began = time.perf_counter()
        result = asyncio.run(session())
        seconds = time.perf_counter() - began
        return result, Counter(self.world.requests), seconds


def isolate(home: Path) -> None:
    """Only the benchmark's own settings: no inherited config, .env or credentials."""
    for name in list(os.environ):
        if name.startswith(("TGPILOT_", "TELEGRAM_")):
            del os.environ[name]
    os.environ.update(
        TGPILOT_HOME=str(home),
        TELEGRAM_API_ID=API_ID,
        TELEGRAM_API_HASH=API_HASH,
        HOME=str(home / "user"),
        XDG_CONFIG_HOME=str(home / "user" / ".config"),
    )
    work = home / "work"
    work.mkdir()
    os.chdir(work)


def median(samples: Sequence[float]) -> float:
    return round(statistics.median(samples), 6)


def report(result: dict[str, Any], out: Path | None) -> int:
    """Print the JSON document (and write it to ``out``); exit status 1 if a bound broke."""
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    print(text)
    for problem in result["problems"]:
        print(f"bound violated: {problem}", file=sys.stderr)
    return 0 if result["bounds_ok"] else 1


WORDS = [
    "привет",
    "встреча",
    "книга",
    "кофе",
    "завтра",
    "обсудим",
    "глава",
    "автор",
    "вечер",
    "читаем",
    "meeting",
    "book",
    "coffee",
    "tomorrow",
    "chapter",
    "author",
    "evening",
    "reading",
    "notes",
    "agenda",
]


def message_world(messages: int, *, now: datetime) -> FakeTelegram:
    """An account in one supergroup of ``messages`` messages from 20 members."""
    world = FakeTelegram(now=now)
    world.add_me(1000, "Bench", username="bench_account", phone="+15550009999")
    members = [world.add_user(10_000 + n, f"Member {n:02d}") for n in range(20)]
    club = world.add_supergroup(1_777_000_001, "Bench Club", "bench_club", members=members)
    start = now - timedelta(days=365)
    step = timedelta(days=365) / max(messages, 1)
    for n in range(1, messages + 1):
        text = " ".join(WORDS[(n * k) % len(WORDS)] for k in range(1, 4 + n % 12))
        world.add_message(
            club,
            n,
            text=text,
            date=start + step * n,
            sender=members[n % len(members)],
            reply_to=n - 1 if n % 7 == 0 and n > 1 else None,
            reactions=[("👍", 1 + n % 5)] if n % 3 == 0 else None,
        )
    return world


async def bare_jsonl(client: Any, chat: str, out: Path) -> int:
    """The baseline: Telethon's iterator straight into a JSONL file."""
    written = 0
    with out.open("wb") as handle:
        async for m in client.iter_messages(chat, wait_time=0):
            reactions = m.reactions.results if m.reactions else []
            line = {
                "id": m.id,
                "date": m.date.isoformat(),
                "sender_id": m.sender_id,
                "text": m.message,
                "reply_to": m.reply_to_msg_id,
                "reactions": [[str(r.reaction), r.count] for r in reactions],
            }
            handle.write(orjson.dumps(line) + b"\n")
            written += 1
    return written
