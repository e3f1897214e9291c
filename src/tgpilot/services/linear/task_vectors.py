"""Vectors of the tasks linked to Linear issues, for ``from-chats``' similarity check.

One Qdrant collection per embedding model (``linear_tasks__<model>``), in the same
vector store as ``rag`` (embedded under the data dir unless ``vector.url`` names a
server); a point per linked message, its id derived from the link key, its payload the
issue id. Nothing is stored or searched until a task has been linked.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

from tgpilot.gateways.vectors.qdrant import VectorPoint

if TYPE_CHECKING:
    from tgpilot.gateways.llm.embeddings import TextEmbedder
    from tgpilot.gateways.vectors.qdrant import VectorStore

COLLECTION_PREFIX = "linear_tasks__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def collection_name(provider: str, model: str) -> str:
    """``linear_tasks__<provider>_<model>`` with unsafe characters replaced."""
    return COLLECTION_PREFIX + _UNSAFE.sub("_", f"{provider}_{model}").strip("_").lower()


class QdrantTaskVectors:
    """Linked tasks' vectors in the vector store (the ``TaskVectors`` of from-chats)."""

    def __init__(self, vectors: VectorStore, embedder: TextEmbedder) -> None:
        self.vectors = vectors
        self.embedder = embedder
        self.collection = collection_name(embedder.provider, embedder.model)

    async def nearest(self, text: str) -> tuple[str, float] | None:
        """The most similar linked task: ``(issue id, cosine)``; None when none is stored."""
        if not text.strip() or await self.vectors.collection(self.collection) is None:
            return None
        vector = await self.embedder.embed_one(text)
        found = await self.vectors.search(self.collection, vector, limit=1)
        if not found:
            return None
        issue_id = found[0].payload.get("issue_id")
        return (str(issue_id), found[0].score) if issue_id else None

    async def remember(self, key: str, issue_id: str, text: str) -> None:
        """Store ``text``'s vector as the task of link ``key``."""
        if not text.strip():
            return
        vector = await self.embedder.embed_one(text)
        await self.vectors.ensure_collection(self.collection, len(vector))
        point_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"tgpilot:linear-task:{key}"))
        payload = {"issue_id": issue_id, "key": key}
        await self.vectors.upsert(self.collection, [VectorPoint(point_id, vector, payload)])
