"""Ideas, problems and tools in chats, ``ideas --chats …`` (spec ai.md §4.5, §5).

- :mod:`.local` — the heuristics: ideas, problems, tools and lexicon themes per chat
  (word lists of :mod:`tgpilot.services.ai.wordlists`);
- :mod:`.answer` — the ``ideas`` prompt's answer schema;
- :mod:`.llm` — the candidates through the model
  (:mod:`tgpilot.services.ai.review`), merged locally;
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
