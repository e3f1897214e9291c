"""Classifying a batch of rows against what is stored: insert, update, or leave alone.

Each upsert (chats, users, messages) reads the stored rows of a batch in one SELECT,
merges every incoming row with its stored version by that table's rules, and
writes only the rows that differ — so re-running a batch writes nothing and reports
every row ``unchanged``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tgpilot.store.records import SOURCE_IMPORT, SOURCE_LIVE, UpsertCounts

Row = dict[str, Any]
K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


@dataclass
class Classified:
    """The rows of a batch that must be written, and the counts to report."""

    writes: list[Row] = field(default_factory=list)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def counts(self) -> UpsertCounts:
        return UpsertCounts(self.inserted, self.updated, self.unchanged)


def last_by_key(rows: Iterable[Row], key: Callable[[Row], K]) -> dict[K, Row]:
    """Rows by key; a key given twice in one batch keeps its last row."""
    return {key(row): row for row in rows}


def chunked(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def keep_known(new: Row, old: Mapping[str, Any], columns: Iterable[str], *, zero: bool) -> Row:
    """``new`` where a None (or, with ``zero``, a 0) never replaces a stored value."""
    merged = dict(new)
    for name in columns:
        value = merged.get(name)
        if (value is None or (zero and value == 0)) and old.get(name) is not None:
            merged[name] = old[name]
    return merged


def fill_nulls(old: Mapping[str, Any], new: Row, columns: Iterable[str]) -> Row:
    """The stored row with only its NULL ``columns`` filled from ``new`` (import over live)."""
    merged = dict(old)
    for name in columns:
        if merged.get(name) is None and new.get(name) is not None:
            merged[name] = new[name]
    return merged


def merge_by_source(
    new: Row,
    old: Mapping[str, Any],
    nullable: Sequence[str],
    *,
    zero: Sequence[str] = (),
) -> Row:
    """The row to store when ``new`` meets stored ``old``, by their ``source``.

    Import over live fills only NULL columns and the row stays live; otherwise the new
    row wins except that None (and 0 for ``zero`` columns) never replaces a known
    value, and a live row turns an imported one live.
    """
    if new.get("source") == SOURCE_IMPORT and old.get("source") == SOURCE_LIVE:
        merged = fill_nulls(old, new, nullable)
        merged["source"] = SOURCE_LIVE
        return merged
    merged = keep_known(new, old, [c for c in nullable if c not in zero], zero=False)
    return keep_known(merged, old, zero, zero=True)


def classify(
    incoming: Mapping[K, Row],
    stored: Mapping[K, Mapping[str, Any]],
    merge: Callable[[Row, Mapping[str, Any]], Row],
    compared: Sequence[str],
) -> Classified:
    """Split ``incoming`` rows into new, changed and unchanged against ``stored``."""
    result = Classified()
    for key, row in incoming.items():
        old = stored.get(key)
        if old is None:
            result.writes.append(row)
            result.inserted += 1
            continue
        merged = merge(row, old)
        if all(merged.get(name) == old.get(name) for name in compared):
            result.unchanged += 1
        else:
            result.writes.append(merged)
            result.updated += 1
    return result
