"""The vector database gateway: Qdrant, embedded under the data dir or a server by URL
(:mod:`tgpilot.gateways.vectors.qdrant`), built from ``vector:`` settings by
:func:`open_vector_store`."""

from __future__ import annotations

from tgpilot.core.config import Config
from tgpilot.gateways.vectors.qdrant import VectorStore

QDRANT_FOLDER = "qdrant"


def open_vector_store(config: Config) -> VectorStore:
    """The configured Qdrant: ``vector.url`` if set, else ``<data dir>/qdrant``
    (or ``vector.path``). Nothing connects until the first call."""
    vector = config.vector
    if vector.url:
        key = vector.api_key.get_secret_value() if vector.api_key is not None else None
        return VectorStore(url=vector.url, api_key=key, prefer_grpc=vector.prefer_grpc)
    return VectorStore(path=vector.path or config.home / QDRANT_FOLDER)
