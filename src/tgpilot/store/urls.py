"""Database URLs: the one place a configured URL becomes an async SQLAlchemy URL.

Users write plain URLs (``sqlite:///path.db``, ``mysql://`` / ``mariadb://``,
``postgresql://`` / ``postgres://``); the store always talks through the asyncio
drivers ``sqlite+aiosqlite``, ``mysql+aiomysql`` (with ``charset=utf8mb4``) and
``postgresql+psycopg``. Any driver named in the URL is replaced by ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tgpilot.core.config import mask_url
from tgpilot.core.errors import StoreError

Backend = Literal["sqlite", "mysql", "postgresql"]

_BACKENDS: dict[str, Backend] = {
    "sqlite": "sqlite",
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgresql": "postgresql",
    "postgres": "postgresql",
}
_DRIVERS: dict[Backend, str] = {
    "sqlite": "sqlite+aiosqlite",
    "mysql": "mysql+aiomysql",
    "postgresql": "postgresql+psycopg",
}


@dataclass(frozen=True)
class DatabaseURL:
    """A configured database URL, its backend, and the async URL the engine uses."""

    configured: str
    backend: Backend
    url: URL

    @property
    def masked(self) -> str:
        """The configured URL with its password replaced by ``***``; safe to print."""
        return mask_url(self.configured)

    @property
    def sqlite_path(self) -> Path | None:
        """The database file of a SQLite URL (None for in-memory and other backends)."""
        if self.backend != "sqlite" or self.url.database in (None, "", ":memory:"):
            return None
        database = self.url.database
        assert database is not None
        if database.startswith("file:"):
            return None
        return Path(database).expanduser()


def backend_of(url: str) -> Backend:
    """``sqlite``, ``mysql`` or ``postgresql`` for a URL; StoreError for anything else."""
    scheme = url.partition("://")[0]
    dialect = scheme.split("+", 1)[0].lower()
    backend = _BACKENDS.get(dialect)
    if backend is None:
        raise StoreError(
            f"unsupported database URL {mask_url(url)}: use sqlite:///PATH, "
            "mysql://, mariadb:// or postgresql://"
        )
    return backend


def database_url(url: str) -> DatabaseURL:
    """Parse ``url`` and rewrite it to the asyncio driver of its backend."""
    backend = backend_of(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"unparsable database URL {mask_url(url)}: {exc}") from None
    rewritten = parsed.set(drivername=_DRIVERS[backend])
    if backend == "mysql" and "charset" not in rewritten.query:
        rewritten = rewritten.update_query_dict({"charset": "utf8mb4"})
    if backend == "sqlite" and rewritten.database:
        rewritten = rewritten.set(database=str(Path(rewritten.database).expanduser()))
    return DatabaseURL(url, backend, rewritten)
