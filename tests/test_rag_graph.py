"""Graph-RAG through ``lightrag-hku`` (spec ai.md §4.9, §5; issue 7): chunks rendered as
documents, storage choice, ``rag graph build`` over the sample team chat with the
heuristic extractor and with LightRAG's extraction on the fake LLM server, rebuilds that
add and embed nothing, ``rag graph query``, ``ask``'s graph modes and ``rag stats`` —
offline (the conftest socket guard allows loopback only), ``hash`` embeddings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tests.test_rag import CHAT_ID, KEY, Tg, import_team
from tgpilot.cli.context import run_async
from tgpilot.core.config import ConfigOptions, load_config
from tgpilot.core.config.environment import scoped_environment
from tgpilot.core.errors import ConfigError, UsageError
from tgpilot.models import Chat, ChatType, Message, Reaction, Sender
from tgpilot.services.prompts import PromptLibrary
from tgpilot.services.rag.chunking import MessageChunk, message_line
from tgpilot.services.rag.extract import extract_graph
from tgpilot.services.rag.graph.documents import DOCUMENT_PROMPT, render_document
from tgpilot.services.rag.graph.engine import (
    FILE_GRAPH,
    FILE_VECTORS,
    NEO4J_GRAPH,
    QDRANT_VECTORS,
    GraphStorage,
    choose_storage,
    create_lightrag,
    lightrag_module,
    open_lightrag,
)
from tgpilot.services.rag.graph.query import lightrag_mode, local_keywords

NEO4J_SECRET = "neo4j-pass-0123456789"
QDRANT_SECRET = "qdrant-key-0123456789"
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)

EXTRACTION = "\n".join(
    [
        "entity<|#|>Friday Release<|#|>event<|#|>The team release planned for Friday evening.",
        "entity<|#|>Anna<|#|>person<|#|>Anna plans the release.",
        "relation<|#|>Anna<|#|>Friday Release<|#|>planning<|#|>Anna planned the Friday release.",
        "<|COMPLETE|>",
    ]
)
"""An answer in LightRAG's delimiter format (``lightrag/prompt.py``: ``<|#|>`` between
fields, ``<|COMPLETE|>`` at the end)."""
KEYWORDS = '{"high_level_keywords": ["release"], "low_level_keywords": ["Friday"]}'
"""LightRAG's keyword extraction answer (JSON)."""


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(datetime(2024, 3, 10, 12, 0, tzinfo=UTC))


@pytest.fixture
def tg(fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> Tg:
    return Tg(fake_clock, capsys)


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture(autouse=True)
def hash_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TGPILOT_EMBEDDINGS__PROVIDER", "hash")


@pytest.fixture
def with_key(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return server


@pytest.fixture
def team_graph(tg: Tg, tmp_path: Path) -> dict[str, Any]:
    """The team chat imported and its graph built by the heuristic extractor."""
    import_team(tg, tmp_path)
    return build(tg, "--provider", "local")


def graph_nodes() -> set[str]:
    """The entity names in the graph under this test's data dir."""

    async def read() -> set[str]:
        config = load_config(ConfigOptions())
        async with open_lightrag(config, embedder=None, model="hash-256", dimension=256) as rag:
            return {
                str(n["entity_id"]) for n in await rag.chunk_entity_relation_graph.get_all_nodes()
            }

    return run_async(read())


def build(tg: Tg, *extra: str) -> dict[str, Any]:
    document: dict[str, Any] = tg.json("rag", "graph", "build", *extra)
    return document


# --------------------------------------------------------------------------- documents


def test_a_chunk_renders_as_one_document_with_positive_engagement_only() -> None:
    anonymous = Message(
        CHAT_ID, 1, T0, "Release on Friday", views=120, forwards=0,
        reactions=(Reaction("emoji", 2, "👍"), Reaction("paid", 1)),
    )  # fmt: skip
    reply = Message(
        CHAT_ID, 2, T0 + timedelta(minutes=1), "ok", sender=Sender(7, "Boris"), reply_to_id=1,
        reactions=(Reaction("emoji", 1, "👍"),),
    )  # fmt: skip
    chunk = MessageChunk(CHAT_ID, (anonymous, reply), tuple(map(message_line, (anonymous, reply))))
    chat = Chat(id=CHAT_ID, title="Team", type=ChatType.SUPERGROUP, raw_id=CHAT_ID)
    prompt = PromptLibrary().load(DOCUMENT_PROMPT)

    document = render_document(prompt, chunk, chat)

    assert document.id == chunk.id
    lines = document.text.splitlines()
    assert lines[:5] == [
        "Chat: Team",
        "Sender: Anonymous, Boris",
        "Date: 2024-03-01 09:00 UTC",
        "Reply: yes",
        "Engagement: 4 reactions, 120 views",
    ]
    assert "Boris: ok" in lines and lines[-1] == "Reactions: 👍×3 ⭐×1"
    assert document.payload["message_ids"] == [1, 2]
    lonely = Message(CHAT_ID, 3, T0, "hello", sender=Sender(8, "Vera"))
    quiet = render_document(prompt, MessageChunk(CHAT_ID, (lonely,), ("Vera: hello",)), chat)
    assert "Reply: no" in quiet.text and "Engagement: none" in quiet.text
    assert quiet.text.endswith("Reactions: none")


def test_template_labels_never_become_entities() -> None:
    text = "Chat: Team\nSender: Anonymous\nReply: no\nEngagement: none\nText:\nAlice met Bob"
    assert set(extract_graph(text).entities) == {"Team", "Alice", "Bob"}


# --------------------------------------------------------------------------- storage


def test_file_stores_by_default_qdrant_and_neo4j_by_url_without_leaking_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = choose_storage(load_config(ConfigOptions()))
    assert (default.vector, default.graph, dict(default.environment)) == (
        FILE_VECTORS,
        FILE_GRAPH,
        {},
    )
    monkeypatch.setenv("TGPILOT_VECTOR__URL", "http://127.0.0.1:6333")
    monkeypatch.setenv("TGPILOT_VECTOR__API_KEY", QDRANT_SECRET)
    monkeypatch.setenv("TGPILOT_GRAPH__NEO4J_URL", "bolt://127.0.0.1:7687")
    monkeypatch.setenv("TGPILOT_GRAPH__NEO4J_PASSWORD", NEO4J_SECRET)
    servers = choose_storage(load_config(ConfigOptions()))
    assert (servers.vector, servers.graph) == (QDRANT_VECTORS, NEO4J_GRAPH)
    assert servers.environment == {
        "QDRANT_URL": "http://127.0.0.1:6333",
        "QDRANT_API_KEY": QDRANT_SECRET,
        "NEO4J_URI": "bolt://127.0.0.1:7687",
        "NEO4J_USERNAME": "neo4j",
        "NEO4J_PASSWORD": NEO4J_SECRET,
    }
    shown = f"{servers!r} {servers.describe()}"
    assert NEO4J_SECRET not in shown and QDRANT_SECRET not in shown


def test_neo4j_without_a_password_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TGPILOT_GRAPH__NEO4J_URL", "bolt://127.0.0.1:7687")
    with pytest.raises(ConfigError, match="neo4j_password"):
        choose_storage(load_config(ConfigOptions()))


def test_server_credentials_are_set_only_while_the_graph_is_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    monkeypatch.setenv("NEO4J_USERNAME", "someone")
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    with scoped_environment({"NEO4J_USERNAME": "neo4j", "NEO4J_PASSWORD": NEO4J_SECRET}):
        assert os.environ["NEO4J_PASSWORD"] == NEO4J_SECRET
    assert os.environ["NEO4J_USERNAME"] == "someone" and "NEO4J_PASSWORD" not in os.environ


def test_vectors_go_to_qdrant_by_url_with_lightrag_s_qdrant_storage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    monkeypatch.setenv("TGPILOT_VECTOR__URL", "http://127.0.0.1:6333")
    monkeypatch.delenv("QDRANT_URL", raising=False)
    config = load_config(ConfigOptions())
    storage = choose_storage(config)
    with scoped_environment(storage.environment):
        rag = create_lightrag(config, storage, embedder=None, model="hash-256", dimension=256)
    lightrag_module("lightrag.kg.shared_storage").finalize_share_data()  # never opened
    assert rag.vector_storage == QDRANT_VECTORS and rag.graph_storage == FILE_GRAPH
    assert type(rag.chunks_vdb).__name__ == QDRANT_VECTORS
    assert "QDRANT_URL" not in os.environ  # set only while LightRAG is open


def test_neo4j_without_its_driver_is_refused_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    if importlib.util.find_spec("neo4j") is not None:
        pytest.skip("the neo4j driver is installed here")
    config = load_config(ConfigOptions())
    storage = GraphStorage(graph=NEO4J_GRAPH, environment={"NEO4J_URI": "bolt://127.0.0.1:1"})
    with pytest.raises(ConfigError, match="needs the neo4j package") as refused:
        create_lightrag(config, storage, embedder=None, model="hash-256", dimension=256)
    assert refused.value.hint is not None and "pip install neo4j" in refused.value.hint


# --------------------------------------------------------------------------- modes


def test_modes_map_vector_to_naive_and_graph_to_local() -> None:
    assert lightrag_mode("vector") == "naive" and lightrag_mode("graph") == "local"
    assert [lightrag_mode(m) for m in ("local", "global", "hybrid", "naive", "mix")] == [
        "local",
        "global",
        "hybrid",
        "naive",
        "mix",
    ]
    with pytest.raises(UsageError, match="unknown --mode"):
        lightrag_mode("graphs")


def test_local_keywords_are_entities_then_query_words() -> None:
    assert local_keywords("When is the release on Friday?", _stopwords()) == [
        "Friday",
        "release",
    ]


def _stopwords() -> Any:
    from tgpilot.services.rag.extract import load_stopwords

    return load_stopwords()


# --------------------------------------------------------------------------- heuristic graph


def test_heuristic_build_puts_extractor_entities_in_the_graph_and_rebuilds_add_nothing(
    tg: Tg, tmp_path: Path, server: FakeLLMServer
) -> None:
    import_team(tg, tmp_path)
    first = build(tg, "--provider", "local")
    assert first["extractor"] == "heuristic"
    assert (first["documents"], first["added"], first["skipped"]) == (3, 3, 0)
    assert first["llm_calls"] == 0 and first["embedding_calls"] >= 1
    assert first["entities"] > 0 and first["relations"] > 0
    nodes = graph_nodes()
    assert {"Team", "Anna", "Boris", "Vera", "Friday", "@user103", "Tverskaya"} <= nodes

    again = build(tg, "--provider", "local")
    assert (again["added"], again["skipped"]) == (0, 3)
    assert again["embedding_calls"] == 0 and again["llm_calls"] == 0
    assert (again["entities"], again["relations"]) == (first["entities"], first["relations"])
    assert server.requests == []

    rebuilt = build(tg, "--provider", "local", "--rebuild")
    assert rebuilt["added"] == 3 and rebuilt["entities"] == first["entities"]


def test_heuristic_build_never_loads_tiktoken_files(
    tg: Tg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tiktoken

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("tiktoken files must not be loaded")

    monkeypatch.setattr(tiktoken, "get_encoding", refuse)
    monkeypatch.setattr(tiktoken, "encoding_for_model", refuse)
    import_team(tg, tmp_path)
    assert build(tg, "--provider", "local")["added"] == 3


def test_a_new_message_adds_only_the_new_chunk(tg: Tg, tmp_path: Path) -> None:
    from tests.analyze_fixtures import BORIS, message
    from tests.test_rag import team_messages

    import_team(tg, tmp_path)
    build(tg, "--provider", "local")
    later = message(8, datetime(2024, 3, 2, 10, 0, tzinfo=UTC), BORIS, "Deploy went fine, Anna")
    import_team(tg, tmp_path, [*team_messages(), later])
    more = build(tg, "--provider", "local")
    assert (more["added"], more["skipped"]) == (1, 3)


def test_a_conversation_still_going_on_waits_for_the_next_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock(datetime(2024, 3, 1, 20, 10, tzinfo=UTC))  # 10 min after message 7
    tg = Tg(clock, capsys)
    import_team(tg, tmp_path)
    early = build(tg, "--provider", "local")
    assert (early["documents"], early["added"], early["waiting"]) == (2, 2, 1)
    clock.advance(3600)
    later = build(tg, "--provider", "local")
    assert (later["added"], later["skipped"], later["waiting"]) == (1, 2, 0)


@pytest.mark.usefixtures("team_graph")
def test_graph_query_without_a_model_returns_context_only(tg: Tg, server: FakeLLMServer) -> None:
    found = tg.json(
        "rag", "graph", "query", "When is the release on Friday?", "--provider", "local"
    )
    assert found["answer"] is None and found["mode"] == "local"
    assert found["keywords"] == ["Friday", "release"]
    assert "Friday" in [e["name"] for e in found["entities"]]
    first = found["passages"][0]
    assert first["message_ids"] == [1, 2, 3, 4]
    assert first["link"] == f"https://t.me/c/{CHAT_ID}/1"
    naive = tg.json(
        "rag", "graph", "query", "pizza lunch", "--mode", "vector", "--provider", "local"
    )
    assert naive["mode"] == "naive" and naive["passages"][0]["message_ids"] == [5, 6]
    code, out, _ = tg("rag", "graph", "query", "Tverskaya pizza", "--provider", "local")
    assert code == 0 and "Tverskaya" in out and "https://t.me/c/" in out
    assert server.requests == []


def test_graph_query_refuses_unknown_modes_and_an_unbuilt_graph(tg: Tg) -> None:
    code, _, err = tg("rag", "graph", "query", "anything", "--mode", "deep")
    assert code == 2 and "unknown --mode" in err
    code, _, err = tg("rag", "graph", "query", "anything", "--provider", "local")
    assert code == 2 and "rag graph build" in err


def test_rag_stats_reports_graph_nodes_and_edges(tg: Tg, tmp_path: Path) -> None:
    assert tg.json("rag", "stats")["graph"] == {"nodes": 0, "edges": 0}
    import_team(tg, tmp_path)
    report = build(tg, "--provider", "local")
    stats = tg.json("rag", "stats")["graph"]
    assert stats == {"nodes": report["entities"], "edges": report["relations"]}
    code, out, _ = tg("rag", "stats")
    assert code == 0 and f"graph: {report['entities']} nodes, {report['relations']} edges" in out


# --------------------------------------------------------------------------- with a model


def test_llm_build_extracts_through_the_gateway_and_a_rebuild_calls_nothing(
    tg: Tg, tmp_path: Path, with_key: FakeLLMServer
) -> None:
    import_team(tg, tmp_path)
    with_key.script(*[Reply.of_text(EXTRACTION)] * 12)
    first = build(tg)
    assert first["extractor"] == "llm" and first["added"] == 3 and not first["failed_chats"]
    calls = with_key.requests_to("/chat/completions")
    assert first["llm_calls"] == len(calls) >= 3
    assert any("Friday evening" in str(c.json["messages"]) for c in calls)
    assert {"Friday Release", "Anna"} <= graph_nodes()
    usage = {g["command"]: g for g in tg.json("llm", "usage")["groups"]}
    assert usage["rag graph"]["calls"] == first["llm_calls"]  # recorded like any call

    again = build(tg)
    assert (again["added"], again["llm_calls"], again["embedding_calls"]) == (0, 0, 0)
    assert len(with_key.requests_to("/chat/completions")) == len(calls)


@pytest.mark.usefixtures("team_graph")
def test_graph_query_with_a_model_returns_lightrag_answer(tg: Tg, with_key: FakeLLMServer) -> None:
    with_key.script(Reply.of_text(KEYWORDS), Reply.of_text("The release is on Friday evening."))
    found = tg.json("rag", "graph", "query", "When is the release?")
    assert found["answer"] == "The release is on Friday evening."
    assert found["passages"] and found["usage"]["calls"] == 2


@pytest.mark.usefixtures("team_graph")
def test_ask_graph_mode_cites_only_the_graph_passages_it_was_given(
    tg: Tg, with_key: FakeLLMServer
) -> None:
    with_key.script(
        Reply.of_text(KEYWORDS),
        Reply.of_text("The release is on Friday [1]. Pizza is planned [7]."),
    )
    code, out, err = tg("ask", "When is the release on Friday?", "--mode", "graph", "--k", "2")
    assert code == 0, err
    answer, sources = out.split("Sources:")
    assert "Friday [1]." in answer and "[7]" not in answer and "[7]" in err
    assert all("https://t.me/c/" in line for line in sources.strip().splitlines())
    keywords, question = with_key.requests_to("/chat/completions")
    assert "[1] Team" in question.json["messages"][-1]["content"]
    assert "When is the release" in str(keywords.json["messages"])


@pytest.mark.usefixtures("team_graph")
def test_ask_graph_mode_without_a_key_prints_the_graph_passages(
    tg: Tg, server: FakeLLMServer
) -> None:
    code, out, err = tg("ask", "Tverskaya pizza", "--mode", "hybrid", "--k", "1")
    assert code == 0 and "OPENAI_API_KEY" in err
    assert out.startswith("[1] Team") and "Pizza" in out
    assert server.requests == []


@pytest.mark.usefixtures("team_graph")
def test_an_entity_keeps_every_chunk_it_appears_in(tg: Tg) -> None:
    found = tg.json("rag", "graph", "query", "Anna", "--provider", "local", "--k", "8")
    ids = [p["message_ids"] for p in found["passages"]]
    assert [1, 2, 3, 4] in ids and [7] in ids


def test_documents_the_model_failed_on_are_named_and_retried(
    tg: Tg, tmp_path: Path, with_key: FakeLLMServer
) -> None:
    import_team(tg, tmp_path)
    with_key.script(*[Reply.error(400, "bad request")] * 3)  # one per document, not retried
    code, out, err = tg("rag", "graph", "build", "--json")
    assert code == 1, err
    report = json.loads(out)
    assert report["failed_chats"] == ["Team"] and report["added"] == 0
    assert "openai error 400" in err and "Traceback" not in err
    assert with_key.pending == 0

    with_key.script(*[Reply.of_text(EXTRACTION)] * 12)
    retried = build(tg)
    assert retried["added"] == 3 and not retried["failed_chats"]
