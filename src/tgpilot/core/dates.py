"""Reading dates and sizes the user types: ``--since 2025-01-01``, ``--max-media-size 50MB``.

Dates without a time are midnight, and dates without a zone are read in the output
zone (``--tz``); the result is always timezone-aware.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from tgpilot.core.errors import UsageError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2}
_UNITS |= {"mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3}


def parse_when(text: str, tz: tzinfo, *, option: str) -> datetime:
    """``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS]`` or full ISO 8601, in ``tz`` unless it says."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option}: not a date: {text!r}", hint="use YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def parse_size(text: str, *, option: str) -> int:
    """``200KB``, ``1MB``, ``1.5MiB``, ``1048576`` → bytes (KB = 1000, KiB = 1024)."""
    match = _SIZE.match(text)
    unit = (match.group(2) or "").lower() if match else None
    if match is None or unit not in _UNITS:
        raise UsageError(f"{option}: not a size: {text!r}", hint="e.g. 500KB, 50MB, 1GiB")
    return int(float(match.group(1)) * _UNITS[unit])


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, *, option: str) -> timedelta:
    """``90s``, ``5m``, ``1h``, ``2d`` → a timedelta."""
    match = _DURATION.match(text)
    if match is None:
        raise UsageError(f"{option}: not a duration: {text!r}", hint="e.g. 30s, 5m, 1h, 2d")
    return timedelta(seconds=float(match.group(1)) * _SECONDS[match.group(2).lower()])
