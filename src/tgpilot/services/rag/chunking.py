"""Cutting text into the pieces that get embedded (spec ai.md §4.9, §4.10).

- :func:`chunk_words`: fixed-size word windows with overlap (the knowledge base's long
  sections); size 0 acts as 1 and the overlap is clamped to size − 1.
- :func:`chunk_messages`: runs of consecutive chat messages of at most ``max_tokens``,
  broken at silences longer than ``gap``; a chunk closed for size hands its last
  message to the next one (one message of overlap). The cut is greedy from the first
  message, so re-chunking from the first message of any chunk gives the same chunks
  again — which is what makes incremental indexing exact. :func:`with_transcript`
  lets a voice message take part by its stored transcript.
- :func:`markdown_sections`: a Markdown file split on its headings (outside fenced
  code), each section knowing its heading path.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta

from tgpilot.models import Message, Sender
from tgpilot.store.transcripts import as_spoken

POINT_NAMESPACE = uuid.UUID("6f1c9f2e-5c1a-4b7e-9d0e-7a8b1c2d3e4f")
"""The UUIDv5 namespace of every point id tgpilot writes."""

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def chunk_words(text: str, size: int, overlap: int) -> list[str]:
    """``text`` as windows of ``size`` words, each sharing ``overlap`` words with the
    previous one; the last window ends at the last word."""
    words = text.split()
    size = max(size, 1)
    overlap = min(max(overlap, 0), size - 1)
    step = size - overlap
    chunks: list[str] = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return chunks


def point_id(*parts: object) -> str:
    """The UUIDv5 point id of ``parts`` (re-indexing the same thing gives the same id)."""
    return str(uuid.uuid5(POINT_NAMESPACE, ":".join(str(p) for p in parts)))


def content_hash(text: str) -> str:
    """The SHA-256 of what gets embedded (unchanged hash: nothing to re-embed)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sender_name(message: Message) -> str:
    """Who wrote ``message``, as chunks and answers show it."""
    return person_name(message.sender)


def person_name(sender: Sender | None) -> str:
    """A sender's display name: full name, else ``@username``, else ``User <id>``."""
    if sender is None:
        return "Unknown sender"
    if sender.name.strip():
        return sender.name.strip()
    if sender.username:
        return f"@{sender.username}"
    return f"User {sender.id}"


def message_line(message: Message) -> str:
    """One message as a chunk holds it: ``Sender: text``."""
    return f"{sender_name(message)}: {' '.join(message.text.split())}"


def with_transcript(message: Message, transcripts: Mapping[int, str]) -> Message:
    """``message`` reading as its stored transcript (``[voice message] …``, after its
    caption) when it is a voice, audio or round-video message that has one."""
    return as_spoken(message, transcripts.get(message.id))


def indexable(message: Message) -> bool:
    """Whether a message belongs in the semantic index: not a service message, and
    with text (a media caption counts)."""
    return not message.is_service and bool(message.text.strip())


@dataclass(frozen=True)
class MessageChunk:
    """A run of consecutive messages of one chat, and the text that is embedded."""

    chat_id: int
    messages: tuple[Message, ...]
    lines: tuple[str, ...]

    @property
    def first_id(self) -> int:
        return self.messages[0].id

    @property
    def last_id(self) -> int:
        return self.messages[-1].id

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def id(self) -> str:
        """UUIDv5 of (chat, first id, last id)."""
        return point_id(self.chat_id, self.first_id, self.last_id)


def chunk_messages(
    messages: Iterable[Message],
    *,
    max_tokens: int,
    gap: timedelta,
    count_tokens: Callable[[str], int],
) -> Iterator[MessageChunk]:
    """Chunks of ``messages`` (one chat, in chronological order); see the module
    docstring. A single message over ``max_tokens`` is a chunk of its own."""
    current: list[tuple[Message, str, int]] = []
    tokens = 0

    def close() -> MessageChunk:
        first = current[0][0]
        return MessageChunk(
            first.chat_id, tuple(m for m, _, _ in current), tuple(line for _, line, _ in current)
        )

    for message in messages:
        line = message_line(message)
        size = count_tokens(line)
        if current:
            if message.date - current[-1][0].date > gap:
                yield close()
                current, tokens = [], 0
            elif tokens + size > max_tokens:
                yield close()
                last = current[-1]
                current, tokens = ([last], last[2]) if last[2] + size <= max_tokens else ([], 0)
        current.append((message, line, size))
        tokens += size
    if current:
        yield close()


@dataclass(frozen=True)
class MarkdownSection:
    """One heading's section of a Markdown file (its heading line included)."""

    heading: str
    """The section's own heading ("" before the first heading)."""
    path: tuple[str, ...]
    """The headings above it and its own, outermost first."""
    text: str


def markdown_sections(text: str) -> list[MarkdownSection]:
    """``text`` split before each heading (``#`` to ``######``) outside fenced code;
    sections with no text besides a heading are kept (a heading says something)."""
    sections: list[MarkdownSection] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    heading = ""
    fenced = False

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(MarkdownSection(heading, tuple(h for _, h in stack), body))

    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        found = None if fenced else _HEADING.match(line)
        if found is None:
            lines.append(line)
            continue
        flush()
        level, heading = len(found.group(1)), found.group(2).strip()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
        lines = [line]
    flush()
    return sections
