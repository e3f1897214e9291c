"""Qdrant behind one small async interface: embedded under the data dir, or a server.

:class:`VectorStore` is the only code that imports ``qdrant_client`` (DESIGN: only
gateways talk to the outside world; the embedded engine is a client library too). The
same calls run against Qdrant's local mode (a folder, ``vector.url`` unset — how one
machine runs) and a Qdrant server or cluster by URL (REST, or gRPC with
``prefer_grpc``) — how a user who outgrows one machine scales. Calls run in a worker
thread, one at a time, so the embedded engine never blocks the event loop.

Collections use cosine distance. :meth:`VectorStore.ensure_collection` creates one or
checks its dimension: a mismatch is a ConfigError suggesting ``--rebuild``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tgpilot.core.errors import ConfigError, TgpilotError

if TYPE_CHECKING:
    from qdrant_client import QdrantClient
    from qdrant_client.http import models

T = TypeVar("T")

UPSERT_BATCH = 256
SCROLL_PAGE = 1000
LOCK_WORDS = "already accessed by another instance"


class VectorStoreError(TgpilotError):
    """Qdrant failed (the server is unreachable, or it refused a request)."""


class VectorStoreBusy(TgpilotError):
    """Another process holds the embedded Qdrant folder (exit 4)."""

    exit_code = 4


@dataclass(frozen=True)
class VectorPoint:
    """One point to store: a UUID string id, its vector and its payload."""

    id: str
    vector: Sequence[float]
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class FoundPoint:
    """A stored point: its id, payload and (for searches) similarity score."""

    id: str
    payload: dict[str, Any]
    score: float = 0.0


@dataclass(frozen=True)
class PointFilter:
    """Conditions every returned point meets: ``equal`` maps a payload key to the
    values it may take (an array field matches when any element does); ``ranges`` maps
    a numeric key to ``(at least, below)`` bounds (None: open)."""

    equal: Mapping[str, Sequence[int | str | bool]] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not self.equal and not self.ranges


@dataclass(frozen=True)
class CollectionInfo:
    """What ``rag stats`` shows of a collection."""

    name: str
    points: int
    dimension: int


def _qdrant_filter(where: PointFilter | None) -> models.Filter | None:
    from qdrant_client.http import models

    if where is None or where.is_empty():
        return None
    must: list[Any] = []
    for key, values in where.equal.items():
        if len(values) == 1:
            must.append(models.FieldCondition(key=key, match=models.MatchValue(value=values[0])))
        else:
            any_of = [v for v in values if not isinstance(v, bool)]
            must.append(models.FieldCondition(key=key, match=models.MatchAny(any=any_of)))  # type: ignore[arg-type]
    for key, (low, high) in where.ranges.items():
        must.append(models.FieldCondition(key=key, range=models.Range(gte=low, lt=high)))
    return models.Filter(must=must)


class VectorStore:
    """One Qdrant, embedded (``path``) or a server (``url``); see the module docstring."""

    def __init__(
        self,
        *,
        path: Path | None = None,
        url: str | None = None,
        api_key: str | None = None,
        prefer_grpc: bool = False,
        timeout_s: int = 60,
    ) -> None:
        if (path is None) == (url is None):
            raise ValueError("give exactly one of path and url")
        self.path = path
        self.url = url
        self._api_key = api_key
        self._prefer_grpc = prefer_grpc
        self._timeout_s = timeout_s
        self._client: QdrantClient | None = None
        self._lock = asyncio.Lock()

    @property
    def location(self) -> str:
        """Where the vectors live, as messages name it."""
        return self.url if self.url is not None else f"embedded Qdrant at {self.path}"

    def _open(self) -> QdrantClient:
        from qdrant_client import QdrantClient

        if self._client is not None:
            return self._client
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            try:
                self._client = QdrantClient(path=str(self.path))
            except RuntimeError as exc:
                if LOCK_WORDS in str(exc):
                    raise VectorStoreBusy(
                        f"the vector index at {self.path} is in use by another tgpilot process",
                        hint="wait for it to finish, or set vector.url to a Qdrant server "
                        "for concurrent use",
                    ) from exc
                raise
        else:
            self._client = QdrantClient(
                url=self.url,
                api_key=self._api_key,
                prefer_grpc=self._prefer_grpc,
                timeout=self._timeout_s,
                check_compatibility=False,
            )
        return self._client

    async def _call(self, doing: str, work: Callable[[QdrantClient], T]) -> T:
        async with self._lock:
            return await asyncio.to_thread(self._guarded, doing, work)

    def _guarded(self, doing: str, work: Callable[[QdrantClient], T]) -> T:
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        client = self._open()
        try:
            return work(client)
        except UnexpectedResponse as exc:
            detail = exc.content.decode("utf-8", "replace")[:300] if exc.content else ""
            raise VectorStoreError(
                f"Qdrant error {exc.status_code} {doing} ({self.location}): {detail}",
                hint="check vector.url and vector.api_key",
            ) from exc
        except (ResponseHandlingException, ConnectionError, OSError) as exc:
            raise VectorStoreError(
                f"cannot reach Qdrant {doing} ({self.location}): {exc}",
                hint="check that the server runs, or unset vector.url for the embedded store",
            ) from exc

    async def close(self) -> None:
        """Release the client (and the embedded folder's lock)."""
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client.close)

    async def __aenter__(self) -> VectorStore:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # ----------------------------------------------------------------- collections

    async def collection(self, name: str) -> CollectionInfo | None:
        """The collection's size and dimension, or None if it does not exist."""

        def read(client: QdrantClient) -> CollectionInfo | None:
            if not client.collection_exists(name):
                return None
            info = client.get_collection(name)
            vectors = info.config.params.vectors
            size = getattr(vectors, "size", 0) or 0
            points = client.count(name, exact=True).count
            return CollectionInfo(name, points, int(size))

        return await self._call(f"reading collection {name}", read)

    async def collections(self) -> list[str]:
        """Every collection's name."""
        return await self._call(
            "listing collections",
            lambda client: sorted(c.name for c in client.get_collections().collections),
        )

    async def ensure_collection(self, name: str, dimension: int) -> bool:
        """Create ``name`` (cosine, ``dimension``) if missing; True if created. An
        existing collection of another dimension is a ConfigError."""
        from qdrant_client.http import models

        def ensure(client: QdrantClient) -> int | None:
            if client.collection_exists(name):
                vectors = client.get_collection(name).config.params.vectors
                return int(getattr(vectors, "size", 0) or 0)
            client.create_collection(
                name,
                vectors_config=models.VectorParams(size=dimension, distance=models.Distance.COSINE),
            )
            return None

        existing = await self._call(f"creating collection {name}", ensure)
        if existing is not None and existing != dimension:
            raise ConfigError(
                f"collection {name} holds {existing}-dimensional vectors, "
                f"the embedder makes {dimension}",
                hint="rebuild the index with --rebuild",
            )
        return existing is None

    async def drop_collection(self, name: str) -> bool:
        """Delete ``name``; True if it existed."""

        def drop(client: QdrantClient) -> bool:
            if not client.collection_exists(name):
                return False
            client.delete_collection(name)
            return True

        return await self._call(f"dropping collection {name}", drop)

    # ----------------------------------------------------------------- points

    async def upsert(self, name: str, points: Sequence[VectorPoint]) -> None:
        """Insert or replace ``points`` (same id, same point), in batches."""
        from qdrant_client.http import models

        def write(client: QdrantClient) -> None:
            for start in range(0, len(points), UPSERT_BATCH):
                part = points[start : start + UPSERT_BATCH]
                client.upsert(
                    name,
                    points=[
                        models.PointStruct(id=p.id, vector=list(p.vector), payload=dict(p.payload))
                        for p in part
                    ],
                    wait=True,
                )

        if points:
            await self._call(f"writing to {name}", write)

    async def delete(self, name: str, ids: Sequence[str]) -> None:
        """Delete the points with these ids (missing ones are ignored)."""
        from qdrant_client.http import models

        if ids:
            await self._call(
                f"deleting from {name}",
                lambda client: client.delete(
                    name, points_selector=models.PointIdsList(points=list(ids)), wait=True
                ),
            )

    async def delete_where(self, name: str, where: PointFilter) -> None:
        """Delete every point matching ``where``."""
        from qdrant_client.http import models

        selector = _qdrant_filter(where)
        if selector is None:
            raise ValueError("refusing to delete every point: give a filter")
        await self._call(
            f"deleting from {name}",
            lambda client: client.delete(
                name, points_selector=models.FilterSelector(filter=selector), wait=True
            ),
        )

    async def search(
        self,
        name: str,
        vector: Sequence[float],
        *,
        limit: int,
        where: PointFilter | None = None,
        min_score: float | None = None,
    ) -> list[FoundPoint]:
        """The ``limit`` points nearest ``vector`` (cosine), best first."""

        def query(client: QdrantClient) -> list[FoundPoint]:
            response = client.query_points(
                name,
                query=list(vector),
                query_filter=_qdrant_filter(where),
                limit=limit,
                with_payload=True,
                score_threshold=min_score,
            )
            return [
                FoundPoint(str(p.id), dict(p.payload or {}), float(p.score))
                for p in response.points
            ]

        return await self._call(f"searching {name}", query)

    async def scroll(self, name: str, where: PointFilter | None = None) -> list[FoundPoint]:
        """Every point matching ``where`` (payloads only), in pages."""

        def read(client: QdrantClient) -> list[FoundPoint]:
            return list(_pages(client, name, _qdrant_filter(where)))

        return await self._call(f"reading {name}", read)


def _pages(client: QdrantClient, name: str, where: models.Filter | None) -> Iterator[FoundPoint]:
    offset: Any = None
    while True:
        records, offset = client.scroll(
            name, scroll_filter=where, limit=SCROLL_PAGE, offset=offset, with_payload=True
        )
        for record in records:
            yield FoundPoint(str(record.id), dict(record.payload or {}))
        if offset is None:
            return
