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
from pathlib import Path
from typing import Any, TypeVar

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
