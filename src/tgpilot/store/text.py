"""Small text helpers shared by the store's row builders."""

from __future__ import annotations


def clip(value: str | None, length: int) -> str | None:
    """``value`` cut to ``length`` code points (what VARCHAR(length) holds everywhere)."""
    if value is None:
        return None
    return value if len(value) <= length else value[:length]
