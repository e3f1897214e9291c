"""tgpilot's database: one schema on SQLite (default), MariaDB/MySQL or PostgreSQL.

SQLAlchemy Core with the asyncio extension, Alembic migrations shipped in the
package. Services use :class:`Store`; see :mod:`tgpilot.store.store`.
"""

from __future__ import annotations

from tgpilot.store.records import (
    SOURCE_IMPORT,
    SOURCE_LIVE,
    ChatRecord,
    SearchHit,
    SyncState,
    UpsertCounts,
    UserRecord,
)
from tgpilot.store.store import BATCH_SIZE, Store, upgrade_database

__all__ = [
    "BATCH_SIZE",
    "SOURCE_IMPORT",
    "SOURCE_LIVE",
    "ChatRecord",
    "SearchHit",
    "Store",
    "SyncState",
    "UpsertCounts",
    "UserRecord",
    "upgrade_database",
]
