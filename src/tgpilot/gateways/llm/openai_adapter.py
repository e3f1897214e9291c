"""The ``openai`` provider: the official SDK against OpenAI or any compatible server.

Through ``base_url`` it reaches OpenRouter, Ollama, vLLM and the like. The official
endpoint gets ``max_completion_tokens``, other servers ``max_tokens``; streams ask for
usage with ``stream_options.include_usage``; images come from ``/images/generations`` as
``b64_json``. SDK retries are off (the client retries);
connect timeout 10 s, read timeout ``llm.timeout_s``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx2
import openai

from tgpilot.core.errors import ProviderError
from tgpilot.gateways.llm.failures import Endpoint, connection_error, status_error
from tgpilot.gateways.llm.provider import (
    CallSpec,
    RawAnswer,
    RawImage,
    StreamItem,
    StreamSummary,
)
from tgpilot.gateways.llm.types import ServerModel, Usage

if TYPE_CHECKING:
    from openai.types import CompletionUsage

OFFICIAL_BASE_URL = "https://api.openai.com/v1"
OFFICIAL_HOST = "api.openai.com"
CONNECT_TIMEOUT_S = 10.0
B64_ONLY_PREFIX = "gpt-image"
"""Image models that always answer with ``b64_json`` and refuse ``response_format``."""
NO_KEY = "no-key"
"""Sent to servers that need no key (a loopback Ollama): the SDK insists on one."""


def is_official(base_url: str) -> bool:
    """True for OpenAI's own endpoint (which takes ``max_completion_tokens``)."""
    return (urlsplit(base_url).hostname or "").lower() == OFFICIAL_HOST


def _usage(usage: CompletionUsage | None) -> Usage | None:
    if usage is None:
        return None
    details = usage.prompt_tokens_details
    cached = (details.cached_tokens or 0) if details is not None else 0
    return Usage(usage.prompt_tokens, usage.completion_tokens, cached)


class OpenAIAdapter:
    """Chat completions, streaming, embeddings and ``/models`` through ``AsyncOpenAI``."""

    name = "openai"

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
            openai.DefaultAsyncHttpxClient(transport=transport) if transport is not None else None
        )
        self._client = openai.AsyncOpenAI(
            api_key=endpoint.secret or NO_KEY,
            base_url=endpoint.base_url,
            timeout=openai.Timeout(timeout_s, connect=CONNECT_TIMEOUT_S),
            max_retries=0,
            http_client=http_client,
        )
        self._official = is_official(endpoint.base_url)

    def _translate(self, exc: openai.OpenAIError | httpx2.HTTPError) -> ProviderError:
        if isinstance(exc, openai.APIStatusError):
            response = exc.response
            try:
                body = response.text
            except httpx2.ResponseNotRead:  # a streamed body that was never read
                body = exc.message
            return status_error(
                self._endpoint, exc.status_code, body, dict(response.headers), self._now()
            )
        if isinstance(exc, openai.APITimeoutError):
            return connection_error(self._endpoint, str(exc), timed_out=True)
        if isinstance(exc, httpx2.TimeoutException):
            return connection_error(self._endpoint, str(exc) or "timeout", timed_out=True)
        if isinstance(exc, openai.APIConnectionError):
            reason = str(exc.__cause__ or exc)
            return connection_error(self._endpoint, reason, timed_out=False)
        return connection_error(self._endpoint, f"{type(exc).__name__}: {exc}", timed_out=False)

    def _params(self, spec: CallSpec) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": spec.model,
            "messages": [{"role": m.role, "content": m.content} for m in spec.messages],
        }
        if spec.temperature is not None:
            params["temperature"] = spec.temperature
        if spec.max_tokens is not None:
            limit = "max_completion_tokens" if self._official else "max_tokens"
            params[limit] = spec.max_tokens
        if spec.json_mode:
            params["response_format"] = {"type": "json_object"}
        return params

    async def complete(self, spec: CallSpec) -> RawAnswer:
        try:
            response = await self._client.chat.completions.create(**self._params(spec))
        except (openai.OpenAIError, httpx2.HTTPError) as exc:
            raise self._translate(exc) from exc
        usage = _usage(response.usage)
        if not response.choices:
            return RawAnswer(None, usage, None, "no choices")
        choice = response.choices[0]
        if choice.message.content is None:
            return RawAnswer(None, usage, choice.finish_reason, "null content")
        return RawAnswer(choice.message.content, usage, choice.finish_reason)

    async def stream(self, spec: CallSpec) -> AsyncIterator[StreamItem]:
        params = self._params(spec)
        usage: Usage | None = None
        finish: str | None = None
        try:
            chunks = await self._client.chat.completions.create(
                **params, stream=True, stream_options={"include_usage": True}
            )
            async with chunks:
                async for chunk in chunks:
                    if chunk.usage is not None:
                        usage = _usage(chunk.usage)
                    for choice in chunk.choices[:1]:
                        if choice.finish_reason is not None:
                            finish = choice.finish_reason
                        if choice.delta.content:
                            yield choice.delta.content
        except (openai.OpenAIError, httpx2.HTTPError) as exc:
            raise self._translate(exc) from exc
        yield StreamSummary(usage, finish)

    async def embed(self, texts: Sequence[str], model: str) -> tuple[list[list[float]], Usage]:
        try:
            response = await self._client.embeddings.create(model=model, input=list(texts))
        except (openai.OpenAIError, httpx2.HTTPError) as exc:
            raise self._translate(exc) from exc
        ordered = sorted(response.data, key=lambda item: item.index)
        tokens = response.usage.prompt_tokens if response.usage is not None else 0
        return [list(item.embedding) for item in ordered], Usage(tokens, 0, 0)

    async def list_models(self) -> list[ServerModel]:
        try:
            return [
                ServerModel(model.id, model.owned_by) async for model in self._client.models.list()
            ]
        except (openai.OpenAIError, httpx2.HTTPError) as exc:
            raise self._translate(exc) from exc

    async def generate_image(self, prompt: str, model: str, size: str | None) -> RawImage:
        params: dict[str, Any] = {"model": model, "prompt": prompt, "n": 1}
        if size is not None:
            params["size"] = size
        if not model.startswith(B64_ONLY_PREFIX):
            params["response_format"] = "b64_json"  # gpt-image models always answer so
        try:
            response = await self._client.images.generate(**params)
        except (openai.OpenAIError, httpx2.HTTPError) as exc:
            raise self._translate(exc) from exc
        usage = getattr(response, "usage", None)
        tokens = (
            Usage(usage.input_tokens or 0, usage.output_tokens or 0, 0)
            if usage is not None
            else None
        )
        first = response.data[0] if response.data else None
        if first is None or not first.b64_json:
            return RawImage(None, None, tokens)
        try:
            data = base64.b64decode(first.b64_json, validate=True)
        except (binascii.Error, ValueError):
            return RawImage(None, None, tokens)
        return RawImage(data, first.revised_prompt, tokens)

    async def close(self) -> None:
        await self._client.close()
