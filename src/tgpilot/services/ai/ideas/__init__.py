"""Ideas, problems and tools in chats, ``ideas --chats …`` (spec ai.md §4.5, §5).

- :mod:`.lexicon` — the word lists (ideas, problems, tools, imperatives, question
  words), shared with ``tasks``;
- :mod:`.local` — the heuristics: ideas, problems, tools and lexicon themes per chat;
- :mod:`.answer` — the ``ideas`` prompt's answer schema;
- :mod:`.review` — a model's look at what heuristics found, with its statuses and
  the report's run info (shared with ``tasks`` and ``contacts analyze``);
- :mod:`.llm` — the candidates through the model, merged locally;
- :mod:`.report` — the Markdown and JSON report.
"""

from tgpilot.services.ai.ideas.local import (
    ChatIdeas,
    IdeaLexicon,
    IdeasResult,
    find_ideas,
    ideas_locally,
    is_chat_text,
)
from tgpilot.services.ai.ideas.report import IdeasReport, render_markdown

__all__ = [
    "ChatIdeas",
    "IdeaLexicon",
    "IdeasReport",
    "IdeasResult",
    "find_ideas",
    "ideas_locally",
    "is_chat_text",
    "render_markdown",
]
