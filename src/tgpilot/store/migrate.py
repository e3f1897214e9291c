"""Schema migrations, run from code: Alembic configured in memory, no ``alembic.ini``.

The revisions live in :mod:`tgpilot.store.migrations` (shipped in the wheel).
:func:`upgrade_schema` brings a database to the head revision on an open connection
and reports ``(from_revision, to_revision)``; ``db upgrade`` and
``Store.open(migrate=True)`` use it. Alembic's synchronous API runs inside
``AsyncConnection.run_sync``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from tgpilot.store.engine import IMMEDIATE
from tgpilot.store.schema import (
    MESSAGES_FTS,
    MESSAGES_FULLTEXT_INDEX,
    MESSAGES_TSVECTOR_INDEX,
    metadata,
)

SCRIPT_LOCATION = "tgpilot.store:migrations"


@dataclass(frozen=True)
class Upgrade:
    """What ``db upgrade`` did: the revision before (None for an empty database) and after."""

    from_revision: str | None
    to_revision: str

    @property
    def changed(self) -> bool:
        return self.from_revision != self.to_revision

    def as_tuple(self) -> tuple[str | None, str]:
        return (self.from_revision, self.to_revision)


def alembic_config() -> Config:
    """An in-memory Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    return config


@cache
def head_revision() -> str:
    """The newest revision shipped with this version of tgpilot."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the packaged migrations have no head revision")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at, or None if it has never been migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> Upgrade:
    before = current_revision(connection)
    head = head_revision()
    if before != head:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    after = current_revision(connection)
    return Upgrade(before, after or head)


async def upgrade_schema(engine: AsyncEngine) -> Upgrade:
    """Migrate the database behind ``engine`` to the head revision, in one transaction
    where the backend allows (SQLite, PostgreSQL); a database at head is left alone."""
    async with engine.execution_options(**{IMMEDIATE: True}).begin() as connection:
        return await connection.run_sync(_upgrade)


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The revision the database behind ``engine`` is at (None: not migrated)."""
    async with engine.connect() as connection:
        return await connection.run_sync(current_revision)


FULLTEXT_OBJECTS = (MESSAGES_FTS, MESSAGES_FULLTEXT_INDEX, MESSAGES_TSVECTOR_INDEX)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate filter: the full-text objects are made by hand in the migrations
    (FTS5 shadow tables, FULLTEXT and expression indexes); never diff them."""
    return not (name is not None and name.startswith(FULLTEXT_OBJECTS))


def run_env() -> None:
    """The body of ``migrations/env.py``: run the revisions on the connection we passed."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("tgpilot runs its migrations from code: pass a connection")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
