"""Pulling a model into an Ollama server through its native API (``llm pull``, ai.md §1.1).

Ollama serves the OpenAI-compatible API under ``/v1`` and its own API beside it; the
host is ``llm.base_url`` without the ``/v1`` suffix (:func:`ollama_host`).
``POST {host}/api/pull`` answers with one JSON object per line — ``{"status":
"pulling manifest"}``, per layer ``{"status", "digest", "total", "completed"}``, then
``verifying sha256 digest``, ``writing manifest`` and ``success`` — which
:meth:`OllamaClient.pull` yields as :class:`PullProgress`. An ``{"error": …}`` line,
an HTTP error or a stream that ends before ``success`` raises a
:class:`~tgpilot.core.errors.ProviderError` (``ollama error <status>: …``); a model
Ollama does not know is :class:`ModelNotPulled` (exit 2). A pull is
not retried: run again and Ollama resumes the layers it already has.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self

import httpx2

from tgpilot.core.errors import (
    EXIT_USAGE,
    ProviderBadRequest,
    ProviderError,
    ProviderUnavailable,
)
from tgpilot.gateways.llm.failures import Endpoint, connection_error, error_detail, status_error

OPENAI_SUFFIX = "/v1"
PULL_PATH = "/api/pull"
SUCCESS = "success"
NOT_FOUND = 404
CONNECT_TIMEOUT_S = 10.0
PROVIDER = "ollama"


class ModelNotPulled(ProviderBadRequest):
    """Ollama refused the pull (no such model in its library): a name given by the user
    that resolves to nothing, so exit 2."""

    exit_code = EXIT_USAGE


def ollama_host(base_url: str) -> str:
    """``http://localhost:11434/v1`` → ``http://localhost:11434`` (trailing ``/`` too)."""
    host = base_url.rstrip("/")
    return host.removesuffix(OPENAI_SUFFIX).rstrip("/")


@dataclass(frozen=True)
class PullProgress:
    """One progress line of a pull: what Ollama is doing and, while downloading a
    layer, its digest with the bytes done and in all."""

    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None

    @property
    def done(self) -> bool:
        return self.status == SUCCESS


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class OllamaClient:
    """Ollama's native API at ``host`` (no key: a bearer token only when one is given)."""

    def __init__(
        self,
        host: str,
        *,
        timeout_s: float,
        now: Callable[[], datetime],
        secret: str | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.host = host
        self._now = now
        self._secret = secret
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        self._http = httpx2.AsyncClient(
            base_url=host,
            headers=headers,
            timeout=httpx2.Timeout(timeout_s, connect=CONNECT_TIMEOUT_S),
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    def _endpoint(self, model: str) -> Endpoint:
        return Endpoint(PROVIDER, self.host, model, "llm.base_url", self._secret)

    async def pull(self, model: str) -> AsyncIterator[PullProgress]:
        """Pull ``model``, yielding each progress line until ``success``."""
        endpoint = self._endpoint(model)
        finished = False
        try:
            async with self._http.stream(
                "POST", PULL_PATH, json={"model": model, "stream": True}
            ) as response:
                if response.status_code >= 400:
                    body = (await response.aread()).decode("utf-8", "replace")
                    error = status_error(
                        endpoint, response.status_code, body, dict(response.headers), self._now()
                    )
                    if response.status_code == NOT_FOUND:
                        raise ModelNotPulled(
                            PROVIDER, error.detail, status=NOT_FOUND, hint=error.hint
                        )
                    raise error
                async for line in response.aiter_lines():
                    progress = self._progress(endpoint, line)
                    if progress is None:
                        continue
                    yield progress
                    if progress.done:
                        finished = True
                        break
        except httpx2.TimeoutException as exc:
            raise connection_error(endpoint, str(exc) or "timeout", timed_out=True) from exc
        except httpx2.HTTPError as exc:
            raise connection_error(
                endpoint, str(exc) or type(exc).__name__, timed_out=False
            ) from exc
        if not finished:
            raise ProviderUnavailable(
                PROVIDER,
                f"the pull of {model} stopped before it finished",
                hint="run it again: Ollama resumes the layers it already has",
            )

    def _progress(self, endpoint: Endpoint, line: str) -> PullProgress | None:
        text = line.strip()
        if not text:
            return None
        try:
            item = json.loads(text)
        except ValueError:
            raise self._bad_line(endpoint, text) from None
        if not isinstance(item, dict):
            raise self._bad_line(endpoint, text)
        if "error" in item:
            detail = endpoint.redact(error_detail(text, "the pull failed"))
            raise ModelNotPulled(
                PROVIDER,
                detail,
                status=200,
                hint=f"is {endpoint.model!r} a model of the Ollama library? see ollama.com/library",
            )
        return PullProgress(
            str(item.get("status", "")),
            item.get("digest") if isinstance(item.get("digest"), str) else None,
            _int(item.get("total")),
            _int(item.get("completed")),
        )

    def _bad_line(self, endpoint: Endpoint, text: str) -> ProviderError:
        return ProviderUnavailable(
            PROVIDER,
            endpoint.redact(f"not an Ollama progress line: {text[:100]}"),
            hint=f"is {self.host} an Ollama server? check llm.base_url",
        )
