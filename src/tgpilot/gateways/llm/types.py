"""The values the LLM layer speaks in: messages, answers, stream events, usage records.

Plain frozen dataclasses, free of any SDK, so services, the store and tests can use
them without importing a provider library (DESIGN rule 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Role = Literal["system", "user", "assistant"]
Operation = Literal["complete", "stream", "embed", "image"]


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a conversation sent to a model."""

    role: Role
    content: str


@dataclass(frozen=True)
class PromptRef:
    """Which prompt a call comes from, and the defaults its front matter gives.

    ``name`` and ``hash`` go to the usage row; ``temperature`` and ``max_tokens`` are
    used only when neither a flag, the environment nor the config set one (ai.md §1.1).
    """

    name: str
    hash: str
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class Usage:
    """Tokens a call consumed; ``cached_tokens`` is the part of the input served cached."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
        }


@dataclass(frozen=True)
class GeneratedImage:
    """One generated image: its bytes (PNG, JPEG or WebP as the server chose), the
    prompt the model actually used when it rewrote it, and the call's usage."""

    data: bytes
    model: str
    revised_prompt: str | None = None
    usage: Usage | None = None
    cost_usd: float | None = None


@dataclass(frozen=True)
class Completion:
    """A finished answer: never empty (an empty one raises ``EmptyResponse``)."""

    text: str
    provider: str
    model: str
    usage: Usage
    finish_reason: str | None
    cost_usd: float | None
    latency_s: float
    retries: int = 0
    cache_hit: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "provider": self.provider,
            "model": self.model,
            "finish_reason": self.finish_reason,
            "usage": {**self.usage.to_json(), "cost_usd": self.cost_usd},
            "latency_s": round(self.latency_s, 3),
            "retries": self.retries,
            "cache_hit": self.cache_hit,
        }


@dataclass(frozen=True)
class TextDelta:
    """A piece of a streamed answer, in arrival order."""

    text: str


@dataclass(frozen=True)
class StreamEnd:
    """The last event of a stream: the whole text, usage and why the model stopped."""

    completion: Completion


StreamEvent = TextDelta | StreamEnd


@dataclass(frozen=True)
class Embeddings:
    """One vector per input text, in input order."""

    vectors: tuple[tuple[float, ...], ...]
    model: str
    usage: Usage
    cost_usd: float | None


@dataclass(frozen=True)
class ServerModel:
    """A model a server lists at ``/models``."""

    id: str
    owned_by: str | None = None


@dataclass(frozen=True)
class UsageRecord:
    """One ``llm_usage`` row: every call adds one, failures and cache hits included."""

    time: datetime
    command: str
    provider: str
    model: str
    operation: Operation
    status: str
    """``ok``, or the failure: ``auth``, ``rate_limited``, ``unavailable``, ``bad_request``,
    ``empty``, ``parse`` or ``error``; ``abandoned`` for a stream its reader left."""
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = None
    latency_ms: int = 0
    retries: int = 0
    cache_hit: bool = False
    prompt_name: str | None = None
    prompt_hash: str | None = None


@dataclass(frozen=True)
class CachedAnswer:
    """An ``llm_cache`` entry: the answer to one exact non-streaming request."""

    key: str
    provider: str
    model: str
    text: str
    usage: Usage
    finish_reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class UsageTotals:
    """Summed usage of a group of calls (``llm usage``, command summaries)."""

    group: str
    calls: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: float | None
    failures: int = 0
    cache_hits: int = 0
