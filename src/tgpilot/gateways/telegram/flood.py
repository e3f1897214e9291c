"""The single flood-wait policy of the Telegram gateway (spec telegram-cli §1.5).

Telethon's own auto-sleep is off; every request the client sends, from our code or
from Telethon's high-level iterators, passes through :meth:`FloodPolicy.run`:

- a ``FLOOD_WAIT_N`` / ``SLOWMODE_WAIT_N`` / premium wait with N ≤ ``max_wait`` prints a
  notice, sleeps N+1 s on the injected clock and **retries the same request**;
- N > ``max_wait``, or a fourth flood on one request, raises :class:`FloodWaitTooLong`;
- a dropped connection is reconnected and the request retried a few times before it
  becomes a ``NetworkError``.

Errors are matched by type, never by substrings. Pacing (bulk actions) subscribes to
:attr:`FloodPolicy.listeners` to double its delay after a flood.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from telethon import errors

from tgpilot.core.clock import Clock, SystemClock
from tgpilot.core.errors import FloodWaitTooLong, NetworkError

T = TypeVar("T")

FLOOD_ERRORS = (
    errors.FloodWaitError,
    errors.FloodPremiumWaitError,
    errors.SlowModeWaitError,
    errors.FloodTestPhoneWaitError,
)
MAX_FLOODS_PER_REQUEST = 3
MAX_CONNECTION_RETRIES = 3

_NO_WAIT: ContextVar[bool] = ContextVar("tgpilot_flood_no_wait", default=False)


@contextmanager
def flood_waits_raise() -> Iterator[None]:
    """Within this block (this task), a flood wait is not sat out: it raises
    :class:`FloodWaitTooLong` at once, so the caller can skip the request instead
    (the auto-responder's intermediate edits)."""
    token = _NO_WAIT.set(True)
    try:
        yield
    finally:
        _NO_WAIT.reset(token)


def request_name(request: Any) -> str:
    """The TL name of a request, without the wrappers Telethon adds."""
    while hasattr(request, "query") and type(request).__name__.startswith(("Invoke", "Init")):
        request = request.query
    if isinstance(request, list):
        return "[" + ", ".join(request_name(r) for r in request) + "]"
    return type(request).__name__


@dataclass
class FloodPolicy:
    """How long we are willing to wait for Telegram, and how we tell the user."""

    max_wait: int = 300
    clock: Clock = field(default_factory=SystemClock)
    notice: Callable[[str], None] = lambda _message: None
    listeners: list[Callable[[int], None]] = field(default_factory=list)
    waited_seconds: float = 0.0
    flood_count: int = 0

    async def run(
        self,
        send: Callable[[], Awaitable[T]],
        request: Any,
        reconnect: Callable[[], Awaitable[None]] | None = None,
    ) -> T:
        """Send a request, waiting out floods and retrying dropped connections.

        After a dropped connection ``reconnect`` (if given) is awaited before the retry.
        """
        floods = 0
        drops = 0
        while True:
            try:
                return await send()
            except FLOOD_ERRORS as exc:
                floods += 1
                await self._wait_out(exc.seconds, floods, request)
            except ConnectionError as exc:
                drops += 1
                if drops > MAX_CONNECTION_RETRIES:
                    raise NetworkError(
                        f"lost the connection to Telegram {drops} times on {request_name(request)}",
                        hint="check the network and rerun",
                    ) from exc
                await self.clock.sleep(min(2**drops, 10))
                if reconnect is not None:
                    try:
                        await reconnect()
                    except (ConnectionError, OSError):
                        continue

    async def _wait_out(self, seconds: int, floods: int, request: Any) -> None:
        name = request_name(request)
        seconds = max(int(seconds), 1)
        if seconds > self.max_wait or floods > MAX_FLOODS_PER_REQUEST or _NO_WAIT.get():
            raise FloodWaitTooLong(seconds, self.max_wait, name)
        until = self.clock.now() + timedelta(seconds=seconds + 1)
        self.notice(f"rate limited by Telegram: waiting {seconds} s (until {until:%H:%M:%S})")
        self.flood_count += 1
        self.waited_seconds += seconds + 1
        for listener in self.listeners:
            listener(seconds)
        await self.clock.sleep(seconds + 1)
