"""The delay between mutations of a bulk action (spec telegram-cli §1.5, §4).

:class:`Pacer` waits ``delay ± 20 %`` before each step after the first. A flood wait
(reported by the gateway's flood policy, which has already waited and retried the
request) doubles the current delay, capped at 10 s; every successful step then decays
it back toward the base by 15 % of the excess. The clock and the random source are
injected, so tests run in virtual time and ``--seed`` makes runs reproducible.

Hand-written rather than built on aiolimiter: a leaky bucket on the event loop's clock
has neither jitter nor flood back-off, and cannot run on the injected test clock.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Protocol

from tgpilot.core.clock import Clock

MAX_DELAY = 10.0
JITTER = 0.20
DECAY = 0.15
MIN_FLOOD_DELAY = 1.0


class Pacing(Protocol):
    """What the executor needs from a pacing policy."""

    async def wait(self) -> None:
        """Wait before the next mutation (nothing before the first)."""
        ...

    def on_flood(self, seconds: int) -> None:
        """Telegram asked us to slow down (the wait itself is already done)."""
        ...

    def on_success(self) -> None:
        """A mutation went through."""
        ...


@dataclass
class Pacer:
    """``--delay`` pacing with ±20 % jitter, flood doubling and decay."""

    base: float
    clock: Clock
    rng: random.Random = field(default_factory=random.Random)
    current: float = field(init=False)
    started: bool = field(default=False, init=False)
    waits: list[float] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if self.base < 0:
            raise ValueError("the delay cannot be negative")
        self.current = self.base

    async def wait(self) -> None:
        if not self.started:
            self.started = True
            return
        seconds = self.current * self.rng.uniform(1 - JITTER, 1 + JITTER)
        self.waits.append(seconds)
        if seconds > 0:
            await self.clock.sleep(seconds)

    def on_flood(self, seconds: int) -> None:
        self.current = min(MAX_DELAY, max(2 * self.current, MIN_FLOOD_DELAY))

    def on_success(self) -> None:
        if self.current > self.base:
            self.current -= DECAY * (self.current - self.base)
            if self.current - self.base < 1e-3:
                self.current = self.base


@dataclass
class HumanPacer:
    """The human-like pacing of ``like`` (spec telegram-cli §4.2).

    Base B, current C (starts at B). Before each reaction: if C > B, C drops by
    max(1 ms, ceil(0.15·(C − B))); the burst grows by one; the pause is
    C·U(0.85, 1.30) + U(90, 320) ms, plus U(1200, 4500) ms when the burst reaches a
    threshold drawn from U{3..7} (then the burst restarts with a new threshold). A flood
    doubles C (cap 10 s) and restarts the burst. At C = B every pause lies in
    [0.85B + 90 ms, 1.30B + 4820 ms].
    """

    base: float
    clock: Clock
    rng: random.Random = field(default_factory=random.Random)
    current: float = field(init=False)
    burst: int = field(default=0, init=False)
    threshold: int = field(init=False)
    waits: list[float] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if self.base <= 0:
            raise ValueError("the base delay must be positive")
        self.current = self.base
        self.threshold = self.rng.randint(3, 7)

    async def wait(self) -> None:
        if self.current > self.base:
            step_ms = max(1, math.ceil(0.15 * (self.current - self.base) * 1000))
            self.current = max(self.base, self.current - step_ms / 1000)
        self.burst += 1
        pause = self.current * self.rng.uniform(0.85, 1.30) + self.rng.uniform(0.090, 0.320)
        if self.burst >= self.threshold:
            pause += self.rng.uniform(1.2, 4.5)
            self.burst = 0
            self.threshold = self.rng.randint(3, 7)
        self.waits.append(pause)
        await self.clock.sleep(pause)

    def on_flood(self, seconds: int) -> None:
        self.current = min(MAX_DELAY, 2 * self.current)
        self.burst = 0

    def on_success(self) -> None:
        """Decay happens before each reaction (in :meth:`wait`)."""
