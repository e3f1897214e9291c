"""How each API spells a reply: OpenAI, Anthropic and Gemini bodies and stream events,
OpenAI's generated images and Ollama's pull progress.

Pure functions from a :class:`~tests.fakes.llm.replies.Reply` to JSON documents (or
lists of server-sent events), following each provider's published wire format.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import Any, NamedTuple

from tests.fakes.llm.replies import Reply

CREATED = 1_700_000_000

ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
GEMINI_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class Event(NamedTuple):
    """A server-sent event: its ``event:`` name (or None), its data, and whether it
    carries a piece of the answer."""

    name: str | None
    data: dict[str, Any] | str
    delta: bool = False


def fake_vector(text: str, dimension: int) -> list[float]:
    """A deterministic unit-free vector for ``text`` (same text, same vector)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return [(digest[i % len(digest)] - 128) / 128 for i in range(dimension)]


def _tokens(reply: Reply) -> tuple[int, int, int]:
    return reply.usage or (0, 0, 0)


# ----------------------------------------------------------------------------- OpenAI


def openai_error(reply: Reply) -> dict[str, Any]:
    return {"error": {"message": reply.text, "type": "fake_error", "code": reply.status}}


def openai_usage(reply: Reply) -> dict[str, Any] | None:
    if reply.usage is None:
        return None
    prompt, completion, cached = reply.usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def openai_completion(reply: Reply, model: str) -> dict[str, Any]:
    choices: list[dict[str, Any]] = []
    if reply.kind != "empty":
        content = None if reply.kind == "null" else reply.full_text
        choices.append(
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": reply.finish_reason,
                "logprobs": None,
            }
        )
    body: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": choices,
    }
    usage = openai_usage(reply)
    if usage is not None:
        body["usage"] = usage
    return body


def _openai_chunk(model: str, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "choices": choices,
        **extra,
    }


def openai_stream(reply: Reply, model: str, include_usage: bool) -> list[Event]:
    """Role chunk, one chunk per delta, the finish chunk, the usage chunk, ``[DONE]``."""
    events: list[Event] = []
    if reply.kind in ("empty", "null"):
        pieces: tuple[str, ...] = ()
    else:
        pieces = reply.pieces
    events.append(
        Event(
            None,
            _openai_chunk(
                model,
                [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ],
            ),
        )
    )
    for piece in pieces:
        chunk = [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]
        events.append(Event(None, _openai_chunk(model, chunk), delta=True))
    events.append(
        Event(
            None,
            _openai_chunk(model, [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]),
        )
    )
    usage = openai_usage(reply)
    if include_usage and usage is not None:
        events.append(Event(None, _openai_chunk(model, [], usage=usage)))
    events.append(Event(None, "[DONE]"))
    return events


def openai_models(names: list[str]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": CREATED, "owned_by": "fake"}
            for name in names
        ],
    }


def openai_embeddings(
    texts: list[str], model: str, dimension: int, encoding: str
) -> dict[str, Any]:
    data: list[dict[str, Any]] = []
    for index, text in enumerate(texts):
        vector = fake_vector(text, dimension)
        embedding: Any = vector
        if encoding == "base64":
            packed = struct.pack(f"<{len(vector)}f", *vector)
            embedding = base64.b64encode(packed).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(max(1, len(text.split())) for text in texts)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# -------------------------------------------------------------------------- Anthropic


def anthropic_error(reply: Reply) -> dict[str, Any]:
    kind = ANTHROPIC_ERROR_TYPES.get(reply.status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": reply.text}}


def _anthropic_usage(reply: Reply, output: bool = True) -> dict[str, Any]:
    prompt, completion, cached = _tokens(reply)
    return {
        "input_tokens": prompt - cached,
        "output_tokens": completion if output else 1,
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": 0,
    }


def _stop_reason(reply: Reply) -> str:
    return {"stop": "end_turn", "length": "max_tokens"}.get(reply.finish_reason, "end_turn")


def anthropic_message(reply: Reply, model: str) -> dict[str, Any]:
    content = [] if reply.kind in ("empty", "null") else [{"type": "text", "text": reply.full_text}]
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _stop_reason(reply),
        "stop_sequence": None,
        "usage": _anthropic_usage(reply),
    }


def anthropic_stream(reply: Reply, model: str) -> list[Event]:
    start = anthropic_message(Reply.empty(), model) | {
        "stop_reason": None,
        "usage": _anthropic_usage(reply, output=False),
    }
    events: list[Event] = [Event("message_start", {"type": "message_start", "message": start})]
    pieces = () if reply.kind in ("empty", "null") else reply.pieces
    events.append(
        Event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        )
    )
    events.append(Event("ping", {"type": "ping"}))
    for piece in pieces:
        events.append(
            Event(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                },
                delta=True,
            )
        )
    events.append(Event("content_block_stop", {"type": "content_block_stop", "index": 0}))
    events.append(
        Event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": _stop_reason(reply), "stop_sequence": None},
                "usage": {"output_tokens": _tokens(reply)[1]},
            },
        )
    )
    events.append(Event("message_stop", {"type": "message_stop"}))
    return events


def anthropic_models(names: list[str]) -> dict[str, Any]:
    data = [
        {
            "type": "model",
            "id": name,
            "display_name": name,
            "created_at": "2025-01-01T00:00:00Z",
        }
        for name in names
    ]
    return {
        "data": data,
        "has_more": False,
        "first_id": names[0] if names else None,
        "last_id": names[-1] if names else None,
    }


# ----------------------------------------------------------------------------- Gemini


def gemini_error(reply: Reply) -> dict[str, Any]:
    status = GEMINI_STATUSES.get(reply.status, "UNKNOWN")
    return {"error": {"code": reply.status, "message": reply.text, "status": status}}


def _gemini_usage(reply: Reply) -> dict[str, Any]:
    prompt, completion, cached = _tokens(reply)
    return {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion,
        "totalTokenCount": prompt + completion,
        "cachedContentTokenCount": cached,
    }


def _gemini_finish(reply: Reply) -> str:
    return {"stop": "STOP", "length": "MAX_TOKENS"}.get(reply.finish_reason, "STOP")


def gemini_response(
    reply: Reply, model: str, text: str | None = None, last: bool = True
) -> dict[str, Any]:
    body: dict[str, Any] = {"modelVersion": model}
    if reply.kind == "empty":
        body["candidates"] = []
    else:
        parts = (
            [] if reply.kind == "null" else [{"text": reply.full_text if text is None else text}]
        )
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if last:
            candidate["finishReason"] = _gemini_finish(reply)
        body["candidates"] = [candidate]
    if last and reply.usage is not None:
        body["usageMetadata"] = _gemini_usage(reply)
    return body


def gemini_stream(reply: Reply, model: str) -> list[Event]:
    if reply.kind in ("empty", "null"):
        return [Event(None, gemini_response(reply, model))]
    pieces = reply.pieces
    return [
        Event(None, gemini_response(reply, model, text=piece, last=index == len(pieces) - 1), True)
        for index, piece in enumerate(pieces)
    ]


def gemini_models(names: list[str]) -> dict[str, Any]:
    return {"models": [{"name": f"models/{name}", "displayName": name} for name in names]}


def gemini_embeddings(texts: list[str], dimension: int) -> dict[str, Any]:
    return {"embeddings": [{"values": fake_vector(text, dimension)} for text in texts]}


# ----------------------------------------------------------------------------- images

FAKE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
"""A valid 1×1 PNG: what every generated image is."""


def openai_image(reply: Reply, prompt: str) -> dict[str, Any]:
    """``POST /v1/images/generations`` with one ``b64_json`` image (and gpt-image usage)."""
    prompt_tokens, output_tokens, _ = _tokens(reply)
    return {
        "created": CREATED,
        "data": [
            {
                "b64_json": base64.b64encode(FAKE_PNG).decode("ascii"),
                "revised_prompt": reply.text or prompt,
            }
        ],
        "usage": {
            "input_tokens": prompt_tokens,
            "input_tokens_details": {"image_tokens": 0, "text_tokens": prompt_tokens},
            "output_tokens": output_tokens,
            "total_tokens": prompt_tokens + output_tokens,
        },
    }


# ----------------------------------------------------------------------------- Ollama


def ollama_error(reply: Reply) -> dict[str, Any]:
    """Ollama's error body: ``{"error": "..."}``."""
    return {"error": reply.text}


PULL_LAYERS = (("sha256:" + "a" * 64, 4_000), ("sha256:" + "b" * 64, 1_000))
PULL_STEPS = 4


def ollama_pull(model: str, known: bool) -> list[dict[str, Any]]:
    """The NDJSON lines of ``POST /api/pull``: the manifest, each layer's download in
    steps, verification and ``success`` — or, for an unknown model, the error line
    Ollama sends after ``pulling manifest``."""
    lines: list[dict[str, Any]] = [{"status": "pulling manifest"}]
    if not known:
        return [*lines, {"error": f"pull model manifest: file does not exist: {model}"}]
    for digest, total in PULL_LAYERS:
        lines.append({"status": f"pulling {digest[7:19]}", "digest": digest, "total": total})
        for step in range(1, PULL_STEPS + 1):
            lines.append(
                {
                    "status": f"pulling {digest[7:19]}",
                    "digest": digest,
                    "total": total,
                    "completed": total * step // PULL_STEPS,
                }
            )
    lines += [
        {"status": "verifying sha256 digest"},
        {"status": "writing manifest"},
        {"status": "success"},
    ]
    return lines


# ----------------------------------------------------------------------------- speech

FAKE_AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00fake-audio"
"""What every synthesised speech file is (the bytes are returned as they are)."""

YANDEX_ERROR_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 500: "INTERNAL"}


def openai_transcription(reply: Reply) -> dict[str, Any]:
    """``POST /v1/audio/transcriptions`` (``response_format: json``)."""
    return {"text": reply.full_text}


def yandex_stt(reply: Reply) -> dict[str, Any]:
    """SpeechKit v1 ``stt:recognize``: ``{"result": "..."}``."""
    return {"result": reply.full_text}


def yandex_error(reply: Reply) -> dict[str, Any]:
    """SpeechKit's error body: ``{"error_code": "...", "error_message": "..."}``."""
    return {
        "error_code": YANDEX_ERROR_CODES.get(reply.status, "ERROR"),
        "error_message": reply.text,
    }
