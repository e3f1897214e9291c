"""Fewer garbage collections while a command streams a long history.

Reading history makes a few container objects per message (the parsed Telegram
message, ours, a row or a rendered entry) and nearly all of them die at once, freed by
reference counting. CPython still runs its cyclic collector after every 700 net
allocations, and every tenth of those runs also looks at the older generation, so a
read of 100,000 messages pays for about a thousand collections and, now and then, a
full one that visits every object of the process. :func:`fewer_collections` raises the
youngest generation's threshold for the duration of a bulk read (the collector still
runs, about thirty times less often) and puts the previous thresholds back after;
nested or overlapping uses restore them only when the last one ends.

Used by the ``export`` and ``archive sync`` commands, which own their process; library
callers keep the interpreter's settings.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLD = 20_000
"""Net allocations between two collections of the youngest generation (default 700)."""

_active = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections(threshold: int = BULK_THRESHOLD) -> Iterator[None]:
    """Collect the youngest generation only every ``threshold`` net allocations inside
    the block (never less often than it already was)."""
    global _active, _saved
    if _active == 0:
        _saved = gc.get_threshold()
        first, *older = _saved
        if first:  # 0: the collector is off, and stays off
            gc.set_threshold(max(first, threshold), *older)
    _active += 1
    try:
        yield
    finally:
        _active -= 1
        if _active == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            _saved = None
