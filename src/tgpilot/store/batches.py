"""Classifying a batch of rows against what is stored, and writing the ones that differ.

Each upsert (chats, users, messages) reads the stored rows of a batch in one SELECT,
merges every incoming row with its stored version by that table's rules, and
writes only the rows that differ — so re-running a batch writes nothing and reports
every row ``unchanged``.

:class:`BulkInsert` writes a big batch (messages) without SQLAlchemy's per-row,
per-parameter work: the statement is compiled once per dialect, each column's bind
processor is looked up once, and the rows go to the driver ready to bind.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, TypeVar

from sqlalchemy import Dialect, Table
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert

from tgpilot.store.records import SOURCE_IMPORT, SOURCE_LIVE, UpsertCounts
from tgpilot.store.upsert import insert_missing_statement, upsert_statement
from tgpilot.store.urls import Backend

Row = dict[str, Any]
Statement = tuple[str, Any]
"""SQL in the driver's paramstyle, and its parameters (one set, or a list for executemany)."""
_NOTHING = object()
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


class BulkInsert:
    """One table's INSERT (an upsert, or an insert of missing rows: see
    :mod:`tgpilot.store.upsert`) compiled for one dialect, fed rows of final Python
    values in the table's column order.

    SQLAlchemy would otherwise look up and run the bind processing of every parameter
    of every row at each execution; here the processors are found once and only the
    columns that have one (times, JSON, booleans) are converted.

    On SQLite all rows of a batch go in one multi-row ``INSERT`` (as many rows as the
    dialect's parameter limit allows per statement): the driver runs an executemany
    one row at a time, taking the GIL back after every row, which stalls behind a busy
    event loop thread; one statement takes it back once. The other drivers batch an
    executemany themselves (PyMySQL rewrites it into multi-row INSERTs, psycopg
    pipelines it), so they get the one-row statement and every row.
    """

    def __init__(self, statement: Insert, table: Table, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self._sql = compiled.string
        self._positional = compiled.positional
        names = tuple(table.columns.keys())
        bound = tuple(compiled.positiontup or ()) if compiled.positional else names
        if bound != names or set(compiled.binds) != set(names):
            raise ValueError(f"the insert into {table.name} does not bind its columns in order")
        self._names = names
        self._processors = tuple(
            (index, process)
            for index, name in enumerate(names)
            if (process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        )
        self._rows_per_statement = 1
        self._head = self._tail = self._group = ""
        if dialect.name == "sqlite" and dialect.paramstyle == "qmark":
            group = "(" + ", ".join("?" for _ in names) + ")"
            head, found, tail = self._sql.partition(f" VALUES {group}")
            if found and group not in tail:
                self._head, self._tail, self._group = f"{head} VALUES ", tail, group
                self._rows_per_statement = max(
                    1, dialect.insertmanyvalues_max_parameters // len(names)
                )

    def _parameters(self, rows: Iterable[Sequence[Any]]) -> list[Any]:
        """The parameters of every row, one row after the other, converted column by
        column."""
        flat = list(chain.from_iterable(rows))
        width = len(self._names)
        for index, process in self._processors:
            flat[index::width] = _converted(flat[index::width], process)
        return flat

    def _multi_row_sql(self, rows: int) -> str:
        return self._head + ", ".join([self._group] * rows) + self._tail

    def statements(self, rows: Sequence[Sequence[Any]]) -> list[Statement]:
        """The SQL and driver parameters that write ``rows`` (every column, in the
        table's order)."""
        if not rows:
            return []
        if self._rows_per_statement > 1:
            return [
                (self._multi_row_sql(len(part)), tuple(self._parameters(part)))
                for part in chunked(rows, self._rows_per_statement)
            ]
        flat = self._parameters(rows)
        width = len(self._names)
        starts = range(0, len(flat), width)
        if self._positional:
            return [(self._sql, [tuple(flat[i : i + width]) for i in starts])]
        names = self._names
        return [(self._sql, [dict(zip(names, flat[i : i + width], strict=True)) for i in starts])]


def execute_statements(connection: Connection, statements: Sequence[Statement]) -> int:
    """Run :meth:`BulkInsert.statements` on ``connection``'s open transaction; the rows
    the driver reports written."""
    written = 0
    for sql, parameters in statements:
        written += connection.exec_driver_sql(sql, parameters).rowcount
    return written


def _converted(values: list[Any], process: Callable[[Any], Any]) -> list[Any]:
    """``process`` applied to each value; a value that is the very object before it (a
    batch's ``fetched_at``, False, None) is converted once."""
    converted: list[Any] = []
    last: Any = _NOTHING
    result: Any = None
    for value in values:
        if value is not last:
            result = process(value)
            last = value
        converted.append(result)
    return converted


@functools.lru_cache(maxsize=32)
def bulk_upsert(backend: Backend, table: Table, dialect: Dialect) -> BulkInsert:
    """The upsert of ``table`` for ``dialect`` (compiled once)."""
    return BulkInsert(upsert_statement(backend, table), table, dialect)


@functools.lru_cache(maxsize=32)
def bulk_insert_missing(backend: Backend, table: Table, dialect: Dialect) -> BulkInsert:
    """The insert of rows not stored yet into ``table`` for ``dialect`` (compiled once)."""
    return BulkInsert(insert_missing_statement(backend, table), table, dialect)
