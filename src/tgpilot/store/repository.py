"""The base every repository of the store builds on: one open store's engine, a writer
that takes SQLite's write lock up front (``BEGIN IMMEDIATE``), and the guard that turns
driver failures into a :class:`~tgpilot.core.errors.StoreError` naming what was being
done."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from tgpilot.store.engine import IMMEDIATE
from tgpilot.store.failures import async_failures_as_store_error

if TYPE_CHECKING:
    from tgpilot.store.store import Store


class Repository:
    """Reads and writes some tables of one open store (subclasses name which)."""

    def __init__(self, store: Store) -> None:
        self._engine = store.engine
        self._writer = store.engine.execution_options(**{IMMEDIATE: True})
        self._url = store.url
        self._backend = store.backend

    def _guard(self, doing: str) -> AbstractAsyncContextManager[None]:
        """Failures inside the block become a StoreError saying ``doing``."""
        return async_failures_as_store_error(self._url, doing)
