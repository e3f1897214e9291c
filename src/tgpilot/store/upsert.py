"""One INSERT-or-UPDATE statement per backend, for batched (executemany) upserts.

The store classifies rows first (one SELECT per batch), then writes new and changed
rows with a single upsert executed over the whole batch: ``ON CONFLICT DO UPDATE`` on
SQLite and PostgreSQL, ``ON DUPLICATE KEY UPDATE`` on MariaDB/MySQL. The values
written are final (merged in Python), so the update part just takes the new row's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from tgpilot.store.urls import Backend


def upsert_statement(backend: Backend, table: Table, keep: Iterable[str] = ()) -> Insert:
    """INSERT into ``table`` that, on a primary-key conflict, overwrites every column
    except the key and the ``keep`` columns (such as ``created_at``)."""
    key = [c.name for c in table.primary_key.columns]
    kept = set(key) | set(keep)
    columns = [c.name for c in table.columns if c.name not in kept]
    statement: Any
    if backend == "mysql":
        statement = mysql.insert(table)
        return statement.on_duplicate_key_update(  # type: ignore[no-any-return]
            {name: statement.inserted[name] for name in columns}
        )
    statement = postgresql.insert(table) if backend == "postgresql" else sqlite.insert(table)
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=key, set_={name: statement.excluded[name] for name in columns}
    )


def insert_missing_statement(backend: Backend, table: Table) -> Insert:
    """INSERT into ``table`` that leaves a row already stored under the same key alone."""
    statement: Any
    if backend == "mysql":
        statement = mysql.insert(table)
        first_key = next(iter(table.primary_key.columns)).name
        return statement.on_duplicate_key_update(  # type: ignore[no-any-return]
            {first_key: table.c[first_key]}
        )
    statement = postgresql.insert(table) if backend == "postgresql" else sqlite.insert(table)
    return statement.on_conflict_do_nothing()  # type: ignore[no-any-return]
