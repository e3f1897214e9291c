"""What each provider module implements: one call shape in, one answer shape out.

A provider adapter wraps one official SDK (openai, anthropic, google-genai). It sends
exactly what it is given (the client has already decided temperature, output limit
and JSON mode), reports an empty answer as ``text=None`` with the reason, and raises
only :class:`~tgpilot.core.errors.ProviderError` subclasses (see :mod:`.failures`).
Retries, pacing, caching and usage rows are the client's job, not the adapter's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from tgpilot.core.errors import UsageError
from tgpilot.gateways.llm.types import ChatMessage, ServerModel, Usage

IMAGE_PROVIDERS = ("openai",)
"""Providers whose adapter generates images (OpenAI's images API, or a compatible server)."""


def no_image_support(provider: str) -> UsageError:
    """The usage error (exit 2, nothing sent) of a provider that makes no images."""
    return UsageError(
        f"provider {provider} cannot generate images",
        hint="use --provider openai (OpenAI, or a compatible server with /images/generations)",
    )


@dataclass(frozen=True)
class CallSpec:
    """One request: ``temperature``/``max_tokens`` None means "do not send"."""

    model: str
    messages: tuple[ChatMessage, ...]
    temperature: float | None = None
    max_tokens: int | None = None
    json_mode: bool = False

    def system_text(self) -> str | None:
        """The system messages joined, or None (for APIs that take it apart)."""
        parts = [m.content for m in self.messages if m.role == "system"]
        return "\n\n".join(parts) if parts else None

    def turns(self) -> list[ChatMessage]:
        """The user and assistant turns, in order."""
        return [m for m in self.messages if m.role != "system"]


@dataclass(frozen=True)
class RawAnswer:
    """An answer as the server gave it; ``text`` None means empty (``empty_reason``)."""

    text: str | None
    usage: Usage | None
    finish_reason: str | None
    empty_reason: str = ""


@dataclass(frozen=True)
class RawImage:
    """An image as the server gave it; ``data`` None means none came back."""

    data: bytes | None
    revised_prompt: str | None
    usage: Usage | None


@dataclass(frozen=True)
class StreamSummary:
    """What a stream ends with: usage (None if the server sent none) and finish reason."""

    usage: Usage | None
    finish_reason: str | None


StreamItem = str | StreamSummary


class ProviderAdapter(Protocol):
    """One provider behind its official SDK."""

    name: str
    base_url: str

    async def complete(self, spec: CallSpec) -> RawAnswer:
        """One non-streaming answer."""
        ...

    def stream(self, spec: CallSpec) -> AsyncIterator[StreamItem]:
        """Text deltas in order, then one :class:`StreamSummary`."""
        ...

    async def embed(self, texts: Sequence[str], model: str) -> tuple[list[list[float]], Usage]:
        """One vector per text, in order, and the usage."""
        ...

    async def list_models(self) -> list[ServerModel]:
        """The models the server lists."""
        ...

    async def generate_image(self, prompt: str, model: str, size: str | None) -> RawImage:
        """One image for ``prompt``; a provider without an images API raises UsageError."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
