"""The one retry policy of every LLM call (spec ai.md §1.2), built on tenacity.

SDK retries are switched off; this policy decides alone. Retried: what the gateway
turned into a retryable :class:`ProviderError` (408, 409, 429, 5xx, 529, connection
errors, timeouts). Never retried: 400, 401, 403, 404, 422 and other refusals, empty
answers, and a stream that already delivered text (the caller says so through
``retryable``). Waits grow exponentially from 1 s with full jitter, capped at 60 s; a
``Retry-After`` from the server takes precedence. Sleeping goes through the injected
:class:`~tgpilot.core.clock.Clock`, so tests run on virtual time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from tgpilot.core.clock import Clock
from tgpilot.core.errors import ProviderError

T = TypeVar("T")

BACKOFF_START_S = 1.0
BACKOFF_CAP_S = 60.0


def is_retryable(exc: BaseException) -> bool:
    """True for the failures the policy retries."""
    return isinstance(exc, ProviderError) and exc.retryable


def backoff_seconds(attempt: int, draw: Callable[[], float] = random.random) -> float:
    """The wait after failed attempt ``attempt`` (1-based): full jitter over
    ``min(60, 1 · 2^(attempt-1))`` seconds."""
    ceiling = min(BACKOFF_CAP_S, math.ldexp(BACKOFF_START_S, attempt - 1))
    return draw() * ceiling


class _Wait(wait_base):
    """``Retry-After`` when the server sent one, else jittered exponential back-off."""

    def __init__(self, draw: Callable[[], float]) -> None:
        self._draw = draw

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        failure = outcome.exception() if outcome is not None else None
        if isinstance(failure, ProviderError) and failure.retry_after is not None:
            return max(0.0, failure.retry_after)
        return backoff_seconds(retry_state.attempt_number, self._draw)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    clock: Clock,
    retryable: Callable[[BaseException], bool] = is_retryable,
    draw: Callable[[], float] = random.random,
) -> T:
    """``call()`` under the policy: at most ``attempts`` tries; the last failure is
    raised as it is."""
    policy = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=_Wait(draw),
        retry=retry_if_exception(retryable),
        sleep=clock.sleep,
        reraise=True,
    )

    async def attempt() -> T:
        return await call()

    return await policy(attempt)
