"""Knowledge-base retrieval (spec ai.md §4.10; scenario 32, first half): heading-aware
chunks of Markdown files in embedded Qdrant, re-embedding only changed files, and the
keyword score that ranks alone under ``hash`` embeddings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tgpilot.gateways.llm.embeddings import HashBackend, TextEmbedder
from tgpilot.gateways.llm.types import ChatMessage
from tgpilot.gateways.vectors.qdrant import VectorStore
from tgpilot.services.prompts import PromptLibrary
from tgpilot.services.rag.extract import load_stopwords
from tgpilot.services.rag.kb import KnowledgeBase, consultant_request, split_file
from tgpilot.services.rag.keywords import keyword_score, query_words, stem

OPS = """# Operations

How the service runs in production.

## Deploys

Deploys go through the CI pipeline after review.

## Backups

Database backups are taken every night at 02:00 and copied to object storage.
Restores are tested monthly.
"""

BILLING = """# Billing

Invoices are sent on the first day of the month. Payment terms are 14 days.
"""

ONBOARDING = """# Onboarding

New people get access to the repository and the chat on their first day.
"""


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    (folder / "team").mkdir(parents=True)
    (folder / "ops.md").write_text(OPS, encoding="utf-8")
    (folder / "billing.md").write_text(BILLING, encoding="utf-8")
    (folder / "team" / "onboarding.md").write_text(ONBOARDING, encoding="utf-8")
    return folder


@pytest.fixture
async def kb(tmp_path: Path) -> AsyncIterator[KnowledgeBase]:
    embedder = TextEmbedder(HashBackend())
    async with VectorStore(path=tmp_path / "qdrant") as vectors:
        yield KnowledgeBase(
            "docs", vectors, embedder, tmp_path / "kb_state.json", count_tokens=words
        )


async def test_backups_question_ranks_the_backups_chunk_first(
    kb: KnowledgeBase, docs: Path
) -> None:
    report = await kb.index(docs)
    assert report.files == 3 and report.chunks_embedded == 5
    assert kb.collection == "kb__docs"
    hits = await kb.query("how are backups done?")
    assert hits[0].chunk.file == "ops.md"
    assert hits[0].chunk.heading == "Backups"
    assert hits[0].chunk.title == "ops.md — Operations > Backups"
    assert hits[0].keyword_score == 1.0
    assert len(hits) <= 4


async def test_reindexing_unchanged_files_embeds_nothing(kb: KnowledgeBase, docs: Path) -> None:
    await kb.index(docs)
    again = await kb.index(docs)
    assert again.changed == [] and again.chunks_embedded == 0 and again.requests == 0


async def test_only_a_changed_file_is_reembedded_and_a_removed_one_leaves(
    kb: KnowledgeBase, docs: Path
) -> None:
    await kb.index(docs)
    (docs / "billing.md").write_text(BILLING + "\n## Refunds\n\nRefunds take 5 days.\n")
    (docs / "team" / "onboarding.md").unlink()
    report = await kb.index(docs)
    assert report.changed == ["billing.md"]
    assert report.removed == ["team/onboarding.md"]
    assert report.requests == 1
    assert (await kb.query("refunds"))[0].chunk.heading == "Refunds"
    assert await kb.query("repository access onboarding") == []


async def test_nothing_relevant_returns_no_chunk(kb: KnowledgeBase, docs: Path) -> None:
    await kb.index(docs)
    assert await kb.query("quantum chromodynamics") == []


def test_long_sections_go_through_the_word_chunker_keeping_their_heading() -> None:
    body = " ".join(f"w{i}" for i in range(25))
    chunks = split_file(
        "long.md",
        f"# Long\n{body}\n",
        chunk_tokens=10,
        chunk_words_size=10,
        overlap_words=2,
        count_tokens=words,
    )
    assert len(chunks) == 3
    assert all(c.text.startswith("# Long\n") and c.heading == "Long" for c in chunks)


def test_keyword_score_counts_distinct_query_words_at_word_starts() -> None:
    stop = load_stopwords()
    query = query_words("How are the backups done? backups!", stop)
    assert query == ("backups",)
    assert keyword_score(query, "Database backups nightly") == 1.0
    assert keyword_score(query, "no-backupsy here") == 1.0  # word start
    assert keyword_score(query, "makebackups") == 0.0


def test_stemmed_query_words_find_other_forms_of_long_words() -> None:
    stop = load_stopwords()
    assert stem("встреча") == "встре" and stem("обсуждение") == "обсужден"
    assert stem("книга") == "книга" and stem("reviews") == "revie"
    query = query_words("Где встреча клуба? Ёлка", stop, stem_words=True)
    assert query == ("встре", "клуба", "елка")  # "где" is a stop-word, ё read as е
    assert keyword_score(("встре",), "Встречаемся в кафе") == 1.0


async def test_consultant_request_holds_sources_history_and_question(
    kb: KnowledgeBase, docs: Path
) -> None:
    await kb.index(docs)
    hits = await kb.query("backups")
    library = PromptLibrary()
    history = [ChatMessage("user", f"q{i}") for i in range(12)]
    messages = consultant_request(
        library.load("consultant"), library.load("consultant_context"), hits, history, "backups?"
    )
    assert messages[0].role == "system"
    assert "[1] ops.md — Operations > Backups" in messages[1].content
    assert [m.content for m in messages[2:-1]] == [f"q{i}" for i in range(2, 12)]
    assert messages[-1] == ChatMessage("user", "backups?")
