"""The ``anthropic`` provider: the official SDK, Messages API.

System messages go in ``system``; ``max_tokens`` is always sent (the API requires it).
Anthropic counts cached input apart from ``input_tokens``; here input tokens include
the cached ones, as for the other providers. Anthropic has no embeddings API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anthropic
import httpx2

from tgpilot.core.errors import ProviderBadRequest, ProviderError
from tgpilot.gateways.llm.failures import Endpoint, connection_error, status_error
from tgpilot.gateways.llm.provider import (
    CallSpec,
    RawAnswer,
    RawImage,
    StreamItem,
    StreamSummary,
    no_image_support,
)
from tgpilot.gateways.llm.types import ServerModel, Usage

if TYPE_CHECKING:
    from anthropic.types import MessageDeltaUsage
    from anthropic.types import Usage as AnthropicUsage

OFFICIAL_BASE_URL = "https://api.anthropic.com"
CONNECT_TIMEOUT_S = 10.0
DEFAULT_MAX_TOKENS = 4096
NO_KEY = "no-key"


def _usage(usage: AnthropicUsage | MessageDeltaUsage) -> Usage:
    cached = usage.cache_read_input_tokens or 0
    created = usage.cache_creation_input_tokens or 0
    return Usage((usage.input_tokens or 0) + cached + created, usage.output_tokens, cached)


class AnthropicAdapter:
    """Messages, streaming and ``/v1/models`` through ``AsyncAnthropic``."""

    name = "anthropic"

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeout_s: float,
        now: Callable[[], datetime],
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = endpoint.base_url
        self._endpoint = endpoint
        self._now = now
        http_client = (
            anthropic.DefaultAsyncHttpxClient(transport=transport)
            if transport is not None
            else None
        )
        self._client = anthropic.AsyncAnthropic(
            api_key=endpoint.secret or NO_KEY,
            base_url=endpoint.base_url,
            timeout=anthropic.Timeout(timeout_s, connect=CONNECT_TIMEOUT_S),
            max_retries=0,
            http_client=http_client,
        )

    def _translate(self, exc: anthropic.AnthropicError | httpx2.HTTPError) -> ProviderError:
        if isinstance(exc, anthropic.APIStatusError):
            response = exc.response
            try:
                body = response.text
            except httpx2.ResponseNotRead:
                body = exc.message
            return status_error(
                self._endpoint, exc.status_code, body, dict(response.headers), self._now()
            )
        if isinstance(exc, anthropic.APITimeoutError):
            return connection_error(self._endpoint, str(exc), timed_out=True)
        if isinstance(exc, httpx2.TimeoutException):
            return connection_error(self._endpoint, str(exc) or "timeout", timed_out=True)
        if isinstance(exc, anthropic.APIConnectionError):
            reason = str(exc.__cause__ or exc)
            return connection_error(self._endpoint, reason, timed_out=False)
        return connection_error(self._endpoint, f"{type(exc).__name__}: {exc}", timed_out=False)

    def _params(self, spec: CallSpec) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": spec.model,
            "messages": [{"role": m.role, "content": m.content} for m in spec.turns()],
            "max_tokens": spec.max_tokens or DEFAULT_MAX_TOKENS,
        }
        system = spec.system_text()
        if system is not None:
            params["system"] = system
        if spec.temperature is not None:
            params["temperature"] = spec.temperature
        return params

    async def complete(self, spec: CallSpec) -> RawAnswer:
        try:
            message = await self._client.messages.create(**self._params(spec))
        except (anthropic.AnthropicError, httpx2.HTTPError) as exc:
            raise self._translate(exc) from exc
        usage = _usage(message.usage)
        texts = [block.text for block in message.content if block.type == "text"]
        if not texts:
            return RawAnswer(None, usage, message.stop_reason, "no text content")
        return RawAnswer("".join(texts), usage, message.stop_reason)

    async def stream(self, spec: CallSpec) -> AsyncIterator[StreamItem]:
        input_usage: Usage | None = None
        output_tokens = 0
        finish: str | None = None
        try:
            events = await self._client.messages.create(**self._params(spec), stream=True)
            async with events:
                async for event in events:
                    if event.type == "message_start":
                        input_usage = _usage(event.message.usage)
                    elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                        if event.delta.text:
                            yield event.delta.text
                    elif event.type == "message_delta":
                        output_tokens = event.usage.output_tokens
                        finish = event.delta.stop_reason or finish
        except (anthropic.AnthropicError, httpx2.HTTPError) as exc:
            raise self._translate(exc) from exc
        usage = None
        if input_usage is not None:
            usage = Usage(input_usage.input_tokens, output_tokens, input_usage.cached_tokens)
        yield StreamSummary(usage, finish)

    async def embed(self, texts: Sequence[str], model: str) -> tuple[list[list[float]], Usage]:
        raise ProviderBadRequest(
            self.name,
            "Anthropic has no embeddings API",
            hint="set embeddings.provider to openai, gemini, local or hash",
        )

    async def list_models(self) -> list[ServerModel]:
        try:
            return [ServerModel(model.id, None) async for model in self._client.models.list()]
        except (anthropic.AnthropicError, httpx2.HTTPError) as exc:
            raise self._translate(exc) from exc

    async def generate_image(self, prompt: str, model: str, size: str | None) -> RawImage:
        raise no_image_support(self.name)

    async def close(self) -> None:
        await self._client.close()
