"""AI capabilities over chats (spec ai.md §4): analysis, and the others as they come.

Each capability is a package here. Metrics and everything that can work without a
model are local (§5); an LLM, reached only through ``gateways/llm/``, adds to them.
"""
