"""The real database servers for store tests: a fresh, uniquely named database per use.

``store_url`` is parametrised over ``sqlite`` (a temporary file), ``mariadb``
(``mysql+aiomysql://root@127.0.0.1:3306/<db>``, created ``CHARACTER SET utf8mb4``) and
``postgresql`` (``postgresql+psycopg://postgres@127.0.0.1:5432/<db>``, created through
the ``postgres`` maintenance database). Server-backed params carry the ``services``
marker. A server that cannot be reached skips the test, or fails it when
``TGPILOT_REQUIRE_SERVICES=1`` (CI). The database is dropped afterwards, even when the
test failed. The fixtures are registered for every test by ``tests/conftest.py``
(``pytest_plugins``) under the names ``store_url``, ``module_store_url`` and ``store``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import psycopg
import pymysql
import pytest
from psycopg import sql

from tgpilot.store import Store

HOST = "127.0.0.1"
MARIADB_PORT = 3306
POSTGRESQL_PORT = 5432
CONNECT_TIMEOUT = 5

BACKENDS = (
    pytest.param("sqlite", id="sqlite"),
    pytest.param("mariadb", id="mariadb", marks=pytest.mark.services),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.services),
)


def services_required() -> bool:
    return os.environ.get("TGPILOT_REQUIRE_SERVICES") == "1"


def unreachable(server: str, where: str, reason: object) -> NoReturn:
    """Skip (or, when services are required, fail) a test whose server is not there."""
    message = f"{server} not reachable at {where}: {reason}"
    if services_required():
        pytest.fail(message)
    pytest.skip(message)


def unique_name() -> str:
    return f"tgpilot_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"


@contextmanager
def mariadb_database() -> Iterator[str]:
    """A new utf8mb4 database on the MariaDB server; its async URL. Dropped on exit."""
    name = unique_name()
    try:
        admin = pymysql.connect(
            host=HOST, port=MARIADB_PORT, user="root", connect_timeout=CONNECT_TIMEOUT
        )
    except pymysql.MySQLError as exc:
        unreachable("mariadb", f"{HOST}:{MARIADB_PORT}", exc)
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        try:
            yield f"mysql+aiomysql://root@{HOST}:{MARIADB_PORT}/{name}?charset=utf8mb4"
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.close()


@contextmanager
def postgresql_database() -> Iterator[str]:
    """A new database on the PostgreSQL server; its async URL. Dropped on exit."""
    name = unique_name()
    try:
        admin = psycopg.connect(
            host=HOST,
            port=POSTGRESQL_PORT,
            user="postgres",
            dbname="postgres",
            connect_timeout=CONNECT_TIMEOUT,
            autocommit=True,
        )
    except psycopg.Error as exc:
        unreachable("postgresql", f"{HOST}:{POSTGRESQL_PORT}", exc)
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"postgresql+psycopg://postgres@{HOST}:{POSTGRESQL_PORT}/{name}"
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    finally:
        admin.close()


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database of ``backend``; its URL."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'store' / 'tgpilot.db'}"
    elif backend == "mariadb":
        with mariadb_database() as url:
            yield url
    elif backend == "postgresql":
        with postgresql_database() as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend}")


@pytest.fixture(name="store_url", params=BACKENDS)
def store_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database on each backend (not migrated)."""
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(name="module_store_url", scope="module", params=BACKENDS)
def module_store_url_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like ``store_url``, shared by the tests of one module (seed it once)."""
    with database(request.param, tmp_path_factory.mktemp("store")) as url:
        yield url


@pytest.fixture(name="store")
async def store_fixture(store_url: str) -> AsyncIterator[Store]:
    """A migrated :class:`Store` on a fresh database of each backend."""
    opened = await Store.open(store_url)
    try:
        yield opened
    finally:
        await opened.close()
