"""One command's knowledge graph: LightRAG opened with the catalogue of its documents
(spec ai.md §4.9).

:func:`open_graph` checks that the graph's vectors come from the embedder given (a graph
holds one model's vectors), opens LightRAG (:mod:`.engine`) and, with ``rebuild``,
empties it first. :func:`graph_counts` reads the graph's size for ``rag stats`` without
embedding anything: 0 and 0 when no graph was built.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tgpilot.core.config import Config
from tgpilot.services.rag.graph.build import clear_graph, graph_size
from tgpilot.services.rag.graph.documents import CATALOGUE_FILE, DocumentCatalogue
from tgpilot.services.rag.graph.engine import LightRAGInstance, open_lightrag, working_dir

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient
    from tgpilot.gateways.llm.embeddings import TextEmbedder


@dataclass(frozen=True)
class GraphSession:
    """An open graph and the catalogue of the documents it holds."""

    rag: LightRAGInstance
    catalogue: DocumentCatalogue


def catalogue_of(config: Config) -> DocumentCatalogue:
    """The document catalogue of the graph under ``<data dir>/lightrag``."""
    return DocumentCatalogue(working_dir(config) / CATALOGUE_FILE)


@asynccontextmanager
async def open_graph(
    config: Config,
    embedder: TextEmbedder,
    client: LLMClient | None = None,
    *,
    rebuild: bool = False,
) -> AsyncIterator[GraphSession]:
    """The graph of ``config``, embedding with ``embedder`` and, when given, extracting
    and answering with ``client``; emptied first with ``rebuild``."""
    catalogue = catalogue_of(config)
    if rebuild:
        catalogue.clear()
    catalogue.check_embeddings(embedder.model)
    dimension = catalogue.dimension or await embedder.probe_dimension()
    catalogue.model, catalogue.dimension = embedder.model, dimension
    async with open_lightrag(
        config, embedder=embedder, model=embedder.model, dimension=dimension, client=client
    ) as rag:
        if rebuild:
            await clear_graph(rag, catalogue)
            catalogue.model, catalogue.dimension = embedder.model, dimension
        yield GraphSession(rag, catalogue)


async def graph_counts(config: Config) -> tuple[int, int]:
    """Nodes and edges of the graph (0, 0 when none was built)."""
    catalogue = catalogue_of(config)
    if catalogue.model is None or catalogue.dimension is None:
        return 0, 0
    async with open_lightrag(
        config, embedder=None, model=catalogue.model, dimension=catalogue.dimension
    ) as rag:
        return await graph_size(rag)
