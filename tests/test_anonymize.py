"""``--anonymize`` (spec ai.md §3 "Privacy and files"): senders become ``P1, P2, …`` in
order of first appearance, phones and e-mails are masked, known names inside texts are
replaced — and reports, digests and stored CRM records show the real values again. End
to end through ``analyze``, ``digest`` and ``crm extract``, the fake LLM's request log
holds no real name, phone or e-mail."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from tests.analyze_fixtures import FROZEN_NOW, message, single_chat, write_export
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli
from tgpilot.models import Message, Sender
from tgpilot.services.ai.anonymize import Anonymizer
from tgpilot.services.ai.answers import LenientModel, LenientStr, StrList

KEY = "sk-test-0123456789abcdef"
ANNA = ("Anna Smith", "user101")
BORIS = ("Boris Petrov", "user102")
PHONE = "+1 202 555 0143"
NATIONAL = "8 (912) 345-67-89"
EMAIL = "anna.smith@example.com"
SECRETS = ("Anna", "Smith", "Boris", "Petrov", "202 555", "2025550143", "912", "example.com")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, 10, hour, minute, tzinfo=UTC)


def sent(message_id: int, name: str, text: str, username: str | None = None) -> Message:
    sender = Sender(100 + len(name), name, username)
    return Message(1, message_id, at(9, message_id), text, sender)


# --------------------------------------------------------------------------- the module


def test_pseudonyms_follow_first_appearance_and_names_in_texts() -> None:
    anonymizer = Anonymizer()
    messages = anonymizer.messages(
        [
            sent(1, "Boris Petrov", "Morning! Anna, is @anna_s your handle?", "bpetrov"),
            sent(2, "Anna Smith", "Yes, Boris. Ask SMITH or anna_s, not Annabel", "anna_s"),
            sent(3, "Boris Petrov", "Thanks, Anna Smith!", "bpetrov"),
            Message(1, 4, at(9, 4), "from nobody", None),
        ]
    )
    assert [m.sender.name if m.sender else None for m in messages] == ["P1", "P2", "P1", None]
    assert all(m.sender is None or m.sender.username is None for m in messages)
    assert messages[0].text == "Morning! P2, is @P2 your handle?"
    assert messages[1].text == "Yes, P1. Ask P2 or P2, not Annabel"
    assert messages[2].text == "Thanks, P2!"
    assert anonymizer.mapping() == {"P1": "Boris Petrov", "P2": "Anna Smith"}


def test_phones_and_emails_are_masked_the_same_way_every_time() -> None:
    anonymizer = Anonymizer()
    text = f"Call {PHONE} or {NATIONAL}, mail {EMAIL}; again +12025550143, {EMAIL.upper()}"
    masked = anonymizer.text(text)
    assert masked == ("Call [phone-1] or [phone-2], mail [email-1]; again [phone-1], [email-1]")
    assert anonymizer.text("on 2024-03-01 10:00 we paid 1500000 for 3 items") == (
        "on 2024-03-01 10:00 we paid 1500000 for 3 items"
    )
    assert anonymizer.reveal("[phone-2] / [email-1] / [phone-9]") == (
        f"{NATIONAL} / {EMAIL} / [phone-9]"
    )


class Answer(LenientModel):
    summary: LenientStr = ""
    people: StrList = Field(default_factory=list)


def test_reveal_turns_pseudonyms_back_inside_answers() -> None:
    anonymizer = Anonymizer()
    anonymizer.messages([sent(1, "Anna Smith", "hi", "anna_s"), sent(2, "Vera", "hello")])
    answer = Answer(summary="P1 (@P1) greeted P2 and @P2; P3 and P12 are unknown", people=["P2"])
    revealed = anonymizer.reveal_model(answer)
    assert revealed.summary == "Anna Smith (@anna_s) greeted Vera and Vera; P3 and P12 are unknown"
    assert revealed.people == ["Vera"]
    assert anonymizer.reveal_value({"a": ("P1",), "n": 3}) == {"a": ("Anna Smith",), "n": 3}


# --------------------------------------------------------------------------- end to end


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(FROZEN_NOW)


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
def cli(
    make_cli: Callable[..., Cli], server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return make_cli(FakeTelegram(), logged_in=False)


@pytest.fixture
def deal(tmp_path: Path) -> Path:
    return write_export(
        tmp_path / "deal",
        single_chat(
            [
                message(1, at(9), ANNA, f"Boris, please call me at {PHONE} or write {EMAIL}"),
                message(2, at(9, 30), BORIS, "Sure Anna, I will call you about the Acme deal"),
                message(3, at(10), ANNA, f"Thanks Boris Petrov, my backup number is {NATIONAL}"),
            ],
            name="Deal",
        ),
    )


def request_log(server: FakeLLMServer) -> str:
    bodies = [json.dumps(r.json, ensure_ascii=False) for r in server.requests_to("/completions")]
    assert bodies, "no request reached the model"
    return "\n".join(bodies)


def assert_nothing_leaked(server: FakeLLMServer) -> str:
    log = request_log(server)
    for secret in SECRETS:
        assert secret not in log, secret
    return log


def test_analyze_sends_pseudonyms_and_reports_real_names(
    cli: Cli, server: FakeLLMServer, deal: Path, tmp_path: Path
) -> None:
    answer: dict[str, Any] = {
        "category": "Sales",
        "discussions": [
            {"title": "Acme", "date": "2024-03-10", "participants": ["P1", "P2"], "summary": "x"}
        ],
        "key_participants": [{"name": "P1", "message_count": 99, "engagement_score": 8}],
        "summary": "P1 asked P2 to call [phone-1] or write [email-1].",
    }
    server.script(Reply.of_text(json.dumps(answer)))
    out = tmp_path / "out"
    result = cli(
        "analyze", "Deal", "--source", str(deal), "--out", str(out), "--json", "--anonymize"
    )
    assert result.code == 0, result.err
    log = assert_nothing_leaked(server)
    assert "P1: P2, please call me at [phone-1] or write [email-1]" in log
    assert "P2: Sure P1," in log and "[phone-2]" in log
    [row] = result.json()["reports"]
    report = json.loads(Path(row["files"]["json"]).read_text(encoding="utf-8"))
    assert report["summary"] == f"Anna Smith asked Boris Petrov to call {PHONE} or write {EMAIL}."
    assert report["key_participants"] == [
        {"name": "Anna Smith", "message_count": 2, "engagement_score": 8.0}
    ]
    assert report["discussions"][0]["participants"] == ["Anna Smith", "Boris Petrov"]
    assert report["llm"]["anonymized"] is True
    for kind in ("md", "html"):
        text = Path(row["files"][kind]).read_text(encoding="utf-8")
        assert "Anna Smith" in text and "P1" not in text, kind


def test_digest_sends_pseudonyms_and_shows_real_names(
    cli: Cli, server: FakeLLMServer, deal: Path, tmp_path: Path
) -> None:
    server.script(Reply.of_text("## Decisions\n- [ ] P2 calls P1 at [phone-1] (@P1)"))
    out = tmp_path / "out"
    result = cli("digest", "Deal", "--source", str(deal), "--out", str(out), "--anonymize")
    assert result.code == 0, result.err
    log = assert_nothing_leaked(server)
    assert "P1: P2, please call me" in log
    assert f"- [ ] Boris Petrov calls Anna Smith at {PHONE} (Anna Smith)" in result.out
    [markdown] = list(out.glob("*.md"))
    assert "Boris Petrov calls Anna Smith" in markdown.read_text(encoding="utf-8")


def test_crm_extract_sends_pseudonyms_and_stores_real_values(
    cli: Cli, server: FakeLLMServer, deal: Path
) -> None:
    answer = {
        "contacts": [{"name": "P1", "company": "Acme", "phone": "[phone-1]", "email": "[email-1]"}],
        "deals": [{"title": "Acme deal", "stage": "proposal", "next_action": "P2 calls P1"}],
        "action_items": [{"task": "Call P1", "assignee": "P2"}],
        "summary": "P2 will call P1.",
    }
    server.script(Reply.of_text(json.dumps(answer)))
    result = cli("crm", "extract", "Deal", "--source", str(deal), "--json", "--anonymize")
    assert result.code == 0, result.err
    assert_nothing_leaked(server)
    listed = cli("crm", "list", "contacts", "--json").json()["contacts"]
    assert [(c["name"], c["phone"], c["email"]) for c in listed] == [
        ("Anna Smith", "+12025550143", EMAIL)
    ]
    [action] = cli("crm", "list", "actions", "--json").json()["actions"]
    assert (action["task"], action["assignee"]) == ("Call Anna Smith", "Boris Petrov")


def test_without_the_flag_the_model_reads_real_names(
    cli: Cli, server: FakeLLMServer, deal: Path, tmp_path: Path
) -> None:
    server.script(Reply.of_text(json.dumps({"category": "Sales"})))
    result = cli("analyze", "Deal", "--source", str(deal), "--out", str(tmp_path), "--json")
    assert result.code == 0, result.err
    assert "Anna Smith" in request_log(server) and EMAIL in request_log(server)
