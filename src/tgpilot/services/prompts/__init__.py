"""Prompts as files (spec ai.md §2): the one place services get the text they send to models.

Code holds no prompt text. :class:`PromptLibrary` finds a prompt by name — the user's
override first, then the packaged default under ``tgpilot/prompts/`` — or by path, and
returns a checked :class:`Prompt`; :meth:`Prompt.render` fills its ``{{placeholders}}``
into a :class:`RenderedPrompt` (system and user message, plus the name and hash that
reports and the ``llm_usage`` table record)::

    library = PromptLibrary.from_config(config, clock=clock)
    prompt = library.load("digest")
    rendered = prompt.render(chat_name=title, period=period, messages=lines)
"""

from __future__ import annotations

from tgpilot.services.prompts.library import (
    LANGUAGE_TEXT,
    PromptInfo,
    PromptLibrary,
    PromptProblem,
    is_path_reference,
    packaged_names,
)
from tgpilot.services.prompts.template import (
    Prompt,
    PromptDefaults,
    PromptSource,
    RenderedPrompt,
    content_hash,
)

__all__ = [
    "LANGUAGE_TEXT",
    "Prompt",
    "PromptDefaults",
    "PromptInfo",
    "PromptLibrary",
    "PromptProblem",
    "PromptSource",
    "RenderedPrompt",
    "content_hash",
    "is_path_reference",
    "packaged_names",
]
