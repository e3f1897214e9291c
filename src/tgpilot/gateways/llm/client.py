"""``LLMClient``: the one async interface services use to reach a model (ai.md §1).

``complete``, ``stream``, ``embed``, ``generate_image`` and ``count_tokens`` over one
provider adapter, with what every call needs around it: the call's temperature and
output limit settled by precedence and the catalogue (a ``fixed_temperature`` model
gets none), the one retry policy, per-provider pacing, the response cache for
non-streaming calls, and a usage row for every call — failures and cache hits
included — with its cost from the catalogue. An empty answer raises
:class:`~tgpilot.core.errors.EmptyResponse`; an answer its caller cannot use
(``usable``) is never cached.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import orjson

from tgpilot.core.clock import Clock
from tgpilot.core.errors import (
    AnswerParseError,
    EmptyResponse,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from tgpilot.gateways.llm.catalogue import ModelInfo
from tgpilot.gateways.llm.provider import (
    IMAGE_PROVIDERS,
    CallSpec,
    ProviderAdapter,
    RawAnswer,
    RawImage,
    StreamItem,
    StreamSummary,
    no_image_support,
)
from tgpilot.gateways.llm.resolve import LLMTarget
from tgpilot.gateways.llm.retry import call_with_retries, is_retryable
from tgpilot.gateways.llm.tokens import count_tokens
from tgpilot.gateways.llm.types import (
    CachedAnswer,
    ChatMessage,
    Completion,
    Embeddings,
    GeneratedImage,
    Operation,
    PromptRef,
    ServerModel,
    StreamEnd,
    StreamEvent,
    TextDelta,
    Usage,
    UsageRecord,
    UsageTotals,
)

T = TypeVar("T")

STREAM_IDLE_S = 60.0


class UsageRecorder(Protocol):
    """Where usage rows go (the store's ``llm_usage`` table)."""

    async def record_usage(self, record: UsageRecord) -> None: ...


class ResponseCache(Protocol):
    """Where identical non-streaming answers are kept (the store's ``llm_cache``)."""

    async def cached_answer(self, key: str) -> CachedAnswer | None: ...

    async def save_answer(self, answer: CachedAnswer) -> None: ...


def failure_status(exc: BaseException) -> str:
    """The ``status`` a failed call's usage row gets."""
    statuses: tuple[tuple[type[ProviderError], str], ...] = (
        (ProviderAuthError, "auth"),
        (ProviderRateLimited, "rate_limited"),
        (ProviderUnavailable, "unavailable"),
        (ProviderBadRequest, "bad_request"),
        (EmptyResponse, "empty"),
        (AnswerParseError, "parse"),
    )
    for kind, status in statuses:
        if isinstance(exc, kind):
            return status
    return "error"


async def _close(items: AsyncIterator[StreamItem]) -> None:
    """Close a provider stream (its HTTP response) if it can be closed."""
    aclose = getattr(items, "aclose", None)
    if aclose is not None:
        await aclose()


def request_key(target: LLMTarget, spec: CallSpec) -> str:
    """The cache key of a request: SHA-256 over everything that shapes the answer."""
    document = {
        "provider": target.provider,
        "base_url": target.base_url,
        "model": spec.model,
        "messages": [[m.role, m.content] for m in spec.messages],
        "temperature": spec.temperature,
        "max_tokens": spec.max_tokens,
        "json": spec.json_mode,
    }
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class _Call:
    """Book-keeping of one call: attempts made and when it started."""

    started: float
    attempts: int = 0
    records: list[UsageRecord] = field(default_factory=list)

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)


class LLMClient:
    """One command's calls to one provider and model (see the module docstring).

    Build it with :func:`tgpilot.gateways.llm.factory.create_llm_client`; close it with
    :meth:`aclose` (or use it as an async context manager).
    """

    def __init__(
        self,
        target: LLMTarget,
        adapter: ProviderAdapter,
        model: ModelInfo,
        *,
        clock: Clock,
        limiter: AbstractAsyncContextManager[None],
        default_max_tokens: int | None = None,
        recorder: UsageRecorder | None = None,
        cache: ResponseCache | None = None,
        models: Callable[[str], ModelInfo],
        stream_idle_s: float = STREAM_IDLE_S,
    ) -> None:
        self.target = target
        self.model = model
        self._adapter = adapter
        self._clock = clock
        self._limiter = limiter
        self._default_max_tokens = default_max_tokens
        self._recorder = recorder
        self._cache = cache if target.cache else None
        self._stream_idle_s = stream_idle_s
        self._models = models
        self.records: list[UsageRecord] = []
        """Every call of this client, in order (for the command's usage summary)."""

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release the provider's connections."""
        await self._adapter.close()

    # ----------------------------------------------------------------- helpers

    @property
    def provider(self) -> str:
        return self.target.provider

    @property
    def base_url(self) -> str:
        """The endpoint that receives the chat content."""
        return self._adapter.base_url

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` (tiktoken ``o200k_base``)."""
        return count_tokens(text)

    def output_limit(self, prompt: PromptRef | None = None) -> int | None:
        """The ``max_tokens`` a call with ``prompt`` would send (None: no limit is sent),
        settled by the same precedence as :meth:`complete` (for token budgets)."""
        return self._spec((), prompt, json_mode=False).max_tokens

    def _spec(
        self, messages: Sequence[ChatMessage], prompt: PromptRef | None, json_mode: bool
    ) -> CallSpec:
        temperature = self.target.temperature
        if temperature is None and prompt is not None:
            temperature = prompt.temperature
        if self.model.fixed_temperature:
            temperature = None
        max_tokens = self.target.max_tokens
        if max_tokens is None and prompt is not None:
            max_tokens = prompt.max_tokens
        if max_tokens is None:
            max_tokens = self._default_max_tokens
        if max_tokens is not None and self.model.max_output is not None:
            max_tokens = min(max_tokens, self.model.max_output)
        return CallSpec(
            model=self.model.name,
            messages=tuple(messages),
            temperature=temperature,
            max_tokens=max_tokens,
            json_mode=json_mode and self.model.json_mode,
        )

    async def _paced(self, call: Callable[[], Awaitable[T]], state: _Call) -> T:
        async with self._limiter:
            state.attempts += 1
            return await call()

    async def _retrying(
        self,
        call: Callable[[], Awaitable[T]],
        state: _Call,
        retryable: Callable[[BaseException], bool] = is_retryable,
    ) -> T:
        return await call_with_retries(
            lambda: self._paced(call, state),
            attempts=self.target.max_retries,
            clock=self._clock,
            retryable=retryable,
        )

    async def _record(
        self,
        state: _Call,
        operation: Operation,
        status: str,
        *,
        model: ModelInfo | None = None,
        usage: Usage | None = None,
        prompt: PromptRef | None = None,
        cache_hit: bool = False,
    ) -> float | None:
        """Add the call's usage row; returns its cost."""
        model = model or self.model
        usage = usage or Usage()
        cost = 0.0 if cache_hit else model.cost(usage)
        elapsed = self._clock.monotonic() - state.started
        record = UsageRecord(
            time=self._clock.now(),
            command=self.target.command,
            provider=self.target.provider,
            model=model.name,
            operation=operation,
            status=status,
            input_tokens=0 if cache_hit else usage.input_tokens,
            output_tokens=0 if cache_hit else usage.output_tokens,
            cached_tokens=0 if cache_hit else usage.cached_tokens,
            cost_usd=cost,
            latency_ms=round(elapsed * 1000),
            retries=state.retries,
            cache_hit=cache_hit,
            prompt_name=prompt.name if prompt is not None else None,
            prompt_hash=prompt.hash if prompt is not None else None,
        )
        self.records.append(record)
        if self._recorder is not None:
            await self._recorder.record_usage(record)
        return cost

    def _estimated(self, spec: CallSpec, text: str) -> Usage:
        """Usage counted locally, for servers that report none."""
        prompt_text = "\n".join(m.content for m in spec.messages)
        return Usage(count_tokens(prompt_text), count_tokens(text), 0)

    def _completion(
        self,
        text: str,
        usage: Usage,
        finish_reason: str | None,
        cost: float | None,
        state: _Call,
        *,
        cache_hit: bool = False,
    ) -> Completion:
        return Completion(
            text=text,
            provider=self.target.provider,
            model=self.model.name,
            usage=usage,
            finish_reason=finish_reason,
            cost_usd=cost,
            latency_s=self._clock.monotonic() - state.started,
            retries=state.retries,
            cache_hit=cache_hit,
        )

    def _empty(self, answer: RawAnswer) -> EmptyResponse:
        return EmptyResponse(
            self.target.provider,
            f"empty answer from model {self.model.name} ({answer.empty_reason})",
            status=200,
            hint=f"model {self.model.name!r} returned no text: retry, or try another --model",
        )

    # ----------------------------------------------------------------- complete

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        prompt: PromptRef | None = None,
        json_mode: bool = False,
        usable: Callable[[str], bool] | None = None,
    ) -> Completion:
        """One answer to ``messages``; served from the cache when an identical request
        was answered before (and ``llm.cache`` is on).

        ``usable`` tells an answer the caller can use from one it cannot (JSON that
        does not parse): an unusable answer is returned but never cached, and a cached
        one is never served, so a re-run asks the model again.
        """
        spec = self._spec(messages, prompt, json_mode)
        state = _Call(self._clock.monotonic())
        key = request_key(self.target, spec) if self._cache is not None else ""
        if self._cache is not None:
            hit = await self._cache.cached_answer(key)
            if hit is not None and (usable is None or usable(hit.text)):
                await self._record(state, "complete", "ok", prompt=prompt, cache_hit=True)
                return self._completion(
                    hit.text, hit.usage, hit.finish_reason, 0.0, state, cache_hit=True
                )

        async def attempt() -> RawAnswer:
            answer = await self._adapter.complete(spec)
            if answer.text is None:
                raise self._empty(answer)
            return answer

        try:
            answer = await self._retrying(attempt, state)
        except Exception as exc:
            await self._record(state, "complete", failure_status(exc), prompt=prompt)
            raise
        assert answer.text is not None
        usage = answer.usage or self._estimated(spec, answer.text)
        cost = await self._record(state, "complete", "ok", usage=usage, prompt=prompt)
        if self._cache is not None and (usable is None or usable(answer.text)):
            await self._cache.save_answer(
                CachedAnswer(
                    key=key,
                    provider=self.target.provider,
                    model=self.model.name,
                    text=answer.text,
                    usage=usage,
                    finish_reason=answer.finish_reason,
                    created_at=self._clock.now(),
                )
            )
        return self._completion(answer.text, usage, answer.finish_reason, cost, state)

    # ----------------------------------------------------------------- stream

    async def _next(self, items: AsyncIterator[StreamItem]) -> StreamItem:
        """The stream's next item; a silence over ``stream_idle_s`` is a timeout."""
        try:
            async with asyncio.timeout(self._stream_idle_s):
                return await anext(items)
        except StopAsyncIteration:
            return StreamSummary(None, None)
        except TimeoutError:
            raise ProviderUnavailable(
                self.target.provider,
                f"timed out: the stream sent nothing for {self._stream_idle_s:g} s",
                hint="try later, or use a non-streaming call",
            ) from None

    async def stream(
        self, messages: Sequence[ChatMessage], *, prompt: PromptRef | None = None
    ) -> AsyncIterator[StreamEvent]:
        """Text deltas as they arrive, then one :class:`StreamEnd` with the whole
        answer, usage and finish reason. Retried only until the first text arrives."""
        spec = self._spec(messages, prompt, json_mode=False)
        state = _Call(self._clock.monotonic())

        async def open_stream() -> tuple[AsyncIterator[StreamItem], StreamItem]:
            items = aiter(self._adapter.stream(spec))
            try:
                return items, await self._next(items)
            except BaseException:
                await _close(items)
                raise

        parts: list[str] = []
        try:
            items, item = await self._retrying(open_stream, state)
            try:
                while not isinstance(item, StreamSummary):
                    parts.append(item)
                    yield TextDelta(item)
                    item = await self._next(items)
            finally:
                await _close(items)
        except GeneratorExit:
            # The consumer stopped reading: the call still counts, with what it got.
            usage = self._estimated(spec, "".join(parts))
            await self._record(state, "stream", "abandoned", usage=usage, prompt=prompt)
            raise
        except Exception as exc:
            await self._record(state, "stream", failure_status(exc), prompt=prompt)
            raise
        text = "".join(parts)
        if not text:
            await self._record(state, "stream", "empty", usage=item.usage, prompt=prompt)
            raise self._empty(RawAnswer(None, item.usage, item.finish_reason, "no text"))
        usage = item.usage or self._estimated(spec, text)
        cost = await self._record(state, "stream", "ok", usage=usage, prompt=prompt)
        yield StreamEnd(self._completion(text, usage, item.finish_reason, cost, state))

    # ----------------------------------------------------------------- embed

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> Embeddings:
        """One vector per text, in order; no request for an empty list."""
        info = self._models(model) if model is not None else self.model
        state = _Call(self._clock.monotonic())
        if not texts:
            return Embeddings((), info.name, Usage(), 0.0)
        try:
            vectors, usage = await self._retrying(
                lambda: self._adapter.embed(texts, info.name), state
            )
        except Exception as exc:
            await self._record(state, "embed", failure_status(exc), model=info)
            raise
        cost = await self._record(state, "embed", "ok", model=info, usage=usage)
        return Embeddings(tuple(tuple(v) for v in vectors), info.name, usage, cost)

    # ----------------------------------------------------------------- images

    async def generate_image(
        self, prompt: str, *, model: str, size: str | None = None
    ) -> GeneratedImage:
        """One image for ``prompt`` from image model ``model`` (never cached). A
        provider without an images API raises UsageError before anything is sent."""
        info = self._models(model)
        state = _Call(self._clock.monotonic())
        if self.provider not in IMAGE_PROVIDERS:
            raise no_image_support(self.provider)

        async def attempt() -> RawImage:
            image = await self._adapter.generate_image(prompt, info.name, size)
            if image.data is None:
                raise EmptyResponse(
                    self.provider,
                    f"no image from model {info.name}",
                    status=200,
                    hint=f"check that {info.name!r} is an image model (--model)",
                )
            return image

        try:
            image = await self._retrying(attempt, state)
        except Exception as exc:
            await self._record(state, "image", failure_status(exc), model=info)
            raise
        assert image.data is not None
        cost = await self._record(state, "image", "ok", model=info, usage=image.usage)
        return GeneratedImage(image.data, info.name, image.revised_prompt, image.usage, cost)

    # ----------------------------------------------------------------- models

    async def list_models(self) -> list[ServerModel]:
        """The models the server lists at ``/models`` (retried like any call)."""
        state = _Call(self._clock.monotonic())
        return await self._retrying(self._adapter.list_models, state)

    def usage_summary(self, since: int = 0) -> UsageTotals:
        """Calls, tokens and cost of every call made so far — or from ``records[since]``
        on (one part of a command's work) — with cost None if any is unknown."""
        records = self.records[since:]
        costs = [r.cost_usd for r in records]
        return UsageTotals(
            group=self.target.command,
            calls=len(records),
            input_tokens=sum(r.input_tokens for r in records),
            output_tokens=sum(r.output_tokens for r in records),
            cached_tokens=sum(r.cached_tokens for r in records),
            cost_usd=None if None in costs else round(sum(c or 0.0 for c in costs), 12),
            failures=sum(1 for r in records if r.status != "ok"),
            cache_hits=sum(1 for r in records if r.cache_hit),
        )
