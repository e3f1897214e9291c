"""``rag index``: the archive's messages as embedded chunks in Qdrant (spec ai.md §4.9).

Idempotent and incremental. Point ids are UUIDv5 of (chat, first id, last id), so a
chunk indexed twice is one point. Per chat, the index state (a JSON file in the data
dir, one entry per vector location and embedding model) remembers the chat's *tail* —
its last chunk, the only one new messages can still extend — with the content hash
of each of its points. A run re-reads a chat from its tail's first message only,
re-chunks (the greedy cut gives the same chunks again), and embeds only chunks whose
id or hash is new; a tail that grew replaces its old point. So a second run with
nothing new reads a little and makes no embedding call.

Chunks are embedded across chats in batches of 100, so N chunks cost ceil(N/100)
calls. A batch that fails after the provider's retries stops the run: chats already
done keep their state, the failed ones are named (exit 3), and the next run resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tgpilot.core.errors import ProviderError
from tgpilot.gateways.llm.embeddings import TextEmbedder
from tgpilot.gateways.vectors.qdrant import VectorPoint, VectorStore
from tgpilot.models import Chat, Message
from tgpilot.services.rag.archive import ArchiveReader
from tgpilot.services.rag.chunking import (
    MessageChunk,
    chunk_messages,
    content_hash,
    indexable,
)
from tgpilot.services.rag.passages import COLLECTION_PREFIX, chunk_payload, collection_name

STATE_FILE = "rag/index_state.json"
STATE_VERSION = 1

Annotator = Callable[[str], tuple[tuple[str, ...], str]]
"""Topics and sentiment label of a chunk's text."""


@dataclass
class ChatState:
    """Where the index stands in one chat."""

    tail_first_id: int
    tail_since: datetime
    tail: dict[str, str]
    """Point id → content hash of the chat's last chunk(s)."""
    last_id: int

    def to_json(self) -> dict[str, Any]:
        return {
            "tail_first_id": self.tail_first_id,
            "tail_since": self.tail_since.isoformat(),
            "tail": self.tail,
            "last_id": self.last_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatState:
        return cls(
            tail_first_id=int(data["tail_first_id"]),
            tail_since=datetime.fromisoformat(data["tail_since"]),
            tail={str(k): str(v) for k, v in data.get("tail", {}).items()},
            last_id=int(data.get("last_id", 0)),
        )


class IndexState:
    """The index state file: per (vector location, model), per chat, a :class:`ChatState`."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self._all: dict[str, Any] = {"version": STATE_VERSION, "indexes": {}}
        if path.is_file():
            loaded = orjson.loads(path.read_bytes())
            if isinstance(loaded, dict) and loaded.get("version") == STATE_VERSION:
                self._all = loaded
        entry = self._all["indexes"].setdefault(key, {"collection": None, "chats": {}})
        self._entry: dict[str, Any] = entry

    @property
    def collection(self) -> str | None:
        value = self._entry.get("collection")
        return str(value) if value else None

    @collection.setter
    def collection(self, name: str) -> None:
        self._entry["collection"] = name

    def chat(self, chat_id: int) -> ChatState | None:
        data = self._entry["chats"].get(str(chat_id))
        return ChatState.from_json(data) if data else None

    def set_chat(self, chat_id: int, state: ChatState) -> None:
        self._entry["chats"][str(chat_id)] = state.to_json()

    def reset(self) -> None:
        self._entry.clear()
        self._entry.update({"collection": None, "chats": {}})

    def save(self) -> None:
        """Write the file atomically (a crash leaves the old state)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(self._all, option=orjson.OPT_INDENT_2))
        temporary.replace(self.path)


@dataclass
class IndexReport:
    """What one ``rag index`` run did."""

    collection: str | None = None
    chats: int = 0
    messages: int = 0
    chunks: int = 0
    embedded: int = 0
    unchanged: int = 0
    replaced: int = 0
    requests: int = 0
    failed_chats: list[str] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "chats": self.chats,
            "messages": self.messages,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "unchanged": self.unchanged,
            "replaced": self.replaced,
            "embedding_requests": self.requests,
            "failed_chats": self.failed_chats,
            "error": self.error,
        }


@dataclass
class _ChatPlan:
    """A chat read and chunked, waiting for its chunks' embeddings."""

    chat: Chat
    state: ChatState | None
    stale: list[str]
    outstanding: int = 0
    read: bool = False


@dataclass(frozen=True)
class IndexSettings:
    """How chunks are cut (``rag.chunk_tokens``, ``rag.gap_minutes``)."""

    chunk_tokens: int = 400
    gap_minutes: int = 30


def state_key(vectors: VectorStore, model: str) -> str:
    return f"{vectors.location}|{model}"


class ArchiveIndexer:
    """Indexes archived chats into Qdrant (see the module docstring)."""

    def __init__(
        self,
        reader: ArchiveReader,
        vectors: VectorStore,
        embedder: TextEmbedder,
        state: IndexState,
        *,
        annotate: Annotator,
        count_tokens: Callable[[str], int],
        settings: IndexSettings | None = None,
    ) -> None:
        self._reader = reader
        self._vectors = vectors
        self._embedder = embedder
        self._state = state
        self._annotate = annotate
        self._count = count_tokens
        self._settings = settings or IndexSettings()
        self._pending: list[tuple[_ChatPlan, MessageChunk, str]] = []
        self._plans: list[_ChatPlan] = []
        self.report = IndexReport(collection=state.collection)

    async def rebuild(self) -> None:
        """Forget everything indexed with this model: drop its collections and state."""
        prefix = collection_name(self._embedder.model, 0).removesuffix("0")
        for name in await self._vectors.collections():
            if name.startswith(prefix):
                await self._vectors.drop_collection(name)
        self._state.reset()
        self._state.save()
        self.report.collection = None

    async def index(self, chats: Sequence[Chat], *, since: datetime | None = None) -> IndexReport:
        """Index ``chats``; messages before ``since`` are left out of a chat's first run."""
        requests_before = self._embedder.requests
        try:
            for chat in chats:
                self.report.chats += 1
                await self._plan_chat(chat, since)
            await self._flush()
        except ProviderError as exc:
            self.report.error = exc.message
            self.report.failed_chats = [plan.chat.title for plan in self._plans]
            self._pending.clear()
        finally:
            self.report.requests = self._embedder.requests - requests_before
        return self.report

    async def _plan_chat(self, chat: Chat, since: datetime | None) -> None:
        previous = self._state.chat(chat.id)
        start = previous.tail_since if previous is not None else since
        first_id = previous.tail_first_id if previous is not None else 0
        messages: list[Message] = [
            m
            async for m in self._reader.messages(chat.id, since=start)
            if m.id >= first_id and indexable(m)
        ]
        self.report.messages += len(messages)
        plan = _ChatPlan(chat, previous, [])
        self._plans.append(plan)
        known = previous.tail if previous is not None else {}
        gap = timedelta(minutes=self._settings.gap_minutes)
        chunks = list(
            chunk_messages(
                messages,
                max_tokens=self._settings.chunk_tokens,
                gap=gap,
                count_tokens=self._count,
            )
        )
        for chunk in chunks:
            self.report.chunks += 1
            digest = content_hash(chunk.text)
            if known.get(chunk.id) == digest:
                self.report.unchanged += 1
                continue
            plan.outstanding += 1
            self._pending.append((plan, chunk, digest))
            if len(self._pending) >= self._embedder.batch_size:
                await self._flush()
        if chunks:
            tail = chunks[-1]
            new_ids = {c.id for c in chunks}
            plan.stale = [pid for pid in known if pid not in new_ids]
            plan.state = ChatState(
                tail_first_id=tail.first_id,
                tail_since=tail.messages[0].date.astimezone(UTC),
                tail={tail.id: content_hash(tail.text)},
                last_id=max(m.id for m in tail.messages),
            )
        plan.read = True
        await self._commit_finished()

    async def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        vectors = await self._embedder.embed([chunk.text for _, chunk, _ in batch])
        collection = await self._collection(len(vectors[0]))
        points = []
        for (plan, chunk, _digest), vector in zip(batch, vectors, strict=True):
            topics, sentiment = self._annotate(chunk.text)
            payload = chunk_payload(chunk, plan.chat, topics, sentiment)
            points.append(VectorPoint(chunk.id, vector, payload))
        await self._vectors.upsert(collection, points)
        self.report.embedded += len(batch)
        for plan, _, _ in batch:
            plan.outstanding -= 1
        await self._commit_finished()

    async def _collection(self, dimension: int) -> str:
        name = collection_name(self._embedder.model, dimension)
        if self._state.collection != name:
            await self._vectors.ensure_collection(name, dimension)
            self._state.collection = name
        self.report.collection = name
        return name

    async def _commit_finished(self) -> None:
        """Save the state of every chat read in full whose chunks are all stored, and
        remove the points its tail replaced."""
        done = [p for p in self._plans if p.read and p.outstanding == 0]
        if not done:
            return
        collection = self._state.collection
        for plan in done:
            if plan.stale and collection is not None:
                await self._vectors.delete(collection, plan.stale)
                self.report.replaced += len(plan.stale)
            if plan.state is not None:
                self._state.set_chat(plan.chat.id, plan.state)
        self._plans = [p for p in self._plans if p not in done]
        self._state.save()


def is_message_collection(name: str) -> bool:
    return name.startswith(COLLECTION_PREFIX)
