"""Knowledge-base retrieval for the consultant bot (spec ai.md §4.10).

:class:`KnowledgeBase` indexes the ``*.md`` files under a folder, recursively, into the
Qdrant collection ``kb__<name>``: each file is split on its headings; a section of up
to ``chunk_tokens`` is one chunk, a longer one goes through the word chunker. A file is
re-embedded only when its content hash changes (a removed file's points go too), so
re-indexing unchanged files embeds nothing.

A query returns the best ``top_k`` chunks scoring at least ``min_score``. The score
fuses the vector similarity with a keyword score — the share of the question's
distinct words (stop-words left out) found at a word start in the chunk — which
ranks alone under ``hash`` embeddings, whose vectors carry no meaning. The consultant's
request is built by :func:`consultant_request`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tgpilot.gateways.llm.embeddings import TextEmbedder
from tgpilot.gateways.llm.types import ChatMessage
from tgpilot.gateways.vectors.qdrant import VectorPoint, VectorStore
from tgpilot.services.prompts import Prompt
from tgpilot.services.rag.chunking import chunk_words, content_hash, markdown_sections, point_id
from tgpilot.services.rag.extract import StopWords, load_stopwords
from tgpilot.services.rag.keywords import keyword_score, query_words

COLLECTION_PREFIX = "kb__"
VECTOR_WEIGHT = 0.7
KEYWORD_WEIGHT = 0.3
CANDIDATES_PER_RESULT = 5
HISTORY_TURNS = 10
STATE_VERSION = 1


def kb_collection(name: str) -> str:
    """``kb__<name>``, the name made safe for Qdrant."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return f"{COLLECTION_PREFIX}{safe}"


@dataclass(frozen=True)
class KbChunk:
    """One embedded piece of a knowledge-base file."""

    file: str
    """The file's path relative to the knowledge-base folder."""
    heading: str
    headings: tuple[str, ...]
    text: str
    position: int

    @property
    def title(self) -> str:
        """``file — Heading > Sub-heading`` (the source line the consultant shows)."""
        trail = " > ".join(self.headings)
        return f"{self.file} — {trail}" if trail else self.file

    def payload(self, kb: str) -> dict[str, Any]:
        return {
            "kb": kb,
            "file": self.file,
            "heading": self.heading,
            "headings": list(self.headings),
            "text": self.text,
            "position": self.position,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> KbChunk:
        return cls(
            file=str(payload.get("file", "")),
            heading=str(payload.get("heading", "")),
            headings=tuple(str(h) for h in payload.get("headings") or ()),
            text=str(payload.get("text", "")),
            position=int(payload.get("position", 0)),
        )


@dataclass(frozen=True)
class KbHit:
    """A chunk a query found, with its fused, vector and keyword scores."""

    chunk: KbChunk
    score: float
    vector_score: float
    keyword_score: float

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.chunk.file,
            "heading": self.chunk.heading,
            "score": round(self.score, 4),
            "vector_score": round(self.vector_score, 4),
            "keyword_score": round(self.keyword_score, 4),
            "text": self.chunk.text,
        }


@dataclass
class KbIndexReport:
    """What one knowledge-base index run did."""

    collection: str
    files: int = 0
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    requests: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "files": self.files,
            "changed": self.changed,
            "removed": self.removed,
            "chunks_embedded": self.chunks_embedded,
            "embedding_requests": self.requests,
        }


def split_file(
    relative: str,
    text: str,
    *,
    chunk_tokens: int,
    chunk_words_size: int,
    overlap_words: int,
    count_tokens: Callable[[str], int],
) -> list[KbChunk]:
    """A Markdown file's chunks: one per heading section, long sections word-chunked
    (each piece keeps its heading line in front)."""
    chunks: list[KbChunk] = []
    for section in markdown_sections(text):
        if count_tokens(section.text) <= chunk_tokens:
            pieces = [section.text]
        else:
            lead = (
                f"{'#' * max(len(section.path), 1)} {section.heading}\n" if section.heading else ""
            )
            body = section.text.split("\n", 1)[1] if section.heading else section.text
            pieces = [lead + p for p in chunk_words(body, chunk_words_size, overlap_words)]
        for piece in pieces:
            chunks.append(KbChunk(relative, section.heading, section.path, piece, len(chunks)))
    return chunks


class KnowledgeBase:
    """One knowledge base (see the module docstring)."""

    def __init__(
        self,
        name: str,
        vectors: VectorStore,
        embedder: TextEmbedder,
        state_path: Path,
        *,
        count_tokens: Callable[[str], int],
        chunk_tokens: int = 500,
        chunk_words: int = 300,
        overlap_words: int = 50,
        stopwords: StopWords | None = None,
    ) -> None:
        self.name = name
        self.collection = kb_collection(name)
        self._vectors = vectors
        self._embedder = embedder
        self._state_path = state_path
        self._count = count_tokens
        self._chunk_tokens = chunk_tokens
        self._chunk_words = chunk_words
        self._overlap = overlap_words
        self._stopwords = stopwords or load_stopwords()
        self._chunks: list[tuple[str, KbChunk]] | None = None

    # ----------------------------------------------------------------- state

    def _key(self) -> str:
        return f"{self._vectors.location}|{self.collection}|{self._embedder.model}"

    def _load_state(self) -> dict[str, Any]:
        if self._state_path.is_file():
            data = orjson.loads(self._state_path.read_bytes())
            if isinstance(data, dict) and data.get("version") == STATE_VERSION:
                return data
        return {"version": STATE_VERSION, "indexes": {}}

    def _files_state(self, data: dict[str, Any]) -> dict[str, Any]:
        files: dict[str, Any] = data["indexes"].setdefault(self._key(), {})
        return files

    def _save_state(self, data: dict[str, Any]) -> None:
        self._state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._state_path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        temporary.replace(self._state_path)

    # ----------------------------------------------------------------- index

    async def index(self, folder: Path, *, rebuild: bool = False) -> KbIndexReport:
        """Bring ``kb__<name>`` up to date with the ``*.md`` files under ``folder``."""
        report = KbIndexReport(self.collection)
        requests_before = self._embedder.requests
        data = self._load_state()
        if rebuild:
            await self._vectors.drop_collection(self.collection)
            data["indexes"].pop(self._key(), None)
        files = self._files_state(data)
        seen: set[str] = set()
        for path in sorted(folder.rglob("*.md")):
            if not path.is_file():
                continue
            relative = path.relative_to(folder).as_posix()
            seen.add(relative)
            report.files += 1
            text = path.read_text(encoding="utf-8", errors="replace")
            digest = content_hash(text)
            known = files.get(relative)
            if known is not None and known.get("hash") == digest:
                continue
            chunks = split_file(
                relative,
                text,
                chunk_tokens=self._chunk_tokens,
                chunk_words_size=self._chunk_words,
                overlap_words=self._overlap,
                count_tokens=self._count,
            )
            ids = await self._write(relative, chunks)
            if known is not None:
                await self._vectors.delete(
                    self.collection, [i for i in known["ids"] if i not in ids]
                )
            files[relative] = {"hash": digest, "ids": ids}
            report.changed.append(relative)
            report.chunks_embedded += len(chunks)
            self._save_state(data)
        for relative in sorted(set(files) - seen):
            if await self._vectors.collection(self.collection) is not None:
                await self._vectors.delete(self.collection, list(files[relative]["ids"]))
            del files[relative]
            report.removed.append(relative)
        self._save_state(data)
        self._chunks = None
        report.requests = self._embedder.requests - requests_before
        return report

    async def _write(self, relative: str, chunks: list[KbChunk]) -> list[str]:
        if not chunks:
            return []
        vectors = await self._embedder.embed([c.text for c in chunks])
        await self._vectors.ensure_collection(self.collection, len(vectors[0]))
        points = [
            VectorPoint(point_id(self.collection, relative, c.position), v, c.payload(self.name))
            for c, v in zip(chunks, vectors, strict=True)
        ]
        await self._vectors.upsert(self.collection, points)
        return [p.id for p in points]

    # ----------------------------------------------------------------- query

    async def _all_chunks(self) -> list[tuple[str, KbChunk]]:
        if self._chunks is None:
            if await self._vectors.collection(self.collection) is None:
                self._chunks = []
            else:
                found = await self._vectors.scroll(self.collection)
                self._chunks = [(p.id, KbChunk.from_payload(p.payload)) for p in found]
                self._chunks.sort(key=lambda item: (item[1].file, item[1].position))
        return self._chunks

    async def query(self, question: str, *, top_k: int = 4, min_score: float = 0.2) -> list[KbHit]:
        """The best chunks for ``question`` (see the module docstring); [] when none
        reaches ``min_score`` or nothing is indexed."""
        chunks = await self._all_chunks()
        if not chunks or not question.strip():
            return []
        words = query_words(question, self._stopwords)
        keyword_only = self._embedder.provider == "hash"
        similarity: dict[str, float] = {}
        if not keyword_only:
            vector = await self._embedder.embed_one(question)
            found = await self._vectors.search(
                self.collection, vector, limit=top_k * CANDIDATES_PER_RESULT
            )
            similarity = {p.id: max(p.score, 0.0) for p in found}
        hits: list[KbHit] = []
        for pid, chunk in chunks:
            keywords = keyword_score(words, chunk.text)
            vector_score = similarity.get(pid, 0.0)
            if keyword_only:
                score = keywords
            else:
                score = VECTOR_WEIGHT * vector_score + KEYWORD_WEIGHT * keywords
            if score >= min_score and score > 0:
                hits.append(KbHit(chunk, score, vector_score, keywords))
        hits.sort(key=lambda h: (-h.score, -h.vector_score, h.chunk.file, h.chunk.position))
        return hits[:top_k]


def render_kb_sources(hits: Sequence[KbHit]) -> str:
    """The numbered sources of ``consultant_context.md``: ``[n] file — heading`` and text."""
    return "\n\n".join(
        f"[{n}] {hit.chunk.title}\n{hit.chunk.text}" for n, hit in enumerate(hits, 1)
    )


def consultant_request(
    consultant: Prompt,
    context_prompt: Prompt,
    hits: Sequence[KbHit],
    history: Sequence[ChatMessage],
    question: str,
) -> list[ChatMessage]:
    """The consultant's request: its system message, the retrieved chunks as numbered
    sources (when any), the last 10 turns and the question."""
    messages = [ChatMessage("system", consultant.render_system())]
    if hits:
        context = context_prompt.render_system(context=render_kb_sources(hits))
        messages.append(ChatMessage("system", context))
    messages.extend(history[-HISTORY_TURNS:])
    messages.append(ChatMessage("user", question))
    return messages
