"""A fake LLM provider: a real HTTP server on loopback that the official SDKs call.

:class:`FakeLLMServer` is a :class:`~tests.fakes.loopback.LoopbackServer` (aiohttp in a
background thread with its own event loop), so it serves async tests and the synchronous
CLI harness alike. It speaks

- OpenAI: ``POST /v1/chat/completions`` (JSON, or SSE with the
  ``stream_options.include_usage`` usage chunk), ``GET /v1/models``,
  ``POST /v1/embeddings`` (float or base64 vectors), ``POST /v1/images/generations``
  (one ``b64_json`` PNG; a text reply becomes the ``revised_prompt``);
- Ollama's native ``POST /api/pull``: NDJSON progress lines ending in ``success``, or
  the in-stream error line for a model not in :attr:`FakeLLMServer.models`;
- Anthropic: ``POST /v1/messages`` (JSON or SSE events), ``GET /v1/models`` (when the
  request carries ``anthropic-version``);
- Gemini: ``POST /v1beta/models/<model>:generateContent``,
  ``:streamGenerateContent?alt=sse``, ``:batchEmbedContents``, ``GET /v1beta/models``;
- speech: OpenAI ``POST /v1/audio/transcriptions`` (multipart; the reply's text) and
  ``POST /v1/audio/speech`` (:data:`~tests.fakes.llm.shapes.FAKE_AUDIO`), Yandex
  SpeechKit ``POST /speech/v1/stt:recognize`` (audio body; ``{"result": …}``) and
  ``POST /speech/v1/tts:synthesize`` (form fields; the audio bytes). Their log entries
  hold the form fields, with uploaded files and raw bodies as ``{"bytes": n}``.

Answers come from a script (:meth:`FakeLLMServer.script`, a queue of
:class:`~tests.fakes.llm.replies.Reply`; "ok" when it runs dry). Every request is
logged (:attr:`FakeLLMServer.requests`) with method, path, query, headers and parsed
JSON body; with a ``clock`` each entry is stamped with its virtual time.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from tests.fakes.clock import FakeClock
from tests.fakes.llm import shapes
from tests.fakes.llm.replies import Reply
from tests.fakes.loopback import LoopbackServer

Api = Literal["openai", "anthropic", "gemini"]

DEFAULT_MODELS = ("gpt-4o-mini", "llama3.1:8b", "claude-haiku-4-5", "gemini-2.5-flash")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Header names in lower case."""
    json: Any
    raw_url: str
    """Path and query exactly as sent."""
    at: float
    """When it arrived: the fake clock's monotonic time, else ``time.monotonic()``."""


class FakeLLMServer(LoopbackServer):
    """Scripted OpenAI-, Anthropic- and Gemini-shaped endpoints on 127.0.0.1."""

    thread_name = "fake-llm-server"

    def __init__(
        self,
        *,
        models: tuple[str, ...] = DEFAULT_MODELS,
        clock: FakeClock | None = None,
        embedding_dimension: int = 8,
        latency: float = 0.0,
    ) -> None:
        super().__init__()
        self.models = list(models)
        self.clock = clock
        self.embedding_dimension = embedding_dimension
        self.latency = latency
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (Anthropic and Gemini base URL)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        """The OpenAI-compatible base URL (``…/v1``)."""
        return f"{self.url}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue the answers of the next requests, in order."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted answers not used yet."""
        with self._lock:
            return len(self._replies)

    def requests_to(self, suffix: str) -> list[RecordedRequest]:
        """The logged requests whose path ends with ``suffix``."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith(suffix)]

    # ------------------------------------------------------------------ plumbing

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_post("/v1/embeddings", self._openai_embeddings)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/images/generations", self._openai_images)
        app.router.add_post("/api/pull", self._ollama_pull)
        app.router.add_post("/v1/messages", self._anthropic_messages)
        app.router.add_get("/v1beta/models", self._gemini_models)
        app.router.add_post("/v1beta/models/{target}", self._gemini_call)
        app.router.add_post("/v1/audio/transcriptions", self._openai_transcriptions)
        app.router.add_post("/v1/audio/speech", self._openai_speech)
        app.router.add_post("/speech/v1/stt:recognize", self._yandex_stt)
        app.router.add_post("/speech/v1/tts:synthesize", self._yandex_tts)
        return app

    def _now(self) -> float:
        return self.clock.monotonic() if self.clock is not None else time.monotonic()

    async def _record(self, request: web.Request) -> Any:
        text = await request.text()
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        self._log(request, body)
        return body

    def _log(self, request: web.Request, body: Any) -> None:
        entry = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            json=body,
            raw_url=request.raw_path,
            at=self._now(),
        )
        with self._lock:
            self.requests.append(entry)

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else Reply.of_text("ok")

    async def _answer(
        self,
        request: web.Request,
        reply: Reply,
        error_body: Callable[[Reply], dict[str, Any]],
        json_body: Callable[[], dict[str, Any]],
        events: Callable[[], list[shapes.Event]] | None,
    ) -> web.StreamResponse:
        await asyncio.sleep(self.latency + reply.latency)
        if reply.kind == "raw":
            return web.Response(
                status=reply.status,
                text=reply.body,
                content_type=reply.content_type,
                headers=reply.headers,
            )
        if reply.kind == "error":
            return web.json_response(error_body(reply), status=reply.status, headers=reply.headers)
        if events is None:
            return web.json_response(json_body(), headers=reply.headers)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        sent = 0
        for event in events():
            if event.delta and sent and reply.delay:
                await asyncio.sleep(reply.delay)
            if event.delta and reply.cut_after is not None and sent >= reply.cut_after:
                assert request.transport is not None
                request.transport.abort()
                return response
            sent += event.delta
            data = event.data
            payload = data if isinstance(data, str) else json.dumps(data)
            head = f"event: {event.name}\n" if event.name else ""
            await response.write(f"{head}data: {payload}\n\n".encode())
        await response.write_eof()
        return response

    # ------------------------------------------------------------------ OpenAI

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request) or {}
        reply = self._next_reply()
        model = str(body.get("model", ""))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        stream = bool(body.get("stream"))
        return await self._answer(
            request,
            reply,
            shapes.openai_error,
            lambda: shapes.openai_completion(reply, model),
            (lambda: shapes.openai_stream(reply, model, include_usage)) if stream else None,
        )

    async def _openai_embeddings(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request) or {}
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else list(texts)
        reply = self._next_reply()
        model = str(body.get("model", ""))
        encoding = str(body.get("encoding_format", "float"))
        return await self._answer(
            request,
            reply,
            shapes.openai_error,
            lambda: shapes.openai_embeddings(texts, model, self.embedding_dimension, encoding),
            None,
        )

    async def _openai_images(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request) or {}
        reply = self._next_reply()
        prompt = str(body.get("prompt", ""))
        return await self._answer(
            request, reply, shapes.openai_error, lambda: shapes.openai_image(reply, prompt), None
        )

    # ------------------------------------------------------------------ Ollama

    async def _ollama_pull(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request) or {}
        reply = self._next_reply()
        if reply.kind in ("error", "raw"):
            return await self._answer(request, reply, shapes.ollama_error, dict, None)
        await asyncio.sleep(self.latency + reply.latency)
        model = str(body.get("model") or body.get("name") or "")
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        for line in shapes.ollama_pull(model, model in self.models):
            if reply.delay:
                await asyncio.sleep(reply.delay)
            await response.write(json.dumps(line).encode() + b"\n")
        await response.write_eof()
        return response

    async def _models(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        if "anthropic-version" in request.headers:
            return web.json_response(shapes.anthropic_models(self.models))
        return web.json_response(shapes.openai_models(self.models))

    # ------------------------------------------------------------------ Anthropic

    async def _anthropic_messages(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request) or {}
        reply = self._next_reply()
        model = str(body.get("model", ""))
        stream = bool(body.get("stream"))
        return await self._answer(
            request,
            reply,
            shapes.anthropic_error,
            lambda: shapes.anthropic_message(reply, model),
            (lambda: shapes.anthropic_stream(reply, model)) if stream else None,
        )

    # ------------------------------------------------------------------ Gemini

    async def _gemini_models(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        return web.json_response(shapes.gemini_models(self.models))

    async def _gemini_call(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request) or {}
        model, _, method = request.match_info["target"].partition(":")
        reply = self._next_reply()
        if method == "batchEmbedContents":
            texts = [
                "".join(part.get("text", "") for part in item["content"]["parts"])
                for item in body.get("requests", [])
            ]
            dimension = self.embedding_dimension
            return await self._answer(
                request,
                reply,
                shapes.gemini_error,
                lambda: shapes.gemini_embeddings(texts, dimension),
                None,
            )
        stream = method == "streamGenerateContent"
        return await self._answer(
            request,
            reply,
            shapes.gemini_error,
            lambda: shapes.gemini_response(reply, model),
            (lambda: shapes.gemini_stream(reply, model)) if stream else None,
        )

    # ------------------------------------------------------------------ speech

    async def _record_form(self, request: web.Request) -> dict[str, Any]:
        """Log a multipart, form or raw-body request; files and raw bodies as sizes."""
        fields: dict[str, Any] = {}
        content_type = request.content_type
        if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, str):
                    fields[name] = value
                else:
                    fields[name] = {"filename": value.filename, "bytes": len(value.file.read())}
        else:
            fields["bytes"] = len(await request.read())
        self._log(request, fields)
        return fields

    async def _audio_answer(
        self,
        request: web.Request,
        reply: Reply,
        error_body: Callable[[Reply], dict[str, Any]],
    ) -> web.StreamResponse:
        if reply.kind in ("error", "raw"):
            return await self._answer(request, reply, error_body, dict, None)
        await asyncio.sleep(self.latency + reply.latency)
        return web.Response(body=shapes.FAKE_AUDIO, content_type="audio/mpeg")

    async def _openai_transcriptions(self, request: web.Request) -> web.StreamResponse:
        await self._record_form(request)
        reply = self._next_reply()
        return await self._answer(
            request, reply, shapes.openai_error, lambda: shapes.openai_transcription(reply), None
        )

    async def _openai_speech(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        return await self._audio_answer(request, self._next_reply(), shapes.openai_error)

    async def _yandex_stt(self, request: web.Request) -> web.StreamResponse:
        await self._record_form(request)
        reply = self._next_reply()
        return await self._answer(
            request, reply, shapes.yandex_error, lambda: shapes.yandex_stt(reply), None
        )

    async def _yandex_tts(self, request: web.Request) -> web.StreamResponse:
        await self._record_form(request)
        return await self._audio_answer(request, self._next_reply(), shapes.yandex_error)
