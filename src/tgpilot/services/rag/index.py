"""``rag index``: the archive's messages as embedded chunks in Qdrant (spec ai.md §4.9).

Idempotent and incremental. Point ids are UUIDv5 of (chat, first id, last id), so a
chunk indexed twice is one point. Per chat, the index state (a JSON file in the data
dir, one entry per vector location and embedding model) remembers the chat's *tail* —
its last chunk, the only one new messages can still extend — with the content hash
of each of its points. A run re-reads a chat from its tail's first message only,
re-chunks (the greedy cut gives the same chunks again), and embeds only chunks whose
id or hash is new; a tail that grew replaces its old point. So a second run with
nothing new reads a little and makes no embedding call.

**Changed messages.** With a :class:`ArchiveChanges` source, each chat's state also
keeps a *change mark* (the newest time a message row of the chat was written). Rows
written after it below the tail — an edit stored by a re-sync — send the run back to
the start of the oldest chunk holding (or preceding) a changed message: from there the
chat is re-chunked until the chunks line up with the stored ones again, only chunks
whose id or hash changed are embedded, and points no longer produced are deleted (an
edit never leaves a stale duplicate). No ``--rebuild`` needed. An edit that keeps a
message's size touches only the chunk(s) holding it; one that changes it enough to move
a cut re-cuts the following chunks of that conversation, which line up again at the
latest after the next silence over ``gap_minutes`` (the greedy cut restarts there).

**Transcripts** (``with_transcripts=True``): a voice, audio or round-video message with
a stored transcript is indexed as ``[voice message] …`` (after its caption). The state
remembers whether a chat was indexed with transcripts and the newest transcript it saw,
so turning the option on or off, or transcripts added later, re-embed only the chunks
holding those messages.

Chunks are embedded across chats in batches of 100, so N chunks cost ceil(N/100)
calls. A batch that fails after the provider's retries stops the run: chats already
done keep their state, the failed ones are named (exit 3), and the next run resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import orjson

from tgpilot.core.errors import ProviderError
from tgpilot.gateways.llm.embeddings import TextEmbedder
from tgpilot.gateways.vectors.qdrant import PointFilter, VectorPoint, VectorStore
from tgpilot.models import Chat, Message
from tgpilot.services.rag.archive import ArchiveReader
from tgpilot.services.rag.chunking import (
    MessageChunk,
    chunk_messages,
    content_hash,
    indexable,
    message_line,
    with_transcript,
)
from tgpilot.services.rag.passages import COLLECTION_PREFIX, chunk_payload, collection_name

LOOKBACK_S = 86_400.0
"""How far before a changed message stored chunks are looked for first (seconds)."""
STATE_FILE = "rag/index_state.json"
STATE_VERSION = 1

Annotator = Callable[[str], tuple[tuple[str, ...], str]]
"""Topics and sentiment label of a chunk's text."""


class ArchiveChanges(Protocol):
    """Which archived messages were written since a mark
    (:class:`tgpilot.store.message_changes.MessageChanges`)."""

    async def mark(self, chat_id: int) -> datetime | None: ...

    async def changed(
        self, chat_id: int, *, after: datetime, upto: datetime, below_id: int
    ) -> list[tuple[int, datetime]]: ...


class TranscriptSource(Protocol):
    """Stored transcripts (:class:`tgpilot.store.transcripts.TranscriptRepository`)."""

    async def of_chat(self, chat_id: int) -> dict[int, str]: ...

    async def latest(self, chat_id: int) -> datetime | None: ...

    async def transcribed(
        self, chat_id: int, *, after: datetime | None = None, upto: datetime | None = None
    ) -> list[tuple[int, datetime]]: ...


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class ChatState:
    """Where the index stands in one chat."""

    tail_first_id: int
    tail_since: datetime
    tail: dict[str, str]
    """Point id → content hash of the chat's last chunk(s)."""
    last_id: int
    change_mark: datetime | None = None
    """The chat's newest message write seen by the run (see :class:`ArchiveChanges`)."""
    with_transcripts: bool = False
    transcript_mark: datetime | None = None
    """The chat's newest transcript included (with ``with_transcripts``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "tail_first_id": self.tail_first_id,
            "tail_since": self.tail_since.isoformat(),
            "tail": self.tail,
            "last_id": self.last_id,
            "change_mark": _iso(self.change_mark),
            "with_transcripts": self.with_transcripts,
            "transcript_mark": _iso(self.transcript_mark),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatState:
        return cls(
            tail_first_id=int(data["tail_first_id"]),
            tail_since=datetime.fromisoformat(data["tail_since"]),
            tail={str(k): str(v) for k, v in data.get("tail", {}).items()},
            last_id=int(data.get("last_id", 0)),
            change_mark=_time(data.get("change_mark")),
            with_transcripts=bool(data.get("with_transcripts", False)),
            transcript_mark=_time(data.get("transcript_mark")),
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
    changed: int = 0
    """Already indexed messages that read differently now (edits, transcripts)."""
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
            "changed_messages": self.changed,
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


@dataclass(frozen=True)
class _StoredChunk:
    """A point already in the index, as its payload describes it."""

    id: str
    first_id: int
    last_id: int
    digest: str
    ts: float


@dataclass(frozen=True)
class _Rewind:
    """Where a chat with changed messages is re-read from, and the stored points from
    there on that the run may replace."""

    since: datetime
    first_id: int
    older: dict[str, _StoredChunk]
    last_changed: int


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
        changes: ArchiveChanges | None = None,
        transcripts: TranscriptSource | None = None,
    ) -> None:
        self._reader = reader
        self._vectors = vectors
        self._embedder = embedder
        self._state = state
        self._annotate = annotate
        self._count = count_tokens
        self._settings = settings or IndexSettings()
        self._changes = changes
        self._transcripts = transcripts
        self._with_transcripts = False
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

    async def index(
        self,
        chats: Sequence[Chat],
        *,
        since: datetime | None = None,
        with_transcripts: bool = False,
    ) -> IndexReport:
        """Index ``chats``; messages before ``since`` are left out of a chat's first run.
        ``with_transcripts``: spoken messages are indexed by their stored transcripts
        (needs the ``transcripts`` source)."""
        if with_transcripts and self._transcripts is None:
            raise ValueError("with_transcripts needs a transcript source")
        self._with_transcripts = with_transcripts
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
        mark = await self._changes.mark(chat.id) if self._changes is not None else None
        spoken: dict[int, str] = {}
        spoken_mark: datetime | None = None
        if self._with_transcripts and self._transcripts is not None:
            spoken = await self._transcripts.of_chat(chat.id)
            spoken_mark = await self._transcripts.latest(chat.id)
        rewind: _Rewind | None = None
        if previous is not None:
            changed = await self._changed(chat.id, previous, mark, spoken_mark)
            rewind = await self._rewind(chat.id, previous, changed) if changed else None
        plan = _ChatPlan(chat, previous, [])
        self._plans.append(plan)
        known = dict(previous.tail) if previous is not None else {}
        older = rewind.older if rewind is not None else {}
        known.update((pid, stored.digest) for pid, stored in older.items())
        if previous is not None and rewind is not None:
            chunks, realigned_at = await self._rewound_chunks(chat.id, previous, rewind, spoken)
        else:
            start = previous.tail_since if previous is not None else since
            first_id = previous.tail_first_id if previous is not None else 0
            chunks = list(self._cut(await self._read(chat.id, start, first_id, spoken)))
            realigned_at = None
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
        new_ids = {c.id for c in chunks}
        replaceable = [
            pid
            for pid in known
            if pid not in older or realigned_at is None or older[pid].first_id < realigned_at
        ]
        if chunks:
            tail = chunks[-1]
            plan.stale = [pid for pid in replaceable if pid not in new_ids]
            plan.state = ChatState(
                tail_first_id=tail.first_id,
                tail_since=tail.messages[0].date.astimezone(UTC),
                tail={tail.id: content_hash(tail.text)},
                last_id=max(m.id for m in tail.messages),
            )
        if plan.state is not None:
            plan.state.change_mark = mark
            plan.state.with_transcripts = self._with_transcripts
            plan.state.transcript_mark = spoken_mark
        plan.read = True
        await self._commit_finished()

    def _cut(self, messages: list[Message]) -> Iterator[MessageChunk]:
        return chunk_messages(
            messages,
            max_tokens=self._settings.chunk_tokens,
            gap=timedelta(minutes=self._settings.gap_minutes),
            count_tokens=self._count,
        )

    async def _read(
        self,
        chat_id: int,
        since: datetime | None,
        first_id: int,
        spoken: dict[int, str],
        *,
        stop: Callable[[Message], bool] | None = None,
    ) -> list[Message]:
        """A chat's indexable messages from ``since`` with ids from ``first_id`` on (read
        as transcripts where ``spoken`` has one), up to the first one ``stop`` accepts."""
        found: list[Message] = []
        stream = self._reader.messages(chat_id, since=since)
        try:
            async for stored in stream:
                message = with_transcript(stored, spoken) if spoken else stored
                if message.id < first_id or not indexable(message):
                    continue
                found.append(message)
                if stop is not None and stop(message):
                    break
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
        self.report.messages += len(found)
        return found

    async def _rewound_chunks(
        self, chat_id: int, previous: ChatState, rewind: _Rewind, spoken: dict[int, str]
    ) -> tuple[list[MessageChunk], int | None]:
        """The chunks from the rewind point, and the first id of the stored chunk where
        the new chunks line up with the stored ones again (None: they never did before
        the tail; the chat was then re-cut to its end).

        Greedy cuts restart after a silence, so the chunks line up at the latest with the
        first chunk after a silence past the last change: the region is read only that
        far, then the tail is read and cut from its first message as usual."""
        tail_start = previous.tail_first_id
        region = await self._read(
            chat_id,
            rewind.since,
            rewind.first_id,
            spoken,
            stop=self._past_realignment(rewind.last_changed, tail_start),
        )
        chunks: list[MessageChunk] = []
        for chunk in self._cut(region):
            chunks.append(chunk)
            stored = rewind.older.get(chunk.id)
            if (
                stored is not None
                and rewind.last_changed < chunk.first_id < tail_start
                and stored.digest == content_hash(chunk.text)
            ):
                # Greedy cuts from the same message agree: the stored chunks up to the
                # tail stand, so the rest is cut from the tail's first message.
                tail = await self._read(chat_id, previous.tail_since, tail_start, spoken)
                return [*chunks, *self._cut(tail)], chunk.first_id
        if region:
            last = region[-1]
            region += await self._read(chat_id, last.date, last.id + 1, spoken)
        return list(self._cut(region)), None

    def _past_realignment(self, last_changed: int, tail_start: int) -> Callable[[Message], bool]:
        """A stop rule for reading a rewound region: true once the first chunk after a
        silence past ``last_changed`` is complete (the next silence, or more tokens than
        a chunk holds), unless the tail is reached first."""
        gap = timedelta(minutes=self._settings.gap_minutes)
        previous: list[Message] = []
        after_gap: list[int] = []  # tokens since the silence (empty: none seen yet)

        def stop(message: Message) -> bool:
            before = previous[0] if previous else None
            previous[:] = [message]
            if message.id >= tail_start or before is None or message.id <= last_changed:
                return False
            silence = message.date - before.date > gap
            if after_gap:
                if silence:
                    return True
                after_gap[0] += self._count(message_line(message))
                return after_gap[0] > self._settings.chunk_tokens
            if silence:
                after_gap.append(self._count(message_line(message)))
            return False

        return stop

    async def _changed(
        self,
        chat_id: int,
        previous: ChatState,
        mark: datetime | None,
        spoken_mark: datetime | None,
    ) -> list[tuple[int, datetime]]:
        """Indexed-range messages (up to the tail's first), oldest first, whose text may read
        differently now: rewritten since the last run, or with a transcript that the
        run adds or takes away."""
        found: list[tuple[int, datetime]] = []
        below = previous.tail_first_id + 1  # the tail's first message ends the chunk before
        if (
            self._changes is not None
            and mark is not None
            and previous.change_mark is not None
            and mark > previous.change_mark
        ):
            found += await self._changes.changed(
                chat_id, after=previous.change_mark, upto=mark, below_id=below
            )
        if self._transcripts is not None:
            if self._with_transcripts != previous.with_transcripts:
                found += await self._transcripts.transcribed(chat_id)
            elif self._with_transcripts and spoken_mark is not None:
                last = previous.transcript_mark
                if last is None or spoken_mark > last:
                    found += await self._transcripts.transcribed(
                        chat_id, after=last, upto=spoken_mark
                    )
        dates = {message_id: date for message_id, date in found if message_id < below}
        self.report.changed += len(dates)
        return sorted(dates.items())

    async def _rewind(
        self, chat_id: int, previous: ChatState, changed: list[tuple[int, datetime]]
    ) -> _Rewind | None:
        """Where to re-read a chat from for ``changed`` messages: the first stored chunk
        holding the oldest of them, else the chunk just before it. Changes older than
        every stored chunk (left out by a first run's ``--since``) are ignored. The
        chat's points ending up to a day before that message are read first; all of
        them only when none of those holds or precedes it."""
        collection = self._state.collection
        if collection is None:
            return None
        first_date = changed[0][1].timestamp()
        recent = PointFilter(
            equal={"chat_id": [chat_id]}, ranges={"last_ts": (first_date - LOOKBACK_S, None)}
        )
        stored = await self._stored(collection, recent, previous)
        rewind = _rewind_from(stored, [i for i, _ in changed], whole=False)
        if rewind is None:
            whole = PointFilter(equal={"chat_id": [chat_id]})
            stored = await self._stored(collection, whole, previous)
            rewind = _rewind_from(stored, [i for i, _ in changed], whole=True)
        return rewind

    async def _stored(
        self, collection: str, where: PointFilter, previous: ChatState
    ) -> list[_StoredChunk]:
        """The stored chunks (besides the tail) matching ``where``."""
        stored: list[_StoredChunk] = []
        for point in await self._vectors.scroll(collection, where):
            ids = point.payload.get("message_ids") or []
            if point.id in previous.tail or not ids:
                continue
            digest = content_hash(str(point.payload.get("text", "")))
            ts = float(point.payload.get("ts", 0.0))
            stored.append(_StoredChunk(point.id, int(ids[0]), int(ids[-1]), digest, ts))
        return stored

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


def _rewind_from(stored: list[_StoredChunk], changed: list[int], *, whole: bool) -> _Rewind | None:
    """The rewind for ``changed`` (ids, oldest first) over ``stored`` chunks — all of the
    chat's (``whole``) or its recent ones, where None means "look at all of them"."""
    relevant = changed
    if whole:
        earliest = min((s.first_id for s in stored), default=None)
        relevant = [i for i in changed if earliest is not None and i >= earliest]
    if not relevant:
        return None
    first = relevant[0]
    holding = [s for s in stored if s.first_id <= first <= s.last_id]
    before = [s for s in stored if s.last_id < first]
    if holding:
        start = min(holding, key=lambda s: s.first_id)
    elif before:
        start = max(before, key=lambda s: s.last_id)
    else:
        return None
    since = datetime.fromtimestamp(start.ts, UTC) - timedelta(seconds=1)
    older = {s.id: s for s in stored if s.first_id >= start.first_id}
    return _Rewind(since, start.first_id, older, relevant[-1])


def is_message_collection(name: str) -> bool:
    return name.startswith(COLLECTION_PREFIX)
