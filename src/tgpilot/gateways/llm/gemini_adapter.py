"""The ``gemini`` provider: Google's ``google-genai`` SDK, Gemini Developer API.

The key travels in the ``x-goog-api-key`` header, never in the URL. System messages
become ``system_instruction``; assistant turns have the role ``model``. The SDK takes
one timeout for a whole request, so ``llm.timeout_s`` also bounds connecting here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from tgpilot.core.errors import ProviderError
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

MODEL_PREFIX = "models/"


def _usage(metadata: genai_types.GenerateContentResponseUsageMetadata | None) -> Usage | None:
    if metadata is None:
        return None
    return Usage(
        metadata.prompt_token_count or 0,
        metadata.candidates_token_count or 0,
        metadata.cached_content_token_count or 0,
    )


def _text(response: genai_types.GenerateContentResponse) -> tuple[str | None, str | None, str]:
    """The answer's text (None if empty), finish reason and why it is empty."""
    if not response.candidates:
        return None, None, "no candidates"
    candidate = response.candidates[0]
    finish = candidate.finish_reason.value.lower() if candidate.finish_reason else None
    parts = candidate.content.parts if candidate.content is not None else None
    texts = [p.text for p in parts or () if p.text is not None and not p.thought]
    if not texts:
        return None, finish, "no text content"
    return "".join(texts), finish, ""


class GeminiAdapter:
    """generateContent, streaming, embedContent and ``/models`` through ``genai.Client``."""

    name = "gemini"

    def __init__(
        self, endpoint: Endpoint, *, timeout_s: float, now: Callable[[], datetime]
    ) -> None:
        self.base_url = endpoint.base_url
        self._endpoint = endpoint
        self._now = now
        options = genai_types.HttpOptions(
            base_url=endpoint.base_url, timeout=round(timeout_s * 1000)
        )
        self._client = genai.Client(
            vertexai=False, api_key=endpoint.secret or "no-key", http_options=options
        ).aio

    def _translate(self, exc: Exception) -> ProviderError:
        if isinstance(exc, genai_errors.APIError):
            headers = dict(exc.response.headers) if isinstance(exc.response, httpx.Response) else {}
            body = exc.message or str(exc.details)
            return status_error(self._endpoint, exc.code, body, headers, self._now())
        if isinstance(exc, httpx.TimeoutException):
            return connection_error(self._endpoint, str(exc) or "timeout", timed_out=True)
        return connection_error(self._endpoint, f"{type(exc).__name__}: {exc}", timed_out=False)

    def _request(
        self, spec: CallSpec
    ) -> tuple[list[genai_types.Content], genai_types.GenerateContentConfig]:
        contents = [
            genai_types.Content(
                role="model" if m.role == "assistant" else "user",
                parts=[genai_types.Part(text=m.content)],
            )
            for m in spec.turns()
        ]
        config = genai_types.GenerateContentConfig(
            system_instruction=spec.system_text(),
            temperature=spec.temperature,
            max_output_tokens=spec.max_tokens,
            response_mime_type="application/json" if spec.json_mode else None,
        )
        return contents, config

    async def complete(self, spec: CallSpec) -> RawAnswer:
        contents, config = self._request(spec)
        try:
            response = await self._client.models.generate_content(
                model=spec.model, contents=contents, config=config
            )
        except (genai_errors.APIError, httpx.HTTPError) as exc:
            raise self._translate(exc) from exc
        text, finish, empty_reason = _text(response)
        return RawAnswer(text, _usage(response.usage_metadata), finish, empty_reason)

    async def stream(self, spec: CallSpec) -> AsyncIterator[StreamItem]:
        contents, config = self._request(spec)
        usage: Usage | None = None
        finish: str | None = None
        try:
            chunks = await self._client.models.generate_content_stream(
                model=spec.model, contents=contents, config=config
            )
            async for chunk in chunks:
                usage = _usage(chunk.usage_metadata) or usage
                text, chunk_finish, _ = _text(chunk)
                finish = chunk_finish or finish
                if text:
                    yield text
        except (genai_errors.APIError, httpx.HTTPError) as exc:
            raise self._translate(exc) from exc
        yield StreamSummary(usage, finish)

    async def embed(self, texts: Sequence[str], model: str) -> tuple[list[list[float]], Usage]:
        try:
            response = await self._client.models.embed_content(model=model, contents=list(texts))
        except (genai_errors.APIError, httpx.HTTPError) as exc:
            raise self._translate(exc) from exc
        vectors = [list(e.values or ()) for e in response.embeddings or ()]
        return vectors, Usage(0, 0, 0)

    async def list_models(self) -> list[ServerModel]:
        try:
            pager = await self._client.models.list()
            return [
                ServerModel((m.name or "").removeprefix(MODEL_PREFIX), None) async for m in pager
            ]
        except (genai_errors.APIError, httpx.HTTPError) as exc:
            raise self._translate(exc) from exc

    async def generate_image(self, prompt: str, model: str, size: str | None) -> RawImage:
        raise no_image_support(self.name)

    async def close(self) -> None:
        """Nothing to do: google-genai has no close; its pool goes with the client."""
