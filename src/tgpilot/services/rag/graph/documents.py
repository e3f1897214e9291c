"""Archive chunks as graph-RAG documents, and the catalogue of those already in the graph
(spec ai.md §4.9).

Each chunk of :func:`~tgpilot.services.rag.chunking.chunk_messages` becomes one document
rendered from ``rag_document.md``: chat, sender ("Anonymous" if none), date, "reply:
yes/no", an engagement line with only the positive reaction/view/forward counts, the text
and the raw reactions. The document id is the chunk id (UUIDv5 of chat, first and last
message id), so a rebuild recognises what the graph already holds.

The :class:`DocumentCatalogue` (``documents.json`` in LightRAG's working dir) maps each
document id in the graph to its chunk's payload, so graph answers cite messages with
the same links as ``rag search``, and a build skips documents it already inserted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import orjson

from tgpilot.core.errors import ConfigError
from tgpilot.core.output import atomic_write_bytes
from tgpilot.models import Chat, Message, Reaction
from tgpilot.services.export.text_forms import reactions_text
from tgpilot.services.prompts import Prompt
from tgpilot.services.rag.chunking import MessageChunk, person_name
from tgpilot.services.rag.passages import Passage, chunk_payload, passage_from_payload

DOCUMENT_PROMPT = "rag_document"
ANONYMOUS = "Anonymous"
CATALOGUE_FILE = "documents.json"
CATALOGUE_VERSION = 1


@dataclass(frozen=True)
class GraphDocument:
    """One chunk as LightRAG reads it: its id, its rendered text, and its payload."""

    id: str
    text: str
    payload: dict[str, Any]


def document_senders(messages: Iterable[Message]) -> str:
    """The chunk's distinct senders in order of appearance; "Anonymous" for none."""
    names = (person_name(m.sender) if m.sender is not None else ANONYMOUS for m in messages)
    return ", ".join(dict.fromkeys(names))


def engagement_line(messages: Iterable[Message]) -> str:
    """``N reactions, N views, N forwards`` with only the positive counts ("none")."""
    chosen = list(messages)
    counts = (
        (sum(m.reactions_total for m in chosen), "reactions"),
        (sum(m.views or 0 for m in chosen), "views"),
        (sum(m.forwards or 0 for m in chosen), "forwards"),
    )
    parts = [f"{count} {label}" for count, label in counts if count > 0]
    return ", ".join(parts) or "none"


def merged_reactions(messages: Iterable[Message]) -> list[Reaction]:
    """The chunk's reactions, counts added up per reaction, in order of first appearance."""
    totals: Counter[tuple[str, str | None, int | None]] = Counter()
    for message in messages:
        for reaction in message.reactions:
            totals[(reaction.type, reaction.emoji, reaction.document_id)] += reaction.count
    return [
        Reaction(kind, count, emoji, document) for (kind, emoji, document), count in totals.items()
    ]


def render_document(prompt: Prompt, chunk: MessageChunk, chat: Chat) -> GraphDocument:
    """``chunk`` of ``chat`` rendered from ``rag_document.md`` (see the module docstring)."""
    messages = chunk.messages
    text = prompt.render_system(
        chat=chat.title,
        sender=document_senders(messages),
        date=f"{messages[0].date.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        reply="yes" if any(m.reply_to_id is not None for m in messages) else "no",
        engagement=engagement_line(messages),
        text=chunk.text,
        reactions=reactions_text(merged_reactions(messages)) or "none",
    )
    payload = chunk_payload(chunk, chat, (), "")
    return GraphDocument(chunk.id, text, payload)


class DocumentCatalogue:
    """The documents already in the graph: id → chunk payload (see the module docstring),
    and the embedding model and vector size the graph was built with."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._documents: dict[str, dict[str, Any]] = {}
        self.model: str | None = None
        self.dimension: int | None = None
        if path.is_file():
            loaded = orjson.loads(path.read_bytes())
            if isinstance(loaded, dict) and loaded.get("version") == CATALOGUE_VERSION:
                self._documents = dict(loaded.get("documents") or {})
                self.model = loaded.get("model")
                self.dimension = loaded.get("dimension")

    def check_embeddings(self, model: str) -> None:
        """ConfigError (exit 2) when the graph holds vectors of another model."""
        if self._documents and self.model is not None and self.model != model:
            raise ConfigError(
                f"the knowledge graph was built with {self.model} embeddings, not {model}",
                hint="rebuild it (tgpilot rag graph build --rebuild) or choose --embeddings",
            )

    def __contains__(self, document_id: object) -> bool:
        return document_id in self._documents

    def __len__(self) -> int:
        return len(self._documents)

    def add(self, documents: Iterable[GraphDocument]) -> None:
        for document in documents:
            self._documents[document.id] = document.payload

    def passage(self, document_id: str, score: float) -> Passage | None:
        """The passage of a document in the graph, or None for an unknown id."""
        payload: Mapping[str, Any] | None = self._documents.get(document_id)
        return passage_from_payload(payload, score) if payload is not None else None

    def clear(self) -> None:
        self._documents.clear()
        self.model = self.dimension = None

    def save(self) -> None:
        """Write the catalogue atomically (a crash leaves the previous one)."""
        document = {
            "version": CATALOGUE_VERSION,
            "model": self.model,
            "dimension": self.dimension,
            "documents": self._documents,
        }
        atomic_write_bytes(self.path, orjson.dumps(document))
