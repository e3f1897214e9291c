"""Column types that behave the same on SQLite, MariaDB/MySQL and PostgreSQL.

- :class:`UTCDateTime`: times are stored as *naive UTC* (``DATETIME`` / ``DATETIME(6)``
  on MySQL / ``timestamp without time zone``) and come back as aware UTC datetimes.
  An aware value is converted to UTC before it is written; a naive one is taken as
  UTC already. On SQLite the value is written as the very text SQLAlchemy's SQLite
  ``DATETIME`` writes, made in one step (a batch of messages binds a time per row).
- :data:`LONG_TEXT`: ``TEXT``, ``MEDIUMTEXT`` on MySQL (a ``TEXT`` there holds 64 KiB).
- :data:`JSON_DOCUMENT`: ``JSON`` (text checked by ``json_valid`` on SQLite/MariaDB,
  native on MySQL), ``JSONB`` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Text
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeDecorator, TypeEngine


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (a naive value is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def naive_utc(value: datetime) -> datetime:
    """``value`` as the naive UTC datetime the database stores."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def sqlite_datetime_text(value: datetime | None) -> str | None:
    """``value`` as stored on SQLite: naive UTC in SQLAlchemy's ``DATETIME`` text form,
    ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    if value is None:
        return None
    return naive_utc(value).isoformat(" ", "microseconds")


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time stored as naive UTC, returned as aware UTC."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=False))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else naive_utc(value)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return sqlite_datetime_text
        return super().bind_processor(dialect)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite expressions that lose the column type
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"not a datetime from the database: {value!r}")
        return as_utc(value)


LONG_TEXT: TypeEngine[str] = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
JSON_DOCUMENT: TypeEngine[Any] = JSON().with_variant(postgresql.JSONB(), "postgresql")
