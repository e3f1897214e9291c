"""The ``users`` table: everyone seen sending a message, upserted in batches.

A None (no username, no last name) never replaces a stored value: a sender seen
through a message often carries less than a full user object did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from tgpilot.store.batches import Classified, Row, classify, keep_known, last_by_key
from tgpilot.store.records import UserRecord
from tgpilot.store.schema import NAME_LENGTH, USERNAME_LENGTH, users
from tgpilot.store.text import clip
from tgpilot.store.upsert import upsert_statement
from tgpilot.store.urls import Backend

_NULLABLE = ("username", "first_name", "last_name")
_COMPARED = ("username", "first_name", "last_name", "is_bot")


def user_row(user: UserRecord, now: datetime) -> Row:
    return {
        "id": user.id,
        "username": clip(user.username, USERNAME_LENGTH),
        "first_name": clip(user.first_name, NAME_LENGTH),
        "last_name": clip(user.last_name, NAME_LENGTH),
        "is_bot": bool(user.is_bot),
        "updated_at": now,
    }


def _merge(new: Row, old: Mapping[str, Any]) -> Row:
    return keep_known(new, old, _NULLABLE, zero=False)


def write_users(
    connection: Connection, backend: Backend, records: Iterable[UserRecord], now: datetime
) -> Classified:
    """Upsert ``records`` (one batch) on an open transaction: one SELECT, one upsert."""
    incoming = last_by_key((user_row(r, now) for r in records), lambda row: int(row["id"]))
    if not incoming:
        return Classified()
    result = connection.execute(select(users).where(users.c.id.in_(list(incoming))))
    stored = {int(row.id): dict(row._mapping) for row in result}
    classified = classify(incoming, stored, _merge, _COMPARED)
    if classified.writes:
        for row in classified.writes:
            row["updated_at"] = now
        connection.execute(upsert_statement(backend, users), classified.writes)
    return classified


def user_from_row(row: Mapping[Any, Any]) -> UserRecord:
    return UserRecord(
        id=int(row["id"]),
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        is_bot=bool(row["is_bot"]),
    )
