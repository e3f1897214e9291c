"""Semantic search and ``ask`` over the archive (spec ai.md §4.9; scenarios 30, 31):
the chunkers and the heuristic extractor, then the real CLI — ``import`` a Desktop
export into the store, ``rag index`` into embedded Qdrant with ``hash`` embeddings,
``rag search``, ``ask`` on the fake LLM server, ``rag related|thread|stats``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analyze_fixtures import ANNA, BORIS, VERA, message, single_chat, write_export
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tgpilot.cli.app import run
from tgpilot.gateways.llm.embeddings import HashBackend, TextEmbedder, hash_vector
from tgpilot.gateways.vectors.qdrant import VectorPoint, VectorStore
from tgpilot.models import Message, Sender
from tgpilot.services.rag.ask import check_citations
from tgpilot.services.rag.chunking import (
    chunk_messages,
    chunk_words,
    markdown_sections,
    point_id,
)
from tgpilot.services.rag.extract import extract_graph
from tgpilot.services.rag.passages import collection_name, message_link, snippet
from tgpilot.services.rag.search import candidate_count, fused_score, search_archive

KEY = "sk-test-0123456789abcdef"
CHAT_ID = 1862000001
MARKED_ID = str(-(1_000_000_000_000 + CHAT_ID))
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- scenario 30


def test_word_chunker_follows_size_and_overlap() -> None:
    text = "one two three four five six seven"
    assert chunk_words(text, 4, 1) == ["one two three four", "four five six seven"]
    assert chunk_words("a b c d e f", 2, 0) == ["a b", "c d", "e f"]
    assert chunk_words("a b c", 0, 0) == ["a", "b", "c"]  # size 0 acts as 1
    assert chunk_words("a b c d e", 3, 10) == chunk_words("a b c d e", 3, 2)
    assert chunk_words("a b c d e", 3, 2) == ["a b c", "b c d", "c d e"]
    assert chunk_words("", 3, 1) == []


def test_extractor_keeps_capitalised_marked_and_numeric_tokens() -> None:
    graph = extract_graph("Alice met Bob in Paris with @carol in 2024")
    assert set(graph.entities) == {"Alice", "Bob", "Paris", "@carol", "2024"}
    assert extract_graph("The Да").entities == ()


def test_extractor_links_consecutive_entities() -> None:
    graph = extract_graph("Alice Bob Carol")
    assert graph.entities == ("Alice", "Bob", "Carol")
    assert [(r.source, r.target, r.kind, r.weight) for r in graph.relations] == [
        ("Alice", "Bob", "co_occurs", 1.0),
        ("Bob", "Carol", "co_occurs", 1.0),
    ]


def _msg(mid: int, minutes: int, text: str, sender: Sender | None = None) -> Message:
    return Message(CHAT_ID, mid, T0 + timedelta(minutes=minutes), text, sender=sender)


def test_message_chunks_break_at_gaps_and_overlap_one_message_on_size() -> None:
    anna = Sender(1, "Anna")
    messages = [_msg(i, i, f"word{i} a b", anna) for i in range(1, 7)]
    messages.append(_msg(7, 100, "after the gap", anna))
    chunks = list(
        chunk_messages(
            messages,
            max_tokens=12,
            gap=timedelta(minutes=30),
            count_tokens=lambda s: len(s.split()),
        )
    )
    assert [[m.id for m in c.messages] for c in chunks] == [[1, 2, 3], [3, 4, 5], [5, 6], [7]]
    restarted = list(
        chunk_messages(
            messages[2:],
            max_tokens=12,
            gap=timedelta(minutes=30),
            count_tokens=lambda s: len(s.split()),
        )
    )
    assert [c.id for c in restarted] == [c.id for c in chunks[1:]]


def test_markdown_sections_follow_headings_outside_code() -> None:
    text = "intro\n# Ops\ntext\n## Backups\nnightly\n```\n# not a heading\n```\n# Other\nx"
    sections = markdown_sections(text)
    assert [(s.heading, s.path) for s in sections] == [
        ("", ()),
        ("Ops", ("Ops",)),
        ("Backups", ("Ops", "Backups")),
        ("Other", ("Other",)),
    ]
    assert "# not a heading" in sections[2].text


# --------------------------------------------------------------------------- scenario 31 pieces


def test_citations_of_sources_not_given_are_stripped() -> None:
    checked = check_citations("Friday [1]. Price went up [3]. Both [1, 3].", 2)
    assert checked.text == "Friday [1]. Price went up. Both [1]."
    assert checked.cited == (1,)
    assert checked.invalid == (3,)


def test_a_300_character_cyrillic_snippet_is_cut_at_240_and_stays_utf8() -> None:
    text = "Ж" * 300
    cut = snippet(text)
    assert len(cut) == 240
    assert cut.endswith("…")
    assert cut.encode("utf-8").decode("utf-8") == cut


def test_links_use_the_username_of_public_chats_else_the_raw_id() -> None:
    assert message_link(-1001234, 1234, "team", 7) == "https://t.me/team/7"
    assert message_link(-1001234, 1234, None, 7) == "https://t.me/c/1234/7"


async def test_search_fuses_keywords_with_the_vector_over_a_wider_candidate_set(
    tmp_path: Path,
) -> None:
    embedder = TextEmbedder(HashBackend())
    query = "Где встреча клуба по книге?"
    nearest = hash_vector(query)
    worded = hash_vector(query + " кофе кафе суббота вечер")
    payloads = [
        # the nearest vector, none of the query's words
        {"chat_id": 1, "message_ids": [1], "ts": 0.0, "text": "Анна: где где по"},
        # a farther vector, other forms of the query's words
        {"chat_id": 1, "message_ids": [2], "ts": 0.0, "text": "Вера: встречаемся у клуба"},
    ]
    async with VectorStore(path=tmp_path / "qdrant") as vectors:
        name = collection_name(embedder.model, len(nearest))
        await vectors.ensure_collection(name, len(nearest))
        await vectors.upsert(
            name,
            [
                VectorPoint(point_id("t", n), v, p)
                for n, (v, p) in enumerate(zip((nearest, worded), payloads, strict=True))
            ],
        )
        found = await search_archive(vectors, embedder, query, limit=2)
    assert [p.message_ids for p in found] == [(2,), (1,)]
    cosine = sum(a * b for a, b in zip(nearest, worded, strict=True))
    # "встре…" and "клуба" found, "книге" (five letters, not stemmed) not
    assert found[0].score == pytest.approx(fused_score(cosine, 2 / 3))
    assert found[1].score == pytest.approx(fused_score(1.0, 0.0))
    assert candidate_count(8, by_name=False) == 160
    assert candidate_count(50, by_name=False) == 200
    assert candidate_count(50, by_name=True) == 500
    assert candidate_count(500, by_name=False) == 500


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(datetime(2024, 3, 10, 12, 0, tzinfo=UTC))


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
def hash_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TGPILOT_EMBEDDINGS__PROVIDER", "hash")


class Tg:
    """The CLI in-process, capturing exit code, stdout and stderr."""

    def __init__(self, clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> None:
        self.clock = clock
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = run(list(args), clock=self.clock)
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def tg(fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> Tg:
    return Tg(fake_clock, capsys)


def team_messages() -> list[dict[str, Any]]:
    """Three conversations hours apart (so three chunks), with a reply chain."""
    day = datetime(2024, 3, 1, tzinfo=UTC)
    return [
        message(1, day + timedelta(hours=9), ANNA, "The release is planned for Friday evening"),
        message(
            2,
            day + timedelta(hours=9, minutes=5),
            BORIS,
            "Friday works, I will tag it",
            reply_to_message_id=1,
        ),
        message(
            3,
            day + timedelta(hours=9, minutes=7),
            VERA,
            "Then I prepare release notes",
            reply_to_message_id=2,
        ),
        message(
            4,
            day + timedelta(hours=9, minutes=8),
            ANNA,
            "Great, thanks @user103",
            reply_to_message_id=2,
        ),
        message(5, day + timedelta(hours=14), BORIS, "Lunch at the pizza place on Tverskaya?"),
        message(6, day + timedelta(hours=14, minutes=3), VERA, "Pizza again, sure"),
        message(7, day + timedelta(hours=20), ANNA, "Ж" * 300),
    ]


def import_team(tg: Tg, tmp_path: Path, messages: list[dict[str, Any]] | None = None) -> None:
    export = write_export(
        tmp_path / "team", single_chat(messages or team_messages(), name="Team", id=CHAT_ID)
    )
    code, _, err = tg("import", str(export))
    assert code == 0, err


def test_rag_index_is_idempotent_and_incremental(tg: Tg, tmp_path: Path, hash_env: None) -> None:
    import_team(tg, tmp_path)
    first = tg.json("rag", "index", "--all")
    assert first["embedded"] == 3 and first["embedding_requests"] == 1
    assert first["collection"] == "messages__hash-256__256"
    points = tg.json("rag", "stats")["points"]
    assert points == 3

    second = tg.json("rag", "index", "--all")
    assert second["embedded"] == 0 and second["embedding_requests"] == 0
    assert tg.json("rag", "stats")["points"] == points

    more = [
        *team_messages(),
        message(8, datetime(2024, 3, 1, 20, 10, tzinfo=UTC), BORIS, "Nice long letter, Anna"),
    ]
    import_team(tg, tmp_path, more)
    third = tg.json("rag", "index", MARKED_ID)
    assert third["embedded"] == 1 and third["replaced"] == 1
    assert tg.json("rag", "stats")["points"] == 3

    rebuilt = tg.json("rag", "index", "--all", "--rebuild")
    assert rebuilt["embedded"] == 3


def test_rag_index_needs_chats_or_all(tg: Tg, hash_env: None) -> None:
    code, _, err = tg("rag", "index")
    assert code == 2 and "--all" in err
    code, _, err = tg("rag", "index", "Nowhere")
    assert code == 2


def test_rag_search_finds_by_meaning_with_snippets_and_links(
    tg: Tg, tmp_path: Path, hash_env: None
) -> None:
    import_team(tg, tmp_path)
    tg.json("rag", "index", "--all")
    results = tg.json("rag", "search", "pizza lunch", "--limit", "2")["results"]
    assert results[0]["message_ids"] == [5, 6]
    assert results[0]["link"] == f"https://t.me/c/{CHAT_ID}/5"
    assert results[0]["sender"] == "Boris, Vera"
    long = tg.json("rag", "search", "Ж" * 10)["results"]
    cyrillic = next(r for r in long if r["message_ids"] == [7])
    assert len(cyrillic["snippet"]) == 240
    filtered = tg.json("rag", "search", "pizza lunch", "--sender", "Anna")["results"]
    assert all("Anna" in r["sender"] for r in filtered)
    code, out, _ = tg("rag", "search", "release Friday", "--limit", "1")
    assert code == 0 and "Team" in out and "https://t.me/c/" in out


def test_ask_keeps_given_citations_warns_about_others_and_lists_sources(
    tg: Tg,
    tmp_path: Path,
    hash_env: None,
    server: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import_team(tg, tmp_path)
    tg.json("rag", "index", "--all")
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server.script(Reply.of_text("The release is on Friday [1]. Pizza is planned [3]."))
    code, out, err = tg("ask", "when is the release on Friday?", "--k", "2")
    assert code == 0, err
    assert "Friday [1]." in out and "[3]" not in out.split("Sources:")[0]
    assert "[3]" in err  # the warning names it
    sources = out.split("Sources:")[1].strip().splitlines()
    assert len(sources) == 2
    assert all("https://t.me/c/" in line for line in sources)
    (request,) = server.requests_to("/chat/completions")
    user = request.json["messages"][-1]["content"]
    assert "[1] Team" in user and "[2] Team" in user and "[3]" not in user


def test_ask_json_lists_citations_and_usage(
    tg: Tg,
    tmp_path: Path,
    hash_env: None,
    server: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import_team(tg, tmp_path)
    tg.json("rag", "index", "--all")
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server.script(Reply.of_text("Friday [2]."))
    document = tg.json("ask", "release Friday", "--k", "2")
    assert document["answer"] == "Friday [2]."
    assert [c["n"] for c in document["citations"]] == [1, 2]
    assert set(document["citations"][0]) >= {
        "n",
        "chat_id",
        "message_ids",
        "date",
        "sender",
        "snippet",
        "score",
        "link",
    }
    assert document["cited"] == [2] and document["usage"]["calls"] == 1


def test_ask_without_a_key_prints_passages_and_calls_nothing(
    tg: Tg, tmp_path: Path, hash_env: None, server: FakeLLMServer
) -> None:
    import_team(tg, tmp_path)
    tg.json("rag", "index", "--all")
    code, out, err = tg("ask", "pizza lunch", "--k", "1")
    assert code == 0
    assert "OPENAI_API_KEY" in err
    assert out.startswith("[1] Team") and "Pizza" in out
    assert server.requests == []


def test_ask_with_nothing_indexed_makes_no_model_call(
    tg: Tg, hash_env: None, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    code, out, _ = tg("ask", "anything at all?")
    assert code == 0 and "nothing in the archive" in out
    assert server.requests == []


def test_ask_refuses_unknown_and_graph_modes(tg: Tg, hash_env: None) -> None:
    code, _, err = tg("ask", "q", "--mode", "vectr")
    assert code == 2 and "unknown --mode" in err
    code, _, err = tg("ask", "q", "--mode", "hybrid")
    assert code == 2 and "graph" in err


def test_rag_thread_rebuilds_the_reply_chain(tg: Tg, tmp_path: Path) -> None:
    import_team(tg, tmp_path)
    document = tg.json("rag", "thread", MARKED_ID, "2")
    assert [(m["depth"], m["id"]) for m in document["messages"]] == [
        (-1, 1),
        (0, 2),
        (1, 3),
        (1, 4),
    ]
    code, _, _ = tg("rag", "thread", MARKED_ID, "99")
    assert code == 2


def test_rag_related_ranks_people_by_interaction(tg: Tg, tmp_path: Path) -> None:
    import_team(tg, tmp_path)
    document = tg.json("rag", "related", "Boris")
    people = {p["name"]: p for p in document["related"]}
    # Anna: a reply each way (2 × 3) and 2 messages within 10 minutes of Boris's (2);
    # Vera: one reply to Boris (3) and 2 nearby messages (2).
    assert (people["Anna"]["replies"], people["Anna"]["nearby"], people["Anna"]["score"]) == (
        2,
        2,
        8,
    )
    assert (people["Vera"]["replies"], people["Vera"]["nearby"], people["Vera"]["score"]) == (
        1,
        2,
        5,
    )
    assert [p["name"] for p in document["related"]] == ["Anna", "Vera"]
    code, _, _ = tg("rag", "related", "Nobody Here")
    assert code == 2


def test_rag_stats_on_an_empty_index_shows_zeros(tg: Tg, hash_env: None) -> None:
    document = tg.json("rag", "stats")
    assert document["points"] == 0 and document["graph"] == {"nodes": 0, "edges": 0}
    assert document["embeddings"] == {"provider": "hash", "model": "hash-256"}


def test_ask_streams_the_answer_then_warns_about_unknown_citations(
    tg: Tg,
    tmp_path: Path,
    hash_env: None,
    server: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import_team(tg, tmp_path)
    tg.json("rag", "index", "--all")
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server.script(Reply.stream(["Friday ", "[1]", " and [7]."]))
    code, out, err = tg("ask", "release Friday", "--k", "2", "--stream")
    assert code == 0, err
    assert out.startswith("Friday [1] and [7].")
    assert "[7]" in err and "ignore it" in err
    assert len(out.split("Sources:")[1].strip().splitlines()) == 2
