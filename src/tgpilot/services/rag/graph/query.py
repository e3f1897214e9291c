"""Questions to the knowledge graph: ``rag graph query`` and ``ask``'s graph modes
(spec ai.md §4.9).

LightRAG retrieves; the passages it returns are mapped back to archive chunks through
the :class:`~.documents.DocumentCatalogue` (a LightRAG source is the document id, which
is the chunk id), so graph answers carry the same chats, senders, dates and links as
``rag search``. Passages are scored by rank (1, 1/2, 1/3, …): LightRAG does not score
the chunks it assembles.

Without a model, the question's *local keywords* — its heuristic entities and its
query words — are passed to LightRAG as both low- and high-level keywords, so no model
is asked and only the context comes back. With a model, LightRAG extracts keywords
through our gateway and, for ``rag graph query``, writes the answer itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tgpilot.core.errors import UsageError
from tgpilot.services.rag.extract import StopWords, extract_graph
from tgpilot.services.rag.graph.documents import DocumentCatalogue
from tgpilot.services.rag.graph.engine import LightRAGInstance, lightrag_module
from tgpilot.services.rag.keywords import query_words
from tgpilot.services.rag.passages import Passage

LIGHTRAG_MODES = ("local", "global", "hybrid", "naive", "mix")
MODE_ALIASES = {"vector": "naive", "graph": "local"}
QUERY_MODES = (*LIGHTRAG_MODES, *MODE_ALIASES)
DEFAULT_TOP_K = 40
"""Entities (local) or relations (global) LightRAG looks at."""


def lightrag_mode(mode: str) -> str:
    """The LightRAG mode of ``mode`` (``vector`` → ``naive``, ``graph`` → ``local``);
    an unknown mode is a UsageError (exit 2)."""
    chosen = mode.strip().lower()
    chosen = MODE_ALIASES.get(chosen, chosen)
    if chosen not in LIGHTRAG_MODES:
        raise UsageError(f"unknown --mode {mode!r}: use {', '.join(QUERY_MODES)}")
    return chosen


def local_keywords(question: str, stopwords: StopWords) -> list[str]:
    """The question's heuristic entities, then its query words (distinct, in order)."""
    entities = extract_graph(question, stopwords).entities
    words = query_words(question, stopwords)
    folded = {entity.casefold() for entity in entities}
    return [*entities, *(w for w in words if w not in folded)]


@dataclass(frozen=True)
class GraphContext:
    """What a graph query found: entities, relations, passages and, with a model and
    ``answer=True``, LightRAG's answer."""

    mode: str
    keywords: tuple[str, ...]
    entities: tuple[dict[str, Any], ...]
    relations: tuple[dict[str, Any], ...]
    passages: tuple[Passage, ...]
    answer: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "keywords": list(self.keywords),
            "answer": self.answer,
            "entities": list(self.entities),
            "relations": list(self.relations),
            "passages": [p.to_json() for p in self.passages],
        }


def _entity(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": str(item.get("entity_name", "")),
        "type": str(item.get("entity_type", "")),
        "description": str(item.get("description", "")),
    }


def _relation(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "source": str(item.get("src_id", "")),
        "target": str(item.get("tgt_id", "")),
        "keywords": str(item.get("keywords", "")),
        "weight": float(item.get("weight") or 0.0),
        "description": str(item.get("description", "")),
    }


def passages_of(chunks: Sequence[Mapping[str, Any]], catalogue: DocumentCatalogue) -> list[Passage]:
    """The archive passages of LightRAG's chunks, by rank, each document once."""
    passages: list[Passage] = []
    seen: set[str] = set()
    for chunk in chunks:
        document_id = str(chunk.get("file_path", ""))
        if document_id in seen:
            continue
        seen.add(document_id)
        passage = catalogue.passage(document_id, 1.0 / (len(passages) + 1))
        if passage is not None:
            passages.append(passage)
    return passages


async def query_graph(
    rag: LightRAGInstance,
    catalogue: DocumentCatalogue,
    question: str,
    *,
    mode: str,
    k: int,
    use_model: bool,
    answer: bool,
    stopwords: StopWords,
) -> GraphContext:
    """Ask the graph ``question`` in ``mode``; at most ``k`` passages come back. With
    ``use_model`` and ``answer`` LightRAG also answers (one model call, or two with its
    keyword extraction); without ``use_model`` nothing is sent to a model."""
    query_param = lightrag_module().QueryParam
    rejection = lightrag_module("lightrag.query_validation").QueryValidationError
    chosen = lightrag_mode(mode)
    keywords = [] if use_model else local_keywords(question, stopwords)
    param = query_param(
        mode=chosen,
        top_k=DEFAULT_TOP_K,
        chunk_top_k=k,
        enable_rerank=False,
        hl_keywords=list(keywords),
        ll_keywords=list(keywords),
    )
    if not use_model and not keywords:
        return GraphContext(chosen, (), (), (), ())
    try:
        if use_model and answer:
            result = await rag.aquery_llm(question, param)
        else:
            result = await rag.aquery_data(question, param)
    except rejection as exc:
        raise UsageError(f"the question cannot be asked: {exc}") from exc
    data = result.get("data") or {}
    text = (result.get("llm_response") or {}).get("content") if use_model and answer else None
    return GraphContext(
        mode=chosen,
        keywords=tuple(keywords),
        entities=tuple(_entity(e) for e in data.get("entities") or ()),
        relations=tuple(_relation(r) for r in data.get("relationships") or ()),
        passages=tuple(passages_of(data.get("chunks") or (), catalogue)[:k]),
        answer=str(text) if text else None,
    )
