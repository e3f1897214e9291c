"""Semantic search and answers over the archive, and knowledge-base retrieval
(spec ai.md §4.9, §4.10).

Where things are:

- :mod:`.chunking` — word windows, message chunks, Markdown sections, point ids;
- :mod:`.extract` — the heuristic entity extractor (graph without a model);
- :mod:`.archive` — the read-only view of the store these services use;
- :mod:`.index` — ``rag index``: incremental, idempotent indexing into Qdrant;
- :mod:`.search` — ``rag search``; :mod:`.passages` — payloads, snippets, links;
- :mod:`.ask` — ``ask``: numbered sources, citation checking;
- :mod:`.related` — ``rag related`` and ``rag thread`` (store queries);
- :mod:`.kb` — the knowledge-base retrieval service the consultant bot calls;
- :mod:`.annotate` — topics and sentiment of a chunk (``rag index`` payloads);
- :mod:`.graph` — graph-RAG through lightrag-hku (``rag graph build|query``, ``ask``'s
  graph modes).

Embeddings come from :mod:`tgpilot.gateways.llm.embeddings`; vectors live behind
:mod:`tgpilot.gateways.vectors`.
"""
