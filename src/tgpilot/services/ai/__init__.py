"""AI capabilities over chats (spec ai.md §4): analysis, and the others as they come.

Each capability is a package here. Metrics and everything that can work without a
model are local (§5); an LLM, reached only through ``gateways/llm/``, adds to them.
What every model-backed capability shares:

- :mod:`.answers` — reading a JSON answer into a lenient pydantic schema (§1.4), with
  :func:`~.answers.ask_json` and its single ``json_retry``;
- :mod:`.budget` — token budgets, chunking, map-reduce and the cost plan (§1.3);
- :mod:`.anonymize` — ``--anonymize``: pseudonyms and masks in what a model reads (§3);
- :mod:`.review` — a model's review of what heuristics found, and the run info of
  the reports over several chats (``ideas``, ``tasks``, ``contacts analyze``);
- :mod:`.wordlists` — matchers built from the word lists (phrases, tools).
"""
