"""``ask``: a question answered from retrieved archive passages, with citations
(spec ai.md §4.9).

The top k passages become numbered sources in ``ask.md``'s ``{{context}}``. The answer
keeps only ``[n]`` citations of sources it was given: any other number is stripped and
reported, so ``ask`` never cites a source it was not given. Nothing retrieved → no
model call. In local mode the passages themselves are the answer.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from tgpilot.gateways.llm.client import LLMClient
from tgpilot.gateways.llm.types import ChatMessage, PromptRef, StreamEnd, TextDelta
from tgpilot.services.prompts import Prompt
from tgpilot.services.rag.passages import Passage

MODES = ("vector", "naive", "local", "global", "hybrid", "mix", "graph")
VECTOR_MODES = ("vector", "naive")
"""Modes answered from the semantic index (``rag index``); the others ask the knowledge
graph (``rag graph build``), ``graph`` standing for LightRAG's ``local``."""

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass(frozen=True)
class CheckedAnswer:
    """An answer with its citations checked against the sources given."""

    text: str
    cited: tuple[int, ...]
    """Source numbers the answer cites, in order of first citation."""
    invalid: tuple[int, ...]
    """Numbers it cited that were no source (stripped from ``text``)."""


def render_sources(passages: Sequence[Passage]) -> str:
    """The numbered sources of ``{{context}}``: ``[n] chat — date — senders`` and the text."""
    blocks = []
    for n, passage in enumerate(passages, 1):
        head = f"[{n}] {passage.chat_title} — {passage.date:%Y-%m-%d %H:%M} UTC — {passage.sender}"
        blocks.append(f"{head}\n{passage.text}")
    return "\n\n".join(blocks)


def check_citations(text: str, sources: int) -> CheckedAnswer:
    """Keep ``[n]`` (and ``[n, m]``) citations with 1 ≤ n ≤ ``sources``; strip the rest."""
    cited: list[int] = []
    invalid: list[int] = []

    def keep(found: re.Match[str]) -> str:
        numbers = [int(part) for part in found.group(1).split(",")]
        good = [n for n in numbers if 1 <= n <= sources]
        invalid.extend(n for n in numbers if not 1 <= n <= sources and n not in invalid)
        cited.extend(n for n in good if n not in cited)
        return "".join(f"[{n}]" for n in good)

    cleaned = _CITATION.sub(keep, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned).strip()
    return CheckedAnswer(cleaned, tuple(cited), tuple(invalid))


def ask_messages(prompt: Prompt, question: str, passages: Sequence[Passage]) -> list[ChatMessage]:
    """The request: ``ask.md`` with the sources and the question."""
    rendered = prompt.render(context=render_sources(passages), question=question)
    return [ChatMessage("system", rendered.system), ChatMessage("user", rendered.user)]


def ask_ref(prompt: Prompt) -> PromptRef:
    return PromptRef(
        prompt.name, prompt.hash, prompt.defaults.temperature, prompt.defaults.max_tokens
    )


async def answer_question(
    client: LLMClient, prompt: Prompt, question: str, passages: Sequence[Passage]
) -> CheckedAnswer:
    """The model's answer over ``passages``, citations checked. No passages: no call."""
    if not passages:
        return CheckedAnswer("", (), ())
    completion = await client.complete(
        ask_messages(prompt, question, passages), prompt=ask_ref(prompt)
    )
    return check_citations(completion.text, len(passages))


async def stream_answer(
    client: LLMClient, prompt: Prompt, question: str, passages: Sequence[Passage]
) -> AsyncIterator[str | CheckedAnswer]:
    """The answer's text deltas as they arrive, then the checked whole answer."""
    if not passages:
        yield CheckedAnswer("", (), ())
        return
    async for event in client.stream(
        ask_messages(prompt, question, passages), prompt=ask_ref(prompt)
    ):
        if isinstance(event, TextDelta):
            yield event.text
        elif isinstance(event, StreamEnd):
            yield check_citations(event.completion.text, len(passages))
