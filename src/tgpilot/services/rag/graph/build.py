"""``rag graph build``: archive chunks inserted into the LightRAG knowledge graph
(spec ai.md §4.9).

Chats are read and cut exactly as ``rag index`` cuts them (same chunker, same ids);
each chunk is rendered as one document (:mod:`.documents`) and only documents the
:class:`~.documents.DocumentCatalogue` does not hold yet are inserted, so a rebuild
with nothing new inserts nothing and embeds nothing. A chat's last chunk is final once
its last message is more than ``rag.gap_minutes`` old (a later message starts a new
chunk); a conversation still going on waits for the next build (``waiting``), so the
graph never holds a chunk next to its own longer version.

- **With a model**, LightRAG's own pipeline (``ainsert`` with the chunk ids as document
  ids) extracts entities and relations through our gateway. A document LightRAG marks
  failed is left out of the catalogue, named in the report (exit 3), removed from
  LightRAG and retried by the next build.
- **Without a model**, the heuristic extractor (:mod:`tgpilot.services.rag.extract`)
  feeds LightRAG's custom-KG insert: each document is a chunk, its entities are nodes
  (typed ``mention``, ``tag``, ``number`` or ``name``, described by the line they first
  appear on) and consecutive entities are joined by ``co_occurs`` relations of weight 1.
  An entity seen in several documents keeps all of them as its sources.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tgpilot.models import Chat
from tgpilot.services.prompts import Prompt
from tgpilot.services.rag.archive import ArchiveReader
from tgpilot.services.rag.chunking import chunk_messages, indexable
from tgpilot.services.rag.extract import CO_OCCURS, StopWords, extract_graph
from tgpilot.services.rag.graph.documents import DocumentCatalogue, GraphDocument, render_document
from tgpilot.services.rag.graph.engine import LightRAGInstance, lightrag_module
from tgpilot.services.rag.index import IndexSettings

BATCH_DOCUMENTS = 100
"""Documents per LightRAG insert (one embedding batch for the heuristic path)."""
DESCRIPTION_CHARS = 200
SOURCE_SEPARATOR = "<SEP>"
"""How LightRAG joins the source chunk ids of one node (its ``GRAPH_FIELD_SEP``)."""

LIGHTRAG_STORAGES = (
    "full_docs",
    "text_chunks",
    "full_entities",
    "full_relations",
    "entity_chunks",
    "relation_chunks",
    "entities_vdb",
    "relationships_vdb",
    "chunks_vdb",
    "chunk_entity_relation_graph",
    "llm_response_cache",
    "doc_status",
)

Progress = Callable[[int, int | None], None]


@dataclass
class GraphBuildReport:
    """What one ``rag graph build`` did."""

    extractor: str
    chats: int = 0
    messages: int = 0
    documents: int = 0
    added: int = 0
    skipped: int = 0
    waiting: int = 0
    """Last chunks of conversations still going on, left for the next build."""
    failed: list[str] = field(default_factory=list)
    """Titles of the chats with a document that could not be inserted."""
    error: str | None = None
    nodes: int = 0
    edges: int = 0
    llm_calls: int = 0
    embedding_calls: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "extractor": self.extractor,
            "chats": self.chats,
            "messages": self.messages,
            "documents": self.documents,
            "added": self.added,
            "skipped": self.skipped,
            "waiting": self.waiting,
            "failed_chats": self.failed,
            "error": self.error,
            "entities": self.nodes,
            "relations": self.edges,
            "llm_calls": self.llm_calls,
            "embedding_calls": self.embedding_calls,
        }


async def graph_size(rag: LightRAGInstance) -> tuple[int, int]:
    """Nodes and edges of the graph."""
    graph = rag.chunk_entity_relation_graph
    return len(await graph.get_all_nodes()), len(await graph.get_all_edges())


async def clear_graph(rag: LightRAGInstance, catalogue: DocumentCatalogue) -> None:
    """Drop every LightRAG storage and forget every document (``--rebuild``)."""
    for name in LIGHTRAG_STORAGES:
        storage = getattr(rag, name, None)
        if storage is not None:
            await storage.drop()
    catalogue.clear()
    catalogue.save()


def entity_type(entity: str) -> str:
    """``mention`` (@…), ``tag`` (#…), ``number`` (has a digit) or ``name``."""
    if entity.startswith("@"):
        return "mention"
    if entity.startswith("#"):
        return "tag"
    if any(ch.isdigit() for ch in entity):
        return "number"
    return "name"


def _first_line(text: str, entity: str) -> str:
    line = next((line for line in text.splitlines() if entity in line), entity)
    return " ".join(line.split())[:DESCRIPTION_CHARS]


def heuristic_graph(documents: Sequence[GraphDocument], stopwords: StopWords) -> dict[str, Any]:
    """LightRAG's custom-KG payload for ``documents`` (see the module docstring)."""
    chunks: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []
    for document in documents:
        chunks.append(
            {"content": document.text, "source_id": document.id, "file_path": document.id}
        )
        found = extract_graph(document.text, stopwords)
        for entity in found.entities:
            entities.append(
                {
                    "entity_name": entity,
                    "entity_type": entity_type(entity),
                    "description": _first_line(document.text, entity),
                    "source_id": document.id,
                    "file_path": document.id,
                }
            )
        for relation in found.relations:
            relations.append(
                {
                    "src_id": relation.source,
                    "tgt_id": relation.target,
                    "description": f"{relation.source} and {relation.target} appear together",
                    "keywords": CO_OCCURS,
                    "weight": relation.weight,
                    "source_id": document.id,
                    "file_path": document.id,
                }
            )
    return {"chunks": chunks, "entities": entities, "relationships": relations}


class GraphBuilder:
    """Inserts archive chunks into a LightRAG instance (see the module docstring)."""

    def __init__(
        self,
        rag: LightRAGInstance,
        reader: ArchiveReader,
        catalogue: DocumentCatalogue,
        prompt: Prompt,
        *,
        use_model: bool,
        stopwords: StopWords,
        count_tokens: Callable[[str], int],
        now: datetime,
        settings: IndexSettings | None = None,
    ) -> None:
        self._rag = rag
        self._reader = reader
        self._catalogue = catalogue
        self._prompt = prompt
        self._use_model = use_model
        self._stopwords = stopwords
        self._count = count_tokens
        self._now = now
        self._settings = settings or IndexSettings()
        self.report = GraphBuildReport(extractor="llm" if use_model else "heuristic")

    async def build(
        self,
        chats: Sequence[Chat],
        *,
        since: datetime | None = None,
        progress: Progress | None = None,
    ) -> GraphBuildReport:
        """Insert the new documents of ``chats`` (messages from ``since`` on)."""
        pending: list[tuple[Chat, GraphDocument]] = []
        for chat in chats:
            self.report.chats += 1
            for document in await self._documents(chat, since):
                self.report.documents += 1
                if document.id in self._catalogue:
                    self.report.skipped += 1
                else:
                    pending.append((chat, document))
        total = len(pending)
        if progress is not None:
            progress(0, total)
        for start in range(0, total, BATCH_DOCUMENTS):
            batch = pending[start : start + BATCH_DOCUMENTS]
            await self._insert(batch)
            if progress is not None:
                progress(min(start + BATCH_DOCUMENTS, total), total)
        self.report.nodes, self.report.edges = await graph_size(self._rag)
        return self.report

    async def _documents(self, chat: Chat, since: datetime | None) -> list[GraphDocument]:
        messages = [m async for m in self._reader.messages(chat.id, since=since) if indexable(m)]
        self.report.messages += len(messages)
        gap = timedelta(minutes=self._settings.gap_minutes)
        chunks = list(
            chunk_messages(
                messages, max_tokens=self._settings.chunk_tokens, gap=gap, count_tokens=self._count
            )
        )
        if chunks and self._now - chunks[-1].messages[-1].date <= gap:
            chunks.pop()
            self.report.waiting += 1
        return [render_document(self._prompt, chunk, chat) for chunk in chunks]

    async def _insert(self, batch: Sequence[tuple[Chat, GraphDocument]]) -> None:
        documents = [document for _, document in batch]
        if self._use_model:
            done = await self._insert_extracted(documents)
        else:
            await self._insert_heuristic(documents)
            done = {document.id for document in documents}
        self._catalogue.add(d for d in documents if d.id in done)
        self._catalogue.save()
        self.report.added += len(done)
        failed = [chat.title for chat, document in batch if document.id not in done]
        self.report.failed.extend(t for t in dict.fromkeys(failed) if t not in self.report.failed)

    async def _insert_extracted(self, documents: Sequence[GraphDocument]) -> set[str]:
        """LightRAG's pipeline with our model; the ids it processed."""
        ids = [d.id for d in documents]
        await self._forget_unfinished(ids)
        await self._rag.ainsert([d.text for d in documents], ids=ids, file_paths=ids)
        done: set[str] = set()
        for document_id, status in zip(
            ids, await self._rag.doc_status.get_by_ids(ids), strict=True
        ):
            state = _field(status, "status")
            if str(getattr(state, "value", state)) == "processed":
                done.add(document_id)
            elif self.report.error is None:
                self.report.error = str(_field(status, "error_msg") or "extraction failed")
        return done

    async def _forget_unfinished(self, ids: Sequence[str]) -> None:
        """Remove documents LightRAG holds from an earlier failed build, so they retry."""
        for document_id, status in zip(
            ids, await self._rag.doc_status.get_by_ids(list(ids)), strict=True
        ):
            if status:
                await self._rag.adelete_by_doc_id(document_id)

    async def _insert_heuristic(self, documents: Sequence[GraphDocument]) -> None:
        utils = lightrag_module("lightrag.utils")
        payload = heuristic_graph(documents, self._stopwords)
        chunk_ids = {
            d.id: utils.compute_mdhash_id(utils.sanitize_text_for_encoding(d.text), prefix="chunk-")
            for d in documents
        }
        previous = await self._previous_sources(payload["entities"])
        await self._rag.ainsert_custom_kg(payload)
        await self._merge_sources(payload["entities"], chunk_ids, previous)

    async def _previous_sources(self, entities: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
        """The source chunks each entity already has, before this insert replaces them."""
        normalize_entity_name = lightrag_module("lightrag.utils").normalize_entity_name
        names = list(dict.fromkeys(normalize_entity_name(e["entity_name"]) for e in entities))
        nodes = await self._rag.chunk_entity_relation_graph.get_nodes_batch(names)
        return {name: _sources(node) for name, node in nodes.items() if node}

    async def _merge_sources(
        self,
        entities: Sequence[dict[str, Any]],
        chunk_ids: dict[str, str],
        previous: dict[str, list[str]],
    ) -> None:
        """Give each entity every chunk it appeared in (the insert kept only the last)."""
        normalize_entity_name = lightrag_module("lightrag.utils").normalize_entity_name
        wanted: dict[str, list[str]] = {}
        for entity in entities:
            name = normalize_entity_name(entity["entity_name"])
            chunks = wanted.setdefault(name, list(previous.get(name, [])))
            chunk = chunk_ids[entity["source_id"]]
            if chunk not in chunks:
                chunks.append(chunk)
        graph = self._rag.chunk_entity_relation_graph
        nodes = await graph.get_nodes_batch(list(wanted))
        updates = [
            (name, {**node, "source_id": SOURCE_SEPARATOR.join(chunks)})
            for name, chunks in wanted.items()
            if (node := nodes.get(name)) and _sources(node) != chunks
        ]
        if updates:
            await graph.upsert_nodes_batch(updates)
            await graph.index_done_callback()


def _sources(node: dict[str, Any]) -> list[str]:
    return [s for s in str(node.get("source_id") or "").split(SOURCE_SEPARATOR) if s]


def _field(status: Any, name: str) -> Any:
    if isinstance(status, dict):
        return status.get(name)
    return getattr(status, name, None)
