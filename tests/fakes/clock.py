"""A virtual clock for tests: sleeping advances time instantly and is recorded.

Implements the ``tgpilot.core.clock.Clock`` protocol, so flood waits, pacing and
timeouts in services cost no real time. ``sleeps`` lists every requested sleep so a
test can assert, e.g., that a ``FLOOD_WAIT_30`` led to a 31 s wait.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


class FakeClock:
    """Virtual time: ``now()`` and ``monotonic()`` move only through ``sleep``/``advance``."""

    def __init__(self, start: datetime | None = None, monotonic_start: float = 1000.0) -> None:
        start = start or DEFAULT_START
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._start = start.astimezone(UTC)
        self._monotonic_start = monotonic_start
        self.elapsed: float = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """The virtual current time, timezone-aware UTC."""
        return self._start + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        """Virtual seconds that never go backwards."""
        return self._monotonic_start + self.elapsed

    async def sleep(self, seconds: float) -> None:
        """Record the sleep, advance virtual time, and yield once to the event loop."""
        self.sleeps.append(seconds)
        self.elapsed += max(0.0, seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        """Move time forward without recording a sleep (time passing outside the code)."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self.elapsed += seconds

    @property
    def total_slept(self) -> float:
        """Sum of all recorded sleeps."""
        return sum(self.sleeps)
