"""Scripted answers of the fake LLM server: what the next request gets.

A :class:`Reply` is provider-neutral: the server renders it in the shape of the API
that was called (OpenAI chat completions, Anthropic messages, Gemini generateContent),
as JSON or as server-sent events when the request asked for a stream. A streamed
reply sent to a non-streaming request answers with the joined text, and a text reply
to a streaming request streams as one delta.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ReplyKind = Literal["text", "error", "raw", "empty", "null", "stream"]

DEFAULT_USAGE = (10, 5, 0)


@dataclass(frozen=True)
class Reply:
    """One scripted answer (build it with the class methods)."""

    kind: ReplyKind
    text: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    content_type: str = "application/json"
    deltas: tuple[str, ...] = ()
    delay: float = 0.0
    """Real seconds between streamed deltas (the first is sent at once)."""
    latency: float = 0.0
    """Real seconds before the answer starts."""
    usage: tuple[int, int, int] | None = DEFAULT_USAGE
    """Input, output and cached tokens reported (None: no usage at all)."""
    finish_reason: str = "stop"
    cut_after: int | None = None
    """Streams only: drop the connection after this many deltas."""

    @classmethod
    def of_text(
        cls,
        text: str,
        *,
        usage: tuple[int, int, int] | None = DEFAULT_USAGE,
        finish_reason: str = "stop",
        latency: float = 0.0,
    ) -> Reply:
        """A normal answer."""
        return cls("text", text=text, usage=usage, finish_reason=finish_reason, latency=latency)

    @classmethod
    def error(
        cls,
        status: int,
        message: str = "",
        *,
        retry_after: float | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """An HTTP error in the provider's error shape; ``Retry-After`` if given."""
        all_headers = dict(headers or {})
        if retry_after is not None:
            all_headers["Retry-After"] = str(retry_after)
        return cls(
            "error", text=message or f"fake error {status}", status=status, headers=all_headers
        )

    @classmethod
    def raw(
        cls,
        body: str,
        *,
        status: int = 200,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Exactly this body and status."""
        return cls(
            "raw", body=body, status=status, content_type=content_type, headers=dict(headers or {})
        )

    @classmethod
    def empty(cls) -> Reply:
        """No choices (OpenAI), no content blocks (Anthropic), no candidates (Gemini)."""
        return cls("empty")

    @classmethod
    def null_content(cls) -> Reply:
        """A choice whose ``content`` is null (no text parts on the other APIs)."""
        return cls("null")

    @classmethod
    def stream(
        cls,
        deltas: list[str] | tuple[str, ...],
        *,
        delay: float = 0.0,
        usage: tuple[int, int, int] | None = DEFAULT_USAGE,
        finish_reason: str = "stop",
        latency: float = 0.0,
        cut_after: int | None = None,
    ) -> Reply:
        """Deltas sent one by one, ``delay`` seconds apart, then usage; with
        ``cut_after`` the connection drops after that many deltas instead."""
        return cls(
            "stream",
            deltas=tuple(deltas),
            delay=delay,
            usage=usage,
            finish_reason=finish_reason,
            latency=latency,
            cut_after=cut_after,
        )

    @property
    def full_text(self) -> str:
        return "".join(self.deltas) if self.kind == "stream" else self.text

    @property
    def pieces(self) -> tuple[str, ...]:
        return self.deltas if self.kind == "stream" else (self.text,)
