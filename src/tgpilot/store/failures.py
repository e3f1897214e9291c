"""Turning database failures into :class:`StoreError` with a safe, useful message.

Every failure of the store (driver, SQLAlchemy, Alembic, file system) reaches the
caller as ``StoreError("database <masked URL>: <database's message>")``. The URL's
password is masked and scrubbed from the database's message too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from alembic.util.exc import CommandError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from tgpilot.core.config import mask_url
from tgpilot.core.errors import StoreError

_MIN_SCRUBBED = 3


def _passwords(url: str) -> list[str]:
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    if not password:
        return []
    forms = {password, unquote(password), quote(unquote(password), safe="")}
    return sorted((p for p in forms if len(p) >= _MIN_SCRUBBED), key=len, reverse=True)


def describe_failure(exc: BaseException) -> str:
    """The database's own message for ``exc``, without SQLAlchemy's SQL dump."""
    cause: BaseException = exc
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        cause = exc.orig
    args: tuple[Any, ...] = tuple(getattr(cause, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str):
        message = f"{args[1]} (error {args[0]})"  # PyMySQL: (code, message)
    else:
        message = str(cause).strip() or type(cause).__name__
    first_line = message.splitlines()[0] if message else type(cause).__name__
    if isinstance(exc, SQLAlchemyError) and not isinstance(exc, DBAPIError):
        first_line = first_line.split(" (Background on this error", 1)[0]
    return first_line


def store_error(url: str, exc: BaseException, doing: str | None = None) -> StoreError:
    """A StoreError naming the masked URL (and what was being done) and the failure."""
    message = describe_failure(exc)
    for password in _passwords(url):
        message = message.replace(password, "***")
    what = f" ({doing})" if doing else ""
    return StoreError(f"database {mask_url(url)}{what}: {message}")


FAILURES: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, CommandError)
"""What the store turns into StoreError (connection refused is an OSError)."""


@contextmanager
def failures_as_store_error(url: str, doing: str | None = None) -> Iterator[None]:
    """Re-raise any database failure inside the block as :class:`StoreError`."""
    try:
        yield
    except StoreError:
        raise
    except FAILURES as exc:
        raise store_error(url, exc, doing) from exc


@asynccontextmanager
async def async_failures_as_store_error(url: str, doing: str | None = None) -> AsyncIterator[None]:
    """:func:`failures_as_store_error` for ``async with``."""
    try:
        yield
    except StoreError:
        raise
    except FAILURES as exc:
        raise store_error(url, exc, doing) from exc
