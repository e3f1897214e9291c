"""``tgpilot viral import|list|send|stats`` on the fake Telegram (spec telegram-cli §4.5,
scenario 31): questions files, plans of the active questions, sends marked in the store,
failures kept active with their error, saved plans applied, engagement read back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.model import ReactionRec
from tests.harness import Cli

BOOKS = -1001111111111
DEV = -1002222222222
NEWS = -1003333333333

QUESTIONS = """\
chats:
  - {key: book-club, chat: "@example_book_club", expected_reactions: [50, 100],
     expected_comments: 30, description: "Readers"}
  - {key: dev-talk, chat: "@example_dev_talk", expected_reactions: [10, 20]}
  - {key: news, chat: "@example_news"}
questions:
  - {chat: book-club, text: "Which book changed how you work, and why?", status: active,
     priority: 10, tags: [books]}
  - {chat: dev-talk, text: "Tabs or spaces — and what would change your mind?",
     status: active, priority: 20}
  - {chat: news, text: "A draft that must never go out", priority: 99}
"""
BOOK_QUESTION = "Which book changed how you work, and why?"
DEV_QUESTION = "Tabs or spaces — and what would change your mind?"
DRAFT_QUESTION = "A draft that must never go out"


def viral_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", dialog=True)
    world.add_supergroup(1111111111, "Book Club", "example_book_club", members=[alice])
    world.add_supergroup(2222222222, "Dev Talk", "example_dev_talk", members=[alice])
    world.add_supergroup(3333333333, "News Room", "example_news", members=[alice])
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(viral_world())


@pytest.fixture
def questions_file(tmp_path: Path) -> Path:
    path = tmp_path / "questions.yml"
    path.write_text(QUESTIONS, encoding="utf-8")
    return path


def audit(cli: Cli) -> list[dict[str, Any]]:
    path = cli.home / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def questions(cli: Cli, *args: str) -> dict[str, dict[str, Any]]:
    """The stored questions by text."""
    result = cli("viral", "list", "--json", *args)
    assert result.code == 0, result.err
    return {q["text"]: q for q in result.json()["questions"]}


def sent_texts(cli: Cli) -> list[str]:
    return [m.text for chat in (BOOKS, DEV, NEWS) for m in cli.world.history(chat) if m.out]


def test_import_counts_and_list(cli: Cli, questions_file: Path) -> None:
    result = cli("viral", "import", str(questions_file), "--json")
    assert result.code == 0, result.err
    assert result.json() == {
        "chats": {"inserted": 3, "updated": 0, "unchanged": 0},
        "questions": {"inserted": 3, "updated": 0, "unchanged": 0},
    }
    again = cli("viral", "import", str(questions_file))
    assert again.code == 0, again.err
    assert again.out.strip() == (
        "chats: inserted 0, updated 0, unchanged 3; questions: inserted 0, updated 0, unchanged 3"
    )
    stored = questions(cli)
    assert list(stored) == [DRAFT_QUESTION, DEV_QUESTION, BOOK_QUESTION]  # priority desc
    assert stored[BOOK_QUESTION]["status"] == "active"
    assert stored[BOOK_QUESTION]["tags"] == ["books"]
    assert stored[DRAFT_QUESTION]["status"] == "draft"
    assert list(questions(cli, "--status", "active")) == [DEV_QUESTION, BOOK_QUESTION]
    human = cli("viral", "list")
    assert human.code == 0, human.err
    assert "[active] dev-talk p20: Tabs or spaces" in human.out
    assert cli("viral", "list", "--status", "live").code == 2
    assert cli.world.connections == []  # import and list never touch Telegram


def test_scenario_31_plans_the_two_active_questions_and_sends_nothing(
    cli: Cli, questions_file: Path
) -> None:
    assert cli("viral", "import", str(questions_file)).code == 0
    result = cli("viral", "send", "--json")
    assert result.code == 0, result.err
    plan = result.json()
    assert (plan["kind"], plan["applied"]) == ("telegram.viral", False)
    items = plan["items"]
    assert [(i["chat_id"], i["text"]) for i in items] == [
        (DEV, DEV_QUESTION),
        (BOOKS, BOOK_QUESTION),
    ]
    assert {i["action"] for i in items} == {"send"}
    assert items[0]["extra"]["chat_key"] == "dev-talk"
    assert cli.world.mutating_requests() == {}
    assert sent_texts(cli) == []
    assert audit(cli) == []
    assert {q["status"] for q in questions(cli).values()} == {"active", "draft"}
    human = cli("viral", "send")
    assert "send -> Dev Talk: Tabs or spaces" in human.out
    assert "rerun with --yes" in human.err


def test_scenario_31_yes_marks_sent_and_a_rerun_plans_nothing(
    cli: Cli, questions_file: Path
) -> None:
    assert cli("viral", "import", str(questions_file)).code == 0
    result = cli("viral", "send", "--yes", "--delay", "3")
    assert result.code == 0, result.err
    assert "done 2, skipped 0, failed 0" in result.out
    assert cli.world.requests["SendMessageRequest"] == 2
    assert sent_texts(cli) == [BOOK_QUESTION, DEV_QUESTION]
    assert cli.clock.sleeps and 2.4 <= cli.clock.sleeps[-1] <= 3.6  # paced, ±20 %

    stored = questions(cli)
    for text, chat in ((BOOK_QUESTION, BOOKS), (DEV_QUESTION, DEV)):
        question = stored[text]
        assert question["status"] == "sent"
        assert question["sent_at"] is not None
        message = cli.world.message(chat, question["sent_message_id"])
        assert message.text == text and message.out
    assert stored[DRAFT_QUESTION]["status"] == "draft"
    assert stored[DRAFT_QUESTION]["sent_at"] is None

    lines = audit(cli)
    assert [(x["action"], x["result"]) for x in lines] == [("telegram.send", "ok")] * 2
    assert {x["chat_id"] for x in lines} == {BOOKS, DEV}
    assert {x["params"]["question_id"] for x in lines} == {
        stored[BOOK_QUESTION]["id"],
        stored[DEV_QUESTION]["id"],
    }
    assert {x["params"]["sent_message_id"] for x in lines} == {
        stored[BOOK_QUESTION]["sent_message_id"],
        stored[DEV_QUESTION]["sent_message_id"],
    }
    assert lines[0]["params"]["chars"] == len(DEV_QUESTION)
    for line in lines:
        assert "Tabs" not in json.dumps(line, ensure_ascii=False)
        assert "Which book" not in json.dumps(line, ensure_ascii=False)

    rerun = cli("viral", "send", "--json")
    assert rerun.code == 0, rerun.err
    assert rerun.json()["items"] == []
    again = cli("viral", "send", "--questions", str(questions_file), "--yes")  # re-import
    assert again.code == 0, again.err
    assert "done 0, skipped 0, failed 0" in again.out
    assert cli.world.requests["SendMessageRequest"] == 2


def test_scenario_31_a_failed_send_stays_active_with_its_error(
    cli: Cli, questions_file: Path
) -> None:
    assert cli("viral", "import", str(questions_file)).code == 0
    cli.world.faults.fail("SendMessageRequest", nth=2, error="CHAT_WRITE_FORBIDDEN")
    result = cli("viral", "send", "--yes")
    assert result.code == 3
    assert "done 1, skipped 0, failed 1" in result.out
    stored = questions(cli)
    assert stored[DEV_QUESTION]["status"] == "sent"
    failed = stored[BOOK_QUESTION]
    assert failed["status"] == "active"
    assert failed["sent_at"] is None and failed["sent_message_id"] is None
    assert "CHAT_WRITE_FORBIDDEN" in failed["last_error"]
    lines = audit(cli)
    assert [x["result"] for x in lines] == ["ok", "failed"]
    assert "CHAT_WRITE_FORBIDDEN" in lines[1]["error"]
    assert lines[1]["params"]["sent_message_id"] is None

    retry = cli("viral", "send", "--yes", "--json")
    assert retry.code == 0, retry.err
    assert [i["text"] for i in retry.json()["items"]] == [BOOK_QUESTION]
    stored = questions(cli)
    assert stored[BOOK_QUESTION]["status"] == "sent"
    assert stored[BOOK_QUESTION]["last_error"] is None


def test_every_send_failing_exits_1(cli: Cli, questions_file: Path) -> None:
    assert cli("viral", "import", str(questions_file)).code == 0
    cli.world.faults.fail("SendMessageRequest", error="CHAT_WRITE_FORBIDDEN")
    result = cli("viral", "send", "--yes")
    assert result.code == 1
    assert "done 0, skipped 0, failed 2" in result.out
    assert {q["status"] for q in questions(cli, "--status", "active").values()} == {"active"}


def test_chat_and_max_select_what_is_planned(cli: Cli, questions_file: Path) -> None:
    assert cli("viral", "import", str(questions_file)).code == 0
    only_books = cli("viral", "send", "--chat", "book-club", "--json").json()["items"]
    assert [i["text"] for i in only_books] == [BOOK_QUESTION]
    first = cli("viral", "send", "--max", "1", "--json").json()
    assert [i["text"] for i in first["items"]] == [DEV_QUESTION]
    assert first["params"] == {"chat": None, "max": 1, "delay": 3.0}
    assert cli("viral", "send", "--chat", "news", "--json").json()["items"] == []  # a draft
    unknown = cli("viral", "send", "--chat", "nope")
    assert unknown.code == 2
    assert "no viral chat 'nope'" in unknown.err
    assert cli("viral", "send", "--max", "0").code == 2


def test_an_unresolvable_chat_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "q.yml"
    path.write_text(
        "chats: [{key: ghost, chat: '@no_such_chat_here'}]\n"
        "questions: [{chat: ghost, text: Hello there, status: active}]\n",
        encoding="utf-8",
    )
    result = cli("viral", "send", "--questions", str(path), "--yes")
    assert result.code == 2
    assert "viral chat ghost:" in result.err
    assert cli.world.mutating_requests() == {}


def test_plan_file_and_tgpilot_apply(cli: Cli, questions_file: Path, tmp_path: Path) -> None:
    plan_path = tmp_path / "viral-plan.json"
    planned = cli("viral", "send", "--questions", str(questions_file), "--plan-out", str(plan_path))
    assert planned.code == 0, planned.err
    assert "imported" in planned.err
    saved = json.loads(plan_path.read_text(encoding="utf-8"))
    assert saved["kind"] == "telegram.viral" and len(saved["items"]) == 2
    assert plan_path.stat().st_mode & 0o777 == 0o600

    shown = cli("apply", str(plan_path))
    assert shown.code == 0, shown.err
    assert sent_texts(cli) == []

    applied = cli("apply", str(plan_path), "--yes", "--delay", "0")
    assert applied.code == 0, applied.err
    assert "done 2, skipped 0, failed 0" in applied.out
    assert sorted(sent_texts(cli)) == sorted([BOOK_QUESTION, DEV_QUESTION])
    assert {q["status"] for q in questions(cli, "--status", "sent").values()} == {"sent"}
    assert all(line["plan_id"] == saved["plan_id"] for line in audit(cli))

    again = cli("apply", str(plan_path), "--yes", "--json")
    assert again.code == 0, again.err
    assert {i["result_reason"].split(" #")[0] for i in again.json()["items"]} == {"already sent as"}
    assert cli.world.requests["SendMessageRequest"] == 2


def test_apply_skips_a_question_archived_since_the_plan(
    cli: Cli, questions_file: Path, tmp_path: Path
) -> None:
    plan_path = tmp_path / "plan.json"
    planned = cli("viral", "send", "--questions", str(questions_file), "--plan-out", str(plan_path))
    assert planned.code == 0, planned.err
    archived = QUESTIONS.replace("status: active, priority: 20", "status: archived, priority: 20")
    questions_file.write_text(archived, encoding="utf-8")
    assert cli("viral", "import", str(questions_file)).code == 0
    result = cli("apply", str(plan_path), "--yes")
    assert result.code == 0, result.err
    assert "done 1, skipped 1, failed 0" in result.out
    assert "question is archived" in result.err
    assert sent_texts(cli) == [BOOK_QUESTION]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("chats: [\n", "is not valid YAML (line 2, column 1)"),
        ("- just a list\n", "expected a mapping with chats: and questions:"),
        ("chats: []\nquestions: []\nextra: 1\n", "unknown field extra"),
        ("chats: {key: a}\n", "chats must be a list"),
        ("chats: [{key: a}]\n", "chat 1: chat must be a chat reference"),
        ("chats: [{key: 'has space', chat: '@x'}]\n", "'has space' is not a chat key"),
        ("chats: [{key: a, chat: '@x', expected_reactions: [9, 3]}]\n", "min 9 is above max 3"),
        ("chats: [{key: a, chat: '@x', expected_reactions: 5}]\n", "must be [min, max]"),
        ("chats: [{key: a, chat: '@x', expected_comments: -1}]\n", "expected_comments must be"),
        ("chats: [{key: a, chat: '@x'}, {key: A, chat: '@y'}]\n", "chat 2 repeats chat 1"),
        ("questions: [{chat: a}]\n", "question 1: text is missing"),
        ("questions: [{chat: a, text: '  '}]\n", "text must be a non-empty string"),
        ("questions: [{chat: a, text: hi, status: sent}]\n", "status must be one of"),
        ("questions: [{chat: a, text: hi, priority: high}]\n", "priority must be a whole"),
        ("questions: [{chat: a, text: hi, tags: books}]\n", "tags must be a list"),
        ("questions: [{chat: a, text: hi, colour: red}]\n", "unknown field colour"),
        ("questions: [{chat: nowhere, text: hi}]\n", "unknown chat 'nowhere'"),
        (
            "chats: [{key: a, chat: '@x'}]\nquestions: [{chat: a, text: hi}, {chat: a, text: hi}]",
            "question 2 repeats question 1",
        ),
        (
            "chats: [{key: a, chat: '@x'}]\nquestions: [{chat: a, text: " + "x" * 4097 + "}]\n",
            "Telegram takes at most 4096",
        ),
        ("", "expected a mapping"),
    ],
)
def test_bad_questions_files_exit_2_and_import_nothing(
    cli: Cli, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(content, encoding="utf-8")
    result = cli("viral", "import", str(path))
    assert result.code == 2
    assert message in result.err
    assert str(path) in result.err
    assert questions(cli) == {}
    sent = cli("viral", "send", "--questions", str(path), "--yes")
    assert sent.code == 2
    assert cli.world.connections == []


def test_a_missing_file_exits_2(cli: Cli, tmp_path: Path) -> None:
    result = cli("viral", "import", str(tmp_path / "missing.yml"))
    assert result.code == 2
    assert "cannot read questions file" in result.err


def test_reimport_updates_priority_and_never_unsends(cli: Cli, questions_file: Path) -> None:
    assert cli("viral", "import", str(questions_file)).code == 0
    assert cli("viral", "send", "--chat", "book-club", "--yes").code == 0
    questions_file.write_text(QUESTIONS.replace("priority: 10", "priority: 5"), encoding="utf-8")
    result = cli("viral", "import", str(questions_file), "--json")
    assert result.code == 0, result.err
    assert result.json()["questions"] == {"inserted": 0, "updated": 1, "unchanged": 2}
    book = questions(cli)[BOOK_QUESTION]
    assert (book["status"], book["priority"]) == ("sent", 5)
    archived = QUESTIONS.replace(
        "status: active,\n     priority: 10", "status: archived,\n     priority: 5"
    )
    questions_file.write_text(archived, encoding="utf-8")
    assert cli("viral", "import", str(questions_file)).code == 0
    assert questions(cli)[BOOK_QUESTION]["status"] == "archived"


def test_stats_read_back_reactions_and_replies_against_expectations(
    cli: Cli, questions_file: Path
) -> None:
    assert cli("viral", "send", "--questions", str(questions_file), "--yes").code == 0
    stored = questions(cli)
    book_id = stored[BOOK_QUESTION]["sent_message_id"]
    dev_id = stored[DEV_QUESTION]["sent_message_id"]
    book = cli.world.message(BOOKS, book_id)
    book.reactions = [ReactionRec("emoji", 40, emoji="👍"), ReactionRec("emoji", 20, emoji="🔥")]
    book.replies = 35
    dev = cli.world.message(DEV, dev_id)
    dev.reactions = [ReactionRec("emoji", 3, emoji="👍")]
    dev.replies = 0
    cli.world.reset_counts()

    result = cli("viral", "stats", "--json")
    assert result.code == 0, result.err
    rows = {row["chat_key"]: row for row in result.json()["questions"]}
    assert (rows["book-club"]["reactions"], rows["book-club"]["comments"]) == (60, 35)
    assert rows["book-club"]["expected_reactions"] == [50, 100]
    assert rows["book-club"]["reactions_verdict"] == "within"
    assert rows["book-club"]["comments_verdict"] == "above"
    assert (rows["dev-talk"]["reactions"], rows["dev-talk"]["reactions_verdict"]) == (3, "below")
    assert rows["dev-talk"]["comments_verdict"] is None  # no expectation
    assert cli.world.mutating_requests() == {}
    assert cli.world.requests_qualified["channels.GetMessagesRequest"] == 2  # one per chat

    stored = questions(cli)
    received = stored[BOOK_QUESTION]
    assert (received["reactions_received"], received["comments_received"]) == (60, 35)
    assert stored[DEV_QUESTION]["reactions_received"] == 3
    human = cli("viral", "stats")
    assert human.code == 0, human.err
    assert "60 reactions (within 50-100), 35 comments (above 30)" in human.out
    listed = cli("viral", "list")
    assert "60 reactions, 35 comments" in listed.out


def test_stats_report_a_deleted_message_and_nothing_sent(cli: Cli, questions_file: Path) -> None:
    empty = cli("viral", "stats", "--json")
    assert empty.code == 0, empty.err
    assert empty.json() == {"questions": [], "errors": []}
    assert cli("viral", "send", "--questions", str(questions_file), "--yes").code == 0
    book_id = questions(cli)[BOOK_QUESTION]["sent_message_id"]
    cli.world.delete_message(BOOKS, book_id)
    result = cli("viral", "stats", "--json")
    assert result.code == 0, result.err
    rows = {row["chat_key"]: row for row in result.json()["questions"]}
    assert rows["book-club"]["found"] is False and rows["book-club"]["reactions"] is None
    assert rows["dev-talk"]["found"] is True
