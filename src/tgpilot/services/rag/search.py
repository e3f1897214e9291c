"""``rag search``: the archive chunks nearest a question (spec ai.md §4.9).

The query is embedded by the same embedder as the index; its vector's size names the
collection (``messages__<model>__<dim>``). Filters by chat, outgoing and date run in
Qdrant; a sender given as an id too, a sender given as a name is matched on the
chunks' sender names (case-folded substring) over a wider candidate set.

Ranking fuses the vector with keywords: Qdrant returns the ``limit × 20`` nearest
chunks (at most 200, but at least ``limit × 10`` for a sender name); each gets a
keyword score from the text stored in its payload — the share of the query's distinct
words (stop-words left out, words over five letters prefix-stemmed) found at a word
start, see :mod:`~tgpilot.services.rag.keywords` — and they are ranked by the fused
score ``0.5 × max(cosine, 0) + 0.5 × keywords`` (``VECTOR_WEIGHT``, ``KEYWORD_WEIGHT``),
the ``score`` a passage reports; ties go to the nearer vector. Keywords matter most
under ``hash`` embeddings, whose vectors only see exact tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tgpilot.core.errors import UsageError
from tgpilot.gateways.llm.embeddings import TextEmbedder
from tgpilot.gateways.vectors.qdrant import PointFilter, VectorStore
from tgpilot.services.rag.extract import StopWords, load_stopwords
from tgpilot.services.rag.keywords import keyword_score, query_words
from tgpilot.services.rag.passages import Passage, collection_name, passage_from_payload

CANDIDATES_PER_RESULT = 20
MAX_CANDIDATES = 200
NAME_FILTER_WIDENING = 10
VECTOR_WEIGHT = 0.5
KEYWORD_WEIGHT = 0.5


@dataclass(frozen=True)
class SearchFilters:
    """Which chunks a search may return (None: any)."""

    chat_ids: tuple[int, ...] = ()
    sender: str | None = None
    outgoing: bool | None = None
    since: datetime | None = None
    until: datetime | None = None

    def point_filter(self) -> PointFilter:
        equal: dict[str, Sequence[int | str | bool]] = {}
        if self.chat_ids:
            equal["chat_id"] = self.chat_ids
        if self.outgoing is not None:
            equal["is_outgoing"] = (self.outgoing,)
        sender_id = self.sender_id
        if sender_id is not None:
            equal["sender_ids"] = (sender_id,)
        ranges: dict[str, tuple[float | None, float | None]] = {}
        if self.since is not None or self.until is not None:
            ranges["ts"] = (
                self.since.timestamp() if self.since is not None else None,
                self.until.timestamp() if self.until is not None else None,
            )
        return PointFilter(equal, ranges)

    @property
    def sender_id(self) -> int | None:
        text = (self.sender or "").strip()
        return int(text) if text.lstrip("-").isdigit() else None

    def sender_matches(self, names: Sequence[str]) -> bool:
        if self.sender is None or self.sender_id is not None:
            return True
        wanted = self.sender.strip().lstrip("@").casefold()
        return any(wanted in name.casefold() for name in names)


def fused_score(vector_score: float, keywords: float) -> float:
    """The ranking score of a chunk (see the module docstring)."""
    return VECTOR_WEIGHT * max(vector_score, 0.0) + KEYWORD_WEIGHT * keywords


def candidate_count(limit: int, *, by_name: bool) -> int:
    """How many nearest chunks to ask Qdrant for before the keyword re-ranking."""
    wanted = min(limit * CANDIDATES_PER_RESULT, MAX_CANDIDATES)
    if by_name:
        wanted = max(wanted, limit * NAME_FILTER_WIDENING)
    return max(wanted, limit)


async def search_archive(
    vectors: VectorStore,
    embedder: TextEmbedder,
    query: str,
    *,
    limit: int = 10,
    filters: SearchFilters | None = None,
    stopwords: StopWords | None = None,
) -> list[Passage]:
    """The ``limit`` best passages for ``query``, best first by the fused score; [] when
    nothing is indexed for this embedder. A blank query is a UsageError (nothing is
    sent)."""
    if not query.strip():
        raise UsageError("the query is empty")
    if limit < 1:
        raise UsageError("--limit must be at least 1")
    filters = filters or SearchFilters()
    vector = await embedder.embed_one(query)
    name = collection_name(embedder.model, len(vector))
    info = await vectors.collection(name)
    if info is None or info.points == 0:
        return []
    by_name = filters.sender is not None and filters.sender_id is None
    wanted = candidate_count(limit, by_name=by_name)
    found = await vectors.search(name, vector, limit=wanted, where=filters.point_filter())
    words = query_words(query, stopwords or load_stopwords(), stem_words=True)
    scored: list[tuple[float, float, int]] = []
    for order, point in enumerate(found):
        if not filters.sender_matches([str(n) for n in point.payload.get("sender_names") or ()]):
            continue
        keywords = keyword_score(words, str(point.payload.get("text", "")))
        scored.append((fused_score(point.score, keywords), point.score, order))
    scored.sort(key=lambda item: (-item[0], -item[1], item[2]))
    return [passage_from_payload(found[order].payload, score) for score, _, order in scored[:limit]]
