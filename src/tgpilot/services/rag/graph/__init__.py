"""Graph-RAG over the archive through ``lightrag-hku`` (spec ai.md §4.9, §5).

LightRAG does the work — extraction, the graph, its vectors, retrieval; this package
hands it tgpilot's parts and the archive. Where things are:

- :mod:`.documents` — chunks rendered from ``rag_document.md``, the catalogue of
  documents already in the graph (id → chunk payload, for links and rebuilds);
- :mod:`.engine` — LightRAG assembled: storages (files, Qdrant, Neo4j), our gateway as
  its model and embedder, our packaged tokenizer (the only module importing LightRAG's
  constructor);
- :mod:`.session` — a graph opened with its catalogue, and its size for ``rag stats``;
- :mod:`.build` — ``rag graph build``: LightRAG's extraction with a model, the
  heuristic extractor through its custom-KG insert without one;
- :mod:`.query` — ``rag graph query`` and ``ask``'s graph modes.

Nothing here is imported unless a graph command runs, so ``lightrag-hku`` stays an
optional extra (``tgpilot[graph]``).
"""
